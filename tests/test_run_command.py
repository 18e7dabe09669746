"""The README's run command, for real: bin/run sets up, migrates, loads the demo company, and
serves it with gunicorn next to the scheduler."""
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read().decode("utf-8")


def test_bin_run_serves_the_demo_company(tmp_path):
    port = _free_port()
    db_file = tmp_path / "run.db"
    env = dict(os.environ, HOST="127.0.0.1", PORT=str(port), WORKERS="1",
               CHANNEL_DATABASE_URL=f"sqlite:///{db_file}", CHANNEL_REPORTS_DIR=str(tmp_path / "r"),
               CHANNEL_SCHEDULER_HEARTBEAT_SECONDS="1")
    log = open(tmp_path / "run.log", "w+")
    proc = subprocess.Popen([str(ROOT / "bin" / "run")], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        status, page = None, ""
        while time.monotonic() < deadline:
            try:
                status, page = _get(f"http://127.0.0.1:{port}/login")
                break
            except OSError:
                assert proc.poll() is None, Path(log.name).read_text()
                time.sleep(0.5)
        assert status == 200, Path(log.name).read_text()
        assert 'name="username"' in page
        # demo data loaded once, scheduler beating
        conn = sqlite3.connect(db_file)
        assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 28
        for _ in range(40):
            if conn.execute("SELECT count(*) FROM scheduler_heartbeats").fetchone()[0]:
                break
            time.sleep(0.25)
        assert conn.execute("SELECT count(*) FROM scheduler_heartbeats").fetchone()[0] == 1
        conn.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
