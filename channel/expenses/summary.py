"""The monthly expense summary: per budget region, per region and category, per person; the
budget, what was approved (paid included), paid, still pending, left, and the use of the budget.

Three grouped queries (claims by region, lines by region and category, claims by person), not a
query per claim. Drafts (never submitted, or returned to their owner) are not counted: they are
not claims yet. Approved counts the approved amounts of approved and paid claims; paid, what
finance paid; pending, the claimed amounts of the claims waiting for a first or second approval
(as the approval screen counts them).
"""
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, select

from ..auth.models import User
from ..auth.permissions import region_scope, scope_claims
from ..core.expenses import CATEGORIES
from ..core.periods import Month
from ..extensions import db
from ..masterdata.models import Region
from .models import ExpenseClaim, ExpenseLine
from .services import APPROVED, WAITING, budget_regions, budgets_of

COUNTED = APPROVED + WAITING


@dataclass
class Figures:
    budget_fen: int | None = None  # None: no budget set
    approved_fen: int = 0
    paid_fen: int = 0
    pending_fen: int = 0

    @property
    def left_fen(self) -> int | None:
        return None if self.budget_fen is None else self.budget_fen - self.approved_fen

    @property
    def use_percent(self) -> Decimal | None:
        """Approved as a percentage of the budget, one decimal (None without a budget above 0)."""
        if not self.budget_fen:
            return None
        return (Decimal(self.approved_fen * 100) / Decimal(self.budget_fen)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def over(self) -> bool:
        return self.left_fen is not None and self.left_fen < 0

    @property
    def empty(self) -> bool:
        return self.budget_fen is None and not (self.approved_fen or self.paid_fen or self.pending_fen)

    def add(self, other: "Figures"):
        if other.budget_fen is not None:
            self.budget_fen = (self.budget_fen or 0) + other.budget_fen
        self.approved_fen += other.approved_fen
        self.paid_fen += other.paid_fen
        self.pending_fen += other.pending_fen


@dataclass
class RegionRow:
    region: Region
    figures: Figures
    categories: list  # [(category, Figures)] with a budget or an amount


@dataclass
class PersonRow:
    user: User
    region: Region
    claims: int
    claimed_fen: int
    approved_fen: int
    paid_fen: int


@dataclass
class Summary:
    month: Month
    regions: list  # [RegionRow]
    total: Figures
    people: list  # [PersonRow]


def summary_regions(user) -> list[Region]:
    """The budget regions (top regions) the user sees in the summary: all for admin and
    finance, the tops of a supervisor's regions."""
    scope = region_scope(user)
    regions = budget_regions()
    if scope is None:
        return regions
    tops = set()
    by_id = {r.id: r for r in db.session.execute(select(Region)).scalars()}
    for rid in scope:
        region = by_id.get(rid)
        while region is not None and region.parent_id is not None:
            region = by_id.get(region.parent_id)
        if region is not None:
            tops.add(region.id)
    return [r for r in regions if r.id in tops]


def _claims(user, month: Month, region_ids):
    return scope_claims(select(ExpenseClaim), user).where(
        ExpenseClaim.month == str(month), ExpenseClaim.status.in_(COUNTED),
        ExpenseClaim.budget_region_id.in_(region_ids or [-1]))


def region_figures(month: Month, region_ids, user) -> dict[int, Figures]:
    """{budget region id: Figures of the month in total}, the claims the user may see."""
    claims = _claims(user, month, region_ids).subquery()
    budgets = budgets_of(month)
    out = {rid: Figures(budget_fen=budgets.get((rid, "total"))) for rid in region_ids}
    rows = db.session.execute(
        select(claims.c.budget_region_id,
               func.sum(case((claims.c.status.in_(APPROVED), claims.c.approved_fen), else_=0)),
               func.sum(case((claims.c.status == "paid", claims.c.paid_fen), else_=0)),
               func.sum(case((claims.c.status.in_(WAITING), claims.c.claimed_fen), else_=0)))
        .group_by(claims.c.budget_region_id)).all()
    for rid, approved, paid, pending in rows:
        fig = out[rid]
        fig.approved_fen, fig.paid_fen, fig.pending_fen = int(approved or 0), int(paid or 0), int(pending or 0)
    return out


def category_figures(month: Month, region_ids, user) -> dict[tuple[int, str], Figures]:
    """{(budget region id, category): Figures} from the lines (cuts applied once approved)."""
    claims = _claims(user, month, region_ids).subquery()
    budgets = budgets_of(month)
    out = {(rid, c): Figures(budget_fen=fen) for (rid, c), fen in budgets.items()
           if rid in region_ids and c != "total"}
    line_approved = func.coalesce(ExpenseLine.approved_fen, ExpenseLine.amount_fen)
    rows = db.session.execute(
        select(claims.c.budget_region_id, ExpenseLine.category,
               func.sum(case((claims.c.status.in_(APPROVED), line_approved), else_=0)),
               func.sum(case((claims.c.status == "paid", line_approved), else_=0)),
               func.sum(case((claims.c.status.in_(WAITING), ExpenseLine.amount_fen), else_=0)))
        .join(claims, ExpenseLine.claim_id == claims.c.id)
        .group_by(claims.c.budget_region_id, ExpenseLine.category)).all()
    for rid, category, approved, paid, pending in rows:
        fig = out.setdefault((rid, category), Figures())
        fig.approved_fen, fig.paid_fen, fig.pending_fen = int(approved or 0), int(paid or 0), int(pending or 0)
    return out


def people(month: Month, region_ids, user) -> list[PersonRow]:
    """One row per claimant and budget region: claims, claimed, approved, paid."""
    claims = _claims(user, month, region_ids).subquery()
    rows = db.session.execute(
        select(claims.c.claimant_id, claims.c.budget_region_id, func.count(),
               func.sum(claims.c.claimed_fen),
               func.sum(case((claims.c.status.in_(APPROVED), claims.c.approved_fen), else_=0)),
               func.sum(case((claims.c.status == "paid", claims.c.paid_fen), else_=0)))
        .group_by(claims.c.claimant_id, claims.c.budget_region_id)).all()
    users = {u.id: u for u in db.session.execute(
        select(User).where(User.id.in_({r[0] for r in rows} or {-1}))).scalars()}
    regions = {r.id: r for r in db.session.execute(
        select(Region).where(Region.id.in_({r[1] for r in rows} or {-1}))).scalars()}
    out = [PersonRow(users[uid], regions[rid], int(n), int(claimed or 0), int(approved or 0), int(paid or 0))
           for uid, rid, n, claimed, approved, paid in rows]
    out.sort(key=lambda p: (p.region.code, -p.claimed_fen, p.user.username))
    return out


def monthly_summary(month: Month, user, region: Region | None = None) -> Summary:
    regions = summary_regions(user)
    if region is not None:
        regions = [r for r in regions if r.id == region.id]
    ids = [r.id for r in regions]
    totals = region_figures(month, ids, user)
    by_category = defaultdict(list)
    for (rid, category), fig in category_figures(month, ids, user).items():
        by_category[rid].append((category, fig))
    order = {c: i for i, c in enumerate(CATEGORIES)}
    rows, total = [], Figures()
    for r in regions:
        cats = sorted(((c, f) for c, f in by_category[r.id] if not f.empty), key=lambda cf: order.get(cf[0], 99))
        rows.append(RegionRow(r, totals[r.id], cats))
        total.add(totals[r.id])
    return Summary(month, rows, total, people(month, ids, user))
