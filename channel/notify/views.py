"""The user's notifications: the list, marking read (one or all), the dashboard panel's data."""
from typing import NamedTuple

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..auth.views import safe_next
from ..extensions import db
from ..i18n import current_language
from . import services
from .forms import ReadForm
from .models import Notification

bp = Blueprint("notify", __name__)

PANEL_SIZE = 5


class Panel(NamedTuple):
    unread: list  # [(notification, subject, body)], newest first
    count: int  # all unread, beyond those shown


@bp.before_request
@login_required
def _login_first():
    pass


def _rendered(notifications):
    """[(notification, subject, body)] in the reader's current language."""
    locale = current_language()
    return [(n, *services.render(n, locale)) for n in notifications]


@bp.app_template_global()
def notification_panel(limit=PANEL_SIZE):
    """The current user's newest unread notifications and how many there are (dashboard panel)."""
    if not getattr(current_user, "is_authenticated", False):
        return Panel([], 0)
    return Panel(_rendered(services.unread(current_user, limit)),
                 services.unread_count(current_user))


@bp.route("/notifications")
def list_notifications():
    page = db.paginate(services.notifications_query(current_user),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("notify/list.html", page=page, items=_rendered(page.items),
                           unread_count=services.unread_count(current_user))


@bp.route("/notifications/read", methods=["POST"])
def read_notifications():
    form = ReadForm()
    if not form.validate_on_submit():
        abort(400)
    back = safe_next(form.next.data) or url_for(".list_notifications")
    if form.all.data:
        services.mark_read(current_user)
        db.session.commit()
        return redirect(back)
    notification = db.session.get(Notification, form.id.data)
    if notification is None or notification.user_id != current_user.id:
        abort(404)  # another user's notification: as if it did not exist
    services.mark_read(current_user, [notification.id])
    link = notification.link
    db.session.commit()
    if form.open.data:
        return redirect(safe_next(link) or back)
    return redirect(back)
