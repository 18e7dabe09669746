"""The job framework (reports/jobs.py) and the scheduler lease (reports/scheduler.py), in one
process: keyed claims, retries, waiting keys, taking over a dead process's run, and the lease
with an injected clock. On SQLite and PostgreSQL; races run as threads lined up by a barrier.
The real processes are in test_scheduler_processes.py."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from channel.extensions import db
from channel.system.models import JobRun, SchedulerHeartbeat, SchedulerLease, Setting
from reports import jobs
from reports.jobs import CronError, Job, Owed, catch_up, claim, cron_trigger, next_fire_times
from reports.scheduler import Lease

from ..helpers import in_threads
from . import sample_jobs
from .sample_jobs import SAMPLE, set_owed

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def japp(empty_app, tmp_path):
    empty_app.config["SAMPLE_JOBS_LOG"] = str(tmp_path / "made.log")
    return empty_app


def made(app):
    path = app.config["SAMPLE_JOBS_LOG"]
    try:
        with open(path) as f:
            return [line.split()[0] for line in f if line.strip()]
    except FileNotFoundError:
        return []


def run_row(key, job_id=SAMPLE):
    db.session.rollback()
    return db.session.execute(select(JobRun).where(JobRun.job_id == job_id, JobRun.key == key)).scalar_one_or_none()


# --- claims ----------------------------------------------------------------------------------------

def test_two_claims_of_one_key_one_wins(japp):
    with japp.app_context():
        first = claim(SAMPLE, "2026-10", holder="a", now=T0)
        second = claim(SAMPLE, "2026-10", holder="b", now=T0)
        assert first is not None and first.attempt == 1 and first.holder == "a"
        assert second is None
        assert run_row("2026-10").status == "running"


def test_simultaneous_claims_of_one_key_one_wins(japp):
    winners = in_threads(japp, 8, lambda i: claim(SAMPLE, "2026-10", holder=f"p{i}", now=T0))
    assert len([w for w in winners if w is not None]) == 1
    with japp.app_context():
        assert db.session.execute(select(func.count()).select_from(JobRun)).scalar_one() == 1


def test_simultaneous_catch_ups_make_each_key_once(japp):
    with japp.app_context():
        set_owed(["2026-09", "2026-10", "2026-11"])
    in_threads(japp, 6, lambda i: catch_up(jobs.JOBS[SAMPLE], holder=f"p{i}"))
    assert sorted(made(japp)) == ["2026-09", "2026-10", "2026-11"]
    with japp.app_context():
        rows = db.session.execute(select(JobRun)).scalars().all()
        assert {(r.key, r.status, r.attempts) for r in rows} == {
            ("2026-09", "done", 1), ("2026-10", "done", 1), ("2026-11", "done", 1)}


def test_a_done_key_is_never_made_again(japp):
    job = jobs.JOBS[SAMPLE]
    with japp.app_context():
        set_owed(["2026-10"])
        assert catch_up(job, T0, holder="a") == [("2026-10", "done")]
        assert catch_up(job, T0 + timedelta(days=40), holder="b") == [("2026-10", "already done")]
        row = run_row("2026-10")
        assert (row.status, row.attempts, row.holder) == ("done", 1, "a")
        assert (row.summary, row.summary_args) == ("Made %(key)s.", {"key": "2026-10"})
        assert (row.progress_done, row.progress_total) == (2, 2)
    assert made(japp) == ["2026-10"]


def test_a_failed_run_is_retried_once_retry_minutes_have_passed(japp):
    job = jobs.JOBS[SAMPLE]
    with japp.app_context():
        set_owed(["2026-10"], fail=["2026-10"])
        assert catch_up(job, T0, holder="a") == [("2026-10", "failed")]
        row = run_row("2026-10")
        assert row.status == "failed" and "sample failure for 2026-10" in row.error
        assert row.retry_at == T0 + timedelta(minutes=job.retry_minutes)
        set_owed(["2026-10"])  # whatever broke is mended
        assert catch_up(job, T0 + timedelta(minutes=30), holder="a") == [("2026-10", "retry later")]
        assert claim(SAMPLE, "2026-10", holder="b", now=T0 + timedelta(minutes=59)) is None
        assert catch_up(job, T0 + timedelta(minutes=61), holder="b") == [("2026-10", "done")]
        row = run_row("2026-10")
        assert (row.status, row.attempts, row.holder, row.error) == ("done", 2, "b", None)
    assert made(japp) == ["2026-10"]


def test_a_failed_run_is_reclaimed_by_one_of_many(japp):
    with japp.app_context():
        set_owed(["2026-10"], fail=["2026-10"])
        catch_up(jobs.JOBS[SAMPLE], T0, holder="a")
    later = T0 + timedelta(hours=2)
    winners = in_threads(japp, 8, lambda i: claim(SAMPLE, "2026-10", holder=f"p{i}", now=later))
    won = [w for w in winners if w is not None]
    assert len(won) == 1 and won[0].attempt == 2


def test_a_waiting_key_is_recorded_with_its_reason_then_claimed(japp):
    job = jobs.JOBS[SAMPLE]
    with japp.app_context():
        set_owed(waiting=["2026-11"])
        assert catch_up(job, T0, holder="a") == [("2026-11", "waiting")]
        row = run_row("2026-11")
        assert (row.status, row.attempts, row.reason, row.reason_args) == (
            "waiting", 0, "%(key)s is not closed yet.", {"key": "2026-11"})
        assert row.retry_at == T0 + timedelta(minutes=job.retry_minutes)  # checked again hourly
        catch_up(job, T0 + timedelta(minutes=5), holder="a")  # still waiting: one row
        assert db.session.execute(select(func.count()).select_from(JobRun)).scalar_one() == 1
        with japp.test_request_context(headers={"Accept-Language": "en"}):
            [waiting] = jobs.waiting_runs()
            assert (waiting.job_id, waiting.key, waiting.reason) == (SAMPLE, "2026-11", "2026-11 is not closed yet.")
            assert waiting.title == "Sample job"
        set_owed(["2026-11"])  # the month was closed
        assert catch_up(job, T0 + timedelta(hours=1), holder="b") == [("2026-11", "done")]
        row = run_row("2026-11")
        assert (row.status, row.attempts, row.reason) == ("done", 1, None)
        assert jobs.waiting_runs() == []
    assert made(japp) == ["2026-11"]


def test_a_waiting_key_no_longer_due_is_forgotten(japp):
    with japp.app_context():
        set_owed(waiting=["2026-11", "2026-12"])
        catch_up(jobs.JOBS[SAMPLE], T0, holder="a")
        set_owed(waiting=["2026-12"])
        catch_up(jobs.JOBS[SAMPLE], T0, holder="a")
        assert [w.key for w in jobs.waiting_runs()] == ["2026-12"]


def _heartbeat(name, at):
    db.session.add(SchedulerHeartbeat(name=name, host="h", pid=1, started_at=at, beat_at=at))
    db.session.commit()


def test_the_run_of_a_process_that_died_is_taken_over(japp):
    job = jobs.JOBS[SAMPLE]
    with japp.app_context():
        set_owed(["2026-10"])
        assert claim(SAMPLE, "2026-10", holder="ghost", now=T0) is not None  # then it died
        _heartbeat("ghost", T0)
        # Its heartbeat is recent: it may still be working on it.
        assert catch_up(job, T0 + timedelta(seconds=5), holder="b") == [("2026-10", "running elsewhere")]
        # Silent for longer than the lease (and three heartbeats): gone.
        assert catch_up(job, T0 + timedelta(minutes=5), holder="b") == [("2026-10", "done")]
        row = run_row("2026-10")
        assert (row.status, row.attempts, row.holder) == ("done", 2, "b")


def test_a_run_that_loses_the_lease_stops_and_is_retried_at_once(japp):
    holding = {"lease": True}

    def long_run(key, progress):
        progress(0, 10)
        holding["lease"] = False  # meanwhile, another process took the lease
        progress(1, 10)
        raise AssertionError("not reached")

    job = Job(id="long", title="Long", default_cron="0 2 1 * *",
              owed=lambda now: Owed(keys=["k"]), run=long_run)
    with japp.app_context():
        assert catch_up(job, T0, holder="a", may_run=lambda: holding["lease"]) == [("k", "interrupted")]
        row = run_row("k", "long")
        assert row.status == "failed" and row.error.startswith("Interrupted")
        assert row.retry_at == T0  # retried by the new holder at once
        holding["lease"] = True
        job2 = Job(id="long", title="Long", default_cron="0 2 1 * *",
                   owed=lambda now: Owed(keys=["k"]), run=lambda key, progress: "ok")
        assert catch_up(job2, T0 + timedelta(seconds=1), holder="b") == [("k", "done")]


def test_done_commits_with_the_jobs_last_work_or_neither(japp):
    def run(key, progress):
        db.session.add(Setting(key=f"made.{key}", value="yes"))  # left for catch_up to commit
        if key == "stolen":
            # Another process took the run over meanwhile: this attempt must not count.
            with db.engine.begin() as conn:
                conn.execute(JobRun.__table__.update().where(JobRun.key == key).values(holder="other"))
        return "ok"

    job = Job(id="atomic", title="Atomic", default_cron="0 2 1 * *",
              owed=lambda now: Owed(keys=["kept", "stolen"]), run=run)
    with japp.app_context():
        assert catch_up(job, T0, holder="a") == [("kept", "done"), ("stolen", "lost")]
        db.session.rollback()
        assert db.session.get(Setting, "made.kept") is not None
        assert db.session.get(Setting, "made.stolen") is None


def test_the_job_sees_now_in_the_business_time_zone(japp):
    seen = []
    job = Job(id="tz", title="TZ", default_cron="0 2 1 * *",
              owed=lambda now: seen.append(now) or Owed(keys=[]), run=lambda k, p: None)
    with japp.app_context():
        catch_up(job, datetime(2026, 10, 31, 18, 30, tzinfo=timezone.utc), holder="a")
    assert seen[0].utcoffset() == timedelta(hours=8)
    assert (seen[0].month, seen[0].day, seen[0].hour) == (11, 1, 2)  # already November in Shanghai


# --- the lease ---------------------------------------------------------------------------------------

class Clock:
    def __init__(self, at=T0):
        self.at = at

    def __call__(self):
        return self.at

    def advance(self, seconds):
        self.at += timedelta(seconds=seconds)


def test_lease_acquire_renew_expire_take_over_release(empty_app):
    clock = Clock()
    a, b = Lease("a", 30, clock=clock), Lease("b", 30, clock=clock)
    with empty_app.app_context():
        assert a.acquire() is True
        assert b.acquire() is False
        clock.advance(20)
        assert a.renew() is True  # now valid until T0 + 50 s
        clock.advance(25)
        assert b.acquire() is False  # 45 s: a renewed, not expired
        clock.advance(6)
        assert b.acquire() is True  # 51 s: expired, b takes it over
        assert a.renew() is False and a.acquire() is False  # a has lost it
        lease = db.session.get(SchedulerLease, "scheduler")
        assert (lease.holder, lease.acquired_at, lease.expires_at) == (
            "b", clock.at, clock.at + timedelta(seconds=30))
        db.session.rollback()
        b.release()
        assert a.acquire() is True  # no waiting for the expiry after a clean stop


def test_an_expired_lease_is_taken_by_one_of_many(empty_app):
    clock = Clock()
    with empty_app.app_context():
        assert Lease("old", 2, clock=clock).acquire()
    clock.advance(3)
    won = in_threads(empty_app, 8, lambda i: Lease(f"p{i}", 2, clock=clock).acquire())
    assert won.count(True) == 1


def test_the_first_lease_is_taken_by_one_of_many(empty_app):
    won = in_threads(empty_app, 8, lambda i: Lease(f"p{i}", 30).acquire())
    assert won.count(True) == 1


# --- cron, in crontab's terms ---------------------------------------------------------------------------

SHANGHAI = "Asia/Shanghai"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)  # a Wednesday


def test_cron_times_are_in_the_business_time_zone():
    [at] = next_fire_times("0 2 1 * *", SHANGHAI, NOW)
    assert at.isoformat() == "2026-12-01T02:00:00+08:00"


@pytest.mark.parametrize(("expr", "first"), [
    ("0 2 * * 0", "2026-11-29"),  # crontab: 0 is Sunday (APScheduler 3 alone would say Monday)
    ("0 2 * * 7", "2026-11-29"),
    ("0 2 * * 1-5", "2026-11-26"),
    ("0 2 * * sat,sun", "2026-11-28"),
    ("0 2 * * 6-7", "2026-11-28"),
])
def test_weekdays_count_as_in_crontab(expr, first):
    assert next_fire_times(expr, SHANGHAI, NOW)[0].date().isoformat() == first


@pytest.mark.parametrize(("expr", "code", "field"), [
    ("0 2 1 *", "fields", None),
    ("", "fields", None),
    ("61 2 1 * *", "field", "minute"),
    ("0 24 1 * *", "field", "hour"),
    ("0 2 32 * *", "field", "day"),
    ("0 2 1 13 *", "field", "month"),
    ("0 2 * * 8", "field", "day_of_week"),
    ("0 2 * * 1/2", "field", "day_of_week"),
    ("0 2 1 * 1", "day_and_weekday", None),
    ("0 2 30 2 *", "never", None),
])
def test_bad_cron_is_refused_with_a_reason(expr, code, field):
    with pytest.raises(CronError) as err:
        cron_trigger(expr, SHANGHAI)
    assert (err.value.code, err.value.field) == (code, field)


def test_register_refuses_a_broken_default_schedule():
    with pytest.raises(CronError):
        jobs.register(Job(id="broken", title="x", default_cron="every day", owed=None, run=None))
    assert "broken" not in jobs.JOBS


def test_sample_job_is_registered():
    assert jobs.JOBS[SAMPLE].run is sample_jobs.run


# --- the scheduler process's lease, in one process ------------------------------------------------------

def test_a_process_that_loses_its_lease_stops_running_jobs(japp):
    from reports.scheduler import DB_STORE, SchedulerProcess

    japp.config.update(SCHEDULER_LEASE_SECONDS=30)
    process = SchedulerProcess(japp, "me")
    try:
        process.tick_lease()
        assert process.is_leader() and DB_STORE in process.scheduler._jobstores
        with japp.app_context():
            assert db.session.get(SchedulerHeartbeat, "me").active is True
            # Meanwhile another process took the lease (ours had lapsed, say, in a long pause).
            lease = db.session.get(SchedulerLease, "scheduler")
            lease.holder = "other"
            db.session.commit()
        process.tick_lease()
        assert not process.is_leader() and DB_STORE not in process.scheduler._jobstores
        with japp.app_context():
            assert db.session.get(SchedulerHeartbeat, "me").active is False
            set_owed(["2026-10"])
        process.poll()  # a standby does nothing
        process.request_catch_up(SAMPLE)  # nor does a cron firing late
        process.workers.shutdown(wait=True)
        assert made(japp) == []
    finally:
        process.stop()


def test_old_heartbeats_are_pruned_unless_a_run_names_them(japp):
    from reports.scheduler import prune_heartbeats

    long_ago = T0 - timedelta(days=30)
    with japp.app_context():
        _heartbeat("old", long_ago)
        _heartbeat("old-but-running", long_ago)
        claim(SAMPLE, "2026-10", holder="old-but-running", now=long_ago)
    prune_heartbeats(japp)
    with japp.app_context():
        assert set(db.session.execute(select(SchedulerHeartbeat.name)).scalars()) == {"old-but-running"}
