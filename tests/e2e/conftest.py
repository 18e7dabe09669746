"""Fixtures for the browser journeys: a live server with the demo company, one Chromium.

`live_server` serves the app on 127.0.0.1 (werkzeug, threaded) over a SQLite database that
was migrated and loaded with the demo company in a temp dir. `browser` is one headless Chromium
(Debian's /usr/bin/chromium, never a downloaded one); every test gets a fresh `context`/`page`.
`login(page, username)` logs in through the form. On failure a screenshot goes to
test-artifacts/. Every page also fails its test on a JavaScript error or a console error (a CSP
violation shows up there), and the server fails it on an unhandled exception.

Playwright's sync API marks its event loop as *running* in the main thread between calls, so
`asyncio.run()` elsewhere would fail while it is alive: `browser` (with its Playwright) is
therefore package-scoped, stopped as soon as the last e2e test has run, not session-scoped; this
package runs once per session, so that is still one browser per session. No asyncio fixtures here.
"""
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from channel import create_app
from channel.demo import DEMO_PASSWORD, load_demo
from channel.extensions import db
from config import TestingConfig

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
# Debian's Chromium, never one that Playwright downloads; CHANNEL_CHROMIUM may point elsewhere.
CHROMIUM = os.environ.get("CHANNEL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
TIMEOUT_MS = 5_000  # a page of this app answers in milliseconds; fail fast instead of 30 s
E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    # A safety net: every module here also sets `pytestmark = pytest.mark.e2e` itself.
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --- the live server ----------------------------------------------------------------------------

class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass  # no access log on stderr; errors still go through log_error


class LiveServer:
    def __init__(self, app, url, ids):
        self.app = app
        self.url = url
        self.ids = ids  # account code -> id, username -> id
        self.errors = []  # unhandled exceptions seen while serving

    def __call__(self, path=""):
        return self.url + path


def _compile_catalogs(tmp):
    """Compile the message catalogs as bin/setup does, into a temp copy: the tests see the
    current .po files even when channel/translations holds no (or stale) .mo files."""
    source = ROOT / "channel" / "translations"
    target = tmp / "translations"
    if not source.is_dir():
        target.mkdir()
        return target
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.mo"))
    if any(target.rglob("*.po")):
        pybabel = Path(sys.executable).with_name("pybabel")
        subprocess.run([str(pybabel), "-q", "compile", "-d", str(target)], check=True)
    return target


def _testing_app(url, **extra):
    return create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, DATABASE_URL=url,
                      PASSWORD_HASH_METHOD="pbkdf2:sha256:1000", **extra)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    from flask_migrate import upgrade
    from sqlalchemy import select

    from channel.auth.models import User
    from channel.masterdata.models import Account

    tmp = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{tmp / 'demo.db'}"
    app = _testing_app(url, REPORTS_DIR=str(tmp / "reports"),
                       BABEL_TRANSLATION_DIRECTORIES=str(_compile_catalogs(tmp)))
    with app.app_context():
        upgrade()
        load_demo()
        ids = dict(db.session.execute(select(Account.code, Account.id)).all())
        ids.update(db.session.execute(select(User.username, User.id)).all())
        db.session.remove()
        db.engine.dispose()

    server = LiveServer(app, None, ids)
    inner = app.wsgi_app

    def recording_wsgi_app(environ, start_response):
        try:
            return inner(environ, start_response)
        except Exception as exc:  # TESTING propagates exceptions: note it, werkzeug answers 500
            where = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
            server.errors.append(f"{where}: {exc!r}")
            raise

    app.wsgi_app = recording_wsgi_app
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    server.url = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    thread.join(timeout=10)
    httpd.server_close()
    with app.app_context():
        db.engine.dispose()


# --- the browser --------------------------------------------------------------------------------

@pytest.fixture(scope="package")
def browser():
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is missing: install Debian's chromium package (bin/setup --test)"
        if os.environ.get("CHANNEL_REQUIRE_E2E"):
            pytest.fail(f"The browser tests are required here (CHANNEL_REQUIRE_E2E) but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def context_options():
    """Override in a test module (or parametrize) for another device; locale is a Chinese user's."""
    return {"locale": "zh-CN", "viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def context(browser, live_server, context_options):
    context = browser.new_context(base_url=live_server.url, accept_downloads=True,
                                  **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    yield context
    context.close()


def _artifact_name(nodeid, suffix):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_") + suffix


@pytest.fixture
def console_errors():
    """Console errors and uncaught exceptions of the test's pages; a test that provokes one on
    purpose (a 404 page logs "Failed to load resource") removes it from this list."""
    return []


@pytest.fixture
def page(request, context, live_server, console_errors):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    page = context.new_page()
    page.on("console", lambda msg: msg.type == "error" and console_errors.append(msg.text))
    page.on("pageerror", lambda exc: console_errors.append(f"uncaught: {exc}"))
    served_before = len(live_server.errors)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            page.screenshot(path=str(ARTIFACTS / _artifact_name(request.node.nodeid, ".png")),
                            full_page=True)
        except Exception as exc:  # a closed page: nothing to show
            print(f"no failure screenshot: {exc}")
    server_errors = live_server.errors[served_before:]
    assert not server_errors, f"the server raised: {server_errors}"
    assert not console_errors, f"the browser reported errors: {console_errors}"


@pytest.fixture
def login():
    """login(page, "sup.north"): opens /, follows the redirect to the login form and logs in."""
    from playwright.sync_api import expect

    def _login(page, username, password=DEMO_PASSWORD):
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/login(\?|$)"))
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(password)
        page.locator("form:has(input[name=password]) button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/dashboard$"))
        return page

    return _login
