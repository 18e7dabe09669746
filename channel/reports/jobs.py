"""The report jobs of the scheduler process: monthly settlements, and the render queue.

What is owed is read from the database ("which closed months lack settlements?"), so a scheduler
that was down across 02:00 on the 1st makes the month's settlements once when it comes back.
"""
import time
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from reports.jobs import Job, Owed, register, register_interval

from ..core.periods import Month
from ..extensions import db
from ..ledger import services as ledger
from ..ledger.models import BalanceSnapshot
from . import services
from .models import ReportBatch, ReportRun

SETTLEMENTS = "monthly_settlements"


def _missing(month: Month, lang: str) -> int:
    """Accounts with a ledger that month whose settlement is not done in the batch language."""
    accounts = db.session.execute(
        select(func.count()).select_from(BalanceSnapshot).where(BalanceSnapshot.month == str(month))
    ).scalar_one()
    done = db.session.execute(
        select(func.count(func.distinct(ReportRun.account_id))).where(
            ReportRun.kind == "settlement", ReportRun.period == str(month), ReportRun.lang == lang,
            ReportRun.status == "done")
    ).scalar_one()
    return accounts - done


def settlements_owed(now: datetime) -> Owed:
    """The months before `now` (a few back) that have ended: closed ones lacking settlements are
    owed; ones not closed yet are waiting."""
    config = current_app.config
    this_month = Month.of(now.date())
    keys, waiting = [], []
    month = this_month.prev()
    for _ in range(config["SETTLEMENT_CATCH_UP_MONTHS"]):
        if ledger.is_closed(month):
            if _missing(month, config["REPORT_LANGUAGE"]) > 0:
                keys.append(str(month))
        elif month == this_month.prev():
            # Kept as msgid and values, shown later in the reader's language.
            waiting.append((str(month), _l("%(month)s is not closed yet: the settlements wait for "
                                           "finance to close it.", month=str(month))))
        month = month.prev()
    return Owed(keys=sorted(keys), waiting=waiting)


def make_settlements(key: str, progress) -> str:
    """Queue the month's settlements and wait while the render queue makes them. Raises when any
    failed, so that the schedule retries later: a retry renders only the failed ones."""
    month = Month.parse(key)
    batch = services.request_batch("settlement", month, current_app.config["REPORT_LANGUAGE"],
                                   schedule=SETTLEMENTS)
    db.session.commit()
    batch_id, total = batch.id, batch.total
    while total:
        db.session.expire_all()
        counts = services.batch_progress(db.session.get(ReportBatch, batch_id))
        progress(counts["done"] + counts["failed"], total)
        if counts["queued"] + counts["running"] == 0:
            break
        db.session.rollback()
        time.sleep(current_app.config.get("REPORT_WAIT_SECONDS", 2))
    db.session.rollback()
    if total and counts["failed"]:
        raise RuntimeError(f"{counts['failed']} of {total} settlements of {key} failed")
    # Kept as msgid and values, shown in the reader's language on the run history.
    if total:
        return _l("%(n)s settlements of %(month)s rendered.", n=total, month=key)
    return _l("The settlements of %(month)s were up to date.", month=key)


_pool = None


def _shared_pool():
    """One render pool per scheduler process, started on first use and kept warm."""
    global _pool
    if _pool is None:
        from reports.pool import RenderPool

        config = current_app.config
        _pool = RenderPool(workers=config["REPORT_WORKERS"], timeout_s=config["REPORT_TIMEOUT_SECONDS"],
                           memory_mb=config["REPORT_MEMORY_MB"])
        _pool.__enter__()
    return _pool


def render_queue() -> None:
    """Render whatever is queued (asked from the web pages, the CLI or the monthly job)."""
    services.requeue_stale()
    if db.session.execute(select(ReportRun.id).where(ReportRun.status == "queued").limit(1)).first() is None:
        db.session.rollback()
        return
    services.process_queue(_shared_pool())


SETTLEMENTS_JOB = register(Job(id=SETTLEMENTS, title=_l("Monthly settlements"), default_cron="0 2 1 * *",
             owed=settlements_owed, run=make_settlements, retry_minutes=60))
register_interval("report_queue", 3, render_queue)
