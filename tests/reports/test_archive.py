"""The report archive on both engines: asking (one current version, content-addressed), the queue
(per-recipient status, a failure stays alone, retry renders only what failed), the stored file
(checksum, size, never a partial), the pages (scoped, audited downloads, ZIP, progress) and the
settlement's figures read back from the real PDF."""
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from channel.audit.models import AuditEntry
from channel.core.money import format_fen
from channel.extensions import db
from channel.ledger import services as ledger
from channel.reports import services
from channel.reports.models import ReportBatch, ReportFile, ReportRun

from ..helpers import EN, ZH
from ..ledger import LineInput, Month, account, close, post, product, reopen, user, yuan

OCT, NOV = Month(2026, 10), Month(2026, 11)


@dataclass
class Result:
    pdf: bytes | None
    error: str | None = None
    seconds: float = 0.0


class StubPool:
    """Stands in for reports.pool.RenderPool where the bytes do not matter: fast, and it can fail
    the accounts named in `fail`."""

    def __init__(self, fail=()):
        self.fail = set(fail)
        self.rendered = []

    def render_many(self, tasks):
        for key, kind, context, lang in tasks:
            self.rendered.append(context["account"]["code"])
            if context["account"]["code"] in self.fail:
                yield key, Result(None, "boom: the renderer fell over")
            else:
                yield key, Result(f"%PDF-1.7 stub {key} {context['closing_fen']}".encode())


class InlinePool:
    """The real engine in this process (the pool's own tests cover the worker processes)."""

    def render_many(self, tasks):
        from reports import engine

        for key, kind, context, lang in tasks:
            yield key, Result(engine.render_pdf(kind, context, lang))


def _october(app):
    """Shipments and payments in October for a distributor and one of its dealers; Sept and Oct
    closed (the demo company has no history in this fixture)."""
    with app.app_context():
        post(kind="opening", account="GD-BJ01", on=date(2026, 9, 30), amount_fen=yuan("1000.00"),
             direction="debit", memo="期初余额")
        post(kind="shipment", account="GD-BJ01", on=date(2026, 10, 8),
             lines=[LineInput(product("P-W550"), 100, yuan("28.80"))])
        post(kind="payment", account="GD-BJ01", on=date(2026, 10, 20), amount_fen=yuan("2000.00"),
             payment_method="bank_transfer", bank_ref="BOC-1")
        post(kind="shipment", account="DL-BJ001", on=date(2026, 10, 9),
             lines=[LineInput(product("P-W550"), 10, yuan("30.00"))], by=user("dist.bj"))
        close(Month(2026, 9))
        close(OCT)
        db.session.remove()


def _batch(app, pool=None, **kw):
    with app.app_context():
        batch = services.request_batch("settlement", OCT, kw.pop("lang", "zh_CN"), **kw)
        db.session.commit()
        result = services.process_queue(pool or StubPool(), batch_id=batch.id)
        total = batch.total
        db.session.remove()
    return total, result


def _runs(**where):
    stmt = select(ReportRun).order_by(ReportRun.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(ReportRun, key) == value)
    return db.session.execute(stmt).scalars().all()


def test_a_month_not_closed_is_refused(app):
    with app.app_context():
        with pytest.raises(services.ReportError, match="2026-10"):
            services.request_batch("settlement", OCT, "zh_CN")
        assert _runs() == []


def test_batch_covers_every_account_with_a_ledger(app):
    _october(app)
    total, result = _batch(app)
    assert (total, result.done, result.failed) == (2, 2, 0)
    with app.app_context():
        runs = _runs()
        assert sorted(r.account.code for r in runs) == ["DL-BJ001", "GD-BJ01"]
        for run in runs:
            assert run.status == "done" and run.version == 1 and run.attempts == 1
            assert len(run.file_sha256) == 64 and run.size > 0 and run.input_hash


def test_asking_again_for_unchanged_reports_renders_nothing(app):
    _october(app)
    _batch(app)
    pool = StubPool()
    total, result = _batch(app, pool)
    assert total == 0 and result.done == 0 and pool.rendered == []
    with app.app_context():
        run = _runs(account_id=account("GD-BJ01").id)[0]
        again, created = services.request_report("settlement", OCT, account("GD-BJ01"), "zh_CN")
        assert again.id == run.id and not created
        assert len(_runs()) == 2


def test_a_changed_ledger_gives_a_new_version_and_keeps_the_old(app):
    _october(app)
    _batch(app)
    with app.app_context():
        old = _runs(account_id=account("GD-BJ01").id)[0]
        old_id, old_sha = old.id, old.file_sha256
        reopen(OCT)
        post(kind="payment", account="GD-BJ01", on=date(2026, 10, 31), amount_fen=yuan("500.00"),
             payment_method="cash")
        close(OCT)
        db.session.remove()
    pool = StubPool()
    total, _ = _batch(app, pool)
    assert total == 1 and pool.rendered == ["GD-BJ01"]
    with app.app_context():
        versions = _runs(account_id=account("GD-BJ01").id)
        assert [v.version for v in versions] == [1, 2]
        assert versions[0].id == old_id and versions[0].file_sha256 == old_sha  # kept as it was
        assert versions[1].file_sha256 != old_sha
        assert db.session.get(ReportFile, old_sha) is not None


def test_forced_regeneration_adds_a_version(app):
    _october(app)
    _batch(app)
    total, result = _batch(app, force=True)
    assert total == 2 and result.done == 2
    with app.app_context():
        assert sorted(r.version for r in _runs()) == [1, 1, 2, 2]


def test_two_requests_at_once_make_one_run(app):
    _october(app)
    with app.app_context():
        first, created_first = services.request_report("settlement", OCT, account("GD-BJ01"), "en")
        second, created_second = services.request_report("settlement", OCT, account("GD-BJ01"), "en")
        db.session.commit()
        assert first.id == second.id and created_first and not created_second
        assert len(_runs(lang="en")) == 1


def test_the_database_allows_one_queued_run_per_report(app):
    from sqlalchemy.exc import IntegrityError

    _october(app)
    with app.app_context():
        acc = account("GD-BJ01")
        db.session.add(ReportRun(kind="settlement", period="2026-10", account_id=acc.id, lang="en",
                                 version=1, status="queued"))
        db.session.commit()
        db.session.add(ReportRun(kind="settlement", period="2026-10", account_id=acc.id, lang="en",
                                 version=2, status="queued"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        # ... and a run cannot say "done" without its file.
        run = _runs(lang="en")[0]
        run.status = "done"
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_stored_files_and_finished_runs_cannot_be_changed(app):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    _october(app)
    _batch(app)
    with app.app_context():
        run = _runs()[0]
        for sql in (f"UPDATE report_files SET size = 1 WHERE sha256 = '{run.file_sha256}'",
                    f"DELETE FROM report_files WHERE sha256 = '{run.file_sha256}'",
                    f"UPDATE report_runs SET input_hash = 'x' WHERE id = {run.id}",
                    f"UPDATE report_runs SET status = 'queued' WHERE id = {run.id}",
                    f"DELETE FROM report_runs WHERE id = {run.id}"):
            with pytest.raises(DBAPIError):
                db.session.execute(text(sql))
                db.session.flush()
            db.session.rollback()
        services.mark_downloaded(run, user("finance"))  # the one thing that may change
        db.session.commit()
        assert _runs()[0].downloaded_at is not None


def test_a_failure_stays_alone_and_a_retry_renders_only_it(app):
    _october(app)
    total, result = _batch(app, StubPool(fail={"DL-BJ001"}))
    assert (total, result.done, result.failed) == (2, 1, 1)
    with app.app_context():
        failed = _runs(status="failed")
        assert [r.account.code for r in failed] == ["DL-BJ001"]
        assert "boom" in failed[0].error
    pool = StubPool()
    total, result = _batch(app, pool)
    assert total == 1 and pool.rendered == ["DL-BJ001"] and result.done == 1
    with app.app_context():
        assert {r.status for r in _runs()} == {"done"}
        assert _runs(account_id=account("DL-BJ001").id)[0].attempts == 2
        assert len(_runs()) == 2  # the failed run was asked again, not a new version


def test_a_run_whose_process_died_goes_back_to_the_queue(app):
    from datetime import timedelta

    from channel.db_types import utcnow

    _october(app)
    with app.app_context():
        batch = services.request_batch("settlement", OCT, "zh_CN")
        db.session.commit()
        claimed = services._claim(1, "dead-worker:1")  # a worker took one, then was killed
        assert len(claimed) == 1
        assert services.requeue_stale() == 0  # not stale yet
        assert services.requeue_stale(utcnow() + timedelta(hours=1)) == 1
        result = services.process_queue(StubPool(), batch_id=batch.id)
        assert result.done == 2
        # The dead worker coming back cannot overwrite what the live one finished.
        assert not services._finish(claimed[0], worker="dead-worker:1", error="late")
        assert db.session.get(ReportRun, claimed[0]).status == "done"


# --- the real PDF -------------------------------------------------------------------------------

def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _embedded_fonts(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is not None and any(k in descriptor.get_object()
                                                  for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    names.add(str(descendant.get_object()["/BaseFont"]))
    return names


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_settlement_pdf_figures_equal_the_ledger(app, lang):
    _october(app)
    _batch(app, InlinePool(), lang=lang)
    with app.app_context():
        acc = account("GD-BJ01")
        run = _runs(account_id=acc.id)[0]
        pdf = services.pdf_bytes(run)
        text = _pdf_text(pdf)
        st = ledger.statement(acc, OCT)
        flat = re.sub(r"\s+", "", text)
        # Opening ¥1,000.00 + shipment ¥2,880.00 - payment ¥2,000.00 = closing ¥1,880.00.
        assert (st.opening_fen, st.closing_fen) == (yuan("1000.00"), yuan("1880.00"))
        for figure in (st.opening_fen, st.closing_fen, yuan("2880.00"), yuan("2000.00"),
                       st.debit_total_fen, st.credit_total_fen):
            assert format_fen(figure).replace(" ", "") in flat, format_fen(figure)
        for line in st.lines:
            assert line.number in flat
        assert acc.name in flat
        assert ("月度结算单" if lang == "zh_CN" else "Monthly settlement") in text
        assert any(re.search(r"Noto-?S(ans|erif)-?CJK", name) for name in _embedded_fonts(pdf))
        db.session.remove()


# --- pages --------------------------------------------------------------------------------------

def test_finance_asks_for_a_month_and_downloads_it(app, login):
    _october(app)
    finance = login("finance")
    page = finance.get("/reports/", headers=ZH)
    assert page.status_code == 200 and "月度结算" in page.text
    answer = finance.post_form("/reports/settlements", {"period": "2026-10", "lang": "en"})
    assert answer.status_code == 302 and "/reports/batches/" in answer.location
    batch_page = finance.get(answer.location, headers=EN)
    assert "0 of 2 finished" in batch_page.text and 'http-equiv="refresh"' in batch_page.text
    with app.app_context():
        batch = db.session.execute(select(ReportBatch)).scalar_one()
        services.process_queue(StubPool(), batch_id=batch.id)
        run_id = _runs(lang="en")[0].id
        db.session.remove()
    batch_page = finance.get(answer.location, headers=EN)
    assert "2 of 2 finished" in batch_page.text and 'http-equiv="refresh"' not in batch_page.text
    pdf = finance.get(f"/reports/runs/{run_id}/download")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    bundle = finance.get("/reports/settlements/2026-10.zip?lang=en")
    assert bundle.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(bundle.data)).namelist()
    bundle.close()  # as the WSGI server does: the spooled file is closed with the response
    assert sorted(names) == ["settlement-2026-10-DL-BJ001-en-v1.pdf", "settlement-2026-10-GD-BJ01-en-v1.pdf"]
    with app.app_context():
        actions = db.session.execute(select(AuditEntry.action, func.count()).group_by(AuditEntry.action)).all()
        assert dict(actions)["report_downloaded"] == 2  # one PDF and one ZIP
        assert dict(actions)["reports_requested"] == 1
        assert all(r.downloaded_at is not None for r in _runs(lang="en"))


def test_a_month_not_closed_gets_a_message_and_nothing_is_asked(app, login):
    _october(app)
    finance = login("finance")
    answer = finance.post_form("/reports/settlements", {"period": "2026-11", "lang": "en"}, headers=EN)
    assert answer.status_code == 422 and "Nothing was saved" in answer.text
    with app.app_context():
        assert _runs() == []


def test_distributors_see_and_make_only_their_own(app, login):
    _october(app)
    _batch(app)
    with app.app_context():
        own = _runs(account_id=account("GD-BJ01").id)[0].id
        dealer = _runs(account_id=account("DL-BJ001").id)[0].id
        db.session.remove()
    bj = login("dist.bj")
    assert bj.get(f"/reports/runs/{own}/download").status_code == 200
    assert bj.get(f"/reports/runs/{dealer}/download").status_code == 200
    listing = bj.get("/reports/", headers=EN).text
    assert "GD-BJ01" in listing and "DL-BJ001" in listing
    # Its own statement is the company's to make; its dealer's is its own.
    assert bj.post_form(f"/reports/runs/{own}/regenerate").status_code == 403
    assert bj.post_form(f"/reports/runs/{dealer}/regenerate").status_code == 302
    tj = login("dist.tj")
    for url in (f"/reports/runs/{own}", f"/reports/runs/{own}/download", f"/reports/runs/{dealer}/download",
                f"/reports/runs/{own + dealer + 1000}/download", "/reports/runs/..%2F..%2Fetc%2Fpasswd/download"):
        assert tj.get(url).status_code == 404, url
    assert "GD-BJ01" not in tj.get("/reports/", headers=EN).text
    zipped = tj.get("/reports/settlements/2026-10.zip")
    assert zipped.status_code == 302  # nothing of its own to bundle
    # A distributor asking for the month makes only its dealers' statements.
    answer = tj.post_form("/reports/settlements", {"period": "2026-10", "lang": "en", "force": "y"})
    assert answer.status_code == 302
    with app.app_context():
        assert _runs(lang="en") == []  # TJ has no dealer with a ledger in October
