"""Notifications: tell users something in the app, and by e-mail where SMTP is configured.

An area registers the kinds it sends when its module is imported (its services.py, which
create_app imports through the area's views, in the web server and the scheduler alike):

    register_kind("statement_issued",
                  _l("Your statement for %(month)s is ready"),
                  _l("Finance has closed %(month)s. Please check and confirm your statement."))

and tells people in the transaction that does the work, which the caller then commits:

    notify(users, "statement_issued", {"month": "2026-10"}, link=f"/reconciliation/{r.id}")

A notification keeps its kind and values, not text, so that it is read in the reader's language
(render). Mail goes through an outbox that the scheduler empties (send_pending, run every 30 s by
channel/notify/jobs.py): after the commit, never inside the request, and each mail at most once.
"""
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import current_app
from flask_babel import LazyString, force_locale, gettext
from sqlalchemy import func, select, update

from ..db_types import utcnow
from ..extensions import db
from .models import Notification

log = logging.getLogger("channel.notify")

N = Notification.__table__

MAX_ATTEMPTS = 3
# A row still 'sending' this long after its claim belongs to a process that died mid-send: it is
# marked failed, not sent again (the server may have taken it). Far above SMTP_TIMEOUT_SECONDS.
SENDING_STALE = timedelta(minutes=10)


# --- kinds ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    kind: str
    subject: str  # msgid with %(name)s placeholders
    body: str


KINDS: dict[str, Kind] = {}


def _msgid(text, what) -> str:
    """The msgid of lazy_gettext("...") (marked for extraction, translated when rendered)."""
    if isinstance(text, LazyString) and len(text._args) == 1 and isinstance(text._args[0], str) \
            and not text._kwargs:
        return text._args[0]
    if isinstance(text, str) and not isinstance(text, LazyString):
        return text  # allowed, but it is not extracted for translation: prefer _l("...")
    raise TypeError(f"{what}: lazy_gettext('...') without values (they come from params)")


def register_kind(kind: str, subject, body) -> Kind:
    """Make a kind of notification known: `subject` and `body` are lazy_gettext msgids whose
    %(name)s placeholders are filled from the notification's params when rendered."""
    if not kind or len(kind) > 40:
        raise ValueError(f"notification kind {kind!r}: 1 to 40 characters")
    registered = Kind(kind, _msgid(subject, "subject"), _msgid(body, "body"))
    existing = KINDS.get(kind)
    if existing is not None and existing != registered:
        raise ValueError(f"notification kind {kind!r} is already registered with other texts")
    KINDS[kind] = registered
    return registered


def _fill(msgid, params) -> str:
    """The msgid in the current language with the params filled in. A translation that does not
    fit the params falls back to the msgid; a kind that is gone shows what there is."""
    for text in (gettext(msgid), msgid):
        try:
            return text % params
        except (KeyError, ValueError, TypeError):
            continue
    return msgid


def recipient_locale(user) -> str:
    config = current_app.config
    if user is not None and user.locale in config["LANGUAGES"]:
        return user.locale
    return config["BABEL_DEFAULT_LOCALE"]


def render(notification: Notification, locale: str | None = None) -> tuple[str, str]:
    """(subject, body) in `locale`, by default the recipient's language (else the app's)."""
    locale = locale or recipient_locale(notification.user)
    params = dict(notification.params or {})
    kind = KINDS.get(notification.kind)
    with force_locale(locale):
        if kind is None:  # its module is not loaded here: show what we have rather than fail
            log.warning("notification kind %r is not registered", notification.kind)
            return notification.kind, ", ".join(f"{k}: {v}" for k, v in sorted(params.items()))
        return _fill(kind.subject, params), _fill(kind.body, params)


# --- telling people -------------------------------------------------------------------------------

def _check_link(link) -> str:
    if not isinstance(link, str) or not link.startswith("/") or link.startswith("//") \
            or "\\" in link or len(link) > 300 or any(ord(c) < 32 for c in link):
        raise ValueError(f"notification link {link!r}: an app path such as '/reconciliation/12'")
    return link


def _check_params(kind: Kind, params) -> dict:
    params = dict(params or {})
    for key, value in params.items():
        if not isinstance(key, str) or type(value) not in (str, int):
            raise ValueError(f"notification param {key!r}={value!r}: plain str or int values only")
    for msgid in (kind.subject, kind.body):
        try:
            msgid % params
        except (KeyError, ValueError, TypeError) as err:
            raise ValueError(f"{kind.kind}: params {sorted(params)} do not fill {msgid!r}: "
                             f"{err!r}") from None
    return params


def mail_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def notify(users, kind: str, params: dict, link: str) -> list[Notification]:
    """One notification per active user (each user once), with an e-mail owed where SMTP is
    configured and the user has an address. Flushes; the caller commits."""
    registered = KINDS.get(kind)
    if registered is None:
        raise ValueError(f"unknown notification kind {kind!r}: register_kind() it first")
    params = _check_params(registered, params)
    link = _check_link(link)
    mail = mail_configured()
    out, seen = [], set()
    for user in users:
        if user is None or user.id in seen or not user.is_active_user:
            continue
        seen.add(user.id)
        n = Notification(user=user, kind=kind, params=dict(params), link=link, created_at=utcnow(),
                         email_state="pending" if mail and (user.email or "").strip() else "none",
                         email_attempts=0)
        db.session.add(n)
        out.append(n)
    db.session.flush()
    return out


def notifications_query(user):
    """The user's own notifications, newest first (for a paginated list)."""
    return select(Notification).where(Notification.user_id == user.id) \
        .order_by(Notification.created_at.desc(), Notification.id.desc())


def unread(user, limit: int = 10) -> list[Notification]:
    return db.session.execute(
        notifications_query(user).where(Notification.read_at.is_(None)).limit(limit)
    ).scalars().all()


def unread_count(user) -> int:
    return db.session.execute(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ).scalar_one()


def mark_read(user, ids=None) -> int:
    """Mark the user's unread notifications read: those of `ids`, or all of them (None). Rows of
    other users are never touched. Returns how many changed. Flushes; the caller commits."""
    stmt = update(Notification).where(Notification.user_id == user.id,
                                      Notification.read_at.is_(None))
    if ids is not None:
        ids = [int(i) for i in ids]
        if not ids:
            return 0
        stmt = stmt.where(Notification.id.in_(ids))
    result = db.session.execute(stmt.values(read_at=utcnow())
                                .execution_options(synchronize_session="fetch"))
    return result.rowcount


# --- the outbox -----------------------------------------------------------------------------------

def _flag(value) -> bool:
    """A setting that may come from the environment as text ("true", "1", "no")."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    ssl: bool
    timeout: float
    sender: str
    base_url: str

    @classmethod
    def from_config(cls, config) -> "SmtpSettings":
        # CHANNEL_* variables arrive JSON-decoded where they parse (a numeric password as an int).
        username, password = config.get("SMTP_USERNAME"), config.get("SMTP_PASSWORD")
        return cls(host=str(config["SMTP_HOST"]), port=int(config.get("SMTP_PORT") or 25),
                   username=str(username) if username not in (None, "") else None,
                   password=str(password) if password is not None else None,
                   starttls=_flag(config.get("SMTP_STARTTLS")), ssl=_flag(config.get("SMTP_SSL")),
                   timeout=float(config.get("SMTP_TIMEOUT_SECONDS") or 20),
                   sender=str(config.get("MAIL_FROM") or "channel@localhost"),
                   base_url=str(config.get("BASE_URL") or "").rstrip("/"))


def _connect(s: SmtpSettings) -> smtplib.SMTP:
    if s.ssl:
        smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
    try:
        if s.starttls and not s.ssl:
            smtp.starttls(context=ssl.create_default_context())
        if s.username:
            smtp.login(s.username, s.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _quit(smtp):
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def build_message(notification: Notification, s: SmtpSettings) -> EmailMessage:
    subject, body = render(notification)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = s.sender
    msg["To"] = notification.user.email.strip()
    msg["Date"] = formatdate(localtime=False)
    domain = parseaddr(s.sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(f"{body}\n\n{s.base_url}{notification.link}\n")
    return msg


def fail_stale_sending(now=None) -> int:
    """Rows left 'sending' by a process that died mid-send: failed, never sent again."""
    now = now or utcnow()
    with db.engine.begin() as conn:
        result = conn.execute(update(N).where(
            N.c.email_state == "sending", N.c.email_started_at < now - SENDING_STALE,
        ).values(email_state="failed",
                 email_error="interrupted while sending; not sent again to avoid a duplicate"))
    if result.rowcount:
        log.warning("%s notification e-mails were left sending: marked failed", result.rowcount)
    return result.rowcount


def _claim(notification_id, now) -> bool:
    """pending → sending by one conditional UPDATE, committed at once: one process wins."""
    with db.engine.begin() as conn:
        result = conn.execute(update(N).where(
            N.c.id == notification_id, N.c.email_state == "pending",
        ).values(email_state="sending", email_started_at=now))
    return result.rowcount == 1


def _finish(notification_id, started_at, **values) -> bool:
    with db.engine.begin() as conn:
        result = conn.execute(update(N).where(
            N.c.id == notification_id, N.c.email_state == "sending",
            N.c.email_started_at == started_at,
        ).values(**values))
    if result.rowcount != 1:
        log.warning("notification %s was no longer ours to finish", notification_id)
    return result.rowcount == 1


def _failed_attempt(n_id, started_at, attempts, err) -> bool:
    """Back to pending with the attempt counted, or failed after the last one. True if failed."""
    attempts += 1
    state = "failed" if attempts >= MAX_ATTEMPTS else "pending"
    _finish(n_id, started_at, email_state=state, email_attempts=attempts,
            email_error=f"{type(err).__name__}: {err}"[:500])
    return state == "failed"


def send_pending(limit: int = 50) -> tuple[int, int]:
    """Send the pending e-mails (at most `limit`); returns (sent, failed for good). Each row is
    claimed before it is sent, so that of several processes only one sends it. Commits its own
    work row by row; leaves the session clean."""
    if not mail_configured():
        return 0, 0
    settings = SmtpSettings.from_config(current_app.config)
    failed = fail_stale_sending()
    db.session.rollback()
    ids = db.session.execute(
        select(Notification.id).where(Notification.email_state == "pending")
        .order_by(Notification.id).limit(limit)
    ).scalars().all()
    db.session.rollback()
    sent, smtp = 0, None
    try:
        for n_id in ids:
            started_at = utcnow()
            if not _claim(n_id, started_at):
                continue  # another process took it
            n = db.session.get(Notification, n_id, populate_existing=True)
            user = n.user
            attempts = n.email_attempts
            if not user.is_active_user or not (user.email or "").strip():
                _finish(n_id, started_at, email_state="failed",
                        email_error="the user is inactive or has no e-mail address")
                failed += 1
                db.session.rollback()
                continue
            try:
                msg = build_message(n, settings)
            except (ValueError, TypeError) as err:  # e.g. an address the headers cannot hold
                failed += _failed_attempt(n_id, started_at, attempts, err)
                db.session.rollback()
                continue
            db.session.rollback()  # no transaction open while talking to the server
            try:
                if smtp is None:
                    smtp = _connect(settings)
                smtp.send_message(msg)
            except (OSError, ValueError) as err:  # SMTPException is an OSError
                log.warning("e-mail of notification %s failed: %s", n_id, err)
                failed += _failed_attempt(n_id, started_at, attempts, err)
                if smtp is not None and not isinstance(err, (smtplib.SMTPRecipientsRefused,
                                                             smtplib.SMTPSenderRefused,
                                                             smtplib.SMTPDataError)):
                    smtp.close()
                    smtp = None
                if smtp is None:
                    break  # the server is not reachable: the rest wait for the next round
                continue
            if _finish(n_id, started_at, email_state="sent", emailed_at=utcnow(), email_error=None):
                sent += 1
    finally:
        if smtp is not None:
            _quit(smtp)
        db.session.rollback()
    return sent, failed
