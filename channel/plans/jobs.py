"""The scheduler's plan-versus-actual reports: at 03:00 on the 1st, 11th and 21st (an hour after
the settlements), the report of every top region for the period just finished, in the report
language, rendered in the scheduler's render pool.

What is owed is read from the database: a (period, top region) of the last few finished periods
whose region had plans in that period and has no report of it yet. So a scheduler that was down
on the 11th makes the 上旬 reports once when it comes back, and a report someone made on demand
first is not made again. Each key is made once through the job framework (reports/jobs.py).
"""
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from reports.jobs import Job, Owed, register

from ..core.periods import TenDay
from ..extensions import db
from ..masterdata.models import Account, Region
from . import reports
from .models import Plan
from .report_models import PlanReport

PLAN_REPORTS = "plan_actual_reports"
CATCH_UP_PERIODS = 3  # how many finished periods back the job still makes missing reports


def _key(period: TenDay, region: Region) -> str:
    return f"{period}/{region.code}"


def _top_of(regions) -> dict[int, int]:
    """{region id: id of its top region}."""
    parents = {r.id: r.parent_id for r in regions}
    out = {}
    for rid in parents:
        node, seen = rid, set()
        while parents.get(node) is not None and node not in seen:
            seen.add(node)
            node = parents[node]
        out[rid] = node
    return out


def plan_reports_owed(now: datetime) -> Owed:
    """(period, top region) pairs of the last CATCH_UP_PERIODS finished periods: the top regions
    with plans in the period and no report of it in the report language yet."""
    config = current_app.config
    lang = config["REPORT_LANGUAGE"]
    periods = reports.finished_periods(now.date(), config.get("PLAN_REPORT_CATCH_UP_PERIODS", CATCH_UP_PERIODS))
    names = [str(p) for p in periods]
    regions = list(db.session.execute(select(Region)).scalars())
    top = _top_of(regions)
    by_id = {r.id: r for r in regions}
    planned = {(period, top[region_id]) for period, region_id in db.session.execute(
        select(Plan.period, Account.region_id).join(Account, Plan.account_id == Account.id)
        .where(Plan.period.in_(names)).distinct())}
    made = set(tuple(row) for row in db.session.execute(select(PlanReport.period, PlanReport.region_id).where(
        PlanReport.period.in_(names), PlanReport.lang == lang).distinct()).all())
    keys = [_key(TenDay.parse(period), by_id[rid]) for period, rid in planned if (period, rid) not in made]
    return Owed(keys=sorted(keys))


def make_plan_report(key: str, progress) -> str:
    """Render the key's report in the scheduler's render pool and keep it (committed with the run)."""
    period_text, _sep, code = key.partition("/")
    period = TenDay.parse(period_text)
    region = db.session.execute(select(Region).where(Region.code == code)).scalar_one()
    progress(0, 1)  # raises LeaseLost if this process may no longer run jobs
    # Not progress(1, 1) after it: the report's rows are not committed yet (they commit with the
    # run's "done"), and on SQLite progress() would wait for this very transaction.
    report, new = reports.make(region, period, current_app.config["REPORT_LANGUAGE"], pool=render_pool(),
                               schedule=PLAN_REPORTS)
    if new:
        return _l("Plan versus actual of %(region)s, %(period)s: version %(version)s made.",
                  region=code, period=period_text, version=report.version)
    return _l("Plan versus actual of %(region)s, %(period)s was up to date.", region=code, period=period_text)


def render_pool():
    """The scheduler process's render pool (shared with the settlements; tests replace it)."""
    from ..reports.jobs import _shared_pool

    return _shared_pool()


PLAN_REPORTS_JOB = register(Job(id=PLAN_REPORTS, title=_l("Plan versus actual reports"),
                                default_cron="0 3 1,11,21 * *", owed=plan_reports_owed,
                                run=make_plan_report, retry_minutes=60))
