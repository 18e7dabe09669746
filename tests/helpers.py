"""Shared helpers for the access, auth and form tests.

`shared_demo_app` is a module-scoped demo app per engine, for tests that change nothing (the
access table, refused form submissions): one database per module instead of one per test keeps
the PostgreSQL run fast. Tests that change data use conftest's function-scoped `app`.
"""
import csv
import html
import io
import re
import shutil
import threading
import time

import pytest
from openpyxl import load_workbook
from sqlalchemy import inspect, select, text

from channel.auth.models import User
from channel.extensions import db
from channel.masterdata.models import Account, Product, Region
from channel.meetings.models import ActionItem, AgendaItem, Meeting
from channel.promotions.models import Enrolment, ExecutionPhoto, ExecutionReport, Promotion

from .conftest import _testing_app

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}

_shared_counter = iter(range(10**9))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_demo_app(request, tmp_path_factory):
    """The demo company, shared by every test of one module on one engine. Do not change data."""
    if request.param == "sqlite":
        templates = request.getfixturevalue("sqlite_templates")
        path = tmp_path_factory.mktemp("shared") / "demo.db"
        shutil.copy(templates["demo"], path)
        url = f"sqlite:///{path}"
    else:
        server = request.getfixturevalue("pg_server")
        templates = request.getfixturevalue("pg_templates")
        name = f"shared{next(_shared_counter)}"
        url = server.create_database(name, template=templates["demo"])
    app = _testing_app(url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if request.param == "postgresql":
        request.getfixturevalue("pg_server").drop_database(url.rsplit("/", 1)[1])


# --- demo objects by their codes ----------------------------------------------------------------

_MODELS = {"acc": (Account, Account.code), "reg": (Region, Region.code),
           "prod": (Product, Product.code), "user": (User, User.username),
           # issue 8's objects, named by a unique text (tests/test_access.py makes them)
           "meet": (Meeting, Meeting.title), "item": (ActionItem, ActionItem.title),
           "agenda": (AgendaItem, AgendaItem.title), "promo": (Promotion, Promotion.code),
           "xrep": (ExecutionReport, ExecutionReport.note), "photo": (ExecutionPhoto, ExecutionPhoto.filename)}
_PLACEHOLDER = re.compile(r"\{(acc|reg|prod|user|meet|item|agenda|promo|xrep|photo|enr):([^}]+)\}")


def object_id(app, kind, code):
    with app.app_context():
        if kind == "enr":  # an enrolment, by its promotion's code and its account's: {enr:CODE/ACCOUNT}
            promotion, account = code.split("/")
            stmt = (select(Enrolment.id).join(Promotion, Promotion.id == Enrolment.promotion_id)
                    .join(Account, Account.id == Enrolment.account_id)
                    .where(Promotion.code == promotion, Account.code == account))
        else:
            model, column = _MODELS[kind]
            stmt = select(model.id).where(column == code)
        found = db.session.execute(stmt).scalar_one()
        db.session.remove()
    return found


def resolve(app, url):
    """'/accounts/{acc:GD-SH01}' -> '/accounts/17' (ids looked up by demo code)."""
    return _PLACEHOLDER.sub(lambda m: str(object_id(app, m.group(1), m.group(2))), url)


_NAMES = {"acc": (Account.name, Account.code), "reg": (Region.name, Region.code),
          "prod": (Product.name, Product.code), "user": (User.full_name, User.username),
          "meet": (Meeting.title, Meeting.title), "promo": (Promotion.name, Promotion.code)}


def object_names(app, url, kinds=tuple(_NAMES)):
    """The names of the demo objects a URL template names (account names, full names, ...)."""
    names = []
    with app.app_context():
        for kind, code in _PLACEHOLDER.findall(url):
            if kind in kinds:
                name, column = _NAMES[kind]
                names.append(db.session.execute(select(name).where(column == code)).scalar_one())
        db.session.remove()
    return names


def placeholders(url):
    """The demo codes named in a URL template."""
    return [code for _, code in _PLACEHOLDER.findall(url)]


# --- database snapshots -------------------------------------------------------------------------

SNAPSHOT_TABLES = ("regions", "accounts", "products", "users", "supervisor_regions",
                   "audit_entries", "settings")


def db_snapshot(app, tables=SNAPSHOT_TABLES):
    """Every row of the given tables, in primary-key order: compare before/after a request."""
    out = {}
    with app.app_context():
        insp = inspect(db.engine)
        for table in tables:
            pk = insp.get_pk_constraint(table)["constrained_columns"]
            rows = db.session.execute(
                text(f"SELECT * FROM {table} ORDER BY {', '.join(pk)}")
            ).mappings().all()
            out[table] = [dict(r) for r in rows]
        db.session.remove()
    return out


# --- responses ----------------------------------------------------------------------------------

def page_text(resp):
    """The response body with HTML entities decoded (so that "user's" matches)."""
    return html.unescape(resp.get_data(as_text=True))


def location_path(resp):
    from urllib.parse import urlsplit

    parts = urlsplit(resp.headers.get("Location", ""))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def csv_rows(resp):
    body = resp.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def xlsx_rows(resp):
    wb = load_workbook(io.BytesIO(resp.get_data()), read_only=True)
    rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    return rows


def export_codes(resp, fmt):
    """The first column (the code) of every data row of a CSV or xlsx export."""
    rows = csv_rows(resp) if fmt == "csv" else xlsx_rows(resp)
    assert rows, "an export always has a header row"
    return [r[0] for r in rows[1:]]


# A link to an account whose text starts with its code ("DL-BJ001" or "GD-BJ01 北京鑫源...").
ACCOUNT_LINK = re.compile(r'<a href="/accounts/\d+">([A-Za-z0-9_\-]+)[^<]*</a>')


def listed_account_codes(resp):
    return ACCOUNT_LINK.findall(resp.get_data(as_text=True))


# --- races ----------------------------------------------------------------------------------------

RACE_DEADLINE = 60  # seconds, for a loaded two-core machine


def in_threads(app, n, fn, *, deadline=RACE_DEADLINE):
    """fn(i) in n threads released at once (a barrier), each in its own app context; returns
    [fn(0), ..., fn(n-1)]. A thread that hangs or raises fails the test."""
    barrier = threading.Barrier(n, timeout=deadline / 2)
    results = [None] * n

    def worker(i):
        try:
            with app.app_context():
                try:
                    barrier.wait()
                    results[i] = ("ok", fn(i))
                finally:
                    db.session.remove()
        except BaseException as err:  # noqa: BLE001 - reported below
            results[i] = ("error", err)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True, name=f"race-{i}") for i in range(n)]
    for t in threads:
        t.start()
    end = time.monotonic() + deadline
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    hung = [t.name for t in threads if t.is_alive()]
    assert not hung, f"threads still running after {deadline}s: {hung}"
    errors = [r[1] for r in results if r[0] == "error"]
    assert not errors, f"{len(errors)} threads failed: {errors[:3]!r}"
    return [r[1] for r in results]


# --- PDFs -----------------------------------------------------------------------------------------

def pdf_text(pdf: bytes) -> str:
    """The PDF's text without whitespace: pypdf breaks wrapped cells into lines."""
    from pypdf import PdfReader

    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def embedded_fonts(pdf: bytes) -> set[str]:
    """Base names of the fonts the pages use, each checked to be embedded."""
    from pypdf import PdfReader

    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font
            names.add(str(font["/BaseFont"]).split("+")[-1])
    return names
