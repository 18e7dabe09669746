"""Users and sign-in: creating users, passwords, the shared login throttle, ending sessions."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit.services import diff, record, snapshot
from ..db_types import utcnow
from ..extensions import db
from .models import LoginAttempt, User, new_session_token
from .passwords import password_problem

USER_FIELDS = ("username", "full_name", "email", "phone", "role", "field_kind", "region_id",
               "account_id", "is_active_user", "locale", "second_approver")
# Who may be marked as giving second approvals of expense claims (a manager); admin always may.
SECOND_APPROVER_ROLES = ("supervisor", "finance")


class AuthError(Exception):
    def __init__(self, code, **info):
        super().__init__(code)
        self.code = code
        self.info = info


def load_user_from_session(token):
    if not token:
        return None
    user = db.session.execute(select(User).where(User.session_token == token)).scalar_one_or_none()
    return user if user is not None and user.is_active_user else None


def hash_password(password):
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def find_user(username):
    return db.session.execute(
        select(User).where(User.username == (username or "").strip().lower())
    ).scalar_one_or_none()


def _failures_since(column, value, since):
    return db.session.execute(
        select(func.count()).select_from(LoginAttempt).where(
            column == value, LoginAttempt.at >= since, LoginAttempt.success.is_(False)
        )
    ).scalar_one()


def throttle_wait(username, address):
    """Minutes to wait before another attempt is allowed; 0 when allowed.

    The attempts live in the database, so every worker and every server sees the same count.
    """
    cfg = current_app.config
    window = timedelta(seconds=cfg["LOGIN_WINDOW_SECONDS"])
    now = utcnow()
    since = now - window
    last_ok = db.session.execute(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, LoginAttempt.success.is_(True)
        )
    ).scalar_one()
    if last_ok is not None and last_ok.tzinfo is None:
        last_ok = last_ok.replace(tzinfo=since.tzinfo)
    user_since = max(since, last_ok) if last_ok else since
    locked = _failures_since(LoginAttempt.username, username, user_since) >= cfg["LOGIN_MAX_FAILURES"]
    # One address guessing many usernames is throttled too, more loosely (offices share addresses).
    locked = locked or (
        _failures_since(LoginAttempt.address, address, since) >= 4 * cfg["LOGIN_MAX_FAILURES"]
    )
    if not locked:
        return 0
    return max(1, int(window.total_seconds() // 60))


def authenticate(username, password, address):
    """The user, or AuthError('throttled' | 'invalid'). Records the attempt either way."""
    username = (username or "").strip().lower()[:64]
    address = (address or "unknown")[:64]
    wait = throttle_wait(username, address)
    if wait:
        raise AuthError("throttled", minutes=wait)
    user = find_user(username)
    ok = (
        user is not None
        and user.is_active_user
        and check_password_hash(user.password_hash, password or "")
    )
    db.session.add(LoginAttempt(username=username, address=address, success=ok))
    if not ok:
        raise AuthError("invalid")
    user.last_login_at = utcnow()
    return user


def end_all_sessions(user):
    """Every session of this user, on every device, ends at its next request."""
    user.session_token = new_session_token()


def set_password(user, password, *, by, reason="password_set"):
    problem = password_problem(password, (user.username, user.full_name))
    if problem:
        raise AuthError(problem)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    end_all_sessions(user)
    record(reason, user, by=by, label=user.username)


def change_own_password(user, current, new):
    if not check_password_hash(user.password_hash, current or ""):
        raise AuthError("wrong_current")
    set_password(user, new, by=user, reason="password_changed")


def validate_binding(role, field_kind, region, account, supervised):
    """The role's required binding; returns an error code or None."""
    if role == "field_staff" and (region is None or not field_kind):
        return "field_staff_needs_region"
    if role == "distributor" and (account is None or account.kind != "distributor"):
        return "distributor_needs_account"
    if role == "supervisor" and not supervised:
        return "supervisor_needs_region"
    return None


def create_user(*, username, full_name, role, password, by, field_kind=None, region=None,
                account=None, supervised=(), email=None, phone=None, locale=None, second_approver=False):
    username = username.strip().lower()
    if find_user(username) is not None:
        raise AuthError("username_taken")
    problem = validate_binding(role, field_kind, region, account, supervised)
    if problem:
        raise AuthError(problem)
    problem = password_problem(password, (username, full_name))
    if problem:
        raise AuthError(problem)
    user = User(
        username=username, full_name=full_name, role=role,
        field_kind=field_kind if role == "field_staff" else None,
        region_id=region.id if role == "field_staff" and region else None,
        account_id=account.id if role == "distributor" and account else None,
        email=email or None, phone=phone or None, locale=locale or None,
        password_hash=hash_password(password), password_changed_at=utcnow(),
        second_approver=bool(second_approver) and role in SECOND_APPROVER_ROLES,
    )
    user.supervised_regions = list(supervised) if role == "supervisor" else []
    db.session.add(user)
    db.session.flush()
    record("created", user, by=by, label=username,
           changes={k: [None, v] for k, v in snapshot(user, USER_FIELDS).items() if v is not None})
    return user


def update_user(user, *, by, full_name, role, field_kind, region, account, supervised,
                email=None, phone=None, active=True, second_approver=None):
    """second_approver None keeps the flag (for a role that may hold it)."""
    problem = validate_binding(role, field_kind, region, account, supervised)
    if problem:
        raise AuthError(problem)
    if user.id == getattr(by, "id", None) and (role != user.role or not active):
        raise AuthError("not_yourself")
    before = snapshot(user, USER_FIELDS)
    before["regions"] = sorted(r.code for r in user.supervised_regions)
    user.full_name = full_name
    user.role = role
    user.field_kind = field_kind if role == "field_staff" else None
    user.region_id = region.id if role == "field_staff" and region else None
    user.account_id = account.id if role == "distributor" and account else None
    user.supervised_regions = list(supervised) if role == "supervisor" else []
    if second_approver is not None:
        user.second_approver = bool(second_approver)
    user.second_approver = bool(user.second_approver) and role in SECOND_APPROVER_ROLES
    user.email = email or None
    user.phone = phone or None
    was_active = user.is_active_user
    user.is_active_user = bool(active)
    if was_active and not user.is_active_user:
        end_all_sessions(user)
    after = snapshot(user, USER_FIELDS)
    after["regions"] = sorted(r.code for r in user.supervised_regions)
    changes = diff(before, after)
    if changes:
        record("updated", user, by=by, label=user.username, changes=changes)
    return user
