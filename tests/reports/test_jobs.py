"""The monthly settlements job: what it owes is read from the database, it waits (with a reason
people see) for a month that is not closed, makes a closed month's settlements once through the
exactly-once framework, and a retry after a failure renders only what failed."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from channel.extensions import db
from channel.reports import jobs as settlement_jobs
from channel.reports import services
from channel.reports.models import ReportRun
from channel.system.models import JobRun
from reports.jobs import catch_up, waiting_runs

from ..ledger import Month, close, post, yuan
from .test_archive import StubPool

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEC_1 = datetime(2026, 12, 1, 2, 0, tzinfo=SHANGHAI)  # the schedule's time for November


@pytest.fixture
def renderer(monkeypatch):
    """While the job waits for the queue, the render queue (a separate scheduler job) works:
    here each wait renders what is queued with `renderer.pool`."""
    class Renderer:
        pool = StubPool()

    def render_while_waiting(_seconds):
        services.process_queue(Renderer.pool)

    monkeypatch.setattr(settlement_jobs.time, "sleep", render_while_waiting)
    return Renderer


def _november(app):
    with app.app_context():
        post(kind="opening", account="GD-BJ01", on=date(2026, 10, 31), amount_fen=yuan("500.00"),
             direction="debit")
        post(kind="payment", account="GD-SH01", on=date(2026, 11, 3), amount_fen=yuan("100.00"),
             payment_method="cash")
        db.session.remove()


def _job():
    return settlement_jobs.SETTLEMENTS_JOB


def test_a_month_not_closed_waits_with_a_reason(app, renderer):
    _november(app)
    with app.app_context():
        outcomes = catch_up(_job(), DEC_1)
        assert outcomes == [("2026-11", "waiting")]
        [waiting] = waiting_runs(settlement_jobs.SETTLEMENTS)
        assert waiting.key == "2026-11" and "2026-11" in waiting.reason
        assert db.session.execute(select(ReportRun)).first() is None


def test_a_closed_month_is_made_once(app, renderer):
    _november(app)
    with app.app_context():
        close(Month(2026, 10), today=date(2026, 12, 1))
        close(Month(2026, 11), today=date(2026, 12, 1))
        outcomes = dict(catch_up(_job(), DEC_1))
        assert outcomes["2026-11"] == "done"
        runs = db.session.execute(select(ReportRun).where(ReportRun.period == "2026-11")).scalars().all()
        assert sorted(r.account.code for r in runs) == ["GD-BJ01", "GD-SH01"]
        assert {r.status for r in runs} == {"done"} and {r.schedule for r in runs} == {"monthly_settlements"}
        # Nothing is owed any more: a second start (or a second scheduler) makes nothing.
        assert "2026-11" not in dict(catch_up(_job(), DEC_1))
        assert len(db.session.execute(select(ReportRun)).scalars().all()) == len(runs) + 1  # + October's
        assert db.session.execute(select(JobRun.status).where(JobRun.key == "2026-11")).scalar_one() == "done"
        assert waiting_runs(settlement_jobs.SETTLEMENTS) == []


def test_a_failed_recipient_fails_the_run_and_the_retry_renders_only_it(app, renderer):
    _november(app)
    with app.app_context():
        close(Month(2026, 10), today=date(2026, 12, 1))
        close(Month(2026, 11), today=date(2026, 12, 1))
        renderer.pool = StubPool(fail={"GD-SH01"})
        outcomes = dict(catch_up(_job(), DEC_1))
        assert outcomes["2026-11"] != "done"
        row = db.session.execute(select(JobRun).where(JobRun.key == "2026-11")).scalar_one()
        assert row.status == "failed" and "1 of" in (row.error or "")
        renderer.pool = StubPool()
        later = datetime(2026, 12, 1, 4, 0, tzinfo=SHANGHAI)  # past retry_minutes
        assert dict(catch_up(_job(), later))["2026-11"] == "done"
        assert renderer.pool.rendered == ["GD-SH01"]  # GD-BJ01 was done and unchanged


def test_finance_sees_on_its_dashboard_what_the_settlements_wait_for(app, login, renderer):
    _november(app)
    with app.app_context():
        catch_up(_job(), DEC_1)
        db.session.remove()
    page = login("finance").get("/dashboard", headers={"Accept-Language": "en"}).text
    assert "2026-11 is not closed yet" in page
    assert "2026-11 is not closed yet" in login("finance").get("/reports/", headers={"Accept-Language": "en"}).text
    assert "2026-11" not in login("sup.north").get("/dashboard", headers={"Accept-Language": "en"}).text


def test_the_run_history_tells_what_was_made_in_the_readers_language(app, login, renderer):
    _november(app)
    with app.app_context():
        close(Month(2026, 10), today=date(2026, 12, 1))
        close(Month(2026, 11), today=date(2026, 12, 1))
        catch_up(_job(), DEC_1)
        db.session.remove()
    admin = login("admin")
    assert "已生成 2026-11 的 2 份结算单。" in admin.get("/system/runs", headers={"Accept-Language": "zh-CN"}).text
    admin.post_form("/language", {"locale": "en"})
    assert "2 settlements of 2026-11 rendered." in admin.get("/system/runs").text
