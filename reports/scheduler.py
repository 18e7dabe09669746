"""The scheduler process, `channel scheduler`: APScheduler 3 running the registered jobs.

Several processes may run against one database; a lease row decides which one runs the jobs.
The holder renews it every lease/3 seconds with a conditional UPDATE; the others stand by and
try to take it once it has expired, and the one whose UPDATE (or INSERT of the first row) goes
through wins. A process whose lease lapses stops at once: its jobs check the lease before each
key and in every progress() call, and it detaches APScheduler's database job store, so its cron
triggers stop firing.

The active process keeps each job's cron trigger in APScheduler's SQLAlchemyJobStore (table
apscheduler_jobs), synced from the job_schedules table the admin pages edit. When a cron fires,
when the process starts or takes over, every retry_minutes, and when an admin changes a schedule
or asks for a run, it runs `catch_up` (reports/jobs.py), which decides from the database what is
owed and makes each key once. APScheduler's misfire handling is not relied on.

Every process keeps a heartbeat row that says whether it holds the lease. Nothing here runs in
the web server: create_app() never builds a scheduler.
"""
import logging
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from channel.db_types import utcnow
from channel.extensions import db
from channel.system.models import JobRun, JobSchedule, SchedulerHeartbeat, SchedulerLease

from . import jobs

log = logging.getLogger("channel.scheduler")

LEASE_NAME = "scheduler"
DB_STORE = "database"
LEASES = SchedulerLease.__table__


class Lease:
    """The scheduler lease in the database. `clock` returns aware UTC now (injectable for tests).
    Every change is one conditional statement, so that of several processes one wins."""

    def __init__(self, holder, seconds, *, name=LEASE_NAME, clock=utcnow):
        self.holder, self.seconds, self.name, self.clock = holder, float(seconds), name, clock

    def acquire(self) -> bool:
        """Renew the lease if this process holds it, else take it if it has expired (or was
        never taken). True if this process holds it now."""
        return self.renew() or self._take()

    def renew(self) -> bool:
        now = self.clock()
        with db.engine.begin() as conn:
            result = conn.execute(update(LEASES).where(
                LEASES.c.name == self.name, LEASES.c.holder == self.holder,
            ).values(renewed_at=now, expires_at=now + timedelta(seconds=self.seconds)))
        return result.rowcount == 1

    def _take(self) -> bool:
        now = self.clock()
        values = dict(holder=self.holder, acquired_at=now, renewed_at=now,
                      expires_at=now + timedelta(seconds=self.seconds))
        with db.engine.begin() as conn:
            result = conn.execute(update(LEASES).where(
                LEASES.c.name == self.name, LEASES.c.expires_at < now).values(**values))
            if result.rowcount == 1:
                return True
            exists = conn.execute(select(LEASES.c.name).where(LEASES.c.name == self.name)).first()
        if exists:
            return False
        try:
            with db.engine.begin() as conn:
                conn.execute(insert(LEASES).values(name=self.name, **values))
        except IntegrityError:
            return False  # another process inserted it first
        return True

    def release(self) -> None:
        """Give the lease up (on a clean stop) so that a standby takes over at once."""
        now = self.clock()
        with db.engine.begin() as conn:
            conn.execute(update(LEASES).where(
                LEASES.c.name == self.name, LEASES.c.holder == self.holder,
            ).values(expires_at=now - timedelta(microseconds=1)))


def beat(app, name, active=None):
    """Keep this process's heartbeat row fresh (and say whether it holds the lease)."""
    with app.app_context():
        row = db.session.execute(
            select(SchedulerHeartbeat).where(SchedulerHeartbeat.name == name)
        ).scalar_one_or_none()
        if row is None:
            row = SchedulerHeartbeat(name=name, host=socket.gethostname()[:200], pid=os.getpid())
            db.session.add(row)
        row.pid = os.getpid()
        row.beat_at = utcnow()
        if active is not None:
            row.active = active
        db.session.commit()


# The process running `channel scheduler`, for the functions APScheduler's database job store
# calls by reference (a job store keeps references, not objects).
_current = None


def fire(job_id):
    """A job's cron trigger fired (APScheduler calls this by its reference)."""
    process = _current
    if process is not None and process.is_leader():
        process.request_catch_up(job_id)


class SchedulerProcess:
    def __init__(self, app, name=None, *, clock=utcnow):
        config = app.config
        self.app = app
        self.name = name or jobs.process_name()
        self.tz = jobs.business_tz(app)
        self.lease_seconds = float(config["SCHEDULER_LEASE_SECONDS"])
        self.lease = Lease(self.name, self.lease_seconds, clock=clock)
        self.clock = clock
        self.scheduler = BlockingScheduler(
            timezone=self.tz, jobstores={"default": MemoryJobStore()},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        # Catch-ups run here, apart from APScheduler's pool where the lease is renewed and the
        # interval services run (a job may wait for one of those to do its work).
        self.workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="channel-job")
        self._lock = threading.Lock()
        self._leader_until = 0.0  # time.monotonic() until which this process may run jobs
        self._leading = False  # set by the lease ticks
        self._store_attached = False
        self._stopping = threading.Event()
        self._poll_lock = threading.Lock()
        self._tick_lock = threading.Lock()
        self._pending, self._active = set(), set()
        self._synced = {}  # job_id -> (cron, enabled, updated_at) applied to the job store
        self._last_catch_up = {}  # job_id -> time.monotonic()
        now = datetime.now(self.tz)
        self.scheduler.add_job(self.heartbeat, "interval", id="heartbeat", next_run_time=now,
                               seconds=float(config["SCHEDULER_HEARTBEAT_SECONDS"]))
        self.scheduler.add_job(self.tick_lease, "interval", id="lease", next_run_time=now,
                               seconds=self.lease_seconds / 3)
        self.scheduler.add_job(self.poll, "interval", id="poll",
                               seconds=float(config["SCHEDULER_POLL_SECONDS"]))
        for interval in jobs.INTERVALS.values():
            self.scheduler.add_job(self._run_interval, "interval", args=(interval.id,),
                                   id=f"interval:{interval.id}", seconds=interval.seconds)

    # --- the lease ----------------------------------------------------------------------------

    def is_leader(self) -> bool:
        return not self._stopping.is_set() and time.monotonic() < self._leader_until

    def tick_lease(self):
        with self._tick_lock:  # stop() waits for a tick under way before releasing the lease
            if not self._stopping.is_set():
                self._tick_lease()

    def _tick_lease(self):
        started = time.monotonic()
        try:
            with self.app.app_context():
                held = self.lease.acquire()
        except Exception:
            log.exception("the lease could not be renewed or taken")
            held = False
        if held:
            # Valid from before the UPDATE (its expiry counts from later), less a margin for
            # clock drift between the processes' hosts.
            self._leader_until = started + self.lease_seconds * 0.9
            if not self._leading:
                self._lead()
            elif not self._store_attached:
                self._attach_store()
        elif self._leading or self._leader_until:
            self._leader_until = 0.0
            self._step_down()

    def _lead(self):
        log.info("%s holds the scheduler lease: running jobs", self.name)
        self._leading = True
        self._synced.clear()
        self._attach_store()
        self.heartbeat()
        # Whatever is owed now (work missed while no scheduler ran, or left by the last holder).
        self.poll(initial=True)

    def _attach_store(self):
        """APScheduler's job store with the cron triggers: only the lease holder has it, so only
        its triggers fire (a standby must not even read it: APScheduler would fire them too)."""
        self._detach_store()
        try:
            with self.app.app_context():
                engine = db.engine
            self.scheduler.add_jobstore(SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs"),
                                        DB_STORE)
            self._store_attached = True
        except Exception:
            log.exception("APScheduler's job store could not be attached; trying again at the next lease tick")

    def _detach_store(self):
        self._store_attached = False
        self._synced.clear()
        try:
            self.scheduler.remove_jobstore(DB_STORE, shutdown=False)  # it would dispose the app's engine
        except KeyError:
            pass

    def _step_down(self):
        if self._leading:
            log.warning("%s lost the scheduler lease: standing by", self.name)
        self._leading = False
        self._detach_store()
        self.heartbeat()

    def heartbeat(self):
        try:
            beat(self.app, self.name, active=self.is_leader())
        except Exception:
            log.exception("heartbeat not recorded")

    # --- what the active process does -----------------------------------------------------------

    def poll(self, initial=False):
        """Sync the cron triggers from job_schedules; take "run now" requests; start catch-ups
        that are due (retries, waiting keys, every retry_minutes); at the start, all of them."""
        if not self.is_leader():
            return
        try:
            with self._poll_lock, self.app.app_context():
                try:
                    self._poll(initial)
                finally:
                    db.session.remove()
        except Exception:
            log.exception("poll failed")

    def _poll(self, initial):
        schedules = jobs.ensure_schedules()
        if self._store_attached:
            self._sync_triggers(schedules)
        now = self.clock()
        requested = db.session.execute(select(JobSchedule.job_id, JobSchedule.run_requested_at).where(
            JobSchedule.run_requested_at.is_not(None))).all()
        due = jobs.due_retries(now)
        db.session.rollback()
        for job_id, at in requested:
            with db.engine.begin() as conn:
                taken = conn.execute(update(JobSchedule.__table__).where(
                    JobSchedule.job_id == job_id, JobSchedule.run_requested_at == at,
                ).values(run_requested_at=None, run_requested_by_id=None)).rowcount
            if taken and job_id in jobs.JOBS:
                log.info("%s: run requested", job_id)
                self.request_catch_up(job_id)
        for job_id, job in jobs.JOBS.items():
            if not schedules[job_id].enabled:
                continue
            last = self._last_catch_up.get(job_id)
            if initial or job_id in due or last is None or \
                    time.monotonic() - last >= job.retry_minutes * 60:
                self.request_catch_up(job_id)

    def _sync_triggers(self, schedules):
        wanted = set()
        for job_id, job in jobs.JOBS.items():
            schedule = schedules[job_id]
            state = (schedule.cron, schedule.enabled, schedule.updated_at)
            if schedule.enabled:
                wanted.add(f"job:{job_id}")
            if self._synced.get(job_id) != state:
                changed = job_id in self._synced
                self._apply_schedule(job, schedule)
                self._synced[job_id] = state
                if changed and schedule.enabled:
                    self.request_catch_up(job_id)  # an admin changed the schedule
        for stored in self.scheduler.get_jobs(jobstore=DB_STORE):
            if stored.id not in wanted:
                self.scheduler.remove_job(stored.id, jobstore=DB_STORE)

    def _apply_schedule(self, job, schedule):
        store_id = f"job:{job.id}"
        if not schedule.enabled:
            try:
                self.scheduler.remove_job(store_id, jobstore=DB_STORE)
            except JobLookupError:
                pass
            return
        try:
            trigger = jobs.cron_trigger(schedule.cron, self.tz)
        except jobs.CronError:
            log.error("%s: the schedule %r is not valid; keeping the previous one", job.id, schedule.cron)
            return
        stored = self.scheduler.get_job(store_id, jobstore=DB_STORE)
        if stored is not None and repr(stored.trigger) == repr(trigger):
            return  # the persisted trigger (and its next run time) stands
        self.scheduler.add_job(fire, trigger, args=(job.id,), id=store_id, name=job.id,
                               jobstore=DB_STORE, replace_existing=True)
        log.info("%s: scheduled %r (%s)", job.id, schedule.cron, self.tz.key)

    def request_catch_up(self, job_id):
        """Run catch_up for the job soon, in a worker; at most one per job at a time (a request
        while one runs makes it run once more afterwards)."""
        with self._lock:
            self._pending.add(job_id)
            if job_id in self._active:
                return
            self._active.add(job_id)
        self.workers.submit(self._drain, job_id)

    def _drain(self, job_id):
        while True:
            with self._lock:
                if job_id not in self._pending or not self.is_leader():
                    self._pending.discard(job_id)
                    self._active.discard(job_id)
                    return
                self._pending.discard(job_id)
            self._last_catch_up[job_id] = time.monotonic()
            try:
                with self.app.app_context():
                    try:
                        outcomes = jobs.catch_up(jobs.JOBS[job_id], holder=self.name,
                                                 may_run=self.is_leader)
                    finally:
                        db.session.remove()
                if outcomes:
                    log.info("%s: %s", job_id, ", ".join(f"{k} {o}" for k, o in outcomes))
            except Exception:
                log.exception("%s: catch-up failed", job_id)

    def _run_interval(self, interval_id):
        if not self.is_leader():
            return
        interval = jobs.INTERVALS[interval_id]
        try:
            with self.app.app_context():
                try:
                    interval.fn()
                finally:
                    db.session.remove()
        except Exception:
            log.exception("%s failed", interval_id)

    # --- start and stop -------------------------------------------------------------------------

    def start(self):
        """Run until stopped (SIGTERM, SIGINT)."""
        global _current
        _current = self
        beat(self.app, self.name, active=False)
        log.info("scheduler %s started (lease %ss, jobs: %s)", self.name, self.lease_seconds,
                 ", ".join(jobs.JOBS) or "none")
        try:
            self.scheduler.start()
        finally:
            self.stop()

    def stop(self):
        global _current
        if self._stopping.is_set():
            return
        self._stopping.set()  # running jobs stop at their next progress() call
        with self._tick_lock:  # a tick under way ends first; no other starts
            held = self._leading
        self._detach_store()
        try:
            self.scheduler.shutdown(wait=False)
        except SchedulerNotRunningError:
            pass
        self.workers.shutdown(wait=True, cancel_futures=True)
        try:
            with self.app.app_context():
                if held:
                    self.lease.release()
                beat(self.app, self.name, active=False)
        except Exception:
            log.exception("the lease could not be released")
        if _current is self:
            _current = None
        log.info("scheduler %s stopped", self.name)


def prune_heartbeats(app, older_than=timedelta(days=7)):
    """Forget processes that stopped long ago (each start is a new row), except those a run
    still names as running: their stale heartbeat is what lets another process take it over."""
    with app.app_context():
        db.session.execute(delete(SchedulerHeartbeat).where(
            SchedulerHeartbeat.beat_at < utcnow() - older_than,
            SchedulerHeartbeat.name.not_in(
                select(JobRun.holder).where(JobRun.status == "running", JobRun.holder.is_not(None)))))
        db.session.commit()


def build_scheduler(app, name=None):
    process = SchedulerProcess(app, name)
    return process.scheduler, process.name


def _terminate(signum, frame):
    raise SystemExit(0)


def run(app):
    """`channel scheduler`: run in the foreground until SIGTERM or Ctrl-C."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    with app.app_context():
        failed = jobs.load_job_modules(app)
    if failed:
        raise RuntimeError("job modules could not be imported: " +
                           "; ".join(f"{name} ({error})" for name, error in failed))
    prune_heartbeats(app)
    signal.signal(signal.SIGTERM, _terminate)
    process = SchedulerProcess(app)
    try:
        process.start()
    except (KeyboardInterrupt, SystemExit):
        pass
