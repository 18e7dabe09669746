"""Plan versus actual rolled up: per account (with its plan's status and variance note), per rep,
per region (sub-regions rolled into their parents) and in total; the accounts furthest below plan
first; the trend of achievement by period; the monthly roll-up of a month's three periods.

Built on channel.plans.services (actuals, achievement) with a fixed number of grouped queries
whatever the number of accounts: the accounts, the plans with their lines (one select-in load),
the ledger's movements (two grouped queries), the regions and the reps. Nothing here writes.

Which accounts: the caller passes them (the pages the user's scope, the PDF a region's), so the
same figures serve the pages, the PDF and the API. A rep's figures are those of the accounts of
their region tree (as channel.auth.permissions.region_tree_ids walks it) among these accounts:
two reps of one region share its accounts, so reps' rows need not add up to the total.

A plan counts whatever its status (as in services.achievements): a draft is still what was agreed
for the period; the status is shown beside the figures.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..auth.permissions import region_scope, scope_accounts
from ..core import plans as core
from ..core.periods import Month, TenDay
from ..extensions import db
from ..masterdata.models import Account, Region, in_tree_order
from . import services as ps
from .models import Plan

TREND_MONTHS = 6  # the trend page: six months of periods (up to 18)


# --- rows -----------------------------------------------------------------------------------------

@dataclass
class AccountRow:
    account: Account
    plan: Plan | None
    achievement: core.Achievement
    status: str  # draft / submitted / approved / locked / none (no plan)
    needs_note: bool = False  # below the threshold after the period ended (and planned)

    @property
    def variance_note(self) -> str | None:
        return self.plan.variance_note if self.plan is not None else None

    @property
    def note_missing(self) -> bool:
        return self.needs_note and not (self.variance_note or "").strip()

    @property
    def counted(self) -> bool:
        """Has a plan or a movement in the period (what the charts show)."""
        a = self.achievement
        return self.plan is not None or any((a.actual_fen, a.actual_qty, a.actual_paid_fen))


@dataclass
class GroupRow:
    """A rep, a region or the total: the sum over its accounts."""

    key: object  # a User, a Region, or None for the total
    achievement: core.Achievement
    accounts: int = 0  # accounts counted
    planned: int = 0  # of which with a plan
    depth: int = 1  # regions: 1 for a top region


@dataclass
class PeriodFigures:
    period: TenDay
    today: date
    threshold: int
    accounts: list  # [AccountRow], the furthest below plan first
    total: GroupRow
    regions: list = field(default_factory=list)  # [GroupRow], in tree order (parents roll up children)
    reps: list = field(default_factory=list)  # [GroupRow] by name

    @property
    def finished(self) -> bool:
        return self.today > self.period.end

    @property
    def started(self) -> bool:
        return self.today >= self.period.start

    @property
    def notes_missing(self) -> int:
        return sum(1 for r in self.accounts if r.note_missing)


@dataclass
class TrendPoint:
    period: TenDay
    achievement: core.Achievement


@dataclass
class MonthRow:
    month: Month
    periods: list  # [TrendPoint] of the month's periods in range (one to three)
    total: core.Achievement
    target: object = None  # targets(account ids, month): the month's targets, or None

    @property
    def complete(self) -> bool:
        return len(self.periods) == 3

    @property
    def target_shipped_pct(self):
        """Net shipments of the month so far against the shipment target (None: no target)."""
        if self.target is None:
            return None
        return core.percent(self.total.actual_fen, self.target.plan_fen)

    @property
    def target_paid_pct(self):
        """Payments of the month so far against the payment target (None: no target)."""
        if self.target is None:
            return None
        return core.percent(self.total.actual_paid_fen, self.target.plan_paid_fen)


# --- what goes in -----------------------------------------------------------------------------------

def accounts_in(user=None, *, region_ids=None, account_ids=None) -> list[Account]:
    """The accounts of a scope, by code: the user's (None: every account), narrowed to regions
    and accounts if given. Suspended accounts too: they may have had a plan or movements."""
    stmt = select(Account).options(selectinload(Account.region))
    if user is not None:
        stmt = scope_accounts(stmt, user)
    if region_ids is not None:
        stmt = stmt.where(Account.region_id.in_(list(region_ids) or [-1]))
    if account_ids is not None:
        stmt = stmt.where(Account.id.in_(list(account_ids) or [-1]))
    return list(db.session.execute(stmt.order_by(Account.code)).scalars())


def _descendants() -> dict[int, set]:
    """{region id: it and every region below it}: region_tree_ids for every region, from one query."""
    rows = db.session.execute(select(Region.id, Region.parent_id)).all()
    children = defaultdict(list)
    for rid, parent in rows:
        children[parent].append(rid)
    out = {}

    def walk(rid, seen):
        if rid in out:
            return out[rid]
        tree = {rid}
        for child in children.get(rid, ()):
            if child not in seen:
                tree |= walk(child, seen | {child})
        out[rid] = tree
        return tree

    for rid, _parent in rows:
        walk(rid, {rid})
    return out


def tree_of(region: Region) -> set:
    """The region and every region below it (ids)."""
    return _descendants().get(region.id, {region.id})


def _plans(account_ids, periods) -> dict[tuple[int, str], Plan]:
    """services.plans_of with the plans' lines loaded in the same round (achievement reads them)."""
    account_ids, periods = list(account_ids), [str(p) for p in periods]
    if not account_ids or not periods:
        return {}
    rows = db.session.execute(select(Plan).where(Plan.account_id.in_(account_ids), Plan.period.in_(periods))
                              .options(selectinload(Plan.lines)))
    return {(p.account_id, p.period): p for p in rows.scalars()}


def _achievements(account_ids, periods):
    """({(account id, period): Achievement} for every pair with a plan or a movement, the plans)."""
    plans, acts = _plans(account_ids, periods), ps.actuals(account_ids, periods)
    return {key: ps.achievement(plans.get(key), acts.get(key)) for key in set(plans) | set(acts)}, plans


def _status(plan: Plan | None, period: TenDay, today: date) -> str:
    if plan is None:
        return "none"
    return "locked" if core.is_locked(plan.status, period, today) else plan.status


def _group(key, rows, depth=1) -> GroupRow:
    counted = [r for r in rows if r.counted]
    return GroupRow(key, core.total(r.achievement for r in rows), len(counted),
                    sum(1 for r in rows if r.plan is not None), depth)


# --- one period -----------------------------------------------------------------------------------

def period_figures(accounts, period: TenDay, *, today: date | None = None, threshold: int | None = None,
                   regions=None, reps=None) -> PeriodFigures:
    """The period's plan versus actual for these accounts: a row per account (those with neither a
    plan nor a movement included, as "no plan", for active accounts), rolled up per region of
    `regions` (each with its sub-regions) and per rep of `reps`, and in total."""
    today = today or ps.business_today()
    threshold = ps.variance_threshold() if threshold is None else threshold
    achs, plans = _achievements([a.id for a in accounts], [period])
    rows = []
    for acc in accounts:
        key = (acc.id, str(period))
        plan, a = plans.get(key), achs.get(key, core.ZERO)
        row = AccountRow(acc, plan, a, _status(plan, period, today))
        row.needs_note = (plan is not None and today > period.end
                          and core.needs_variance_note(a, threshold))
        if row.counted or acc.status == "active":
            rows.append(row)
    ordered = [r for r, _a in core.furthest_below_first((r, r.achievement) for r in rows)]
    out = PeriodFigures(period, today, threshold, ordered, _group(None, rows))
    if regions or reps:
        trees = _descendants()
        if regions:
            out.regions = region_rows(rows, regions, trees)
        if reps:
            out.reps = rep_rows(rows, reps, trees)
    return out


def region_rows(rows, regions, trees=None) -> list[GroupRow]:
    """A row per region (in tree order, with its depth below the top shown), each the sum of its
    own accounts and its sub-regions'."""
    trees = trees or _descendants()
    regions = in_tree_order(regions)
    shown = {r.id for r in regions}
    out = []
    for region in regions:
        depth, node = 1, region.parent
        while node is not None and node.id in shown:
            depth, node = depth + 1, node.parent
        tree = trees.get(region.id, {region.id})
        out.append(_group(region, [r for r in rows if r.account.region_id in tree], depth))
    return out


def rep_rows(rows, reps, trees=None) -> list[GroupRow]:
    """A row per rep (field staff): the accounts of their region tree."""
    trees = trees or _descendants()
    out = []
    for rep in sorted(reps, key=lambda u: (u.full_name, u.username)):
        tree = trees.get(rep.region_id, set())
        out.append(_group(rep, [r for r in rows if r.account.region_id in tree]))
    return out


def regions_for(user, region: Region | None = None) -> list[Region]:
    """The regions whose roll-ups the user sees: those of their scope (below `region` if given).
    Distributors see no region roll-up (their accounts are their own and their dealers)."""
    if user is not None and user.role == "distributor":
        return []
    scope = region_scope(user) if user is not None else None
    regions = list(db.session.execute(select(Region)).scalars())
    if scope is not None:
        regions = [r for r in regions if r.id in scope]
    if region is not None:
        tree = tree_of(region)
        regions = [r for r in regions if r.id in tree]
    return in_tree_order(regions)


def reps_for(user, region_ids=None) -> list[User]:
    """The active field staff whose region lies in the user's scope (field staff: themselves),
    within `region_ids` if given."""
    if user is not None and user.role == "distributor":
        return []
    if user is not None and user.role == "field_staff":
        reps = [user]
    else:
        reps = list(db.session.execute(select(User).where(User.role == "field_staff",
                                                          User.is_active_user.is_(True))).scalars())
        scope = region_scope(user) if user is not None else None
        if scope is not None:
            reps = [u for u in reps if u.region_id in scope]
    if region_ids is not None:
        reps = [u for u in reps if u.region_id in region_ids]
    return reps


def for_user(user, period: TenDay, *, region: Region | None = None, today: date | None = None) -> PeriodFigures:
    """What the plan-versus-actual page shows `user`: their accounts (within `region`), the
    regions and reps of their scope."""
    tree = tree_of(region) if region is not None else None
    accounts = accounts_in(user, region_ids=tree)
    return period_figures(accounts, period, today=today, regions=regions_for(user, region),
                          reps=reps_for(user, tree))


def for_region(region: Region, period: TenDay, *, today: date | None = None) -> PeriodFigures:
    """A region's figures whoever asks (the scheduled PDF): its accounts, its sub-regions, its reps."""
    tree = tree_of(region)
    return period_figures(accounts_in(region_ids=tree), period, today=today,
                          regions=regions_for(None, region), reps=reps_for(None, tree))


# --- over several periods ---------------------------------------------------------------------------

def trend_periods(end: TenDay, months: int = TREND_MONTHS) -> list[TenDay]:
    """The periods of the last `months` months up to `end` (the first period of the earliest month
    to `end`): 16 to 18 periods for six months."""
    return list(TenDay.range(TenDay(end.month - (months - 1), 1), end))


def trend(accounts, periods) -> list[TrendPoint]:
    """Achievement of these accounts together in each period (in order), from one round of queries."""
    periods = sorted(periods)
    achs = ps.achievements([a.id for a in accounts], periods)  # sums only: no plan objects loaded
    by_period = defaultdict(list)
    for (_account_id, period), a in achs.items():
        by_period[period].append(a)
    return [TrendPoint(p, core.total(by_period.get(str(p), ()))) for p in periods]


def monthly(points, account_ids=None) -> list[MonthRow]:
    """The trend's periods grouped by month: each month's periods and their sum, and the month's
    targets of `account_ids` (the accounts the trend was computed for) where any was set (see
    `targets`)."""
    months = defaultdict(list)
    for point in points:
        months[point.period.month].append(point)
    account_ids = list(account_ids) if account_ids is not None else None
    return [MonthRow(m, months[m], core.total(p.achievement for p in months[m]), targets(account_ids, m))
            for m in sorted(months)]


def targets(account_ids, month: Month):
    """The month's targets of these accounts together, as set at the monthly meetings (目标任务):
    channel.meetings.services.MonthTarget (plan_fen: shipments, plan_paid_fen: payments, the
    number of accounts with a target), or None when none of them has one (or no accounts are
    given): the pages then show "no target set"."""
    if not account_ids:
        return None
    from ..meetings.services import targets as meeting_targets

    return meeting_targets(account_ids, month)
