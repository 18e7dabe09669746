"""Promotions: writing them (every step checked by channel.core.promotions), enrolment, execution
reports and their verdicts, the figures of a rollout (progress, cost against budget, uplift) and
the settlement that posts each participant's rebate to the ledger.

Figures come from the ledger: an enrolled account's net shipments of the promotion's products in
the period (shipments less returns; a reversal undoes what it reverses), read in one grouped
query for all participants. A dealer supplied by a general distributor is paid through it: the
rebate is posted to the distributor's ledger for that dealer (`for_account`), which the
distributor then passes on (the reconciliation issue's pass-through check).

Settlement (finance, once the promotion has ended): each region's participants are paid their
reward within the region's budget (pro rata where it runs short), one SettlementLine each, and
all the rebate documents are posted in one ledger batch in the same transaction as the
settlement rows. Each rebate carries the external reference PROMO:<code>:<account code>, and the
settlement is unique per promotion and region: settling again posts nothing new.

Writing services lock the promotion (or report) row and check the version the user saw; they
flush, the caller commits.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from ..audit.services import record
from ..auth.permissions import can, region_scope, region_tree_ids, regions_touching
from ..core import plans as plan_core
from ..core import promotions as core
from ..db_types import utcnow
from ..extensions import db
from ..files.services import store
from ..ledger import services as ledger
from ..ledger.models import Document, DocumentLine
from ..masterdata.models import Account, Product, Region, in_tree_order
from ..notify.services import notify, register_kind
from ..plans.services import business_today
from .models import (
    Enrolment,
    ExecutionPhoto,
    ExecutionReport,
    Promotion,
    PromotionProduct,
    PromotionRegion,
    PromotionSettlement,
    SettlementLine,
)

PromotionError = core.PromotionError
MAX_TEXT = 4000
MAX_PHOTOS = 6
MAX_FEN = 10**12

register_kind("execution_rejected", _l("Execution report of %(account)s rejected"),
              _l("%(by)s rejected your execution report for %(promotion)s at %(account)s: %(reason)s."))
register_kind("execution_submitted", _l("Execution report of %(account)s to verify"),
              _l("%(by)s reported execution of %(promotion)s at %(account)s: %(outlets)s outlets."))

__all__ = ["PromotionError", "business_today"]


def shown_status(promotion: Promotion, today: date | None = None) -> str:
    return core.status_on(promotion.status, promotion.starts_on, promotion.ends_on, today or business_today())


def rules_of(promotion: Promotion) -> core.Rules:
    return core.Rules(promotion.kind, promotion.rate, promotion.min_quantity, promotion.cap_fen)


def external_ref(promotion: Promotion, account: Account) -> str:
    return f"PROMO:{promotion.code}:{account.code}"


# --- who sees what ----------------------------------------------------------------------------------

def promotions_query(user):
    """Admin and finance every promotion; supervisors and field staff the published ones running in
    their regions (their region tree meets one of the promotion's regions); a distributor the
    published ones its account or a dealer of it is enrolled in."""
    stmt = select(Promotion)
    if user.role in ("admin", "finance"):
        return stmt
    if user.role == "distributor":
        enrolled = (select(Enrolment.promotion_id).join(Account, Account.id == Enrolment.account_id)
                    .where((Account.id == user.account_id) | (Account.supplier_id == user.account_id)))
        return stmt.where(Promotion.status != "draft", Promotion.id.in_(enrolled))
    regions = regions_touching(user)
    in_regions = select(PromotionRegion.promotion_id).where(PromotionRegion.region_id.in_(regions or [-1]))
    return stmt.where(Promotion.status != "draft", Promotion.id.in_(in_regions))


def visible_enrolments(user, promotion: Promotion, sees=None) -> list[Enrolment]:
    """The promotion's enrolments whose account the user sees, by region and code. `sees`:
    account_filter(user), when the caller has it already (a list of promotions)."""
    sees = sees or account_filter(user)
    rows = [e for e in promotion.enrolments if sees(e.account)]
    return sorted(rows, key=lambda e: (e.region.name, e.account.code))


def account_filter(user):
    """account -> whether the user sees it; the user's scope is read once (not once per row)."""
    if user.role == "distributor":
        return lambda account: user.account_id in (account.id, account.supplier_id)
    scope = region_scope(user)
    return lambda account: scope is None or account.region_id in scope


def _sees_account(user, account: Account) -> bool:
    return account_filter(user)(account)


def visible_regions(user, promotion: Promotion) -> list[PromotionRegion]:
    if user.role in ("admin", "finance"):
        return list(promotion.regions)
    if user.role == "distributor":
        ids = {e.region_id for e in visible_enrolments(user, promotion)}
        return [r for r in promotion.regions if r.region_id in ids]
    touching = regions_touching(user)
    return [r for r in promotion.regions if r.region_id in touching]


# --- writing the promotion --------------------------------------------------------------------------

@dataclass
class PromotionInput:
    code: str
    name: str
    kind: str
    rate: int
    starts_on: date
    ends_on: date
    product_ids: list
    budgets: dict  # region id -> budget fen
    min_quantity: int = 0
    cap_fen: int | None = None
    description: str | None = None


def _lock(promotion: Promotion) -> Promotion:
    return db.session.execute(select(Promotion).where(Promotion.id == promotion.id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def _check_version(obj, version):
    if version is not None and obj.version != version:
        raise PromotionError("stale", status=getattr(obj, "status", ""))


def _text(value, field, *, required=False, limit=MAX_TEXT):
    value = (value or "").strip()
    if required and not value:
        raise PromotionError("required", field)
    if len(value) > limit:
        raise PromotionError("too_long", field, limit=limit)
    return value or None


def _check_input(data: PromotionInput, promotion: Promotion | None = None):
    code = _text(data.code, "code", required=True, limit=32).upper()
    taken = db.session.execute(select(Promotion.id).where(Promotion.code == code)).scalar_one_or_none()
    if taken is not None and (promotion is None or taken != promotion.id):
        raise PromotionError("code_taken", "code", code=code)
    core.Rules(data.kind, data.rate, data.min_quantity, data.cap_fen)  # raises on bad rules
    for value, name in ((data.rate, "rate"), (data.cap_fen or 0, "cap_fen")):
        if value > MAX_FEN:
            raise PromotionError("too_large", name)
    if not isinstance(data.starts_on, date) or not isinstance(data.ends_on, date):
        raise PromotionError("date_required", "starts_on")
    if data.ends_on < data.starts_on:
        raise PromotionError("period_backwards", "ends_on")
    products = set(data.product_ids)
    if not products:
        raise PromotionError("products_required", "products")
    known = set(db.session.execute(select(Product.id).where(Product.id.in_(products))).scalars())
    if known != products:
        raise PromotionError("product_unknown", "products")
    if not data.budgets:
        raise PromotionError("regions_required", "regions")
    regions = set(db.session.execute(select(Region.id).where(Region.id.in_(list(data.budgets)))).scalars())
    if regions != set(data.budgets):
        raise PromotionError("region_unknown", "regions")
    trees = {rid: region_tree_ids([rid]) for rid in regions}
    for a in regions:
        for b in regions:
            if a != b and b in trees[a]:
                raise PromotionError("regions_overlap", "regions")
    for budget in data.budgets.values():
        if not isinstance(budget, int) or isinstance(budget, bool) or budget < 0 or budget > MAX_FEN:
            raise PromotionError("budget_invalid", "regions")
    return code


def create_promotion(data: PromotionInput, *, by) -> Promotion:
    if not can("manage_promotions", user=by):
        raise PromotionError("not_allowed")
    code = _check_input(data)
    promotion = Promotion(code=code, name=_text(data.name, "name", required=True, limit=200),
                          description=_text(data.description, "description"), kind=data.kind, rate=data.rate,
                          min_quantity=data.min_quantity, cap_fen=data.cap_fen, starts_on=data.starts_on,
                          ends_on=data.ends_on, status="draft", version=1, created_by_id=by.id)
    promotion.products = [PromotionProduct(product_id=p) for p in sorted(set(data.product_ids))]
    promotion.regions = [PromotionRegion(region_id=r, budget_fen=b) for r, b in sorted(data.budgets.items())]
    db.session.add(promotion)
    db.session.flush()
    record("promotion_created", promotion, by=by, label=str(promotion))
    return promotion


def update_promotion(promotion: Promotion, data: PromotionInput, *, version: int | None, by) -> Promotion:
    """A draft changes freely; once published only the name, the description and the regions'
    budgets (until it is settled)."""
    promotion = _lock(promotion)
    _check_version(promotion, version)
    if not can("manage_promotions", user=by):
        raise PromotionError("not_allowed")
    if promotion.status == "settled":
        raise PromotionError("already_settled")
    if promotion.status == "draft":
        promotion.code = _check_input(data, promotion)
        promotion.kind, promotion.rate = data.kind, data.rate
        promotion.min_quantity, promotion.cap_fen = data.min_quantity, data.cap_fen
        promotion.starts_on, promotion.ends_on = data.starts_on, data.ends_on
        wanted = set(data.product_ids)
        for p in list(promotion.products):
            if p.product_id not in wanted:
                promotion.products.remove(p)
        have = {p.product_id for p in promotion.products}
        promotion.products.extend(PromotionProduct(product_id=p) for p in sorted(wanted - have))
        for r in list(promotion.regions):
            if r.region_id not in data.budgets:
                promotion.regions.remove(r)
        have = {r.region_id for r in promotion.regions}
        promotion.regions.extend(PromotionRegion(region_id=r, budget_fen=data.budgets[r])
                                 for r in sorted(set(data.budgets) - have))
    else:
        terms = (data.code.strip().upper(), data.kind, data.rate, data.min_quantity, data.cap_fen, data.starts_on,
                 data.ends_on, set(data.product_ids), set(data.budgets))
        if terms != (promotion.code, promotion.kind, promotion.rate, promotion.min_quantity, promotion.cap_fen,
                     promotion.starts_on, promotion.ends_on, promotion.product_ids,
                     {r.region_id for r in promotion.regions}):
            raise PromotionError("terms_fixed")
        for budget in data.budgets.values():
            if not isinstance(budget, int) or budget < 0 or budget > MAX_FEN:
                raise PromotionError("budget_invalid", "regions")
    for r in promotion.regions:
        r.budget_fen = data.budgets[r.region_id]
    promotion.name = _text(data.name, "name", required=True, limit=200)
    promotion.description = _text(data.description, "description")
    promotion.version += 1
    db.session.flush()
    record("promotion_changed", promotion, by=by, label=str(promotion))
    return promotion


def delete_promotion(promotion: Promotion, *, version: int | None, by) -> None:
    promotion = _lock(promotion)
    _check_version(promotion, version)
    if promotion.status != "draft":
        raise PromotionError("not_a_draft", status=shown_status(promotion))
    label = str(promotion)
    db.session.delete(promotion)
    db.session.flush()
    record("promotion_deleted", None, by=by, object_type="promotions", label=label)


def publish(promotion: Promotion, *, version: int | None, by, today: date | None = None) -> Promotion:
    promotion = _lock(promotion)
    _check_version(promotion, version)
    if not can("manage_promotions", user=by):
        raise PromotionError("not_allowed")
    status = core.next_status(promotion.status, "publish", start=promotion.starts_on, end=promotion.ends_on,
                              today=today or business_today())
    promotion.status, promotion.published_by_id, promotion.published_at = status, by.id, utcnow()
    promotion.version += 1
    db.session.flush()
    record("promotion_published", promotion, by=by, label=str(promotion))
    return promotion


# --- rollout ----------------------------------------------------------------------------------------

def region_for(promotion: Promotion, account: Account) -> PromotionRegion | None:
    """The promotion region whose tree holds the account's region."""
    for pr in promotion.regions:
        if account.region_id in region_tree_ids([pr.region_id]):
            return pr
    return None


def enrollable_accounts(user, promotion: Promotion) -> list[Account]:
    """Active accounts of the promotion's regions that the user may enrol and are not enrolled yet."""
    enrolled = {e.account_id for e in promotion.enrolments}
    tree = region_tree_ids([r.region_id for r in promotion.regions])
    accounts = db.session.execute(select(Account).where(Account.region_id.in_(tree), Account.status == "active")
                                  .order_by(Account.code)).scalars()
    return [a for a in accounts if a.id not in enrolled and can("enrol_accounts", a, user=user)]


def _require_open_for_rollout(promotion: Promotion, today: date):
    status = shown_status(promotion, today)
    if status not in ("published", "running"):
        raise PromotionError("not_open_for_enrolment", status=status)


def enrol(promotion: Promotion, account: Account, *, target_qty: int = 0, target_outlets: int = 0, by,
          today: date | None = None) -> Enrolment:
    promotion = _lock(promotion)
    _require_open_for_rollout(promotion, today or business_today())
    if not can("enrol_accounts", account, user=by):
        raise PromotionError("not_your_region", "account")
    if account.status != "active":
        raise PromotionError("account_suspended", "account", account=account.code)
    pr = region_for(promotion, account)
    if pr is None:
        raise PromotionError("account_outside_regions", "account", account=account.code)
    _check_targets(target_qty, target_outlets)
    if db.session.execute(select(Enrolment.id).where(Enrolment.promotion_id == promotion.id,
                                                      Enrolment.account_id == account.id)).first() is not None:
        raise PromotionError("already_enrolled", "account", account=account.code)
    enrolment = Enrolment(promotion_id=promotion.id, account_id=account.id, region_id=pr.region_id,
                          target_qty=target_qty, target_outlets=target_outlets, enrolled_by_id=by.id)
    db.session.add(enrolment)
    db.session.flush()
    record("promotion_enrolled", enrolment, by=by, label=f"{promotion.code} {account.code}",
           changes={"target_qty": target_qty, "target_outlets": target_outlets})
    return enrolment


def _check_targets(qty, outlets):
    for value, name in ((qty, "target_qty"), (outlets, "target_outlets")):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 10**9:
            raise PromotionError("not_negative_whole", name)


def update_enrolment(enrolment: Enrolment, *, target_qty: int, target_outlets: int, by) -> Enrolment:
    promotion = _lock(enrolment.promotion)
    if promotion.status == "settled":
        raise PromotionError("already_settled")
    if not can("enrol_accounts", enrolment.account, user=by):
        raise PromotionError("not_your_region")
    _check_targets(target_qty, target_outlets)
    before = [enrolment.target_qty, enrolment.target_outlets]
    enrolment.target_qty, enrolment.target_outlets = target_qty, target_outlets
    db.session.flush()
    record("promotion_targets_changed", enrolment, by=by, label=f"{promotion.code} {enrolment.account.code}",
           changes={"targets": [before, [target_qty, target_outlets]]})
    return enrolment


def withdraw(enrolment: Enrolment, *, by) -> None:
    """An enrolment without execution reports (one with reports stays: reject them instead)."""
    promotion = _lock(enrolment.promotion)
    if promotion.status == "settled":
        raise PromotionError("already_settled")
    if not can("enrol_accounts", enrolment.account, user=by):
        raise PromotionError("not_your_region")
    if enrolment.reports:
        raise PromotionError("has_reports")
    label = f"{promotion.code} {enrolment.account.code}"
    db.session.delete(enrolment)
    db.session.flush()
    record("promotion_withdrawn", None, by=by, object_type="promotion_enrolments", label=label)


def report_execution(enrolment: Enrolment, *, executed_on: date, outlets: int, note: str | None = None,
                     photos=(), by, today: date | None = None) -> ExecutionReport:
    """Field staff report what was done at an enrolled account: outlets stocked, photos as evidence."""
    promotion = _lock(enrolment.promotion)
    today = today or business_today()
    if promotion.status == "settled":
        raise PromotionError("already_settled")
    if shown_status(promotion, today) not in ("running", "ended"):
        raise PromotionError("not_started", status=shown_status(promotion, today))
    if not can("report_execution", enrolment, user=by):
        raise PromotionError("not_your_region")
    if not isinstance(executed_on, date) or not (promotion.starts_on <= executed_on <= min(promotion.ends_on, today)):
        raise PromotionError("date_outside_period", "executed_on", start=promotion.starts_on.isoformat(),
                             end=min(promotion.ends_on, today).isoformat())
    if not isinstance(outlets, int) or isinstance(outlets, bool) or outlets < 0 or outlets > 100_000:
        raise PromotionError("not_negative_whole", "outlets")
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise PromotionError("too_many_photos", "photos", limit=MAX_PHOTOS)
    stored = [(store(p), getattr(p, "filename", None) or "photo") for p in photos]
    for sf, _name in stored:
        if not sf.mime.startswith("image/"):
            raise PromotionError("photo_not_image", "photos")
    report = ExecutionReport(enrolment_id=enrolment.id, executed_on=executed_on, outlets=outlets,
                             note=_text(note, "note"), status="submitted", version=1, reported_by_id=by.id)
    report.photos = [ExecutionPhoto(sha256=sf.sha256, filename=(name or "photo")[:200]) for sf, name in stored]
    db.session.add(report)
    db.session.flush()
    record("execution_reported", report, by=by, label=f"{promotion.code} {enrolment.account.code}",
           changes={"outlets": outlets, "photos": len(stored)})
    checkers = [u for u in supervisors_of(enrolment.account) if u.id != by.id]
    if checkers:
        notify(checkers, "execution_submitted", {"account": enrolment.account.name, "promotion": promotion.name,
                                                 "by": by.full_name, "outlets": outlets},
               f"/promotions/{promotion.id}/reports")
    return report


def supervisors_of(account: Account) -> list:
    """The active supervisors whose regions hold the account's region."""
    from ..auth.models import User

    users = db.session.execute(select(User).where(User.role == "supervisor", User.is_active_user.is_(True))).scalars()
    return [u for u in users if account.region_id in (region_scope(u) or set())]


def _lock_report(report: ExecutionReport) -> ExecutionReport:
    return db.session.execute(select(ExecutionReport).where(ExecutionReport.id == report.id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def check_report(report: ExecutionReport, *, verdict: str, reason: str | None = None, version: int | None,
                 by) -> ExecutionReport:
    """verified or rejected (with a reason), once, by a supervisor who did not report it."""
    # The promotion first, as settle() and report_execution() lock it: a verdict given while the
    # promotion is being settled waits, then finds it settled (PostgreSQL; SQLite has one writer).
    _lock(report.enrolment.promotion)
    report = _lock_report(report)
    _check_version(report, version)
    if report.enrolment.promotion.status == "settled":
        raise PromotionError("already_settled")
    if report.status != "submitted":
        raise PromotionError("already_checked", status=report.status)
    if report.reported_by_id == by.id:
        raise PromotionError("own_report")
    if not can("check_report", report, user=by):
        raise PromotionError("not_your_region")
    if verdict not in ("verified", "rejected"):
        raise ValueError(verdict)
    reason = _text(reason, "reason", required=verdict == "rejected")
    report.status, report.reject_reason, report.checked_by_id, report.checked_at = (
        verdict, reason if verdict == "rejected" else None, by.id, utcnow())
    report.version += 1
    db.session.flush()
    label = f"{report.enrolment.promotion.code} {report.enrolment.account.code}"
    record(f"execution_{verdict}", report, by=by, label=label, reason=reason)
    if verdict == "rejected":
        notify([report.reported_by], "execution_rejected",
               {"account": report.enrolment.account.name, "promotion": report.enrolment.promotion.name,
                "by": by.full_name, "reason": reason}, f"/promotions/{report.enrolment.promotion_id}")
    return report


# --- figures from the ledger ------------------------------------------------------------------------

def net_shipments(account_ids, product_ids, start: date, end: date) -> dict[int, tuple[int, int]]:
    """{account id: (net quantity, net fen)} of these products shipped between start and end (both
    included): shipments less returns, reversals undone; one grouped query."""
    account_ids, product_ids = list(account_ids), list(product_ids)
    if not account_ids or not product_ids:
        return {}
    moves = defaultdict(list)
    for account_id, kind, direction, product_id, quantity, amount in db.session.execute(
            select(Document.account_id, Document.kind, Document.direction, DocumentLine.product_id,
                   func.sum(DocumentLine.quantity), func.sum(DocumentLine.amount_fen))
            .join(DocumentLine, DocumentLine.document_id == Document.id)
            .where(Document.account_id.in_(account_ids), Document.kind.in_(("shipment", "return")),
                   DocumentLine.product_id.in_(product_ids), Document.document_date.between(start, end))
            .group_by(text("1, 2, 3, 4"))).all():
        moves[account_id].append(plan_core.Movement(kind, direction, int(amount), product_id, int(quantity)))
    out = {}
    for account_id, m in moves.items():
        actual = plan_core.actual(m)
        out[account_id] = (sum(actual.shipped_qty.values()), actual.shipped_fen)
    return out


def participations(promotion: Promotion, enrolments=None) -> dict[int, core.Participation]:
    """{enrolment id: Participation}: the ledger's net shipments in the period and the verified
    execution, of the given enrolments (default: all the promotion's)."""
    enrolments = list(promotion.enrolments if enrolments is None else enrolments)
    nets = net_shipments([e.account_id for e in enrolments], promotion.product_ids, promotion.starts_on,
                         promotion.ends_on)
    out = {}
    for e in enrolments:
        qty, fen = nets.get(e.account_id, (0, 0))
        out[e.id] = core.Participation(net_qty=qty, net_fen=fen, verified_outlets=e.verified_outlets,
                                       verified=e.verified)
    return out


@dataclass
class RegionFigures:
    """A region's figures: as they stand (from the ledger and the verified execution, a preview)
    or, once settled, as finance approved them (the stored settlement and its lines, whatever
    the ledger shows since)."""

    region: PromotionRegion
    settlement: core.Settlement  # keys: enrolment ids
    enrolments: list  # [Enrolment]
    participations: dict  # enrolment id -> Participation
    settled: PromotionSettlement | None = None
    lines: dict = field(default_factory=dict)  # enrolment id -> SettlementLine (settled only)

    @property
    def budget_fen(self) -> int:
        return self.settled.budget_fen if self.settled is not None else self.region.budget_fen

    @property
    def earned_fen(self) -> int:
        return self.settlement.earned_fen

    @property
    def paid_fen(self) -> int:
        return self.settlement.paid_fen

    @property
    def left_fen(self) -> int:
        return self.budget_fen - self.paid_fen

    @property
    def short(self) -> bool:
        return self.settlement.short

    @property
    def documents(self) -> int:
        """Rebate documents the settlement posts (posted, once settled): one per participant paid."""
        return sum(1 for paid in self.settlement.paid.values() if paid > 0)


def _as_settled(pr: PromotionRegion, settled: PromotionSettlement, enrolments) -> RegionFigures:
    """The region as finance settled it: the stored lines, not the ledger as it is now (a late
    return or a reversal dated in the period changes nothing that was paid)."""
    by_account = {line.account_id: line for line in settled.lines}
    lines = {e.id: by_account[e.account_id] for e in enrolments if e.account_id in by_account}
    parts = {e.id: (core.Participation(net_qty=ln.net_qty, net_fen=ln.net_fen,
                                       verified_outlets=ln.verified_outlets, verified=ln.verified)
                    if (ln := lines.get(e.id)) else core.Participation()) for e in enrolments}
    settlement = core.Settlement({e.id: lines[e.id].earned_fen if e.id in lines else 0 for e in enrolments},
                                 {e.id: lines[e.id].paid_fen if e.id in lines else 0 for e in enrolments},
                                 settled.budget_fen, settled.short)
    return RegionFigures(pr, settlement, enrolments, parts, settled, lines)


def preload(promotion: Promotion) -> None:
    """The promotion's enrolments with their accounts, regions and reports, its regions and its
    settlements, in a few select-in queries (the pages then walk them without a query per row)."""
    enrolments = selectinload(Promotion.enrolments)
    db.session.execute(select(Promotion).where(Promotion.id == promotion.id).options(
        enrolments.selectinload(Enrolment.account).selectinload(Account.supplier),
        enrolments.selectinload(Enrolment.region), enrolments.selectinload(Enrolment.reports),
        selectinload(Promotion.regions).selectinload(PromotionRegion.region),
        selectinload(Promotion.products), selectinload(Promotion.settlements))
        .execution_options(populate_existing=True)).scalar_one()


def figures(promotion: Promotion, region_ids=None) -> list[RegionFigures]:
    """Each region's settlement as it stands (or as it was settled): rewards from the ledger and
    verified execution, capped per account and by the region's budget. The ledger is read once,
    for the regions not settled yet."""
    preload(promotion)
    rules = rules_of(promotion)
    settled = {s.region_id: s for s in promotion.settlements}
    regions = [pr for pr in promotion.regions if region_ids is None or pr.region_id in region_ids]
    by_region = {pr.region_id: sorted((e for e in promotion.enrolments if e.region_id == pr.region_id),
                                      key=lambda e: e.account.code) for pr in regions}
    live = [e for pr in regions if pr.region_id not in settled for e in by_region[pr.region_id]]
    parts = participations(promotion, live) if live else {}
    out = []
    for pr in regions:
        enrolments = by_region[pr.region_id]
        if pr.region_id in settled:
            out.append(_as_settled(pr, settled[pr.region_id], enrolments))
            continue
        mine = {e.id: parts[e.id] for e in enrolments}
        out.append(RegionFigures(pr, core.settle_region(rules, mine, pr.budget_fen), enrolments, mine))
    return sorted(out, key=lambda f: f.region.region.name)


@dataclass
class Uplift:
    key: object  # an Enrolment, a PromotionRegion, or None for the total
    before_fen: int
    during_fen: int
    before_qty: int = 0
    during_qty: int = 0

    @property
    def change_fen(self) -> int:
        return self.during_fen - self.before_fen

    @property
    def pct(self):
        """The change as a percentage of before (None when nothing was shipped before)."""
        return plan_core.percent(self.change_fen, self.before_fen) if self.before_fen > 0 else None


def before_period(promotion: Promotion) -> tuple[date, date]:
    """The same number of days just before the promotion."""
    return promotion.starts_on - timedelta(days=promotion.days), promotion.starts_on - timedelta(days=1)


def uplift(promotion: Promotion, enrolments) -> tuple[list[Uplift], list[Uplift], Uplift]:
    """Net shipments of the promotion's products in the period against the same length before it:
    per enrolled account, per region, and in total (two grouped queries)."""
    enrolments = list(enrolments)
    ids = [e.account_id for e in enrolments]
    b_start, b_end = before_period(promotion)
    during = net_shipments(ids, promotion.product_ids, promotion.starts_on, promotion.ends_on)
    before = net_shipments(ids, promotion.product_ids, b_start, b_end)
    rows = []
    for e in enrolments:
        bq, bf = before.get(e.account_id, (0, 0))
        dq, df = during.get(e.account_id, (0, 0))
        rows.append(Uplift(e, bf, df, bq, dq))
    regions = []
    for pr in promotion.regions:
        mine = [r for r in rows if r.key.region_id == pr.region_id]
        if mine:
            regions.append(_sum_uplift(pr, mine))
    return rows, regions, _sum_uplift(None, rows)


def _sum_uplift(key, rows) -> Uplift:
    return Uplift(key, sum(r.before_fen for r in rows), sum(r.during_fen for r in rows),
                  sum(r.before_qty for r in rows), sum(r.during_qty for r in rows))


@dataclass
class ProgressRow:
    enrolment: Enrolment
    reports: int
    reported_outlets: int
    verified_outlets: int
    pending: int
    net_qty: int
    net_fen: int

    @property
    def qty_pct(self):
        return plan_core.percent(self.net_qty, self.enrolment.target_qty)

    @property
    def outlets_pct(self):
        return plan_core.percent(self.verified_outlets, self.enrolment.target_outlets)


def progress(promotion: Promotion, enrolments) -> list[ProgressRow]:
    """Per enrolled account: reports, outlets reported and verified, shipped against target."""
    preload(promotion)
    enrolments = list(enrolments)
    nets = net_shipments([e.account_id for e in enrolments], promotion.product_ids, promotion.starts_on,
                         promotion.ends_on)
    rows = []
    for e in enrolments:
        qty, fen = nets.get(e.account_id, (0, 0))
        rows.append(ProgressRow(e, len(e.reports), e.reported_outlets, e.verified_outlets,
                                sum(1 for r in e.reports if r.status == "submitted"), qty, fen))
    return rows


def pending_reports(user) -> list[ExecutionReport]:
    """Execution reports waiting for this user's verdict (supervisors of the accounts' regions)."""
    if user.role not in ("admin", "supervisor"):
        return []
    stmt = (select(ExecutionReport).join(Enrolment, Enrolment.id == ExecutionReport.enrolment_id)
            .join(Account, Account.id == Enrolment.account_id)
            .where(ExecutionReport.status == "submitted", ExecutionReport.reported_by_id != user.id)
            .options(selectinload(ExecutionReport.enrolment).selectinload(Enrolment.promotion)))
    scope = region_scope(user)
    if scope is not None:
        stmt = stmt.where(Account.region_id.in_(scope or [-1]))
    return list(db.session.execute(stmt.order_by(ExecutionReport.id)).scalars())


# --- settlement -------------------------------------------------------------------------------------

@dataclass
class SettleResult:
    settlements: list = field(default_factory=list)
    documents: int = 0


def settle(promotion: Promotion, *, version: int | None, by, on: date | None = None,
           today: date | None = None) -> SettleResult:
    """Finance approves the settlement of an ended promotion: every region's rewards are stored and
    the rebates posted to the ledger, in the caller's one transaction. Dealers of a general
    distributor are paid through it (the distributor's ledger, for the dealer)."""
    promotion = _lock(promotion)
    _check_version(promotion, version)
    if not can("settle_promotions", user=by):
        raise PromotionError("not_allowed")
    today = today or business_today()
    on = on or today
    new_status = core.next_status(promotion.status, "settle", start=promotion.starts_on,
                                  end=promotion.ends_on, today=today)
    if on < promotion.ends_on:
        raise PromotionError("posting_before_end", "on", end=promotion.ends_on.isoformat())
    regions = figures(promotion)
    inputs, lines = [], []
    result = SettleResult()
    for rf in regions:
        settlement = PromotionSettlement(promotion_id=promotion.id, region_id=rf.region.region_id,
                                         budget_fen=rf.budget_fen, earned_fen=rf.settlement.earned_fen,
                                         paid_fen=rf.settlement.paid_fen, short=rf.settlement.short, posted_on=on,
                                         approved_by_id=by.id)
        result.settlements.append(settlement)
        for e in rf.enrolments:
            p = rf.participations[e.id]
            line = SettlementLine(settlement=settlement, account_id=e.account_id, net_qty=p.net_qty,
                                  net_fen=p.net_fen, verified_outlets=p.verified_outlets, verified=p.verified,
                                  earned_fen=rf.settlement.earned[e.id], paid_fen=rf.settlement.paid[e.id])
            lines.append(line)
            if line.paid_fen > 0:
                inputs.append(rebate_input(promotion, e.account, line.paid_fen, on))
    # The rebates first (a line names its document), then the settlement rows, all in this transaction.
    posted = iter(ledger.post_documents(inputs, by=by) if inputs else [])
    for line in lines:
        if line.paid_fen > 0:
            res = next(posted)
            line.document_id = res.document_id
            result.documents += 1 if res.created else 0
    db.session.add_all(result.settlements)
    db.session.add_all(lines)
    promotion.status, promotion.settled_by_id, promotion.settled_at = new_status, by.id, utcnow()
    promotion.version += 1
    db.session.flush()
    record("promotion_settled", promotion, by=by, label=str(promotion),
           changes={"paid_fen": sum(s.paid_fen for s in result.settlements), "documents": len(inputs)})
    return result


def paid_through(account: Account) -> Account | None:
    """The general distributor a dealer's rebate is credited to (the dealer's supplier), or None
    for an account the company supplies itself: paid on its own ledger."""
    return account.supplier if account.supplier_id is not None else None


def rebate_input(promotion: Promotion, account: Account, amount_fen: int, on: date) -> ledger.DocumentInput:
    """The rebate of one participant: to its own ledger, or for a dealer of a general distributor
    to the distributor's ledger for that dealer (which the distributor passes on)."""
    through = paid_through(account)
    memo = f"{promotion.code} {promotion.name}" + (f" · {account.code} {account.name}" if through else "")
    return ledger.DocumentInput(kind="rebate", account=through or account, on=on, amount_fen=amount_fen,
                                direction="credit", external_ref=external_ref(promotion, account), memo=memo,
                                for_account=account if through else None)


def settlements_visible(user, promotion: Promotion) -> list[PromotionSettlement]:
    ids = {r.region_id for r in visible_regions(user, promotion)}
    return [s for s in promotion.settlements if s.region_id in ids]


def regions_offered() -> list[Region]:
    return in_tree_order(db.session.execute(select(Region)).scalars())


def calendar(promotions, month_start: date, month_end: date) -> list:
    """The promotions overlapping the month, each with the first and last day shown in it."""
    out = []
    for p in promotions:
        if p.ends_on < month_start or p.starts_on > month_end:
            continue
        out.append((p, max(p.starts_on, month_start), min(p.ends_on, month_end)))
    return sorted(out, key=lambda t: (t[1], t[0].code))

