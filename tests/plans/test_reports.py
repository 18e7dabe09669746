"""The plan-versus-actual PDF per region on SQLite and PostgreSQL: the scheduler's job owes each
top region with plans once per finished period and makes it once (a second start makes nothing);
on demand a supervisor makes one for a region of theirs in their language, and an unchanged one
is not made again; downloads are scoped (404 outside the user's regions) and audited; the PDF
read back holds the region, the period, the figures and the variance note, in Chinese and English,
Chinese printed with the embedded CJK font. Renders are few (about 0.3 s each): three in all."""
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from channel.audit.models import AuditEntry
from channel.extensions import db
from channel.masterdata.models import Region
from channel.plans import jobs as plan_jobs
from channel.plans import reports
from channel.plans import services as ps
from channel.plans.report_models import PlanReport
from channel.system.models import JobRun
from reports import engine
from reports.jobs import catch_up
from tests.helpers import embedded_fonts, pdf_text
from tests.ledger import account, user, written, yuan

from . import BEFORE, PERIOD, pay, plan_input, saved, ship

SHANGHAI = ZoneInfo("Asia/Shanghai")
AFTER = date(2026, 3, 25)  # the period (11-20 March) is over
MARCH_21 = datetime(2026, 3, 21, 3, 0, tzinfo=SHANGHAI)  # the schedule's time for 中旬


@dataclass
class Result:
    pdf: bytes | None
    error: str | None = None
    seconds: float = 0.0


class InlinePool:
    """The real engine in this process, counting renders (the pool's own tests cover the workers)."""

    def __init__(self):
        self.rendered = []

    def render_many(self, tasks):
        for key, kind, context, lang in tasks:
            self.rendered.append((context["region"]["code"], context["period"]["key"], lang))
            yield key, Result(engine.render_pdf(kind, context, lang))


def _approved(code, data, drafter="rep.beijing", supervisor="sup.north"):
    plan = saved(code, data, username=drafter)
    written(ps.submit, plan, by=user(drafter), today=BEFORE)
    written(ps.approve, plan, by=user(supervisor), today=BEFORE)
    return plan


def _march(app):
    """中旬 March 2026: 华北 (北京's dealer DL-BJ001 at 60 % of plan with a variance note, 天津's
    GD-TJ01 above plan) and 华东 (GD-SH01 with a plan, nothing shipped)."""
    with app.app_context():
        bj = _approved("DL-BJ001", plan_input(("P-W550", 100), payment="2000.00", on=date(2026, 3, 15)))
        _approved("GD-TJ01", plan_input(("P-W550", 10), payment="0"), drafter="merch.tianjin")
        _approved("GD-SH01", plan_input(("P-W550", 50)), drafter="rep.shanghai", supervisor="sup.east")
        ship("DL-BJ001", date(2026, 3, 12), ("P-W550", 60, 2880))
        pay("DL-BJ001", date(2026, 3, 16), yuan("1500.00"))
        ship("GD-TJ01", date(2026, 3, 18), ("P-W550", 12, 2880))
        written(ps.set_variance_note, bj, "竞品春节后降价促销", by=user("rep.beijing"))
        db.session.remove()


@pytest.fixture
def march(app, monkeypatch):
    _march(app)
    # The pages' "today": a few days after the period.
    monkeypatch.setattr(ps, "business_today", lambda: AFTER)
    return app


def _region(code) -> Region:
    return db.session.execute(select(Region).where(Region.code == code)).scalar_one()


def test_the_job_owes_each_top_region_once_and_makes_it_once(march, monkeypatch):
    pool = InlinePool()
    monkeypatch.setattr(plan_jobs, "render_pool", lambda: pool)
    with march.app_context():
        # Before the period is over nothing is owed; after it, each top region that had plans.
        assert plan_jobs.plan_reports_owed(datetime(2026, 3, 20, 23, 0, tzinfo=SHANGHAI)).keys == []
        assert plan_jobs.plan_reports_owed(MARCH_21).keys == ["2026-03-2/EAST", "2026-03-2/NORTH"]
        # 华东's made on demand first is not made again by the schedule.
        written(reports.make, _region("EAST"), PERIOD, "zh_CN", pool=pool, today=AFTER)
        assert plan_jobs.plan_reports_owed(MARCH_21).keys == ["2026-03-2/NORTH"]
        outcomes = catch_up(plan_jobs.PLAN_REPORTS_JOB, MARCH_21)
        assert outcomes == [("2026-03-2/NORTH", "done")]
        assert pool.rendered == [("EAST", "2026-03-2", "zh_CN"), ("NORTH", "2026-03-2", "zh_CN")]
        # A second start (or a second scheduler) owes and makes nothing.
        assert catch_up(plan_jobs.PLAN_REPORTS_JOB, MARCH_21) == []
        assert len(pool.rendered) == 2
        rows = db.session.execute(select(PlanReport).order_by(PlanReport.id)).scalars().all()
        assert [(r.region.code, r.period, r.lang, r.version, r.schedule) for r in rows] == [
            ("EAST", "2026-03-2", "zh_CN", 1, None), ("NORTH", "2026-03-2", "zh_CN", 1, "plan_actual_reports")]
        assert db.session.execute(select(JobRun.status).where(JobRun.key == "2026-03-2/NORTH")).scalar_one() == "done"
        # Asking again with nothing changed gives the same report and renders nothing.
        again, new = written(reports.make, _region("NORTH"), PERIOD, "zh_CN", pool=pool, today=AFTER)
        assert (again.id, new, len(pool.rendered)) == (rows[1].id, False, 2)

        # The PDF: region, period (中旬 and its dates), every figure, the note, the CJK font.
        zh = pdf_text(reports.pdf_bytes(rows[1]))
        assert rows[1].size == len(reports.pdf_bytes(rows[1]))
        name_bj, name_tj = account("DL-BJ001").name, account("GD-TJ01").name
        for expected in ("华东食品有限公司", "华北", "NORTH", "2026-03-2", "中旬", "DL-BJ001", "GD-TJ01",
                         name_bj.replace(" ", ""), name_tj.replace(" ", ""), "北京", "天津",
                         "¥2,880.00", "¥1,728.00",  # DL-BJ001: plan 100 x 28.80, shipped 60
                         "¥345.60", "¥288.00",  # GD-TJ01: shipped 12 against 10 planned
                         "¥3,168.00", "¥2,073.60",  # 华北's plan and shipments
                         "¥2,000.00", "¥1,500.00", "60.0%", "75.0%", "120.0%", "65.5%",
                         "竞品春节后降价促销", user("rep.beijing").full_name):
            assert expected in zh, expected
        assert "GD-SH01" not in zh  # 华东's account is in 华东's report only
        assert engine.translations("zh_CN").ugettext("Plan versus actual").replace(" ", "") in zh
        assert embedded_fonts(reports.pdf_bytes(rows[1])) == {"Noto-Sans-CJK-SC-Report"}
        # Reports are kept as they were made.
        with pytest.raises(DBAPIError):
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE plan_reports SET version = 7"))


def _form(client, url="/plans/reports"):
    page = client.get(url)
    assert page.status_code == 200
    return page


def test_on_demand_scoped_download_and_the_dashboard_link(march, login, client):
    with march.app_context():
        north, east = _region("NORTH").id, _region("EAST").id
    sup = login("sup.north")
    page = _form(sup)
    assert "2026-03-2" in page.text and "华东" not in page.text.split("<table")[0].split('name="region"')[-1]
    # Made now, in English, by the web process's render worker.
    resp = sup.post_form("/plans/reports/generate", {"region": north, "period": "2026-03-2", "lang": "en"})
    assert resp.status_code == 302 and f"region={north}" in resp.headers["Location"]
    with march.app_context():
        report = db.session.execute(select(PlanReport)).scalar_one()
        assert (report.region_id, report.lang, report.version, report.requested_by.username) == (
            north, "en", 1, "sup.north")
        report_id = report.id
        en = pdf_text(reports.pdf_bytes(report))
    for expected in ("Planversusactual", "华北", "2026-03-2", "secondtendays", "DL-BJ001", "¥2,880.00",
                     "¥1,728.00", "60.0%", "75.0%", "Accounts,furthestbelowplanfirst", "Whybelowplan",
                     "竞品春节后降价促销"):
        assert expected in en, expected
    # Nothing changed: asked again, the same report (no new version, no render).
    resp = sup.post_form("/plans/reports/generate", {"region": north, "period": "2026-03-2", "lang": "en"})
    assert resp.status_code == 302
    # A region outside the supervisor's scope, or a period not over, is refused.
    assert sup.post_form("/plans/reports/generate", {"region": east, "period": "2026-03-2", "lang": "en"}
                         ).status_code == 422
    assert sup.post_form("/plans/reports/generate", {"region": north, "period": "2026-03-3", "lang": "en"}
                         ).status_code == 422
    with march.app_context():
        assert db.session.execute(select(PlanReport.id)).scalars().all() == [report_id]
    url = f"/plans/reports/{report_id}.pdf"
    assert f'href="{url}"' in sup.get("/plans/reports").text
    assert f'href="{url}"' not in login("sup.east").get("/plans/reports").text
    # Downloads: the region's supervisor and finance; 404 outside the scope; 403 without the feature.
    for username, status in (("sup.north", 200), ("finance", 200), ("sup.east", 404), ("rep.beijing", 403),
                             ("dist.bj", 403)):
        resp = login(username).get(url)
        assert resp.status_code == status, username
        if status == 200:
            assert resp.data.startswith(b"%PDF-") and "plan-actual-2026-03-2-NORTH-en-v1.pdf" in \
                resp.headers["Content-Disposition"]
    assert login("finance").get("/plans/reports/999999.pdf").status_code == 404
    assert client.get(url).status_code == 302  # to the login page
    with march.app_context():
        audited = db.session.execute(select(AuditEntry.action, AuditEntry.object_type, AuditEntry.user_id)
                                     .where(AuditEntry.object_type == "plan_reports")
                                     .order_by(AuditEntry.id)).all()
        assert [tuple(a) for a in audited] == [
            ("reports_requested", "plan_reports", user("sup.north").id),
            ("report_downloaded", "plan_reports", user("sup.north").id),
            ("report_downloaded", "plan_reports", user("finance").id)]
        # The dashboard's link: the newest report of the user's regions.
        assert reports.latest_for(user("sup.north")).id == report_id
        assert reports.latest_for(user("mgr.channel")).id == report_id
        assert reports.latest_for(user("sup.east")) is None
        assert reports.latest_for(user("rep.beijing")) is None
    # On the supervisor's dashboard.
    home = sup.get("/dashboard").text
    assert f'href="{url}"' in home and "latest-plan-report" in home
    assert "latest-plan-report" not in login("sup.east").get("/dashboard").text


def test_a_failed_render_is_said_and_keeps_nothing(march, login, monkeypatch):
    class Failing:
        def render_many(self, tasks):
            for key, *_rest in tasks:
                yield key, Result(None, "time limit exceeded: killed after 60 s")

    monkeypatch.setattr(reports, "OnDemandPool", Failing)
    with march.app_context():
        north = _region("NORTH").id
    resp = login("sup.north").post_form("/plans/reports/generate",
                                        {"region": north, "period": "2026-03-2", "lang": "zh_CN"})
    assert resp.status_code == 503
    with march.app_context():
        assert db.session.execute(select(PlanReport)).first() is None


def test_a_failed_scheduled_render_fails_its_key_only(march, monkeypatch):
    class HalfFailing:
        def render_many(self, tasks):
            for key, _kind, context, _lang in tasks:
                if context["region"]["code"] == "NORTH":
                    yield key, Result(None, "boom: the renderer fell over")
                else:
                    yield key, Result(b"%PDF-1.7 stub")

    monkeypatch.setattr(plan_jobs, "render_pool", HalfFailing)
    with march.app_context():
        outcomes = dict(catch_up(plan_jobs.PLAN_REPORTS_JOB, MARCH_21))
        assert outcomes == {"2026-03-2/EAST": "done", "2026-03-2/NORTH": "failed"}
        assert [r.region.code for r in db.session.execute(select(PlanReport)).scalars()] == ["EAST"]
        error = db.session.execute(select(JobRun.error).where(JobRun.key == "2026-03-2/NORTH")).scalar_one()
        assert "boom" in error
        # Still owed: the schedule tries it again after retry_minutes.
        assert plan_jobs.plan_reports_owed(MARCH_21).keys == ["2026-03-2/NORTH"]
