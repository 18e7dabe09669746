from datetime import timedelta

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..audit.models import AuditEntry
from ..auth.models import User
from ..auth.permissions import can, region_scope, scope_accounts, scope_regions
from ..db_types import utcnow
from ..extensions import db
from ..masterdata.models import Account, Product, Region, in_tree_order
from ..system.models import SchedulerHeartbeat

bp = Blueprint("dashboard", __name__)


@bp.route("/")
def home():
    return redirect(url_for("dashboard.index") if current_user.is_authenticated else url_for("auth.login"))


def _count(stmt):
    return db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()


def scheduler_status():
    beat = db.session.execute(
        select(SchedulerHeartbeat).order_by(SchedulerHeartbeat.beat_at.desc())
    ).scalars().first()
    limit = timedelta(seconds=3 * current_app.config["SCHEDULER_HEARTBEAT_SECONDS"])
    return {"beat": beat, "fresh": bool(beat and utcnow() - beat.beat_at <= limit)}


def _plans_panel(user):
    """Ten-day plans: missing plans from the reminder day, plans to approve, and for those who
    read the plan reports the latest plan-versus-actual PDF (channel.plans.reports, when it is there)."""
    from ..plans.services import waiting_for

    panel = waiting_for(user)
    if can("view_plan_reports", user=user):
        try:
            from ..plans.reports import latest_for

            panel["latest_report"] = latest_for(user)
        except (ImportError, AttributeError):
            pass
    if "missing" in panel or "to_approve" in panel or panel.get("latest_report"):
        return panel
    return None


def _meetings_panel(user):
    """Monthly meetings: overdue action items (the user's own; a supervisor's or admin's regions'
    too) and, for those who schedule meetings, the regions without one this month."""
    if user.role == "distributor":
        return None
    from ..core.periods import Month
    from ..meetings import services as meetings

    month = Month.of(meetings.business_today())
    overdue = meetings.overdue_items(user)
    missing = meetings.regions_without_meeting(user, month) if user.role in ("supervisor", "admin") else []
    if overdue or missing:
        return {"overdue": overdue, "missing": missing, "month": month}
    return None


def _promotions_panel(user):
    """Promotions: the execution reports waiting for this supervisor's (or admin's) verdict, by
    promotion."""
    if user.role not in ("supervisor", "admin"):
        return None
    from ..promotions.services import pending_reports

    counts = {}
    for report in pending_reports(user):
        promotion = report.enrolment.promotion
        counts.setdefault(promotion.id, [promotion, 0])[1] += 1
    if not counts:
        return None
    return {"pending": [tuple(v) for v in counts.values()]}


@bp.route("/dashboard")
@login_required
def index():
    user = current_user
    accounts = scope_accounts(select(Account), user)
    ctx = {
        "n_distributors": _count(accounts.where(Account.kind == "distributor")),
        "n_dealers": _count(accounts.where(Account.kind == "dealer")),
        "n_suspended": _count(accounts.where(Account.status == "suspended")),
        "n_products": _count(select(Product).where(Product.active.is_(True))),
    }
    if user.role == "distributor":
        ctx["own"] = user.account
        ctx["dealers"] = db.session.execute(
            select(Account).where(Account.supplier_id == user.account_id).order_by(Account.code)
        ).scalars().all()
    else:
        ctx["regions"] = in_tree_order(db.session.execute(scope_regions(select(Region), user)).scalars())
        ctx["distributors"] = db.session.execute(
            accounts.where(Account.kind == "distributor").order_by(Account.code)
        ).scalars().all()
        dealer_counts = dict(db.session.execute(
            select(Account.supplier_id, func.count()).where(Account.kind == "dealer")
            .group_by(Account.supplier_id)
        ).all())
        ctx["dealer_counts"] = dealer_counts
    if user.role == "supervisor":
        scope = region_scope(user)
        ctx["staff"] = db.session.execute(
            select(User).where(User.role == "field_staff", User.region_id.in_(scope or {-1}),
                               User.is_active_user.is_(True)).order_by(User.full_name)
        ).scalars().all()
    if can("view_reconciliations"):
        from ..reconciliation.services import waiting_for

        ctx["reconciliation"] = waiting_for(user)
    if user.role != "distributor":
        from ..expenses.services import waiting_for as expenses_waiting_for

        waiting = expenses_waiting_for(user)
        if waiting:
            ctx["expenses"] = waiting
    plans = _plans_panel(user)
    if plans:
        ctx["plans"] = plans
    meetings = _meetings_panel(user)
    if meetings:
        ctx["meetings"] = meetings
    promotions = _promotions_panel(user)
    if promotions:
        ctx["promotions"] = promotions
    if user.role in ("admin", "finance"):
        from reports.jobs import waiting_runs

        ctx["waiting_jobs"] = waiting_runs()  # e.g. settlements waiting for a month to be closed
    if can("view_system"):
        ctx["users_by_role"] = dict(db.session.execute(
            select(User.role, func.count()).where(User.is_active_user.is_(True)).group_by(User.role)
        ).all())
        ctx["scheduler"] = scheduler_status()
        ctx["recent"] = db.session.execute(
            select(AuditEntry).order_by(AuditEntry.id.desc()).limit(8)
        ).scalars().all()
    return render_template("dashboard/index.html", **ctx)
