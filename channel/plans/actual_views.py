"""Plan versus actual pages: a period's figures (the total, per region and rep, the accounts
furthest below plan first, with the bars chart) and the trend of achievement by period with the
monthly roll-up.

Read-only. Scope: the accounts the user may see (a rep their region's, a distributor its own and
its dealers', a supervisor their regions', finance and admin all); a region or account outside it
is answered 404, a malformed period 400.
"""
from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.routing import BuildError

from ..auth.permissions import can, scope_regions
from ..core.periods import TenDay
from ..extensions import db
from ..i18n import label
from ..masterdata.models import Account, Region
from . import charts, rollup
from . import services as ps
from .blueprint import bp

PERIODS_OFFERED = 18  # the period menu: the last six months and the coming period
# The plan page, where a variance note is written (channel/plans/views.py).
PLAN_ENDPOINT = "plans.show_plan"


def _period_arg(default: TenDay) -> TenDay:
    text = request.args.get("period", "").strip()
    if not text:
        return default
    try:
        period = TenDay.parse(text)
        # The pages step to the neighbours and look six months back: those must exist too.
        period.next(), rollup.trend_periods(period)
    except ValueError:
        abort(400)
    return period


def _id_arg(name):
    text = request.args.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        abort(404)
    return int(text)


def _region_arg() -> Region | None:
    """A region of the user's scope, or 404 (unknown, or not theirs)."""
    region_id = _id_arg("region")
    if region_id is None:
        return None
    region = db.session.execute(scope_regions(select(Region), current_user).where(Region.id == region_id)
                                ).scalar_one_or_none()
    if region is None:
        abort(404)
    return region


def _account_arg() -> Account | None:
    account_id = _id_arg("account")
    if account_id is None:
        return None
    account = db.session.get(Account, account_id)
    if account is None or not can("view_account", account):
        abort(404)
    return account


def _regions_offered():
    return rollup.regions_for(current_user)


def _periods_offered(today, chosen: TenDay) -> list[TenDay]:
    last = TenDay.of(today).next()
    periods = [last]
    while len(periods) < PERIODS_OFFERED + 1:
        periods.append(periods[-1].prev())
    if chosen not in periods:
        periods.append(chosen)
    return sorted(periods, reverse=True)


def plan_url(account: Account, period: TenDay, anchor: str | None = None) -> str | None:
    """The account's plan page for the period (None while the plan pages are not there)."""
    try:
        return url_for(PLAN_ENDPOINT, account_code=account.code, period=str(period), _anchor=anchor)
    except BuildError:
        return None


def period_name(period: TenDay) -> str:
    """"2026-03 second ten days" (中旬)."""
    return f"{period.month} {label(period.index, 'tenday')}"


def bars_chart(figures: rollup.PeriodFigures) -> charts.BarChart:
    """The period's accounts (with a plan or a movement) as plan-against-actual bars, furthest below first."""
    return charts.bars([(r.account.code, f"{r.account.code} {r.account.name}", r.achievement.plan_fen,
                         r.achievement.actual_fen) for r in figures.accounts if r.counted],
                       threshold=figures.threshold)


def trend_chart(points, threshold) -> charts.TrendChart:
    return charts.trend([(str(p.period.index), period_name(p.period), str(p.period.month),
                          p.achievement.shipped_pct, p.achievement.paid_pct) for p in points],
                        threshold=threshold)


@bp.route("/actual")
@login_required
def actual():
    today = ps.business_today()
    # The last finished period by default: what happened against the plan (the one under way
    # is a step forward).
    period = _period_arg(TenDay.of(today).prev())
    region = _region_arg()
    figures = rollup.for_user(current_user, period, region=region, today=today)
    if current_user.role in ("admin", "finance") and region is None:
        total_name = _("Company")
    elif current_user.role == "distributor":
        total_name = _("Your accounts")
    else:
        total_name = region.name if region is not None else _("All your accounts")
    return render_template("plans/actual.html", figures=figures, period=period, region=region,
                           regions=_regions_offered(), periods=_periods_offered(today, period),
                           chart=bars_chart(figures), total_name=total_name, period_name=period_name,
                           plan_url=plan_url)


@bp.route("/actual/trend")
@login_required
def trend():
    today = ps.business_today()
    end = _period_arg(TenDay.of(today))
    region = _region_arg()
    account = _account_arg()
    tree = rollup.tree_of(region) if region is not None else None
    accounts = rollup.accounts_in(current_user, region_ids=tree,
                                  account_ids=[account.id] if account is not None else None)
    if account is not None and not accounts:
        abort(404)  # the account is not in that region
    periods = rollup.trend_periods(end)
    points = rollup.trend(accounts, periods)
    months = rollup.monthly(points, [a.id for a in accounts])  # with the month's meeting targets
    threshold = ps.variance_threshold()
    if account is not None:
        title = f"{account.code} {account.name}"
    elif region is not None:
        title = region.path
    elif current_user.role in ("admin", "finance"):
        title = _("Company")
    else:
        title = _("All your accounts")
    return render_template("plans/actual_trend.html", points=points, months=months, end=end, region=region,
                           account=account, regions=_regions_offered(), title=title,
                           periods=_periods_offered(today, end), chart=trend_chart(points, threshold),
                           threshold=threshold, period_name=period_name, today=today)
