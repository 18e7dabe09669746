"""The scheduler as admins see it: schedules, "run now", retries, run history, processes.

The web only records what it is asked (a schedule, a request, a retry time); the active
scheduler process (reports/scheduler.py) picks it up within SCHEDULER_POLL_SECONDS. No job ever
runs inside a web request.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from reports.jobs import JOBS, Job, business_tz, job_title, next_fire_times, waiting_runs  # noqa: F401

from ..audit.services import diff, record
from ..db_types import utcnow
from ..extensions import db
from .models import JobRun, JobSchedule, SchedulerHeartbeat, SchedulerLease


class ScheduleError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


@dataclass
class ScheduleView:
    job: Job
    title: str
    cron: str
    enabled: bool
    saved: JobSchedule | None
    next_run: datetime | None
    last_run: JobRun | None
    waiting: int
    failed: int


def _fields(schedule: JobSchedule | None, job: Job) -> dict:
    if schedule is None:
        return {"cron": job.default_cron, "enabled": True}
    return {"cron": schedule.cron, "enabled": schedule.enabled}


def schedules(now=None) -> list[ScheduleView]:
    """Every registered job with its schedule (the default until one is saved), next run time
    in the business time zone, last run, and how many keys wait or failed."""
    now = now or utcnow()
    tz = business_tz()
    saved = {s.job_id: s for s in db.session.execute(select(JobSchedule)).scalars()}
    last = {}
    for run in db.session.execute(select(JobRun).order_by(JobRun.updated_at.desc(), JobRun.id.desc())).scalars():
        last.setdefault(run.job_id, run)
    counts = {}
    for job_id, status, n in db.session.execute(
            select(JobRun.job_id, JobRun.status, func.count()).where(JobRun.status.in_(("waiting", "failed")))
            .group_by(JobRun.job_id, JobRun.status)):
        counts[job_id, status] = n
    out = []
    for job in JOBS.values():
        fields = _fields(saved.get(job.id), job)
        try:
            upcoming = next_fire_times(fields["cron"], tz, now.astimezone(tz)) if fields["enabled"] else []
        except ValueError:
            upcoming = []
        out.append(ScheduleView(job=job, title=job_title(job.id), saved=saved.get(job.id),
                                next_run=upcoming[0] if upcoming else None, last_run=last.get(job.id),
                                waiting=counts.get((job.id, "waiting"), 0),
                                failed=counts.get((job.id, "failed"), 0), **fields))
    return sorted(out, key=lambda s: s.title)


def save_schedule(job: Job, *, cron: str, enabled: bool, by) -> bool:
    """Save the job's schedule (the cron is validated by the form); audited. False when nothing
    changed. The scheduler applies it, and catches up, within a few seconds."""
    schedule = db.session.get(JobSchedule, job.id)
    before = _fields(schedule, job)
    after = {"cron": " ".join(cron.split()), "enabled": bool(enabled)}
    if before == after:
        return False
    if schedule is None:
        schedule = JobSchedule(job_id=job.id)
        db.session.add(schedule)
    schedule.cron, schedule.enabled = after["cron"], after["enabled"]
    schedule.updated_at = utcnow()
    schedule.updated_by_id = by.id
    db.session.flush()
    record("updated", schedule, by=by, changes=diff(before, after), object_type="job_schedules",
           label=job.id)
    return True


def request_run(job: Job, *, by) -> JobSchedule:
    """Ask the active scheduler to catch up on the job now (even when its schedule is off)."""
    schedule = db.session.get(JobSchedule, job.id)
    if schedule is None:
        schedule = JobSchedule(job_id=job.id, cron=job.default_cron, enabled=True, updated_at=utcnow())
        db.session.add(schedule)
    schedule.run_requested_at = utcnow()
    schedule.run_requested_by_id = by.id
    db.session.flush()
    record("run_requested", schedule, by=by, object_type="job_schedules", label=job.id)
    return schedule


def retry_run(run: JobRun, *, by) -> None:
    """Retry a failed run at once rather than after the job's retry time."""
    if run.status != "failed":
        raise ScheduleError("not_failed")
    run.retry_at = utcnow()
    job = JOBS.get(run.job_id)
    if job is not None:
        request_run(job, by=by)  # also when the job's schedule is switched off
    db.session.flush()
    record("retry_requested", run, by=by, object_type="job_runs", label=f"{run.job_id} {run.key}")


def runs_query(job_id=None, status=None):
    stmt = select(JobRun).order_by(func.coalesce(JobRun.started_at, JobRun.created_at).desc(), JobRun.id.desc())
    if job_id:
        stmt = stmt.where(JobRun.job_id == job_id)
    if status:
        stmt = stmt.where(JobRun.status == status)
    return stmt


def run_job_ids() -> list[str]:
    """Jobs to filter the history by: the registered ones and any others with runs."""
    seen = set(db.session.execute(select(JobRun.job_id).distinct()).scalars())
    return sorted(set(JOBS) | seen, key=job_title)


@dataclass
class SchedulerState:
    active: SchedulerHeartbeat | None  # the lease holder's heartbeat
    holder: str | None  # the lease holder's name (None: no process holds it)
    expires_at: datetime | None
    standby: list[SchedulerHeartbeat]
    fresh_limit: timedelta

    @property
    def running(self):
        return self.holder is not None


def scheduler_state(now=None) -> SchedulerState:
    """Which scheduler process runs the jobs (holds an unexpired lease), and which stand by."""
    now = now or utcnow()
    config = current_app.config
    limit = timedelta(seconds=3 * float(config["SCHEDULER_HEARTBEAT_SECONDS"]))
    lease = db.session.get(SchedulerLease, "scheduler")
    holder = lease.holder if lease is not None and lease.expires_at > now else None
    beats = db.session.execute(
        select(SchedulerHeartbeat).where(SchedulerHeartbeat.beat_at >= now - max(limit, timedelta(minutes=10)))
        .order_by(SchedulerHeartbeat.beat_at.desc())
    ).scalars().all()
    active = next((b for b in beats if b.name == holder), None)
    if holder is not None and active is None:
        active = db.session.get(SchedulerHeartbeat, holder)
    standby = [b for b in beats if b.name != holder and b.beat_at >= now - limit]
    return SchedulerState(active=active, holder=holder, expires_at=lease.expires_at if holder else None,
                          standby=standby, fresh_limit=limit)
