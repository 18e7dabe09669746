"""A batch killed mid-way (kill -9 of `channel reports generate` and its workers) leaves no partial
PDF that looks done, and a rerun completes it without rendering again what was finished; a PDF
rendered through one app server is downloaded through another (the files live in the database).
Real processes, real renders, on SQLite and PostgreSQL."""
import hashlib
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from channel.extensions import db
from channel.masterdata.models import Account
from channel.reports.models import ReportFile, ReportRun
from ..conftest import _testing_app
from ..ledger import Month, close, post, yuan

ROOT = Path(__file__).resolve().parents[2]
CHANNEL = Path(sys.executable).parent / "channel"
SEPT = Month(2026, 9)
DEADLINE = 120


def _september_for_everyone(app) -> int:
    """An opening balance for every demo account, September closed: one settlement each."""
    with app.app_context():
        codes = db.session.execute(select(Account.code).order_by(Account.code)).scalars().all()
        for i, code in enumerate(codes):
            post(kind="opening", account=code, on=date(2026, 9, 1), amount_fen=yuan("100.00") + i,
                 direction="debit")
        close(SEPT)
        db.session.remove()
    return len(codes)


def _generate(url, tmp_path, *extra):
    env = dict(os.environ, CHANNEL_ENV="testing", CHANNEL_DATABASE_URL=url,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    with open(tmp_path / "generate.log", "a") as log:  # the child keeps its own descriptor
        return subprocess.Popen([str(CHANNEL), "reports", "generate", "settlement", "--period", str(SEPT),
                                 "--workers", "1", *extra], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _statuses(app):
    with app.app_context():
        counts = dict(db.session.execute(
            select(ReportRun.status, func.count()).group_by(ReportRun.status)).all())
        db.session.remove()
    return counts


def _check_files(app):
    """Every run that says done has its whole file: size and checksum match the bytes."""
    with app.app_context():
        rows = db.session.execute(
            select(ReportRun.file_sha256, ReportRun.size, ReportFile.content)
            .join(ReportFile, ReportFile.sha256 == ReportRun.file_sha256)
            .where(ReportRun.status == "done")).all()
        for sha, size, content in rows:
            assert hashlib.sha256(content).hexdigest() == sha and len(content) == size
            assert content.startswith(b"%PDF") and content.rstrip().endswith(b"%%EOF")
        db.session.remove()
    return len(rows)


def test_a_batch_killed_midway_is_completed_by_a_rerun(app, tmp_path):
    accounts = _september_for_everyone(app)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    first = _generate(url, tmp_path)
    deadline = time.monotonic() + DEADLINE
    while _statuses(app).get("done", 0) < 2:
        assert first.poll() is None, (tmp_path / "generate.log").read_text()
        assert time.monotonic() < deadline, "nothing was rendered in time"
        time.sleep(0.1)
    os.killpg(first.pid, signal.SIGKILL)  # the command and its render workers, mid-batch
    first.wait(timeout=30)
    statuses = _statuses(app)
    done_before = statuses.get("done", 0)
    assert 2 <= done_before < accounts, statuses
    assert _check_files(app) == done_before

    second = _generate(url, tmp_path)
    assert second.wait(timeout=DEADLINE * 2) == 0, (tmp_path / "generate.log").read_text()
    assert _statuses(app) == {"done": accounts}
    assert _check_files(app) == accounts
    with app.app_context():
        # What was finished before the kill was not rendered again: one version per account.
        assert db.session.execute(select(func.max(ReportRun.version))).scalar_one() == 1
        db.session.remove()
    log = (tmp_path / "generate.log").read_text()
    assert f"{accounts - done_before} to render" in log or "left by a process that died" in log


def test_a_pdf_made_through_one_server_downloads_through_another(app, tmp_path):
    _september_for_everyone(app)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    maker = _generate(url, tmp_path, "--account", "GD-BJ01")
    assert maker.wait(timeout=DEADLINE) == 0, (tmp_path / "generate.log").read_text()
    other = _testing_app(url)  # a second app server on the same database
    with other.app_context():
        run_id, sha = db.session.execute(select(ReportRun.id, ReportRun.file_sha256)).one()
        db.session.remove()
    client = other.test_client().login("finance")
    answer = client.get(f"/reports/runs/{run_id}/download")
    assert answer.status_code == 200 and hashlib.sha256(answer.data).hexdigest() == sha
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_command_copies_the_month_into_the_reports_directory(app, tmp_path):
    _september_for_everyone(app)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    target = tmp_path / "share"
    env_dir = dict(os.environ, CHANNEL_REPORTS_DIR=str(target))
    maker = subprocess.Popen([str(CHANNEL), "reports", "generate", "settlement", "--period", str(SEPT),
                              "--account", "GD-BJ01", "--export"], cwd=ROOT,
                             env=dict(env_dir, CHANNEL_ENV="testing", CHANNEL_DATABASE_URL=url),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = maker.communicate(timeout=DEADLINE)
    assert maker.returncode == 0, out
    files = sorted(p.name for p in (target / "settlement" / str(SEPT)).iterdir())
    assert files == ["settlement-2026-09-GD-BJ01-zh_CN-v1.pdf"], files  # no temporary file left
    with app.app_context():
        sha = db.session.execute(select(ReportRun.file_sha256)).scalar_one()
        db.session.remove()
    pdf = (target / "settlement" / str(SEPT) / files[0]).read_bytes()
    assert hashlib.sha256(pdf).hexdigest() == sha
    # A bad period or account is a clear message, and nothing is asked.
    bad = subprocess.run([str(CHANNEL), "reports", "generate", "settlement", "--period", "2026-13"],
                         cwd=ROOT, env=dict(env_dir, CHANNEL_ENV="testing", CHANNEL_DATABASE_URL=url),
                         capture_output=True, text=True, timeout=DEADLINE)
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr
    bad = subprocess.run([str(CHANNEL), "reports", "generate", "settlement", "--period", "2026-10"],
                         cwd=ROOT, env=dict(env_dir, CHANNEL_ENV="testing", CHANNEL_DATABASE_URL=url),
                         capture_output=True, text=True, timeout=DEADLINE)
    assert bad.returncode == 1 and "2026-10" in bad.stderr
