"""Fixtures: one app per test on SQLite and on a real PostgreSQL server the harness starts.

`app` holds the demo company (regions, accounts, one user per role: see channel/demo.py);
`empty_app` holds only the migrated schema. `client` is anonymous; `login(username)` gives a
logged-in client. Every POST helper sends a real CSRF token, so the CSRF check stays on.
"""
import hashlib
import os
import re
import shutil
import tempfile

import pytest
from flask.testing import FlaskClient
from hypothesis import settings
from itsdangerous import URLSafeTimedSerializer

from channel import create_app
from channel.demo import DEMO_PASSWORD, load_demo
from channel.extensions import db
from config import TestingConfig

from .pg_server import PostgresServer, Unavailable

ENGINES = ["sqlite", "postgresql"]

# Property tests explore new random cases on every local run; CI (.ci/run sets
# CHANNEL_HYPOTHESIS_PROFILE=ci) replays a fixed seed so that its verdict is reproducible. A case a
# local run finds becomes a worked example in the test file.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("thorough", max_examples=5000)  # for a long hunt by hand
settings.load_profile(os.environ.get("CHANNEL_HYPOTHESIS_PROFILE", "default"))


class ChannelClient(FlaskClient):
    """The test client with a CSRF token at hand and a login helper."""

    def csrf_token(self):
        with self.session_transaction() as sess:
            raw = sess.get("csrf_token")
            if raw is None:
                raw = sess["csrf_token"] = hashlib.sha1(os.urandom(64)).hexdigest()
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)

    def post_form(self, url, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kw)

    def login(self, username, password=DEMO_PASSWORD):
        resp = self.post_form("/login", {"username": username, "password": password})
        assert resp.status_code == 302, f"login of {username} failed: {resp.status_code}"
        return self


@pytest.fixture(scope="session")
def pg_server():
    try:
        server = PostgresServer().start()
    except Unavailable as err:
        if os.environ.get("CHANNEL_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required here but unavailable: {err}")
        pytest.skip(f"PostgreSQL unavailable: {err}")
    yield server
    server.stop()


def _testing_app(url, **extra):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, DATABASE_URL=url,
                     PASSWORD_HASH_METHOD="pbkdf2:sha256:1000", **extra)
    app.test_client_class = ChannelClient
    return app


def _migrate(url):
    from flask_migrate import upgrade

    app = _testing_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _with_demo(url):
    app = _testing_app(url)
    with app.app_context():
        # Master data only: ledger tests post their own documents into open months.
        load_demo(with_history=False)
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory):
    root = tmp_path_factory.mktemp("sqlite")
    empty = root / "empty.db"
    _migrate(f"sqlite:///{empty}")
    demo = root / "demo.db"
    shutil.copy(empty, demo)
    _with_demo(f"sqlite:///{demo}")
    return {"empty": empty, "demo": demo}


@pytest.fixture(scope="session")
def pg_templates(pg_server):
    pg_server.create_database("tmpl_empty")
    _migrate(pg_server.url("tmpl_empty"))
    pg_server.create_database("tmpl_demo", template="tmpl_empty")
    _with_demo(pg_server.url("tmpl_demo"))
    return {"empty": "tmpl_empty", "demo": "tmpl_demo"}


@pytest.fixture(params=ENGINES)
def engine(request):
    if request.param == "postgresql":
        request.applymarker(pytest.mark.postgres)
    return request.param


_counter = iter(range(10**9))


def _database_url(request, engine, kind, tmp_path):
    if engine == "sqlite":
        templates = request.getfixturevalue("sqlite_templates")
        path = tmp_path / f"{kind}.db"
        shutil.copy(templates[kind], path)
        return f"sqlite:///{path}"
    server = request.getfixturevalue("pg_server")
    templates = request.getfixturevalue("pg_templates")
    return server.create_database(f"t{next(_counter)}", template=templates[kind])


def app_on(request, engine, url, **extra):
    """An app on `url` for one test; afterwards its connections are closed and, on PostgreSQL,
    its database is dropped."""
    app = _testing_app(url, **extra)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if engine == "postgresql":
        request.getfixturevalue("pg_server").drop_database(url.rsplit("/", 1)[1])


def _make_app(request, engine, kind, tmp_path):
    url = _database_url(request, engine, kind, tmp_path)
    yield from app_on(request, engine, url, REPORTS_DIR=str(tmp_path / "reports"))


@pytest.fixture
def app(request, engine, tmp_path):
    """The demo company on the engine under test."""
    yield from _make_app(request, engine, "demo", tmp_path)


@pytest.fixture
def empty_app(request, engine, tmp_path):
    """Only the migrated schema, no rows."""
    yield from _make_app(request, engine, "empty", tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(app):
    """login("sup.north") -> a client logged in as that demo user."""

    def _login(username, password=DEMO_PASSWORD):
        return app.test_client().login(username, password)

    return _login


def csrf_field(html: str) -> str:
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    return m.group(1) if m else ""


@pytest.fixture
def tmpdir_path():
    d = tempfile.mkdtemp()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def full_demo_app(request, tmp_path_factory):
    """The demo company with its history (a year of ledgers, reconciliations, expenses, plans,
    meetings, promotions), built once per test run and engine by `load_demo()` itself: the tests
    of what the demo holds, which only read it (loading it takes 10-20 s an engine)."""
    if request.param == "sqlite":
        templates = request.getfixturevalue("sqlite_templates")
        path = tmp_path_factory.mktemp("full_demo") / "demo.db"
        shutil.copy(templates["empty"], path)
        url = f"sqlite:///{path}"
    else:
        server = request.getfixturevalue("pg_server")
        request.getfixturevalue("pg_templates")
        url = server.create_database(f"full_demo{next(_counter)}", template="tmpl_empty")
    app = _testing_app(url)
    with app.app_context():
        load_demo()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if request.param == "postgresql":
        request.getfixturevalue("pg_server").drop_database(url.rsplit("/", 1)[1])
