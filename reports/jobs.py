"""The job framework: what a scheduled job is, and how its work is made exactly once.

A job says what work is owed, reading the database (`owed(now)` → keys such as "2026-10"), and
how to make one key (`run(key, progress)`). `catch_up(job)` asks what is owed and claims each key
by inserting the row (job_id, key) under a unique constraint before any work starts: of two
processes claiming one key, one wins. A key that is done is never made again; a failed one is
claimed again, by one atomic conditional UPDATE, once `retry_minutes` have passed; a key that
is due but cannot be made yet is recorded as waiting, with a reason people see.

Because what is owed comes from the database and not from when a cron fired, work missed while
no scheduler ran is made once when one starts again; the scheduler (reports/scheduler.py) calls
`catch_up` when the cron fires, when it starts or takes over, every `retry_minutes`, and when an
admin changes a schedule or asks for a run.

Modules named in the config's SCHEDULER_JOB_MODULES register their jobs when imported:

    register(Job(id="monthly_settlements", title=_l("Monthly settlements"),
                 default_cron="0 2 1 * *", owed=settlements_owed, run=make_settlements))
"""
import importlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from flask import current_app
from flask_babel import LazyString, gettext
from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from channel.db_types import utcnow
from channel.extensions import db
from channel.system.models import JobRun, JobSchedule, SchedulerHeartbeat

log = logging.getLogger("channel.jobs")

RUNS = JobRun.__table__


@dataclass(frozen=True)
class Owed:
    keys: list[str]  # work due now, e.g. ["2026-10"]; each key is made at most once successfully
    # (key, reason shown to people) for work that is due but cannot be made yet. The reason is
    # best a lazy_gettext(msgid, **values): it is kept as msgid and values, and shown translated.
    waiting: list[tuple[str, str]] = ()


@dataclass(frozen=True)
class Job:
    id: str  # "monthly_settlements"
    title: str  # msgid, translated when shown (lazy_gettext in the job's module)
    default_cron: str  # crontab "0 2 1 * *" in the business time zone
    # Called with 'now' (aware, business time zone) inside an app context; reads the database.
    owed: Callable[[datetime], Owed]
    # (key, progress(done, total)) inside an app context; returns a short summary or raises.
    # It commits its own work as it goes (short transactions: other processes wait for a long
    # SQLite write); what it leaves uncommitted is committed together with the run's "done".
    # progress() writes in its own short transaction, and raises LeaseLost when this process
    # may no longer run jobs: call it between commits.
    run: Callable[[str, Callable[[int, int], None]], str | None]
    retry_minutes: int = 60


@dataclass(frozen=True)
class Interval:
    id: str
    seconds: float
    fn: Callable[[], None]


JOBS: dict[str, Job] = {}
INTERVALS: dict[str, Interval] = {}


def register(job: Job) -> Job:
    """Make `job` known to the scheduler and the admin pages (called when its module is imported)."""
    if not job.id or len(job.id) > 64:
        raise ValueError(f"job id {job.id!r}: 1 to 64 characters")
    cron_trigger(job.default_cron, "UTC")  # a broken default fails at import, not at 02:00
    if job.retry_minutes < 1:
        raise ValueError(f"job {job.id!r}: retry_minutes must be at least 1")
    JOBS[job.id] = job
    return job


def register_interval(id: str, seconds: int, fn: Callable[[], None]) -> Interval:
    """A service loop run every `seconds` by the active scheduler process only (inside an app
    context), e.g. a queue poller. Not keyed: it must be safe to run again."""
    interval = Interval(id, seconds, fn)
    INTERVALS[id] = interval
    return interval


_FAILED_MODULES: dict[str, str] = {}


def load_job_modules(app=None) -> list[tuple[str, str]]:
    """Import the modules of SCHEDULER_JOB_MODULES (they register their jobs); returns the
    (module, error) of those that could not be imported."""
    app = app or current_app
    failed = []
    for name in app.config.get("SCHEDULER_JOB_MODULES") or ():
        if name in _FAILED_MODULES:
            failed.append((name, _FAILED_MODULES[name]))
            continue
        try:
            importlib.import_module(name)
        except Exception as err:  # a broken module must not take the web pages down
            log.exception("job module %s could not be imported", name)
            _FAILED_MODULES[name] = f"{type(err).__name__}: {err}"
            failed.append((name, _FAILED_MODULES[name]))
    return failed


def business_tz(app=None) -> ZoneInfo:
    return ZoneInfo((app or current_app).config["TIMEZONE"])


def process_name() -> str:
    """host:pid:random — the random part tells apart processes that reuse a pid (containers)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(2)}"


# --- cron ---------------------------------------------------------------------------------------

CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab: 0 (and 7) is Sunday


class CronError(ValueError):
    """code: "fields" (not five), "field" (`field` has a bad `value`), "day_and_weekday"
    (both restricted: crontab would run on either, APScheduler on both), "never"."""

    def __init__(self, code, field=None, value=None):
        super().__init__(code, field, value)
        self.code, self.field, self.value = code, field, value


def _weekday_number(token):
    token = token.lower()
    if token in _WEEKDAYS:
        return _WEEKDAYS.index(token)
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    raise ValueError(token)


def _crontab_weekdays(expr):
    """A crontab weekday field in APScheduler's terms. APScheduler 3 counts 0 as Monday where
    crontab counts 0 as Sunday: names leave no doubt."""
    days = set()
    for part in expr.split(","):
        rng, slash, step = part.partition("/")
        if slash and not (step.isdigit() and int(step) >= 1):
            raise ValueError(part)
        step = int(step) if slash else 1
        if rng == "*":
            low, high = 0, 6
        elif "-" in rng:
            low, high = (_weekday_number(t) for t in rng.split("-", 1))
            if high == 0 and low > 0:  # "5-7", "fri-sun": up to Sunday
                high = 7
            if high < low:
                raise ValueError(part)
        elif slash:
            raise ValueError(part)  # "1/2" is no crontab
        else:
            low = high = _weekday_number(rng)
        days.update(n % 7 for n in range(low, high + 1, step))
    if days == set(range(7)):
        return "*"
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def cron_trigger(expr: str, tz) -> CronTrigger:
    """A crontab expression (minute hour day month weekday) as an APScheduler trigger in `tz`.
    Like CronTrigger.from_crontab, with crontab's weekday numbers (0 and 7 are Sunday)."""
    values = (expr or "").split()
    if len(values) != 5:
        raise CronError("fields")
    if values[2] != "*" and values[4] != "*":
        raise CronError("day_and_weekday")
    for name, value in zip(CRON_FIELDS[:4], values[:4]):
        try:
            CronTrigger(**{name: value}, timezone=tz)
        except ValueError:
            raise CronError("field", name, value) from None
    try:
        weekday = _crontab_weekdays(values[4])
    except ValueError:
        raise CronError("field", "day_of_week", values[4]) from None
    trigger = CronTrigger(minute=values[0], hour=values[1], day=values[2], month=values[3],
                          day_of_week=weekday, timezone=tz)
    if trigger.get_next_fire_time(None, datetime(2000, 1, 1, tzinfo=timezone.utc)) is None:
        raise CronError("never")
    return trigger


def next_fire_times(expr: str, tz, now: datetime, n=1) -> list[datetime]:
    trigger = cron_trigger(expr, tz)
    out, previous, at = [], None, now
    for _ in range(n):
        at = trigger.get_next_fire_time(previous, at)
        if at is None:
            break
        out.append(at)
        previous, at = at, at + timedelta(microseconds=1)
    return out


# --- texts for people -----------------------------------------------------------------------------

def text_parts(text) -> tuple[str | None, dict | None]:
    """A message as (msgid, values) to store; lazy_gettext(msgid, **values) keeps both, so that
    it can be shown later in the reader's language. Plain strings are kept as they are."""
    if text is None:
        return None, None
    if isinstance(text, LazyString) and getattr(text._func, "__name__", "") == "gettext" \
            and len(text._args) == 1 and isinstance(text._args[0], str):
        values = {k: v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
                  for k, v in text._kwargs.items()}
        return text._args[0], values or None
    return str(text), None


def show_text(msgid, values=None) -> str:
    """A stored message in the current language."""
    if not msgid:
        return ""
    try:
        return gettext(msgid, **values) if values else gettext(msgid)
    except (KeyError, ValueError, TypeError):
        return msgid


def _plain(msgid, values):
    try:
        return msgid % values if values else msgid
    except (KeyError, ValueError, TypeError):
        return msgid


def job_title(job_id) -> str:
    job = JOBS.get(job_id)
    return show_text(*text_parts(job.title)) if job else job_id


# --- claims and runs ------------------------------------------------------------------------------

class LeaseLost(Exception):
    """This process may no longer run jobs (it lost the scheduler lease, or is stopping)."""


@dataclass(frozen=True)
class Claim:
    run_id: int
    key: str
    attempt: int
    holder: str


def _stale_after(app=None) -> timedelta:
    """A scheduler process whose heartbeat is older than this is gone."""
    config = (app or current_app).config
    return timedelta(seconds=max(3 * float(config["SCHEDULER_HEARTBEAT_SECONDS"]),
                                 float(config["SCHEDULER_LEASE_SECONDS"])))


def holder_is_gone(holder, now) -> bool:
    """True when `holder` is a scheduler process whose heartbeat has stopped. A holder without a
    heartbeat row is not known to be gone."""
    beat = db.session.execute(
        select(SchedulerHeartbeat.beat_at).where(SchedulerHeartbeat.name == holder)
    ).scalar_one_or_none()
    db.session.rollback()
    return beat is not None and beat < now - _stale_after()


def _run_row(job_id, key):
    with db.engine.connect() as conn:
        return conn.execute(
            select(RUNS.c.id, RUNS.c.status, RUNS.c.holder, RUNS.c.attempts, RUNS.c.retry_at)
            .where(RUNS.c.job_id == job_id, RUNS.c.key == key)
        ).first()


def _take(job_id, key, holder, now, *conditions) -> Claim | None:
    """The one conditional UPDATE that turns an existing row into this process's running claim."""
    where = (RUNS.c.job_id == job_id, RUNS.c.key == key, *conditions)
    with db.engine.begin() as conn:
        result = conn.execute(update(RUNS).where(*where).values(
            status="running", attempts=RUNS.c.attempts + 1, holder=holder, started_at=now,
            finished_at=None, progress_done=None, progress_total=None, reason=None,
            reason_args=None, error=None, retry_at=None, updated_at=now,
        ))
        if result.rowcount != 1:
            return None
        run_id, attempts = conn.execute(
            select(RUNS.c.id, RUNS.c.attempts).where(RUNS.c.job_id == job_id, RUNS.c.key == key)
        ).one()
    return Claim(run_id, key, attempts, holder)


def claim(job_id: str, key: str, *, holder: str, now: datetime) -> Claim | None:
    """Claim (job_id, key) for `holder`: the INSERT of a running row (the unique key lets one
    process win), or the atomic move of an existing row to running: from waiting; from failed
    once its retry time has come; from running when its holder's heartbeat has stopped. None
    when the key is done, running elsewhere, not due for a retry, or another process won."""
    row = _run_row(job_id, key)
    if row is None:
        try:
            with db.engine.begin() as conn:
                run_id = conn.execute(insert(RUNS).values(
                    job_id=job_id, key=key, status="running", attempts=1, holder=holder,
                    created_at=now, started_at=now, updated_at=now,
                ).returning(RUNS.c.id)).scalar_one()
        except IntegrityError:
            return None
        return Claim(run_id, key, 1, holder)
    if row.status == "waiting":
        return _take(job_id, key, holder, now, RUNS.c.status == "waiting")
    if row.status == "failed" and (row.retry_at is None or row.retry_at <= now):
        return _take(job_id, key, holder, now, RUNS.c.status == "failed",
                     or_(RUNS.c.retry_at.is_(None), RUNS.c.retry_at <= now))
    if row.status == "running" and row.holder != holder and holder_is_gone(row.holder, now):
        log.warning("%s %s: its process %s stopped; taking the run over", job_id, key, row.holder)
        return _take(job_id, key, holder, now, RUNS.c.status == "running",
                     RUNS.c.holder == row.holder, RUNS.c.attempts == row.attempts)
    return None


def _mine(c: Claim):
    return (RUNS.c.id == c.run_id, RUNS.c.status == "running", RUNS.c.holder == c.holder,
            RUNS.c.attempts == c.attempt)


class Progress:
    """progress(done, total) for a run: written to its row at most every `every` seconds (and
    always at the end), in its own transaction; raises LeaseLost once the process may no longer
    run jobs, so that a long run stops between two steps."""

    def __init__(self, c: Claim, may_run: Callable[[], bool], every: float = 1.0):
        self.claim, self.may_run, self.every = c, may_run, every
        self._last = None

    def __call__(self, done: int, total: int) -> None:
        if not self.may_run():
            raise LeaseLost("this scheduler process no longer holds the lease")
        now = time.monotonic()
        if done < total and self._last is not None and now - self._last < self.every:
            return
        self._last = now
        try:
            with db.engine.begin() as conn:
                conn.execute(update(RUNS).where(*_mine(self.claim)).values(
                    progress_done=int(done), progress_total=int(total), updated_at=utcnow()))
        except SQLAlchemyError:
            log.warning("progress of run %s not recorded", self.claim.run_id, exc_info=True)


def _fail(c: Claim, error: str, *, now, retry_at):
    with db.engine.begin() as conn:
        conn.execute(update(RUNS).where(*_mine(c)).values(
            status="failed", error=error[:4000], finished_at=now, updated_at=now, retry_at=retry_at))


def execute(job: Job, c: Claim, *, may_run=lambda: True, clock=utcnow) -> str:
    """Make the claimed key: "done", "failed" (retried after retry_minutes), "interrupted"
    (lease lost: retried at once by whoever holds the lease), or "lost" (another process took
    the run over meanwhile: this one's last work is rolled back)."""
    log.info("%s %s: attempt %s by %s", job.id, c.key, c.attempt, c.holder)
    try:
        summary = job.run(c.key, Progress(c, may_run))
    except LeaseLost as err:
        db.session.rollback()
        log.warning("%s %s: interrupted: %s", job.id, c.key, err)
        now = clock()
        _fail(c, f"Interrupted: {err}", now=now, retry_at=now)
        return "interrupted"
    except Exception as err:
        db.session.rollback()
        log.exception("%s %s failed", job.id, c.key)
        now = clock()
        _fail(c, f"{type(err).__name__}: {err}", now=now,
              retry_at=now + timedelta(minutes=job.retry_minutes))
        return "failed"
    msgid, values = text_parts(summary)
    now = clock()
    # "done" commits together with whatever the job left uncommitted: both or neither.
    result = db.session.execute(update(RUNS).where(*_mine(c)).values(
        status="done", summary=msgid, summary_args=values, finished_at=now, updated_at=now,
        error=None, retry_at=None))
    if result.rowcount != 1:
        db.session.rollback()
        log.warning("%s %s: the run was taken over by another process; not marked done here",
                    job.id, c.key)
        return "lost"
    db.session.commit()
    log.info("%s %s: done%s", job.id, c.key, f": {_plain(msgid, values)}" if msgid else "")
    return "done"


def _record_waiting(job, waiting, now):
    """Upsert the waiting keys with their reasons; they are checked again after retry_minutes."""
    next_check = now + timedelta(minutes=job.retry_minutes)
    for key, reason in waiting:
        msgid, values = text_parts(reason)
        row = _run_row(job.id, key)
        if row is None:
            try:
                with db.engine.begin() as conn:
                    conn.execute(insert(RUNS).values(
                        job_id=job.id, key=key, status="waiting", attempts=0, reason=msgid,
                        reason_args=values, created_at=now, updated_at=now, retry_at=next_check))
            except IntegrityError:
                pass  # another process recorded it first
        elif row.status in ("waiting", "failed"):
            with db.engine.begin() as conn:
                conn.execute(update(RUNS).where(
                    RUNS.c.id == row.id, RUNS.c.status.in_(("waiting", "failed"))
                ).values(status="waiting", reason=msgid, reason_args=values, updated_at=now,
                         retry_at=next_check))


def _tidy(job, owed_keys, waiting_keys, holder, now):
    """Rows that what is owed no longer explains: a waiting key that is no longer due is
    forgotten; a failed one is not retried; a run whose process died is marked failed."""
    known = set(owed_keys) | set(waiting_keys)
    with db.engine.begin() as conn:
        conn.execute(delete(RUNS).where(RUNS.c.job_id == job.id, RUNS.c.status == "waiting",
                                        RUNS.c.key.not_in(known)))
        conn.execute(update(RUNS).where(
            RUNS.c.job_id == job.id, RUNS.c.status == "failed", RUNS.c.retry_at.is_not(None),
            RUNS.c.key.not_in(known)).values(retry_at=None))
        orphans = conn.execute(select(RUNS.c.id, RUNS.c.holder, RUNS.c.attempts).where(
            RUNS.c.job_id == job.id, RUNS.c.status == "running", RUNS.c.holder != holder,
            RUNS.c.key.not_in(known))).all()
    for run_id, other, attempts in orphans:
        if holder_is_gone(other, now):
            with db.engine.begin() as conn:
                conn.execute(update(RUNS).where(
                    RUNS.c.id == run_id, RUNS.c.status == "running", RUNS.c.holder == other,
                    RUNS.c.attempts == attempts,
                ).values(status="failed", error=f"Interrupted: the process {other} stopped.",
                         finished_at=now, updated_at=now, retry_at=None))


def catch_up(job: Job, now: datetime | None = None, *, holder: str | None = None,
             may_run: Callable[[], bool] | None = None) -> list[tuple[str, str]]:
    """Make what `job` owes now, each key once. Inside an app context. `now` (aware) freezes the
    clock, for tests; `may_run` is asked before each key and by progress() (the scheduler passes
    "do I still hold the lease?"). Returns (key, outcome) for each key owed or waiting."""
    clock = (lambda: now.astimezone(timezone.utc)) if now is not None else utcnow
    holder = holder or process_name()
    may_run = may_run or (lambda: True)
    if not may_run():
        return []
    owed = job.owed(clock().astimezone(business_tz()))
    db.session.rollback()  # owed() only reads: start the work on fresh snapshots
    keys = list(dict.fromkeys(str(k) for k in owed.keys))
    waiting = [(str(k), reason) for k, reason in owed.waiting if str(k) not in keys]
    _record_waiting(job, waiting, clock())
    _tidy(job, keys, [k for k, _ in waiting], holder, clock())
    outcomes = [(key, "waiting") for key, _ in waiting]
    for key in keys:
        if not may_run():
            outcomes.append((key, "stopped"))
            continue
        c = claim(job.id, key, holder=holder, now=clock())
        if c is None:
            row = _run_row(job.id, key)
            outcomes.append((key, {"done": "already done", "running": "running elsewhere",
                                   "failed": "retry later"}.get(row.status if row else "", "taken")))
            continue
        outcomes.append((key, execute(job, c, may_run=may_run, clock=clock)))
    return outcomes


# --- schedules, and what the pages show -------------------------------------------------------------

def ensure_schedules() -> dict[str, JobSchedule]:
    """Every registered job's schedule row, created from its default cron when missing."""
    have = {s.job_id: s for s in db.session.execute(select(JobSchedule)).scalars()}
    missing = [job for job_id, job in JOBS.items() if job_id not in have]
    if missing:
        db.session.rollback()
        for job in missing:
            try:
                with db.engine.begin() as conn:
                    conn.execute(insert(JobSchedule.__table__).values(
                        job_id=job.id, cron=job.default_cron, enabled=True, updated_at=utcnow()))
            except IntegrityError:
                pass  # created by another process meanwhile
        have = {s.job_id: s for s in db.session.execute(select(JobSchedule)).scalars()}
    return have


def due_retries(now: datetime) -> set[str]:
    """Jobs with a failed or waiting key whose time to try again has come."""
    return set(db.session.execute(select(JobRun.job_id).distinct().where(and_(
        JobRun.status.in_(("failed", "waiting")), JobRun.retry_at.is_not(None),
        JobRun.retry_at <= now))).scalars())


@dataclass(frozen=True)
class WaitingRun:
    job_id: str
    title: str  # in the current language
    key: str
    reason: str  # in the current language
    since: datetime
    next_check_at: datetime | None


def waiting_runs(job_id: str | None = None) -> list[WaitingRun]:
    """Work that is due but cannot be made yet (e.g. settlements of a month not closed yet), with
    the reason, for the pages that tell people what they are waiting for."""
    load_job_modules()
    stmt = select(JobRun).where(JobRun.status == "waiting").order_by(JobRun.job_id, JobRun.key)
    if job_id is not None:
        stmt = stmt.where(JobRun.job_id == job_id)
    return [WaitingRun(r.job_id, job_title(r.job_id), r.key, show_text(r.reason, r.reason_args),
                       r.created_at, r.retry_at)
            for r in db.session.execute(stmt).scalars()]
