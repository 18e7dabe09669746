"""A throw-away PostgreSQL server for the test run: initdb + pg_ctl on 127.0.0.1 in a temp dir.

As root, initdb and pg_ctl refuse to run, so they run as the `postgres` user on a directory it owns.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time


class Unavailable(Exception):
    pass


def _bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return os.path.dirname(found[0])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise Unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found; install the Debian package 'postgresql'")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self):
        self.bindir = _bindir()
        self.root = tempfile.mkdtemp(prefix="channel-pg-")
        self.data = os.path.join(self.root, "data")
        self.port = _free_port()
        self.as_user = []
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root but there is no 'postgres' user to run initdb as") from None
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args, **kw):
        return subprocess.run(self.as_user + list(args), check=True, capture_output=True, text=True, **kw)

    def start(self):
        try:
            self._run(os.path.join(self.bindir, "initdb"), "-D", self.data, "-A", "trust", "-U", "postgres",
                      "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        except subprocess.CalledProcessError as err:
            raise Unavailable(f"initdb failed: {err.stderr.strip()[-500:]}") from None
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        try:
            self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-o", opts, "-w", "-t", "60",
                      "-l", os.path.join(self.root, "log"), "start")
        except subprocess.CalledProcessError as err:
            raise Unavailable(f"pg_ctl start failed: {err.stderr.strip()[-500:]}") from None
        return self

    def url(self, dbname="postgres"):
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name, template=None):
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def drop_database(self, name):
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self):
        try:
            self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate", "stop")
        except Exception:
            pass
        for _ in range(20):
            try:
                shutil.rmtree(self.root)
                break
            except OSError:
                time.sleep(0.1)
