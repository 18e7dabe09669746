"""Signing in and out, sessions, the login throttle, CSRF, headers, passwords and user admin."""
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from werkzeug.security import check_password_hash

from channel.auth.models import LoginAttempt, User, new_session_token
from channel.auth.passwords import password_problem
from channel.audit.models import AuditEntry
from channel.db_types import utcnow
from channel.demo import DEMO_PASSWORD
from channel.extensions import db

from ..conftest import _testing_app
from ..helpers import (
    EN,
    db_snapshot,
    export_codes,
    location_path,
    object_id,
    page_text,
    resolve,
    shared_demo_app,  # noqa: F401  (fixture)
)

WRONG = "Wrong username or password."
STRONG = "Vermilion-Kettle-42"


def _user(app, username):
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        db.session.expunge(user)
        db.session.remove()
    return user


def _post_login(client, username, password, url="/login"):
    return client.post_form(url, {"username": username, "password": password}, headers=EN)


# --- logging in ---------------------------------------------------------------------------------

def test_login_success_goes_to_the_dashboard(app):
    client = app.test_client()
    resp = _post_login(client, "sup.north", DEMO_PASSWORD)
    assert resp.status_code == 302
    assert location_path(resp) == "/dashboard"
    page = client.get("/dashboard", headers=EN)
    assert page.status_code == 200
    assert "Hello, 马国栋" in page_text(page)
    assert _user(app, "sup.north").last_login_at is not None


def test_username_is_case_and_space_insensitive(shared_demo_app):
    app = shared_demo_app
    resp = _post_login(app.test_client(), "  Sup.North ", DEMO_PASSWORD)
    assert resp.status_code == 302


@pytest.mark.parametrize(("username", "password"), [
    ("sup.north", "wrong-password"),
    ("nobody", DEMO_PASSWORD),  # an unknown user gets the same message: no user enumeration
])
def test_login_failure_says_wrong_username_or_password(app, username, password):
    client = app.test_client()
    resp = _post_login(client, username, password)
    assert resp.status_code == 422
    assert WRONG in page_text(resp)
    assert client.get("/dashboard").status_code == 302
    with app.app_context():
        attempts = db.session.execute(select(LoginAttempt)).scalars().all()
        assert [(a.username, a.success) for a in attempts] == [(username, False)]


def test_login_with_empty_fields_says_what_is_missing(shared_demo_app):
    app = shared_demo_app
    resp = _post_login(app.test_client(), "", "")
    assert resp.status_code == 422
    assert page_text(resp).count("This field is required.") == 2


# --- the throttle -------------------------------------------------------------------------------

def _fail(client, app, username="rep.beijing", times=None):
    for _ in range(times if times is not None else app.config["LOGIN_MAX_FAILURES"]):
        resp = _post_login(client, username, "not-the-password")
        assert resp.status_code == 422
        assert WRONG in page_text(resp)


def test_throttle_locks_after_max_failures_even_for_the_right_password(app):
    client = app.test_client()
    _fail(client, app)
    resp = _post_login(client, "rep.beijing", DEMO_PASSWORD)
    assert resp.status_code == 422
    text = page_text(resp)
    assert "Too many failed attempts. Try again in 15 minutes." in text
    assert WRONG not in text
    assert client.get("/dashboard").status_code == 302
    # Another user from another office is not locked out.
    other = app.test_client()
    resp = other.post_form("/login", {"username": "sup.north", "password": DEMO_PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert resp.status_code == 302


def test_throttle_is_shared_by_every_app_instance_on_the_database(app):
    _fail(app.test_client(), app)
    # A second web worker / server: its own app, engine and pool, the same database.
    second = _testing_app(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        resp = _post_login(second.test_client(), "rep.beijing", DEMO_PASSWORD)
        assert resp.status_code == 422
        assert "Too many failed attempts" in page_text(resp)
    finally:
        with second.app_context():
            db.session.remove()
            db.engine.dispose()


def test_failures_below_the_limit_do_not_lock_and_a_success_resets(app):
    client = app.test_client()
    limit = app.config["LOGIN_MAX_FAILURES"]
    _fail(client, app, times=limit - 1)
    assert _post_login(app.test_client(), "rep.beijing", DEMO_PASSWORD).status_code == 302
    _fail(client, app, times=limit - 1)  # counted from the last success
    assert _post_login(app.test_client(), "rep.beijing", DEMO_PASSWORD).status_code == 302


def test_lock_ends_when_the_window_has_passed(app):
    _fail(app.test_client(), app)
    assert _post_login(app.test_client(), "rep.beijing", DEMO_PASSWORD).status_code == 422
    with app.app_context():
        past = utcnow() - timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 60)
        db.session.execute(update(LoginAttempt).values(at=past))
        db.session.commit()
    assert _post_login(app.test_client(), "rep.beijing", DEMO_PASSWORD).status_code == 302


def test_one_address_trying_many_usernames_is_throttled(app):
    client = app.test_client()
    limit = app.config["LOGIN_MAX_FAILURES"]
    for i in range(4 * limit):
        assert _post_login(client, f"guess{i}", "not-the-password").status_code == 422
    resp = _post_login(client, "sup.north", DEMO_PASSWORD)
    assert resp.status_code == 422
    assert "Too many failed attempts" in page_text(resp)


# --- sessions -----------------------------------------------------------------------------------

def test_session_is_renewed_at_login(shared_demo_app):
    app = shared_demo_app
    client = app.test_client()
    assert client.get("/login").status_code == 200
    with client.session_transaction() as sess:
        sess["planted"] = "by-someone-else"
    before = client.get_cookie("session").value
    with client.session_transaction() as sess:
        before_keys = set(sess)
    assert "planted" in before_keys and "_user_id" not in before_keys

    client.login("sup.north")
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"] == _user(app, "sup.north").session_token
    assert client.get("/dashboard").status_code == 200


def test_logout_ends_every_session_of_the_user(app, login):
    first, second = login("sup.north"), login("sup.north")
    bystander = login("sup.east")
    assert second.get("/dashboard").status_code == 200
    resp = first.post_form("/logout", headers=EN)
    assert resp.status_code == 302 and location_path(resp) == "/login"
    assert "You have logged out." in page_text(first.get("/login", headers=EN))
    for client in (first, second):
        resp = client.get("/dashboard")
        assert resp.status_code == 302 and location_path(resp).startswith("/login")
    assert bystander.get("/dashboard").status_code == 200


def test_get_logout_is_not_allowed(shared_demo_app):
    client = shared_demo_app.test_client().login("sup.north")
    resp = client.get("/logout", headers=EN)
    assert resp.status_code == 405
    assert client.get("/dashboard").status_code == 200


def test_password_change_ends_other_sessions_and_keeps_this_one(app, login):
    here, elsewhere = login("rep.beijing"), login("rep.beijing")
    resp = here.post_form("/me/password", {"current": DEMO_PASSWORD, "new": STRONG, "confirm": STRONG},
                          headers=EN)
    assert resp.status_code == 302 and location_path(resp) == "/dashboard"
    page = here.get("/dashboard", headers=EN)
    assert page.status_code == 200
    assert "Your password has been changed. Other sessions have been signed out." in page_text(page)
    assert elsewhere.get("/dashboard").status_code == 302
    assert _post_login(app.test_client(), "rep.beijing", DEMO_PASSWORD).status_code == 422
    assert _post_login(app.test_client(), "rep.beijing", STRONG).status_code == 302
    user = _user(app, "rep.beijing")
    assert check_password_hash(user.password_hash, STRONG)
    with app.app_context():
        entry = db.session.execute(
            select(AuditEntry).where(AuditEntry.action == "password_changed")
        ).scalar_one()
        assert entry.object_id == str(user.id) and entry.user_id == user.id
        assert not entry.changes  # a password or its hash never goes into the log


def _user_form(app, username, **overrides):
    """The edit-user form as the admin's browser would post it for this user."""
    user = _user(app, username)
    with app.app_context():
        user = db.session.merge(user)
        data = {
            "full_name": user.full_name, "email": user.email or "", "phone": user.phone or "",
            "role": user.role, "field_kind": user.field_kind or "",
            "region_id": str(user.region_id or ""), "account_id": str(user.account_id or ""),
            "supervised": [str(r.id) for r in user.supervised_regions], "active": "y",
        }
        db.session.remove()
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_deactivation_ends_sessions_and_refuses_login(app, login):
    rep = login("rep.beijing")
    admin = login("admin")
    user_id = object_id(app, "user", "rep.beijing")
    resp = admin.post_form(f"/admin/users/{user_id}/edit", _user_form(app, "rep.beijing", active=None),
                           headers=EN)
    assert resp.status_code == 302
    assert _user(app, "rep.beijing").is_active_user is False
    resp = rep.get("/dashboard")
    assert resp.status_code == 302 and location_path(resp).startswith("/login")
    resp = _post_login(app.test_client(), "rep.beijing", DEMO_PASSWORD)
    assert resp.status_code == 422 and WRONG in page_text(resp)
    with app.app_context():
        entry = db.session.execute(
            select(AuditEntry).where(AuditEntry.action == "updated", AuditEntry.object_type == "users")
        ).scalar_one()
        assert entry.changes == {"is_active_user": [True, False]}
    # Reactivated, the user may log in again.
    resp = admin.post_form(f"/admin/users/{user_id}/edit", _user_form(app, "rep.beijing"), headers=EN)
    assert resp.status_code == 302
    assert _post_login(app.test_client(), "rep.beijing", DEMO_PASSWORD).status_code == 302


def test_admin_reset_password_ends_the_users_sessions(app, login):
    rep, admin = login("rep.beijing"), login("admin")
    user_id = object_id(app, "user", "rep.beijing")
    resp = admin.post_form(f"/admin/users/{user_id}/password", {"password": STRONG}, headers=EN)
    assert resp.status_code == 302
    assert rep.get("/dashboard").status_code == 302
    assert _post_login(app.test_client(), "rep.beijing", STRONG).status_code == 302
    with app.app_context():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "password_set")).scalar_one()
        assert entry.user_id == _user(app, "admin").id and not entry.changes


def test_admin_ends_a_users_sessions(app, login):
    rep, admin = login("rep.beijing"), login("admin")
    user_id = object_id(app, "user", "rep.beijing")
    resp = admin.post_form(f"/admin/users/{user_id}/end-sessions", headers=EN)
    assert resp.status_code == 302
    assert rep.get("/dashboard").status_code == 302
    assert admin.get("/dashboard").status_code == 200


def test_admin_cannot_deactivate_or_demote_himself(app, login):
    admin = login("admin")
    admin_id = object_id(app, "user", "admin")
    for overrides in ({"active": None}, {"role": "finance"}):
        resp = admin.post_form(f"/admin/users/{admin_id}/edit", _user_form(app, "admin", **overrides),
                               headers=EN)
        assert resp.status_code == 422
        assert "You cannot change your own role or deactivate yourself." in page_text(resp)
    user = _user(app, "admin")
    assert user.is_active_user and user.role == "admin"
    assert admin.get("/dashboard").status_code == 200


# --- where login sends you ----------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "https://evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
    " //evil.example",
    "/\t/evil.example",
])
def test_next_never_leaves_the_site(shared_demo_app, target):
    app = shared_demo_app
    resp = _post_login(app.test_client(), "sup.north", DEMO_PASSWORD, url=f"/login?next={quote(target, safe='')}")
    assert resp.status_code == 302
    assert resp.headers["Location"] in ("/dashboard", "http://localhost/dashboard")


def test_next_local_path_is_honoured(shared_demo_app):
    app = shared_demo_app
    resp = _post_login(app.test_client(), "sup.north", DEMO_PASSWORD,
                       url="/login?next=" + quote("/accounts?kind=dealer", safe=""))
    assert resp.status_code == 302
    assert location_path(resp) == "/accounts?kind=dealer"


def test_login_required_sends_back_to_the_page_asked_for(shared_demo_app):
    app = shared_demo_app
    client = app.test_client()
    resp = client.get("/products?q=茶")
    assert resp.status_code == 302
    login_url = location_path(resp)
    assert login_url.startswith("/login?next=")
    resp = _post_login(client, "sup.north", DEMO_PASSWORD, url=login_url)
    assert resp.status_code == 302
    assert location_path(resp).startswith("/products?q=")


def test_language_switch_never_leaves_the_site(app, login):
    client = login("sup.north")
    resp = client.post_form("/language", {"locale": "en", "next": "//evil.example"})
    assert resp.status_code == 302 and location_path(resp) == "/dashboard"
    assert "evil" not in resp.headers["Location"]
    assert _user(app, "sup.north").locale == "en"
    resp = client.post_form("/language", {"locale": "zh_CN", "next": "/products"})
    assert location_path(resp) == "/products"


# --- headers, cookies, CSRF ---------------------------------------------------------------------

def _assert_security_headers(resp):
    csp = resp.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"
    assert resp.headers.get("X-Frame-Options") == "DENY"
    assert resp.headers.get("Referrer-Policy")


def test_security_headers_on_every_kind_of_response(shared_demo_app):
    app = shared_demo_app
    anon = app.test_client()
    admin = app.test_client().login("admin")
    cases = [
        (anon.get("/login"), 200),
        (anon.get("/no-such-page"), 404),
        (anon.post("/login", data={"username": "admin", "password": DEMO_PASSWORD}), 400),  # no CSRF
        (admin.get("/logout"), 405),
        (admin.get("/admin/users/999999"), 404),
        (admin.get("/dashboard"), 200),
        (admin.get("/accounts?format=csv"), 200),
        (admin.get("/products?format=xlsx"), 200),
        (anon.get("/static/css/app.css"), 200),
    ]
    for resp, status in cases:
        resp.close()
        assert resp.status_code == status
        _assert_security_headers(resp)
    assert cases[6][0].mimetype == "text/csv"
    assert "no-store" in cases[6][0].headers["Cache-Control"]


def test_security_headers_on_a_server_error(app):
    def _boom():
        raise RuntimeError("secret-internal-detail")

    app.add_url_rule("/boom-for-test", "boom_for_test", _boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as production does, with the 500 page
    resp = app.test_client().get("/boom-for-test", headers=EN)
    assert resp.status_code == 500
    assert "Something went wrong" in page_text(resp)
    assert "secret-internal-detail" not in page_text(resp)  # no traceback for the user
    _assert_security_headers(resp)


def test_session_cookie_is_httponly_and_samesite_lax(shared_demo_app):
    app = shared_demo_app
    resp = _post_login(app.test_client(), "sup.north", DEMO_PASSWORD)
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies
    for cookie in cookies:
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie


CSRF_TEXT = "The form has expired or was not sent from this site."


@pytest.mark.parametrize(("who", "url", "data"), [
    ("admin", "/products/new", {"code": "P-NEW", "name": "新品", "unit": "箱", "list_price": "10.00"}),
    ("admin", "/regions/new", {"code": "NE", "name": "东北区", "parent_id": ""}),
    ("admin", "/admin/users/{user:rep.beijing}/password", {"password": STRONG}),
    ("admin", "/admin/users/{user:rep.beijing}/end-sessions", {}),
    ("sup.north", "/accounts/{acc:GD-BJ01}/edit", {"contact_name": "改名", "phone": "1", "address": "", "notes": ""}),
    ("rep.beijing", "/me/password", {"current": DEMO_PASSWORD, "new": STRONG, "confirm": STRONG}),
    ("sup.north", "/language", {"locale": "en"}),
    ("sup.north", "/logout", {}),
])
def test_post_without_csrf_token_is_refused_and_changes_nothing(shared_demo_app, who, url, data):
    app = shared_demo_app
    client = app.test_client().login(who)
    before = db_snapshot(app)
    resp = client.post(resolve(app, url), data=data, headers=EN)
    assert resp.status_code == 400
    assert CSRF_TEXT in page_text(resp)
    assert db_snapshot(app) == before
    assert client.get("/dashboard").status_code == 200  # still logged in


def test_csrf_token_of_another_session_is_refused(shared_demo_app):
    app = shared_demo_app
    mallory = app.test_client().login("sup.north")
    victim = app.test_client().login("admin")
    token = mallory.csrf_token()
    before = db_snapshot(app)
    resp = victim.post("/regions/new", data={"csrf_token": token, "code": "NE", "name": "东北区"}, headers=EN)
    assert resp.status_code == 400
    assert db_snapshot(app) == before


# --- passwords ----------------------------------------------------------------------------------

@pytest.mark.parametrize("password", ["password123", "12345678", "qwertyuiop", "11111111", "iloveyou"])
def test_weak_passwords_are_refused(password):
    assert password_problem(password) == "common"


def test_short_and_long_passwords_are_refused():
    assert password_problem("Ab1-x") == "too_short"
    assert password_problem("x" * 201) == "too_long"


@pytest.mark.parametrize("password", [DEMO_PASSWORD, STRONG, "清泉矿泉水箱子好多啊"])
def test_good_passwords_are_accepted(password):
    assert password_problem(password) is None


def test_password_like_the_username_is_refused():
    assert password_problem("rep.beijing", ("rep.beijing", "高峰")) == "common"


# --- user administration ------------------------------------------------------------------------

def _new_user_data(app, username, role, **binding):
    data = {"username": username, "full_name": f"Test {role}", "role": role, "password": STRONG,
            "email": "", "phone": "", "field_kind": "", "region_id": "", "account_id": ""}
    for key, value in binding.items():
        if key == "supervised":
            data["supervised"] = [str(object_id(app, "reg", code)) for code in value]
        elif key == "region":
            data["region_id"] = str(object_id(app, "reg", value))
        elif key == "account":
            data["account_id"] = str(object_id(app, "acc", value))
        else:
            data[key] = value
    return data


ROLE_CASES = [
    ("admin", {}, {}),
    ("finance", {}, {}),
    ("supervisor", {"supervised": ["EAST", "SOUTH"]}, {"regions": ["EAST", "SOUTH"]}),
    ("field_staff", {"region": "ZJ", "field_kind": "promoter"}, {"region": "ZJ", "field_kind": "promoter"}),
    ("distributor", {"account": "GD-SH01"}, {"account": "GD-SH01"}),
]


@pytest.mark.parametrize(("role", "binding", "expected"), ROLE_CASES, ids=[c[0] for c in ROLE_CASES])
def test_admin_creates_a_user_of_each_role(app, login, role, binding, expected):
    admin = login("admin")
    data = _new_user_data(app, "new.user", role, **binding)
    # Bindings that do not belong to the role are dropped, never stored.
    if role != "distributor":
        data.setdefault("account_id", "")
    resp = admin.post_form("/admin/users/new", data, headers=EN)
    assert resp.status_code == 302, page_text(resp)
    assert "User new.user created." in page_text(admin.get(location_path(resp), headers=EN))
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == "new.user")).scalar_one()
        assert user.role == role
        assert sorted(r.code for r in user.supervised_regions) == expected.get("regions", [])
        assert (user.region.code if user.region else None) == expected.get("region")
        assert user.field_kind == expected.get("field_kind")
        assert (user.account.code if user.account else None) == expected.get("account")
        assert user.password_hash != STRONG and check_password_hash(user.password_hash, STRONG)
        entry = db.session.execute(
            select(AuditEntry).where(AuditEntry.object_type == "users", AuditEntry.action == "created")
        ).scalar_one()
        assert entry.changes["username"] == [None, "new.user"]
        assert entry.changes["role"] == [None, role]
        assert "password_hash" not in entry.changes
        db.session.remove()
    newcomer = app.test_client().login("new.user", STRONG)
    assert newcomer.get("/dashboard").status_code == 200
    if role == "distributor":
        codes = export_codes(newcomer.get("/accounts?format=csv"), "csv")
        assert "GD-SH01" in codes and "DL-SH001" in codes and "GD-BJ01" not in codes


@pytest.mark.parametrize(("role", "binding", "message"), [
    ("supervisor", {}, "A supervisor needs at least one region."),
    ("field_staff", {"field_kind": "rep"}, "Field staff need a region and a kind."),
    ("field_staff", {"region": "BJ"}, "Field staff need a region and a kind."),
    ("distributor", {}, "A distributor user needs a general distributor account."),
    ("distributor", {"account": "DL-BJ001"}, "Not a valid choice."),  # a dealer is not offered
])
def test_admin_cannot_create_a_user_without_its_binding(shared_demo_app, role, binding, message):
    app = shared_demo_app
    admin = app.test_client().login("admin")
    before = db_snapshot(app)
    resp = admin.post_form("/admin/users/new", _new_user_data(app, "new.user", role, **binding), headers=EN)
    assert resp.status_code == 422
    assert message in page_text(resp)
    assert db_snapshot(app) == before


def _user_row(app, **values):
    row = {"username": "raw.user", "full_name": "Raw", "password_hash": "x", "role": "admin",
           "field_kind": None, "region_id": None, "account_id": None, "active": True,
           "session_token": new_session_token(), "created_at": utcnow()}
    for key, value in list(values.items()):
        if key == "account":
            row["account_id"] = object_id(app, "acc", value)
        elif key == "region":
            row["region_id"] = object_id(app, "reg", value)
        else:
            row[key] = value
    row.pop("account", None), row.pop("region", None)
    return row


def _insert_user(app, row):
    """Insert straight into the table, past every form and service; always rolled back."""
    with app.app_context():
        with db.engine.connect() as conn:
            trans = conn.begin()
            try:
                conn.execute(User.__table__.insert().values(**row))
            finally:
                trans.rollback()


@pytest.mark.parametrize("values", [
    {"role": "distributor", "account": "DL-BJ001"},  # a dealer account (trigger)
    {"role": "distributor"},  # no account at all
    {"role": "finance", "account": "GD-BJ01"},  # only distributor users are bound to accounts
    {"role": "field_staff", "field_kind": "rep"},  # no region
    {"role": "field_staff", "region": "BJ"},  # no kind
    {"role": "field_staff", "region": "BJ", "field_kind": "boss"},
    {"role": "root"},
    {"username": "Raw.User"},
], ids=lambda v: "-".join(f"{k}={v}" for k, v in v.items()))
def test_database_refuses_inconsistent_users(shared_demo_app, values):
    app = shared_demo_app
    with pytest.raises(DBAPIError):
        _insert_user(app, _user_row(app, **values))


@pytest.mark.parametrize("values", [
    {"role": "distributor", "account": "GD-BJ01"},
    {"role": "field_staff", "region": "BJ", "field_kind": "merchandiser"},
    {"role": "supervisor"},
])
def test_database_accepts_consistent_users(shared_demo_app, values):
    """The control for the test above: the same insert with a consistent binding works."""
    _insert_user(shared_demo_app, _user_row(shared_demo_app, **values))


def test_database_refuses_rebinding_a_distributor_user_to_a_dealer(shared_demo_app):
    app = shared_demo_app
    dealer_id = object_id(app, "acc", "DL-BJ001")
    with app.app_context():
        with db.engine.connect() as conn:
            trans = conn.begin()
            try:
                with pytest.raises(DBAPIError):
                    conn.execute(update(User.__table__).where(User.__table__.c.username == "dist.bj")
                                 .values(account_id=dealer_id))
            finally:
                trans.rollback()
