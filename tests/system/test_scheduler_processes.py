"""The real thing: `channel scheduler` processes against one database, on SQLite and PostgreSQL.

Two processes run a job's key once; after the active one is killed (-9) the other takes over
within a few lease periods and goes on; work owed before a scheduler starts is made once right
after it starts. Short lease and heartbeat keep this to seconds; every wait polls the database
with a generous deadline, for a loaded machine.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from channel.db_types import utcnow
from channel.extensions import db
from channel.system.models import JobRun, JobSchedule, SchedulerHeartbeat, SchedulerLease, apscheduler_jobs
from reports.jobs import JOBS, next_fire_times

from .sample_jobs import SAMPLE, set_owed

ROOT = Path(__file__).resolve().parents[2]
CHANNEL = Path(sys.executable).parent / "channel"
LEASE_SECONDS = 2
DEADLINE = 60  # seconds for anything to happen on a slow machine


class Scheduler:
    """One `channel scheduler` process."""

    def __init__(self, url, tmp_path, label):
        self.log_path = tmp_path / f"scheduler-{label}.log"
        env = dict(
            os.environ, CHANNEL_ENV="testing", CHANNEL_DATABASE_URL=url,
            CHANNEL_SCHEDULER_LEASE_SECONDS=str(LEASE_SECONDS),
            CHANNEL_SCHEDULER_HEARTBEAT_SECONDS="0.5", CHANNEL_SCHEDULER_POLL_SECONDS="0.5",
            CHANNEL_SCHEDULER_JOB_MODULES=json.dumps(["tests.system.sample_jobs"]),
            CHANNEL_SAMPLE_JOBS_LOG=str(tmp_path / "made.log"),
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        )
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([str(CHANNEL), "scheduler"], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def pid(self):
        return self.proc.pid

    def output(self):
        self.log.flush()
        return self.log_path.read_text()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        return self.proc.returncode


@pytest.fixture
def schedulers(empty_app, tmp_path):
    empty_app.config["SAMPLE_JOBS_LOG"] = str(tmp_path / "made.log")
    started = []

    def start(label):
        s = Scheduler(empty_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, label)
        started.append(s)
        return s

    yield start
    for s in started:  # before conftest drops the database
        s.stop(signal.SIGKILL)


def wait_for(app, what, check, timeout=DEADLINE, procs=()):
    """Poll check() (inside an app context, on a fresh snapshot) until it returns a true value."""
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            try:
                value = check()
            finally:
                db.session.remove()
        if value:
            return value
        for p in procs:
            assert p.proc.poll() is None, f"scheduler {p.pid} exited:\n{p.output()}"
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.pid}\n{p.output()}" for p in procs)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.1)


def made(app):
    try:
        with open(app.config["SAMPLE_JOBS_LOG"]) as f:
            return sorted(tuple(line.split()) for line in f if line.strip())
    except FileNotFoundError:
        return []


def run_of(key):
    return db.session.execute(select(JobRun).where(JobRun.job_id == SAMPLE, JobRun.key == key)).scalar_one_or_none()


def done(key):
    run = run_of(key)
    return run if run is not None and run.status == "done" else None


def lease():
    row = db.session.get(SchedulerLease, "scheduler")
    return row if row is not None and row.expires_at > utcnow() else None


def stored_next_run():
    row = db.session.execute(select(apscheduler_jobs.c.next_run_time).where(
        apscheduler_jobs.c.id == f"job:{SAMPLE}")).first()
    return "gone" if row is None else datetime.fromtimestamp(row[0], timezone.utc)


def next_fire(cron):
    return next_fire_times(cron, "Asia/Shanghai", utcnow())[0]


def beat_of(pid):
    return db.session.execute(select(SchedulerHeartbeat).where(SchedulerHeartbeat.pid == pid)
                              .order_by(SchedulerHeartbeat.beat_at.desc())).scalars().first()


def test_two_schedulers_run_a_key_once_and_the_standby_takes_over(empty_app, schedulers):
    app = empty_app
    with app.app_context():
        set_owed(["2026-10"])
    # Both start at once, against one database.
    procs = []
    threads = [threading.Thread(target=lambda label=label: procs.append(schedulers(label))) for label in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    by_pid = {p.pid: p for p in procs}

    run = wait_for(app, "2026-10 done", lambda: done("2026-10"), procs=procs)
    holder = wait_for(app, "a lease holder", lambda: lease() and lease().holder, procs=procs)
    leader = by_pid[int(holder.split(":")[1])]
    [standby] = [p for p in procs if p is not leader]
    assert run.holder == holder and run.attempts == 1
    # The standby is alive and has stood by for two lease periods after the run.
    wait_for(app, "the standby's heartbeats", lambda: (b := beat_of(standby.pid)) is not None
             and not b.active and b.beat_at > run.finished_at + timedelta(seconds=2 * LEASE_SECONDS),
             procs=procs)
    with app.app_context():
        assert beat_of(leader.pid).active is True
    assert made(app) == [("2026-10", str(leader.pid))]

    # More work becomes owed; then the active process dies without a word.
    with app.app_context():
        set_owed(["2026-10", "2026-11"])
    killed_at = time.monotonic()
    leader.proc.send_signal(signal.SIGKILL)
    leader.proc.wait(timeout=30)
    new_holder = wait_for(app, "the standby to take the lease",
                          lambda: lease() is not None and lease().holder != holder and lease().holder,
                          procs=[standby])
    took_over = time.monotonic() - killed_at
    print(f"\ntakeover after kill -9: {took_over:.2f} s (lease {LEASE_SECONDS} s)")
    assert int(new_holder.split(":")[1]) == standby.pid
    assert took_over < 10 * LEASE_SECONDS

    # The new holder catches up at once: 2026-11 made, 2026-10 not again.
    run = wait_for(app, "2026-11 done", lambda: done("2026-11"), procs=[standby])
    assert run.holder == new_holder
    # And keeps running: an admin's "run now" after yet more work is owed.
    with app.app_context():
        set_owed(["2026-10", "2026-11", "2026-12"])
        db.session.get(JobSchedule, SAMPLE).run_requested_at = utcnow()
        db.session.commit()
    wait_for(app, "2026-12 done", lambda: done("2026-12"), procs=[standby])
    wait_for(app, "the request taken", lambda: db.session.get(JobSchedule, SAMPLE).run_requested_at is None,
             procs=[standby])
    assert made(app) == [("2026-10", str(leader.pid)), ("2026-11", str(standby.pid)),
                         ("2026-12", str(standby.pid))]
    with app.app_context():
        assert {(r.key, r.attempts) for r in db.session.execute(select(JobRun)).scalars()} == {
            ("2026-10", 1), ("2026-11", 1), ("2026-12", 1)}

    # A clean stop gives the lease up at once.
    assert standby.stop() == 0
    with app.app_context():
        assert lease() is None
        assert beat_of(standby.pid).active is False


def test_work_owed_before_the_scheduler_starts_is_made_once_on_start(empty_app, schedulers):
    app = empty_app
    assert SAMPLE in JOBS
    with app.app_context():
        # Owed while no scheduler ran (its cron time passed during the downtime), and one
        # month that cannot be made yet.
        set_owed(["2026-09", "2026-10"], waiting=["2026-11"])
    started_at = time.monotonic()
    s = schedulers("only")
    wait_for(app, "2026-09 and 2026-10 done", lambda: done("2026-09") and done("2026-10"), procs=[s])
    print(f"\ncatch-up after start: {time.monotonic() - started_at:.2f} s")
    with app.app_context():
        waiting = run_of("2026-11")
        assert (waiting.status, waiting.reason_args) == ("waiting", {"key": "2026-11"})
        schedule = db.session.get(JobSchedule, SAMPLE)
        assert (schedule.cron, schedule.enabled) == ("0 2 1 * *", True)  # created from the default
    # The cron trigger sits in APScheduler's job store, in the business time zone, and follows
    # the schedule an admin saves.
    assert wait_for(app, "the stored trigger", lambda: stored_next_run() == next_fire("0 2 1 * *"), procs=[s])
    with app.app_context():
        schedule = db.session.get(JobSchedule, SAMPLE)
        schedule.cron, schedule.updated_at = "*/5 * * * *", utcnow()
        db.session.commit()
    wait_for(app, "the new trigger", lambda: stored_next_run() == next_fire("*/5 * * * *"), procs=[s])
    with app.app_context():
        schedule = db.session.get(JobSchedule, SAMPLE)
        schedule.enabled, schedule.updated_at = False, utcnow()
        db.session.commit()
    wait_for(app, "the trigger removed", lambda: stored_next_run() == "gone", procs=[s])
    with app.app_context():
        schedule = db.session.get(JobSchedule, SAMPLE)
        schedule.enabled, schedule.updated_at = True, utcnow()
        db.session.commit()

    # A second start (a restart) makes nothing again.
    assert s.stop() == 0
    s2 = schedulers("again")
    wait_for(app, "the restarted scheduler holds the lease",
             lambda: lease() is not None and f":{s2.pid}:" in lease().holder, procs=[s2])
    wait_for(app, "its catch-up", lambda: "2026-09 already done" in s2.output(), procs=[s2])
    assert [key for key, _pid in made(app)] == ["2026-09", "2026-10"]


def test_the_scheduler_refuses_to_start_with_a_missing_job_module(tmp_path):
    env = dict(os.environ, CHANNEL_ENV="testing", CHANNEL_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
               CHANNEL_SCHEDULER_JOB_MODULES='["no.such.module"]')
    result = subprocess.run([str(CHANNEL), "scheduler"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "no.such.module" in result.stderr


def test_the_web_app_never_starts_a_scheduler(empty_app, tmp_path):
    """create_app() in a fresh interpreter (as a gunicorn worker or the debug reloader does),
    serving pages: no scheduler thread, no lease, no heartbeat."""
    code = """
import sys, threading
from channel import create_app
from config import TestingConfig
app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=sys.argv[1], DATABASE_URL=sys.argv[1],
                 SCHEDULER_JOB_MODULES=["tests.system.sample_jobs"])
client = app.test_client()
for url in ("/login", "/system/schedules", "/dashboard"):
    client.get(url)
with app.test_request_context():
    from reports.jobs import load_job_modules, waiting_runs
    load_job_modules(); waiting_runs()
print(sorted(t.name for t in threading.enumerate()))
print("reports.scheduler" in sys.modules, "apscheduler.schedulers.blocking" in sys.modules)
"""
    url = empty_app.config["SQLALCHEMY_DATABASE_URI"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-c", code, url], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    threads, modules = result.stdout.strip().splitlines()[-2:]
    assert threads == "['MainThread']"
    assert modules == "False False"
    with empty_app.app_context():
        assert db.session.execute(select(SchedulerLease)).first() is None
        assert db.session.execute(select(SchedulerHeartbeat)).first() is None
