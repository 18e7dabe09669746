"""Notifications: told on the dashboard in the reader's language, only ever one's own, marked
read; and the e-mail outbox against a real SMTP server on 127.0.0.1: each mail once, in the
recipient's language with an absolute link, retried and then given up when the server is down,
never twice when two processes empty the outbox at once, nothing at all without SMTP_HOST."""
import email
import socket
import threading
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from channel.auth.models import User
from channel.notify import jobs as notify_jobs  # registers the outbox interval
from channel.db_types import utcnow
from channel.extensions import db
from channel.notify import services
from channel.notify.models import Notification
from channel.notify.services import SmtpSettings, mark_read, notify, register_kind, render, send_pending
from reports.jobs import INTERVALS

from ..helpers import EN, ZH, in_threads, location_path, page_text

# A kind made of msgids the catalog already translates, so that the Chinese is checked for real.
KIND = "test_month_closed"
register_kind(KIND, _l("%(month)s closed."), _l("%(n)s settlements of %(month)s rendered."))
PARAMS = {"month": "2026-10", "n": 3}
EN_SUBJECT, EN_BODY = "2026-10 closed.", "3 settlements of 2026-10 rendered."
ZH_SUBJECT, ZH_BODY = "2026-10 已月结。", "已生成 2026-10 的 3 份结算单。"
ROLES = ("admin", "finance", "sup.north", "rep.beijing", "dist.bj")


def user(username):
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def tell(app, usernames, params=PARAMS, link="/dashboard", **changes):
    """notify() the demo users (their attributes changed first), committed; returns the ids."""
    with app.app_context():
        users = [user(u) for u in usernames]
        for u in users:
            for name, value in changes.get(u.username, {}).items():
                setattr(u, name, value)
        ids = [n.id for n in notify(users, KIND, params, link)]
        db.session.commit()
        db.session.remove()
    return ids


def rows(app, ids=None):
    with app.app_context():
        stmt = select(Notification).order_by(Notification.id)
        if ids is not None:
            stmt = stmt.where(Notification.id.in_(ids))
        found = db.session.execute(stmt).scalars().all()
        db.session.expunge_all()
        db.session.remove()
    return found


# --- kinds ----------------------------------------------------------------------------------------

def test_a_kind_renders_in_the_language_asked_else_the_recipients(app):
    [n_id] = tell(app, ["dist.bj"])
    with app.app_context():
        n = db.session.get(Notification, n_id)
        assert render(n, "en") == (EN_SUBJECT, EN_BODY)
        assert render(n, "zh_CN") == (ZH_SUBJECT, ZH_BODY)
        assert render(n) == (ZH_SUBJECT, ZH_BODY)  # no language of their own: the app's default
        n.user.locale = "en"
        assert render(n) == (EN_SUBJECT, EN_BODY)


def test_kinds_and_what_notify_accepts(app):
    with pytest.raises(TypeError):
        register_kind("bad", _l("%(month)s closed.", month="2026-10"), _l("x"))  # values: from params
    with pytest.raises(ValueError):
        register_kind(KIND, _l("Statement"), _l("x"))  # taken, with other texts
    register_kind(KIND, _l("%(month)s closed."), _l("%(n)s settlements of %(month)s rendered."))
    with app.app_context():
        bj = [user("dist.bj")]
        for kind, params, link in [
            ("no_such_kind", PARAMS, "/dashboard"),
            (KIND, {"month": "2026-10"}, "/dashboard"),  # %(n)s missing
            (KIND, {"month": "2026-10", "n": 3.5}, "/dashboard"),  # plain str and int only
            (KIND, {"month": "2026-10", "n": True}, "/dashboard"),
            (KIND, PARAMS, "https://elsewhere.example/x"),  # an app path only
            (KIND, PARAMS, "//elsewhere.example/x"),
            (KIND, PARAMS, "/" + "x" * 300),
        ]:
            with pytest.raises(ValueError):
                notify(bj, kind, params, link)
        assert db.session.execute(select(Notification)).first() is None


def test_notify_skips_inactive_users_and_tells_each_user_once(app):
    ids = tell(app, ["dist.bj", "dist.bj", "dist.tj"], **{"dist.tj": {"is_active_user": False}})
    found = rows(app, ids)
    with app.app_context():
        assert [n.user_id for n in found] == [user("dist.bj").id]
    assert found[0].email_state == "none" and found[0].read_at is None


# --- the dashboard and the list -------------------------------------------------------------------

def test_the_dashboard_panel_shows_the_notification_in_chinese_and_english(app, login):
    [n_id] = tell(app, ["dist.bj"], link="/accounts")
    client = login("dist.bj")
    zh = page_text(client.get("/dashboard", headers=ZH))
    assert ZH_SUBJECT in zh and ZH_BODY in zh and EN_SUBJECT not in zh
    assert f'data-notification="{n_id}"' in zh and 'href="/notifications"' in zh
    en = page_text(client.get("/dashboard", headers=EN))
    assert EN_SUBJECT in en and EN_BODY in en and ZH_SUBJECT not in en
    assert "Mark all read" in en and "1 unread" in en
    listing = page_text(client.get("/notifications", headers=ZH))
    assert ZH_SUBJECT in listing and 'class="unread"' in listing


@pytest.mark.parametrize("who", ROLES)
def test_every_role_has_the_panel(app, login, who):
    tell(app, [who])
    body = page_text(login(who).get("/dashboard", headers=EN))
    assert EN_SUBJECT in body and "All notifications" in body


def test_no_unread_no_noise(app, login):
    body = page_text(login("finance").get("/dashboard", headers=EN))
    assert "No new notifications." in body and "Mark all read" not in body
    listing = login("finance").get("/notifications", headers=EN)
    assert listing.status_code == 200 and "No notifications yet." in page_text(listing)


def test_a_user_never_sees_nor_marks_anothers(app, login):
    [bj_id] = tell(app, ["dist.bj"], params={"month": "2026-09", "n": 7})
    [tj_id] = tell(app, ["dist.tj"])
    tj = login("dist.tj")
    for url in ("/dashboard", "/notifications"):
        body = page_text(tj.get(url, headers=EN))
        assert EN_SUBJECT in body and "2026-09" not in body and f'data-notification="{bj_id}"' not in body
    resp = tj.post_form("/notifications/read", {"id": bj_id, "open": "y"}, headers=EN)
    assert resp.status_code == 404
    assert tj.post_form("/notifications/read", {"all": "y"}).status_code == 302
    with app.app_context():
        assert mark_read(user("dist.tj"), [bj_id]) == 0
        db.session.commit()
    bj_row, tj_row = rows(app, [bj_id, tj_id])
    assert bj_row.read_at is None and tj_row.read_at is not None
    assert "2026-09" in page_text(login("dist.bj").get("/dashboard", headers=EN))


def test_mark_one_read_open_one_and_mark_all(app, login):
    first, second, third = (tell(app, ["rep.beijing"], link=f"/accounts?n={i}")[0] for i in range(3))
    client = login("rep.beijing")
    resp = client.post_form("/notifications/read", {"id": first, "next": "/dashboard"})
    assert resp.status_code == 302 and location_path(resp) == "/dashboard"
    resp = client.post_form("/notifications/read", {"id": second, "open": "y", "next": "/dashboard"})
    assert resp.status_code == 302 and location_path(resp) == "/accounts?n=1"
    assert [n.read_at is not None for n in rows(app)] == [True, True, False]
    listing = page_text(client.get("/notifications", headers=EN))
    assert listing.count('class="read"') == 2 and listing.count('class="unread"') == 1
    assert "1 unread" in listing
    # Back never leaves the site.
    resp = client.post_form("/notifications/read", {"all": "y", "next": "https://evil.example/"})
    assert location_path(resp) == "/notifications"
    assert all(n.read_at is not None for n in rows(app))
    with app.app_context():
        assert services.unread_count(user("rep.beijing")) == 0
        assert services.unread(user("rep.beijing")) == []
    # Neither one nor all: refused.
    for data in ({}, {"id": first, "all": "y"}, {"id": "x"}):
        assert client.post_form("/notifications/read", data).status_code == 400


def test_unread_and_count_are_the_users_own(app):
    tell(app, ["dist.bj"])
    tell(app, ["dist.bj", "dist.tj"], params={"month": "2026-11", "n": 1})
    with app.app_context():
        bj, tj = user("dist.bj"), user("dist.tj")
        assert services.unread_count(bj) == 2 and services.unread_count(tj) == 1
        newest = services.unread(bj, limit=1)
        assert [n.params["month"] for n in newest] == ["2026-11"]
        assert mark_read(bj) == 2
        db.session.commit()
        assert services.unread_count(bj) == 0 and services.unread_count(tj) == 1


# --- the outbox -----------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd's handler: keeps every message it is given."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                                  email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def mail_app(app, smtp_server):
    controller, _inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, MAIL_FROM="Channel <channel@example.com>",
                      BASE_URL="https://channel.example.com/")
    return app


def addresses(app, mapping):
    """{username: (email, locale)} for demo users."""
    with app.app_context():
        for username, (address, locale) in mapping.items():
            u = user(username)
            u.email, u.locale = address, locale
        db.session.commit()
        db.session.remove()


def test_each_mail_arrives_once_in_the_recipients_language_with_an_absolute_link(mail_app, smtp_server):
    app, (_controller, inbox) = mail_app, smtp_server
    addresses(app, {"dist.bj": ("bj@example.com", "zh_CN"), "finance": ("fin@example.com", "en")})
    ids = tell(app, ["dist.bj", "finance", "dist.tj"], link="/reconciliation/12")  # dist.tj: no address
    assert [n.email_state for n in rows(app, ids)] == ["pending", "pending", "none"]
    with app.app_context():
        assert send_pending() == (2, 0)
        assert send_pending() == (0, 0)  # nothing twice
    by_rcpt = {rcpt[0]: (sender, msg) for sender, rcpt, msg in inbox.messages}
    assert len(inbox.messages) == 2 and set(by_rcpt) == {"bj@example.com", "fin@example.com"}
    sender, zh = by_rcpt["bj@example.com"]
    assert sender == "channel@example.com" and zh["From"] == "Channel <channel@example.com>"
    assert zh["Subject"] == ZH_SUBJECT and zh["To"] == "bj@example.com"
    zh_body = zh.get_content()
    assert ZH_BODY in zh_body and zh_body.rstrip().endswith("https://channel.example.com/reconciliation/12")
    _sender, en = by_rcpt["fin@example.com"]
    assert en["Subject"] == EN_SUBJECT and EN_BODY in en.get_content()
    sent = rows(app, ids)
    assert [n.email_state for n in sent] == ["sent", "sent", "none"]
    assert all(n.emailed_at and n.email_attempts == 0 and n.email_error is None for n in sent[:2])


def test_a_server_that_is_down_costs_attempts_then_the_mail_fails(app, smtp_server):
    _controller, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT_SECONDS=5)  # nobody listens
    addresses(app, {"dist.bj": ("bj@example.com", None), "dist.tj": ("tj@example.com", None)})
    first, second = tell(app, ["dist.bj", "dist.tj"])
    with app.app_context():
        results = [send_pending() for _ in range(3)]
    # One attempt per round, on the first row: the rest wait for a server that answers.
    assert results == [(0, 0), (0, 0), (0, 1)]
    a, b = rows(app, [first, second])
    assert (a.email_state, a.email_attempts) == ("failed", 3) and "Connection" in a.email_error
    assert (b.email_state, b.email_attempts) == ("pending", 0)
    # The server comes back: the waiting one goes, the failed one is never sent.
    app.config["SMTP_PORT"] = _controller.port
    with app.app_context():
        assert send_pending() == (1, 0)
    assert [rcpt for _s, rcpt, _m in inbox.messages] == [["tj@example.com"]]


def test_a_failed_attempt_is_retried(mail_app, smtp_server, monkeypatch):
    app, (_controller, inbox) = mail_app, smtp_server
    addresses(app, {"dist.bj": ("bj@example.com", None)})
    [n_id] = tell(app, ["dist.bj"])
    real = services._connect
    calls = []

    def flaky(settings):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionRefusedError("down for a moment")
        return real(settings)

    monkeypatch.setattr(services, "_connect", flaky)
    with app.app_context():
        assert send_pending() == (0, 0)
        [n] = rows(app, [n_id])
        assert (n.email_state, n.email_attempts) == ("pending", 1)
        assert send_pending() == (1, 0)
    [n] = rows(app, [n_id])
    assert (n.email_state, n.email_attempts) == ("sent", 1) and len(inbox.messages) == 1


def test_two_outboxes_at_once_send_each_mail_once(mail_app, smtp_server):
    app, (_controller, inbox) = mail_app, smtp_server
    people = ["dist.bj", "dist.tj", "dist.sh", "dist.gz", "finance", "sup.north"]
    addresses(app, {u: (f"{u}@example.com", "en") for u in people})
    ids = tell(app, people) + tell(app, people, params={"month": "2026-11", "n": 2})
    results = in_threads(app, 2, lambda i: send_pending())
    assert sum(sent for sent, _failed in results) == len(ids) == 12
    assert sorted(rcpt[0] for _s, rcpt, _m in inbox.messages) == sorted(f"{u}@example.com" for u in people * 2)
    assert {n.email_state for n in rows(app, ids)} == {"sent"}


def test_a_mail_left_sending_is_failed_never_sent_again(mail_app, smtp_server):
    app, (_controller, inbox) = mail_app, smtp_server
    addresses(app, {"dist.bj": ("bj@example.com", None), "dist.tj": ("tj@example.com", None)})
    stuck, busy = tell(app, ["dist.bj", "dist.tj"])
    with app.app_context():
        now = utcnow()
        for n_id, started in ((stuck, now - timedelta(minutes=11)), (busy, now - timedelta(minutes=1))):
            db.session.execute(update(Notification).where(Notification.id == n_id)
                               .values(email_state="sending", email_started_at=started))
        db.session.commit()
        assert send_pending() == (0, 1)
    a, b = rows(app, [stuck, busy])
    assert a.email_state == "failed" and "not sent again" in a.email_error
    assert b.email_state == "sending"  # another process is at it
    assert inbox.messages == []


def test_without_smtp_host_nothing_is_owed_and_nothing_sent(app, smtp_server):
    _controller, inbox = smtp_server
    assert app.config["SMTP_HOST"] is None
    addresses(app, {"dist.bj": ("bj@example.com", "zh_CN")})
    ids = tell(app, ["dist.bj"])
    with app.app_context():
        assert send_pending() == (0, 0)
        INTERVALS["mail_outbox"].fn()
    assert [n.email_state for n in rows(app, ids)] == ["none"]
    assert inbox.messages == []


def test_the_scheduler_empties_the_outbox_every_30_seconds(mail_app, smtp_server):
    app, (_controller, inbox) = mail_app, smtp_server
    assert "channel.notify.jobs" in app.config["SCHEDULER_JOB_MODULES"]
    assert INTERVALS["mail_outbox"].seconds == 30 and INTERVALS["mail_outbox"].fn is notify_jobs.mail_outbox
    addresses(app, {"dist.bj": ("bj@example.com", None)})
    tell(app, ["dist.bj"])
    with app.app_context():
        INTERVALS["mail_outbox"].fn()
    assert len(inbox.messages) == 1


def test_smtp_settings_from_environment_values():
    """CHANNEL_* variables arrive JSON-decoded where they parse: a numeric password as an int,
    "true" as True; text flags are understood too."""
    s = SmtpSettings.from_config({"SMTP_HOST": "mail.example.com", "SMTP_PORT": "587",
                                  "SMTP_USERNAME": "channel", "SMTP_PASSWORD": 123456,
                                  "SMTP_STARTTLS": "yes", "SMTP_SSL": False,
                                  "SMTP_TIMEOUT_SECONDS": 20, "MAIL_FROM": "c@example.com",
                                  "BASE_URL": "https://channel.example.com/"})
    assert (s.port, s.password, s.starttls, s.ssl, s.base_url) == \
        (587, "123456", True, False, "https://channel.example.com")
    assert SmtpSettings.from_config({"SMTP_HOST": "h", "SMTP_STARTTLS": "false"}).starttls is False
