"""Reconciliation in a real browser, on the demo company's history: finance answers 天津's open
dispute with a correction and 天津 confirms the re-issued statement from its portal; 广州, overdue,
disputes a line from a phone with a photo of the delivery note, which 北京 cannot open."""
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from channel.extensions import db
from channel.reconciliation.models import DisputeItem, Reconciliation

from .conftest import ARTIFACTS
from .test_access import PHONE, no_sideways_scroll

pytestmark = pytest.mark.e2e


def _rec(live_server, code, status=None):
    with live_server.app.app_context():
        stmt = select(Reconciliation).where(Reconciliation.account_id == live_server.ids[code],
                                            Reconciliation.supplier_id.is_(None))
        if status:
            stmt = stmt.where(Reconciliation.status == status)
        rec = db.session.execute(stmt.order_by(Reconciliation.month.desc())).scalars().first()
        values = (rec.id, rec.month, rec.status, rec.version)
        db.session.remove()
    return values


def test_finance_corrects_a_dispute_and_the_distributor_confirms(page, login, live_server):
    rec_id, month, status, version = _rec(live_server, "GD-TJ01", "disputed")
    login(page, "finance")
    page.goto("/reconciliation/disputes")
    row = page.locator("table.list tbody tr", has_text="GD-TJ01")
    expect(row).to_have_count(1)
    row.get_by_role("link", name=month).click()
    expect(page).to_have_url(re.compile(rf"/reconciliation/{rec_id}#item-\d+$"))
    form = page.locator("form.answer-form")
    form.locator("textarea").fill("核实：实收 90 箱，差额冲减。")
    form.locator("input[name$=amount]").fill("200.00")
    form.locator("input[value=credit]").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("#rec-status")).to_contain_text("待回复")
    expect(page.locator("#rec-status")).to_contain_text(f"第 {version + 1} 版")
    expect(page.locator("blockquote.answer")).to_contain_text("核实：实收 90 箱")
    page.context.clear_cookies()

    login(page, "dist.tj")
    actions = page.locator("#reconciliation-actions")
    actions.get_by_role("link", name=f"确认或对 {month} 对账单提出异议").click()
    expect(page).to_have_url(re.compile(rf"/reconciliation/{rec_id}$"))
    expect(page.locator("#disputes")).to_contain_text("核实：实收 90 箱")
    expect(page.locator("main")).to_contain_text("月后记账的更正")
    page.locator("#confirm-button").click()
    expect(page.locator(".flash")).to_contain_text(f"{month} 对账单已确认")
    expect(page.locator("#rec-status")).to_contain_text("已确认")
    expect(page.locator("#confirm-button")).to_have_count(0)
    assert _rec(live_server, "GD-TJ01")[2] == "confirmed"


@pytest.mark.parametrize("context_options", [PHONE], ids=["phone"])
def test_an_overdue_distributor_disputes_from_a_phone(page, login, live_server, tmp_path):
    login(page, "dist.gz")
    actions = page.locator("#reconciliation-actions")
    expect(actions).to_contain_text("已逾期")
    actions.locator("a").first.click()  # the oldest statement waiting: overdue
    expect(page.locator("#rec-status")).to_contain_text("逾期")
    no_sideways_scroll(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "phone-reconciliation.png"), full_page=True)
    rec_url = page.url
    page.locator("#dispute-link").click()
    photo = tmp_path / "签收单.png"
    Image.new("RGB", (40, 30), "white").save(photo, "PNG")
    page.locator("input.reason").first.fill("到货破损 3 箱，见签收单照片。")
    page.locator("input[type=file]").first.set_input_files(str(photo))
    page.locator("#send-dispute").click()
    expect(page).to_have_url(rec_url)
    expect(page.locator("#rec-status")).to_contain_text("有异议")
    attachment = page.locator("#disputes a", has_text="签收单.png")
    expect(attachment).to_be_visible()
    href = attachment.get_attribute("href")
    shown = page.request.get(href)
    assert shown.status == 200 and shown.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(shown.body())).size == (40, 30)
    with live_server.app.app_context():
        item = db.session.execute(select(DisputeItem).order_by(DisputeItem.id.desc())).scalars().first()
        assert item.attachment_name == "签收单.png" and item.status == "open"
        db.session.remove()
    page.context.clear_cookies()

    login(page, "dist.bj")  # another distributor: neither the statement nor its attachment
    assert page.request.get(href).status == 404
    assert page.request.get(rec_url).status == 404
