from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import or_, select

from ..audit.services import record
from ..exports import export_response
from ..extensions import db
from ..i18n import label
from ..masterdata.models import Account, Region
from .forms import ChangePasswordForm, ConfirmForm, LanguageForm, LoginForm, NewUserForm, ResetPasswordForm, UserForm
from .models import ROLES, User
from .permissions import require
from .services import (
    AuthError,
    authenticate,
    change_own_password,
    create_user,
    end_all_sessions,
    set_password,
    update_user,
)

bp = Blueprint("auth", __name__)


def _scope_text(user):
    if user.role == "supervisor":
        return ", ".join(r.path for r in user.supervised_regions)
    if user.region is not None:
        return user.region.path
    return str(user.account) if user.account is not None else ""


USER_COLUMNS = [
    (_l("Username"), lambda u: u.username),
    (_l("Full name"), lambda u: u.full_name),
    (_l("Role"), lambda u: str(label(u.role, "role"))),
    (_l("Field staff kind"), lambda u: str(label(u.field_kind, "field_kind")) if u.field_kind else ""),
    (_l("Scope"), _scope_text),
    (_l("E-mail"), lambda u: u.email),
    (_l("Phone"), lambda u: u.phone),
    (_l("Status"), lambda u: str(label(u.is_active_user, "active"))),
    (_l("Last login"), lambda u: u.last_login_at),
]

MESSAGES = {
    "invalid": _l("Wrong username or password."),
    "throttled": _l("Too many failed attempts. Try again in %(minutes)s minutes."),
    "too_short": _l("The password must have at least 8 characters."),
    "too_long": _l("The password is too long."),
    "common": _l("This password is too easy to guess. Choose a longer or less common one."),
    "wrong_current": _l("The current password is wrong."),
    "username_taken": _l("This username is already taken."),
    "field_staff_needs_region": _l("Field staff need a region and a kind."),
    "distributor_needs_account": _l("A distributor user needs a general distributor account."),
    "supervisor_needs_region": _l("A supervisor needs at least one region."),
    "not_yourself": _l("You cannot change your own role or deactivate yourself."),
}


def message(err: AuthError):
    return MESSAGES[err.code] % err.info if err.info else MESSAGES[err.code]


def safe_next(target):
    """Only a path on this site: never another host, scheme or protocol-relative URL."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data, request.remote_addr)
        except AuthError as err:
            db.session.commit()  # the failed attempt counts, whatever happens next
            form.password.errors.append(message(err))
        else:
            db.session.commit()
            locale = session.get("locale")
            session.clear()  # a fresh session at every login
            if locale and not user.locale:
                session["locale"] = locale
            login_user(user)
            session.permanent = True
            return redirect(safe_next(request.args.get("next")) or url_for("dashboard.index"))
    return render_template("auth/login.html", form=form), (200 if not form.errors else 422)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    end_all_sessions(current_user)  # logging out ends this user's sessions everywhere
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.index"))


@bp.route("/me/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_own_password(current_user, form.current.data, form.new.data)
        except AuthError as err:
            db.session.rollback()
            (form.current if err.code == "wrong_current" else form.new).errors.append(message(err))
        else:
            db.session.commit()
            # Every other session ended with the old token; this one goes on under the new one.
            # The user object, not the current_user proxy: Flask-Login stores what it is given
            # as the request's user, and a proxy to itself recurses forever.
            login_user(current_user._get_current_object())
            flash(_("Your password has been changed. Other sessions have been signed out."), "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/change_password.html", form=form), (200 if not form.errors else 422)


# --- user administration (admin) ---------------------------------------------------------------

def _form_options():
    regions = db.session.execute(select(Region).order_by(Region.code)).scalars().all()
    distributors = db.session.execute(
        select(Account).where(Account.kind == "distributor").order_by(Account.code)
    ).scalars().all()
    return {"regions": regions, "distributors": distributors}


def _bindings(form):
    region = db.session.get(Region, form.region_id.data) if form.region_id.data else None
    account = db.session.get(Account, form.account_id.data) if form.account_id.data else None
    supervised = [db.session.get(Region, rid) for rid in form.supervised.data or []]
    return region, account, [r for r in supervised if r is not None]


@bp.route("/admin/users")
@login_required
def list_users():
    require("manage_users")
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    stmt = select(User).order_by(User.username)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.full_name.ilike(like)))
    if role in ROLES:
        stmt = stmt.where(User.role == role)
    fmt = request.args.get("format")
    if fmt:
        return export_response(fmt, "users", USER_COLUMNS, db.session.execute(stmt).scalars())
    page = db.paginate(stmt, per_page=25, error_out=False)
    return render_template("auth/users.html", page=page, q=q, role=role, roles=ROLES)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
def new_user():
    require("manage_users")
    form = NewUserForm(**_form_options())
    if form.validate_on_submit():
        region, account, supervised = _bindings(form)
        try:
            user = create_user(
                username=form.username.data, full_name=form.full_name.data.strip(),
                role=form.role.data, password=form.password.data, by=current_user,
                field_kind=form.field_kind.data or None, region=region, account=account,
                supervised=supervised, email=form.email.data, phone=form.phone.data,
                second_approver=form.second_approver.data,
            )
        except AuthError as err:
            db.session.rollback()
            target = {"username_taken": form.username, "too_short": form.password,
                      "common": form.password, "too_long": form.password}.get(err.code, form.role)
            target.errors.append(message(err))
        else:
            db.session.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("auth.show_user", user_id=user.id))
    return render_template("auth/user_form.html", form=form, user=None), (200 if not form.errors else 422)


def _load_user(user_id):
    # User administration is one feature: check it before loading, so that nobody else can
    # learn which user ids exist from 403-versus-404.
    require("manage_users")
    return db.get_or_404(User, user_id)


@bp.route("/admin/users/<int:user_id>")
@login_required
def show_user(user_id):
    user = _load_user(user_id)
    require("manage_users")
    return render_template("auth/user.html", user=user, reset_form=ResetPasswordForm(), confirm=ConfirmForm())


@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
def edit_user(user_id):
    user = _load_user(user_id)
    require("manage_users")
    form = UserForm(obj=user, **_form_options())
    if request.method == "GET":
        form.supervised.data = [r.id for r in user.supervised_regions]
        form.active.data = user.is_active_user
    form.username.data = user.username  # the username does not change
    if form.validate_on_submit():
        region, account, supervised = _bindings(form)
        try:
            update_user(
                user, by=current_user, full_name=form.full_name.data.strip(), role=form.role.data,
                field_kind=form.field_kind.data or None, region=region, account=account,
                supervised=supervised, email=form.email.data, phone=form.phone.data,
                active=form.active.data, second_approver=form.second_approver.data,
            )
        except AuthError as err:
            db.session.rollback()
            form.role.errors.append(message(err))
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("auth.show_user", user_id=user.id))
    return render_template("auth/user_form.html", form=form, user=user), (200 if not form.errors else 422)


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@login_required
def reset_password(user_id):
    user = _load_user(user_id)
    require("manage_users")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            set_password(user, form.password.data, by=current_user)
        except AuthError as err:
            db.session.rollback()
            form.password.errors.append(message(err))
        else:
            db.session.commit()
            flash(_("Password reset. The user's sessions have been signed out."), "success")
            return redirect(url_for("auth.show_user", user_id=user.id))
    return render_template("auth/user.html", user=user, reset_form=form, confirm=ConfirmForm()), 422


@bp.route("/admin/users/<int:user_id>/end-sessions", methods=["POST"])
@login_required
def end_sessions(user_id):
    user = _load_user(user_id)
    require("manage_users")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    end_all_sessions(user)
    record("sessions_ended", user, by=current_user, label=user.username)
    db.session.commit()
    if user.id == current_user.id:
        logout_user()
        return redirect(url_for("auth.login"))
    flash(_("All sessions of %(name)s have been signed out.", name=user.username), "success")
    return redirect(url_for("auth.show_user", user_id=user.id))
