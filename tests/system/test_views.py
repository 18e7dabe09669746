"""The scheduler's admin pages through the test client, on SQLite and PostgreSQL: schedules and
run history in Chinese and English; a bad cron refused with its reason and nothing saved; a
good one saved and audited; "run now" and "retry" only recorded for the scheduler to pick up.
Who may open them: tests/test_access.py."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from channel.audit.models import AuditEntry
from channel.db_types import utcnow
from channel.extensions import db
from channel.system.models import JobRun, JobSchedule, SchedulerHeartbeat, SchedulerLease

from ..helpers import EN, ZH, page_text
from .sample_jobs import SAMPLE

NOTHING_SAVED = "Please correct the marked fields. Nothing was saved."


def audit(app, action, object_type):
    with app.app_context():
        return db.session.execute(
            select(AuditEntry).where(AuditEntry.action == action, AuditEntry.object_type == object_type)
            .order_by(AuditEntry.id)
        ).scalars().all()


def add_runs(app):
    now = utcnow()
    with app.app_context():
        db.session.add_all([
            JobRun(job_id=SAMPLE, key="2026-09", status="done", attempts=1, holder="vm:1:ab",
                   summary="Made %(key)s.", summary_args={"key": "2026-09"}, started_at=now, finished_at=now),
            JobRun(job_id=SAMPLE, key="2026-10", status="failed", attempts=2, holder="vm:1:ab",
                   error="RuntimeError: the printer is on fire", started_at=now, finished_at=now,
                   retry_at=now + timedelta(minutes=60)),
            JobRun(job_id=SAMPLE, key="2026-11", status="waiting", attempts=0,
                   # any msgid of the catalog: the reason is shown in the reader's language
                   reason="Close %(month)s", reason_args={"month": "2026-11"},
                   retry_at=now + timedelta(minutes=60)),
            JobRun(job_id=SAMPLE, key="2026-12", status="running", attempts=1, holder="vm:2:cd",
                   progress_done=3, progress_total=7, started_at=now),
        ])
        db.session.commit()
        return {r.key: r.id for r in db.session.execute(select(JobRun)).scalars()}


def test_schedules_page_in_english_and_chinese(app, login):
    client = login("admin")
    page = page_text(client.get("/system/schedules", headers=EN))
    assert "Schedules" in page and "Sample job" in page and "0 2 1 * *" in page
    assert "Not running" in page  # no scheduler process holds the lease
    assert "Asia/Shanghai" in page
    page = page_text(client.get("/system/schedules", headers=ZH))
    assert "计划任务" in page and "未运行" in page and "立即运行" in page


def test_schedules_page_shows_the_active_process_and_the_next_run(app, login):
    now = utcnow()
    with app.app_context():
        db.session.add_all([
            SchedulerLease(name="scheduler", holder="vm:11:aa", acquired_at=now, renewed_at=now,
                           expires_at=now + timedelta(seconds=30)),
            SchedulerHeartbeat(name="vm:11:aa", host="vm", pid=11, beat_at=now, active=True),
            SchedulerHeartbeat(name="vm:12:bb", host="vm", pid=12, beat_at=now),
        ])
        db.session.commit()
    add_runs(app)
    page = page_text(login("admin").get("/system/schedules", headers=EN))
    assert "vm:11:aa" in page and "vm:12:bb" in page and "Not running" not in page
    assert "2026-12" in page and "3 of 7" in page  # the last run, with its progress
    assert "1 waiting, 1 failed" in page
    assert "next run" in page.lower()


def test_run_history_lists_filters_and_translates(app, login):
    add_runs(app)
    client = login("admin")
    page = page_text(client.get("/system/runs", headers=EN))
    for text in ("2026-09", "Made 2026-09.", "the printer is on fire", "Close 2026-11",
                 "3 of 7", "Retry now"):
        assert text in page
    page = page_text(client.get("/system/runs?status=failed", headers=EN))
    assert "2026-10" in page and "2026-09" not in page
    page = page_text(client.get(f"/system/runs?job={SAMPLE}&status=waiting", headers=ZH))
    assert "月结 2026-11" in page and "等待" in page
    page = page_text(client.get("/system/runs?job=nope", headers=EN))
    assert "Nothing found." in page


@pytest.mark.parametrize(("cron", "message"), [
    ("0 2 1 *", "Enter five fields separated by spaces"),
    ("61 2 1 * *", "The minute field “61” is not valid (allowed: 0–59"),
    ("0 2 1 * 1", "Restrict either the day of the month or the weekday, not both"),
    ("0 2 30 2 *", "This schedule never comes due"),
    ("", "Enter a schedule"),
])
def test_a_bad_cron_is_refused_with_its_reason_and_nothing_changes(app, login, cron, message):
    client = login("admin")
    resp = client.post_form(f"/system/schedules/{SAMPLE}/edit", {"cron": cron, "enabled": "y"}, headers=EN)
    assert resp.status_code == 422
    page = page_text(resp)
    assert message in page and NOTHING_SAVED in page
    with app.app_context():
        assert db.session.get(JobSchedule, SAMPLE) is None
    assert audit(app, "updated", "job_schedules") == []


def test_a_bad_cron_message_is_in_chinese_too(app, login):
    resp = login("admin").post_form(f"/system/schedules/{SAMPLE}/edit", {"cron": "0 25 * * *"}, headers=ZH)
    assert resp.status_code == 422
    assert "“25”无效" in page_text(resp)


def test_a_good_cron_is_saved_and_audited(app, login):
    client = login("admin")
    page = page_text(client.get(f"/system/schedules/{SAMPLE}/edit", headers=EN))
    assert 'value="0 2 1 * *"' in page and "Next runs" in page
    resp = client.post_form(f"/system/schedules/{SAMPLE}/edit", {"cron": " 30  6 * * 1-5 "}, headers=EN)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/system/schedules")
    with app.app_context():
        schedule = db.session.get(JobSchedule, SAMPLE)
        assert (schedule.cron, schedule.enabled, schedule.updated_by.username) == ("30 6 * * 1-5", False, "admin")
    [entry] = audit(app, "updated", "job_schedules")
    assert entry.object_label == SAMPLE
    assert entry.changes == {"cron": ["0 2 1 * *", "30 6 * * 1-5"], "enabled": [True, False]}
    page = page_text(client.get("/system/schedules", headers=EN))
    assert "30 6 * * 1-5" in page and "Off" in page
    # The same again changes nothing and records nothing.
    client.post_form(f"/system/schedules/{SAMPLE}/edit", {"cron": "30 6 * * 1-5"}, headers=EN)
    assert len(audit(app, "updated", "job_schedules")) == 1


def test_run_now_only_records_a_request(app, login):
    resp = login("admin").post_form(f"/system/schedules/{SAMPLE}/run", headers=EN)
    assert resp.status_code == 302
    with app.app_context():
        schedule = db.session.get(JobSchedule, SAMPLE)
        assert schedule.run_requested_at is not None and schedule.run_requested_by.username == "admin"
        assert db.session.execute(select(JobRun)).first() is None  # nothing ran in the request
    assert [e.object_label for e in audit(app, "run_requested", "job_schedules")] == [SAMPLE]
    page = page_text(login("admin").get("/system/schedules", headers=EN))
    assert "Run requested" in page


def test_retry_of_a_failed_run(app, login):
    ids = add_runs(app)
    client = login("admin")
    resp = client.post_form(f"/system/runs/{ids['2026-10']}/retry", headers=EN)
    assert resp.status_code == 302
    with app.app_context():
        run = db.session.get(JobRun, ids["2026-10"])
        assert run.status == "failed" and run.retry_at <= utcnow()  # the scheduler retries it
        assert db.session.get(JobSchedule, SAMPLE).run_requested_at is not None
    assert [e.object_label for e in audit(app, "retry_requested", "job_runs")] == ["sample 2026-10"]
    # Only failed runs.
    resp = client.post_form(f"/system/runs/{ids['2026-09']}/retry", headers=EN, follow_redirects=True)
    assert "Only a failed run can be retried." in page_text(resp)
    with app.app_context():
        assert db.session.get(JobRun, ids["2026-09"]).retry_at is None
    assert len(audit(app, "retry_requested", "job_runs")) == 1


def test_the_audit_log_names_the_scheduler_actions(app, login):
    login("admin").post_form(f"/system/schedules/{SAMPLE}/run", headers=EN)
    page = page_text(login("admin").get("/admin/audit", headers=ZH))
    assert "请求运行" in page and "计划任务设置" in page


@pytest.mark.parametrize("who", ["finance", "sup.north", "dist.bj"])
def test_no_menu_link_for_others(app, login, who):
    page = page_text(login(who).get("/dashboard", headers=EN))
    assert "/system/schedules" not in page


def test_menu_link_for_the_admin(app, login):
    assert "/system/schedules" in page_text(login("admin").get("/dashboard", headers=EN))
