"""Finance in a real browser asks for last month's settlements in English, watches the batch page
fill up while the renderer works (the scheduler's job, run here by the test), and downloads a
real PDF; the distributor then finds its own settlement in its portal and nobody else's."""
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from channel.extensions import db
from channel.reports import services
from channel.reports.models import ReportBatch

pytestmark = pytest.mark.e2e


class EnginePool:
    """The real report engine in this process: what the scheduler's pool runs in its workers."""

    def render_many(self, tasks):
        from reports import engine
        from reports.pool import RenderResult

        for key, kind, context, lang in tasks:
            yield key, RenderResult(pdf=engine.render_pdf(kind, context, lang), error=None, seconds=0.0)


def render_latest_batch(live_server):
    with live_server.app.app_context():
        batch = db.session.execute(select(ReportBatch).order_by(ReportBatch.id.desc()).limit(1)).scalar_one()
        # Two reports are enough to watch; the rest stay queued and the page says so.
        result = services.process_queue(EnginePool(), batch_id=batch.id, max_runs=2)
        db.session.remove()
    return result


def test_finance_makes_and_downloads_a_settlement_then_the_distributor_finds_it(page, login, live_server,
                                                                                  tmp_path):
    login(page, "finance")
    page.locator('#mainnav a[href="/reports/"]').click()
    expect(page).to_have_url(re.compile(r"/reports/$"))
    expect(page.locator("h1")).to_have_text("报表")
    form = page.locator('form[action="/reports/settlements"]')
    month = form.locator("select[name=period] option").first.get_attribute("value")
    form.locator("select[name=lang]").select_option("en")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/reports/batches/\d+$"))
    expect(page.locator("progress")).to_be_visible()
    expect(page.locator("table.list tbody tr").first).to_contain_text("排队")

    assert render_latest_batch(live_server).done == 2
    page.reload()
    expect(page.locator("table.list .badge", has_text="已生成")).to_have_count(2)

    with page.expect_download() as info:
        page.locator("table.list a", has_text="PDF").first.click()
    download = info.value
    assert re.fullmatch(rf"settlement-{month}-[A-Z0-9-]+-en-v1\.pdf", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = "".join(p.extract_text() for p in PdfReader(saved).pages)
    assert "Monthly settlement" in text and month in text

    # The distributor's portal: its own settlement of the month, in the archive.
    page.context.clear_cookies()
    login(page, "dist.bj")
    page.goto(f"/reports/?period={month}&lang=en")
    rows = page.locator("table.list tbody tr")
    codes = set(re.findall(r"\b(?:GD|DL)-[A-Z]{2}\d+\b", " ".join(rows.all_inner_texts())))
    assert codes and all(c == "GD-BJ01" or c.startswith("DL-BJ") for c in codes), codes
