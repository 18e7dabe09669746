"""Ten-day plans: drafting, submitting, approving, sending back and changing them (each step
decided by channel.core.plans, the plan row locked first), the actual figures from the ledger,
achievement, and what is still missing before a period starts.

Services flush; the caller commits. Views call begin_write() before a writing service.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import case, func, select, text
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..auth.permissions import region_scope, scope_accounts
from ..core import plans as core
from ..core.money import format_fen
from ..core.periods import TenDay
from ..db_types import utcnow
from ..extensions import db
from ..ledger.models import Document, DocumentLine
from ..masterdata.models import Account, Product
from .models import Plan, PlanEvent, PlanLine, PlanStock, PlanVersion

PlanError = core.PlanError
MAX_QUANTITY = 10_000_000
MAX_FEN = 10**12
MAX_TEXT = 2000


def business_today() -> date:
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def variance_threshold() -> int:
    return int(current_app.config["PLAN_VARIANCE_THRESHOLD_PCT"])


def reminder_days() -> tuple[int, ...]:
    return tuple(int(d) for d in current_app.config["PLAN_REMINDER_DAYS"])


def coming_period(today: date | None = None) -> TenDay:
    """The period people plan now: the next one."""
    return TenDay.of(today or business_today()).next()


# --- who ----------------------------------------------------------------------------------------

_ANY = object()


def actor(user, account: Account, regions=_ANY) -> core.PlanActor:
    """May `user` draft `account`'s plans (its region's field staff; a distributor's own user for
    its own account), and do they supervise it (a supervisor of its region, or admin)?
    `regions`: the user's region_scope when the caller has it already (a list of accounts)."""
    regions = region_scope(user) if regions is _ANY else regions
    in_scope = regions is None or account.region_id in regions
    drafts = ((user.role == "field_staff" and in_scope)
              or (user.role == "distributor" and account.id == user.account_id))
    supervises = user.role == "admin" or (user.role == "supervisor" and in_scope)
    return core.PlanActor(drafts=drafts, supervises=supervises)


def plannable_accounts(user, region_ids=None) -> list[Account]:
    """Active accounts in the user's scope (a distributor: its own and its dealers), by code."""
    stmt = scope_accounts(select(Account).where(Account.status == "active"), user)
    if region_ids is not None:
        stmt = stmt.where(Account.region_id.in_(region_ids))
    return list(db.session.execute(stmt.order_by(Account.code)).scalars())


# --- reading --------------------------------------------------------------------------------------

@dataclass
class PlanInput:
    lines: list = field(default_factory=list)  # (product id, quantity, unit price fen or None: list price)
    stock: list = field(default_factory=list)  # (product id, stock on hand, sold last period)
    payment_fen: int = 0
    payment_on: date | None = None
    competitor_notes: str = ""
    problems: str = ""


def find(account: Account, period: TenDay) -> Plan | None:
    return db.session.execute(select(Plan).where(Plan.account_id == account.id, Plan.period == str(period))
                              ).scalar_one_or_none()


def plans_of(account_ids, periods) -> dict[tuple[int, str], Plan]:
    """{(account id, period): plan} for these accounts and periods."""
    account_ids, periods = list(account_ids), [str(p) for p in periods]
    if not account_ids or not periods:
        return {}
    rows = db.session.execute(select(Plan).where(Plan.account_id.in_(account_ids), Plan.period.in_(periods)))
    return {(p.account_id, p.period): p for p in rows.scalars()}


def content(plan: Plan) -> dict:
    """The plan's figures as plain data (what a version keeps)."""
    return {
        "lines": [[ln.product_id, ln.quantity, ln.unit_price_fen] for ln in plan.lines],
        "stock": [[s.product_id, s.stock_qty, s.sellout_qty] for s in plan.stock],
        "payment_fen": plan.payment_fen,
        "payment_on": plan.payment_on.isoformat() if plan.payment_on else None,
        "competitor_notes": plan.competitor_notes or "", "problems": plan.problems or "",
    }


def prefill(account: Account, period: TenDay) -> PlanInput:
    """A new plan starts from the last period's: its products, quantities, prices and payment;
    the stock notes name the same products, to be counted again."""
    last = find(account, period.prev())
    if last is None:
        return PlanInput()
    payment_on = None
    if last.payment_fen > 0:
        # The same day of its period (the period's end when that day is past it): a payment
        # planned without a date is refused.
        offset = (last.payment_on - last.period_start).days if last.payment_on else 0
        payment_on = min(period.start + timedelta(days=max(offset, 0)), period.end)
    return PlanInput(lines=[(ln.product_id, ln.quantity, ln.unit_price_fen) for ln in last.lines],
                     stock=[(s.product_id, 0, 0) for s in last.stock], payment_fen=last.payment_fen,
                     payment_on=payment_on)


# --- writing --------------------------------------------------------------------------------------

def _lock(plan: Plan) -> Plan:
    return db.session.execute(select(Plan).where(Plan.id == plan.id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def _text(value, name) -> str | None:
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        raise PlanError("text_too_long", name)
    return value or None


def _int(value, name, *, minimum=0, maximum=MAX_QUANTITY) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise PlanError("whole_number", name)
    if value < minimum or value > maximum:
        raise PlanError("out_of_range", name, minimum=minimum, maximum=maximum)
    return value


def _check(data: PlanInput, period: TenDay) -> tuple[list, list]:
    """(lines with prices, stock rows), every figure checked."""
    products = {p.id: p for p in db.session.execute(select(Product)).scalars()}
    lines, seen = [], set()
    for n, (product_id, quantity, price) in enumerate(data.lines):
        where = f"lines-{n}"
        product = products.get(product_id)
        if product is None or (not product.active and product_id not in seen):
            raise PlanError("product_unknown", where)
        if product_id in seen:
            raise PlanError("product_twice", where, product=product.code)
        seen.add(product_id)
        quantity = _int(quantity, where, minimum=1)
        price = product.list_price_fen if price is None else _int(price, where, maximum=MAX_FEN)
        lines.append((product_id, quantity, price))
    stock, seen = [], set()
    for n, (product_id, stock_qty, sellout_qty) in enumerate(data.stock):
        where = f"stock-{n}"
        if product_id not in products:
            raise PlanError("product_unknown", where)
        if product_id in seen:
            raise PlanError("product_twice", where, product=products[product_id].code)
        seen.add(product_id)
        stock.append((product_id, _int(stock_qty, where), _int(sellout_qty, where)))
    _int(data.payment_fen, "payment", maximum=MAX_FEN)
    if data.payment_on is not None and not period.contains(data.payment_on):
        raise PlanError("payment_date_outside_period", "payment_on", start=period.start.isoformat(),
                        end=period.end.isoformat())
    if data.payment_fen > 0 and data.payment_on is None:
        raise PlanError("payment_date_required", "payment_on")
    return lines, stock


def _write(plan: Plan, data: PlanInput, lines, stock) -> None:
    plan.lines.clear()
    plan.stock.clear()
    db.session.flush()
    for product_id, quantity, price in lines:
        plan.lines.append(PlanLine(product_id=product_id, quantity=quantity, unit_price_fen=price,
                                   amount_fen=quantity * price))
    for product_id, stock_qty, sellout_qty in stock:
        plan.stock.append(PlanStock(product_id=product_id, stock_qty=stock_qty, sellout_qty=sellout_qty))
    plan.payment_fen, plan.payment_on = data.payment_fen, data.payment_on
    plan.competitor_notes = _text(data.competitor_notes, "competitor_notes")
    plan.problems = _text(data.problems, "problems")
    db.session.flush()


def _event(plan: Plan, action: str, before: str, *, by, comment=None) -> PlanEvent:
    seq = (db.session.execute(select(func.max(PlanEvent.seq)).where(PlanEvent.plan_id == plan.id)).scalar()
           or 0) + 1
    event = PlanEvent(plan_id=plan.id, seq=seq, action=action, from_status=before, to_status=plan.status,
                      by_id=by.id, at=utcnow(), comment=comment or None)
    db.session.add(event)
    db.session.flush()
    db.session.expire(plan, ["events"])
    return event


def _may_edit(status: str, period: TenDay, today: date, who: core.PlanActor) -> None:
    if core.may_edit(status, period, today, actor=who):
        return
    if status == "approved":
        raise PlanError("locked" if core.is_locked(status, period, today) else "approved_send_back",
                        period=str(period))
    if today > period.end:
        raise PlanError("period_over", period=str(period))
    raise PlanError("not_your_plan" if not (who.drafts or who.supervises) else "not_a_draft", status=status)


def _create(account: Account, period: TenDay, by) -> Plan | None:
    """A new draft, or None when another transaction created the account's plan for the period
    meanwhile (PostgreSQL: the unique key waited for it to commit; the savepoint keeps ours usable)."""
    plan = Plan(account_id=account.id, period=str(period), period_start=period.start, status="draft",
                version=1, drafted_by_id=by.id, payment_fen=0)
    try:
        with db.session.begin_nested():
            db.session.add(plan)
            db.session.flush()
    except IntegrityError:
        return None
    record("plan_created", plan, by=by, label=str(plan))
    return plan


def save(account: Account, period: TenDay, data: PlanInput, *, by, today: date | None = None) -> Plan:
    """Create or edit the account's plan for the period (a draft; a supervisor may also edit a
    submitted one). Two people creating the same plan at once: the later one edits the plan the
    first created, as if it had come a moment after. Raises PlanError."""
    today = today or business_today()
    who = actor(by, account)
    plan = find(account, period)
    if plan is None:
        _may_edit("draft", period, today, who)
        lines, stock = _check(data, period)
        plan = _create(account, period, by)
        if plan is not None:
            _write(plan, data, lines, stock)
            return plan
        plan = find(account, period)
    plan = _lock(plan)
    _may_edit(plan.status, period, today, who)
    lines, stock = _check(data, period)
    _write(plan, data, lines, stock)
    return plan


def submit(plan: Plan, *, by, today: date | None = None) -> Plan:
    plan = _lock(plan)
    period = TenDay.parse(plan.period)
    before = plan.status
    plan.status = core.next_status(before, "submit", actor=actor(by, plan.account), period=period,
                                   today=today or business_today())
    plan.submitted_at = utcnow()
    _event(plan, "submit", before, by=by)
    record("plan_submitted", plan, by=by, changes={"status": [before, plan.status]})
    return plan


def approve(plan: Plan, *, by, today: date | None = None, comment: str | None = None) -> Plan:
    plan = _lock(plan)
    period = TenDay.parse(plan.period)
    before = plan.status
    new = core.next_status(before, "approve", actor=actor(by, plan.account), period=period,
                           today=today or business_today())
    with db.session.no_autoflush:
        plan.status, plan.approved_by_id, plan.approved_at = new, by.id, utcnow()
    _event(plan, "approve", before, by=by, comment=_text(comment, "comment"))
    record("plan_approved", plan, by=by, changes={"status": [before, new]})
    return plan


def send_back(plan: Plan, *, by, comment: str, today: date | None = None) -> Plan:
    plan = _lock(plan)
    period = TenDay.parse(plan.period)
    before = plan.status
    new = core.next_status(before, "send_back", actor=actor(by, plan.account), period=period,
                           today=today or business_today())
    comment = _text(comment, "comment")
    if not comment:
        raise PlanError("comment_required", "comment")
    with db.session.no_autoflush:
        plan.status, plan.approved_by_id, plan.approved_at = new, None, None
    _event(plan, "send_back", before, by=by, comment=comment)
    record("plan_sent_back", plan, by=by, reason=comment, changes={"status": [before, new]})
    return plan


def change(plan: Plan, data: PlanInput, *, by, reason: str, today: date | None = None) -> Plan:
    """A supervisor changes a locked plan: the earlier figures are kept as a version, with the reason."""
    plan = _lock(plan)
    period = TenDay.parse(plan.period)
    core.next_status(plan.status, "change", actor=actor(by, plan.account), period=period,
                     today=today or business_today(), reason=reason)
    lines, stock = _check(data, period)
    before = content(plan)
    plan.version += 1
    db.session.add(PlanVersion(plan_id=plan.id, version=plan.version, content=before, reason=reason.strip(),
                               by_id=by.id, at=utcnow()))
    db.session.flush()  # the version is kept before the figures change (the triggers check it)
    _write(plan, data, lines, stock)
    _event(plan, "change", "approved", by=by, comment=reason.strip())
    record("plan_changed", plan, by=by, reason=reason.strip(),
           changes={"shipment": [format_fen(sum(q * p for _, q, p in before["lines"])), format_fen(plan.shipment_fen)],
                    "payment": [format_fen(before["payment_fen"]), format_fen(plan.payment_fen)]})
    return plan


def set_variance_note(plan: Plan, note: str, *, by) -> Plan:
    """Why the account fell below plan: its drafters or supervisors, once the period has begun."""
    who = actor(by, plan.account)
    if not (who.drafts or who.supervises):
        raise PlanError("not_your_plan")
    if business_today() < TenDay.parse(plan.period).start:
        raise PlanError("period_not_started")
    plan = _lock(plan)
    before = plan.variance_note
    plan.variance_note, plan.variance_by_id = _text(note, "variance_note"), by.id
    db.session.flush()
    record("plan_variance_note", plan, by=by, changes={"variance_note": [before, plan.variance_note]})
    return plan


# --- actual figures and achievement -----------------------------------------------------------------

def actuals(account_ids, periods) -> dict[tuple[int, str], core.Actual]:
    """{(account id, period): Actual} from the ledger: every shipment, return and payment dated
    in the period (reversals net out), in two queries grouped by account and period (the period
    of a date is worked out by the database: one row per account, period, kind, direction and
    product, whatever the number of documents)."""
    account_ids, periods = list(account_ids), sorted(set(periods))
    if not account_ids or not periods:
        return {}
    start, end = periods[0].start, periods[-1].end
    period = case(*[(Document.document_date.between(p.start, p.end), str(p)) for p in periods], else_=None)
    moves = defaultdict(list)
    # GROUP BY the select list's positions: the period's CASE carries bound dates, which the
    # database would not match with a second copy of the expression.
    for account_id, key, kind, direction, product_id, quantity, amount in db.session.execute(
            select(Document.account_id, period, Document.kind, Document.direction,
                   DocumentLine.product_id, func.sum(DocumentLine.quantity), func.sum(DocumentLine.amount_fen))
            .join(DocumentLine, DocumentLine.document_id == Document.id)
            .where(Document.account_id.in_(account_ids), Document.kind.in_(("shipment", "return")),
                   Document.document_date.between(start, end))
            .group_by(text("1, 2, 3, 4, 5"))).all():
        if key is not None:
            moves[(account_id, key)].append(core.Movement(kind, direction, int(amount), product_id, int(quantity)))
    for account_id, key, direction, amount in db.session.execute(
            select(Document.account_id, period, Document.direction, func.sum(Document.amount_fen))
            .where(Document.account_id.in_(account_ids), Document.kind == "payment",
                   Document.document_date.between(start, end))
            .group_by(text("1, 2, 3"))).all():
        if key is not None:
            moves[(account_id, key)].append(core.Movement("payment", direction, int(amount)))
    return {key: core.actual(m) for key, m in moves.items()}


EMPTY_ACTUAL = core.Actual({}, 0, 0)


@dataclass(frozen=True)
class PlanFigures:
    """What achievement needs of a plan: its planned quantity, shipment and payment, and products."""

    quantity: int
    shipment_fen: int
    payment_fen: int
    products: frozenset

    @classmethod
    def of(cls, plan: Plan) -> "PlanFigures":
        return cls(plan.quantity, plan.shipment_fen, plan.payment_fen, frozenset(ln.product_id for ln in plan.lines))


def plan_figures(account_ids, periods) -> dict[tuple[int, str], PlanFigures]:
    """{(account id, period): PlanFigures} in two plain queries (no ORM objects: a trend over
    thousands of plans reads only sums)."""
    account_ids, periods = list(account_ids), [str(p) for p in periods]
    if not account_ids or not periods:
        return {}
    heads = db.session.execute(select(Plan.id, Plan.account_id, Plan.period, Plan.payment_fen).where(
        Plan.account_id.in_(account_ids), Plan.period.in_(periods))).all()
    lines = defaultdict(list)
    for plan_id, product_id, quantity, amount in db.session.execute(
            select(PlanLine.plan_id, PlanLine.product_id, PlanLine.quantity, PlanLine.amount_fen)
            .join(Plan, PlanLine.plan_id == Plan.id)
            .where(Plan.account_id.in_(account_ids), Plan.period.in_(periods))).all():
        lines[plan_id].append((product_id, quantity, amount))
    return {(account_id, period): PlanFigures(sum(q for _, q, _ in lines[pid]), sum(a for _, _, a in lines[pid]),
                                              payment, frozenset(p for p, _, _ in lines[pid]))
            for pid, account_id, period, payment in heads}


def achievement(plan: Plan | PlanFigures | None, actual: core.Actual | None) -> core.Achievement:
    actual = actual or EMPTY_ACTUAL
    if plan is None:
        return core.Achievement(0, sum(actual.shipped_qty.values()), 0, actual.shipped_fen, 0, actual.paid_fen)
    figures = plan if isinstance(plan, PlanFigures) else PlanFigures.of(plan)
    # Quantities are held against the planned products (a product not planned counts in amount only).
    actual_qty = sum(q for pid, q in actual.shipped_qty.items() if pid in figures.products)
    return core.Achievement(figures.quantity, actual_qty, figures.shipment_fen, actual.shipped_fen,
                            figures.payment_fen, actual.paid_fen)


def achievements(account_ids, periods) -> dict[tuple[int, str], core.Achievement]:
    """{(account id, period): Achievement} for every pair with a plan or a movement."""
    plans, acts = plan_figures(account_ids, periods), actuals(account_ids, periods)
    return {key: achievement(plans.get(key), acts.get(key)) for key in set(plans) | set(acts)}


def missing(user, period: TenDay) -> list[Account]:
    """The user's accounts with no submitted or approved plan for the period (what the reminder
    on the 8th, 18th and 28th lists)."""
    regions = region_scope(user)
    accounts = []
    for account in plannable_accounts(user):  # the accounts whose plans the user drafts or approves
        who = actor(user, account, regions)
        if who.drafts or who.supervises:
            accounts.append(account)
    plans = plans_of([a.id for a in accounts], [period])
    return [a for a in accounts if plans.get((a.id, str(period))) is None
            or plans[(a.id, str(period))].status == "draft"]


def waiting_for(user) -> dict:
    """For the dashboard: the coming period's missing plans (from the reminder day on), and the
    plans waiting for this supervisor's approval."""
    today = business_today()
    period = coming_period(today)
    out = {"period": period}
    if user.role in ("field_staff", "supervisor", "distributor"):
        # From the reminder day of the current period on (the 8th, 18th, 28th by default).
        out["remind"] = today.day >= reminder_days()[TenDay.of(today).index - 1]
        out["missing"] = missing(user, period)
    if user.role in ("supervisor", "admin"):
        accounts = plannable_accounts(user)
        out["to_approve"] = db.session.execute(select(func.count()).select_from(Plan).where(
            Plan.status == "submitted", Plan.account_id.in_([a.id for a in accounts]))).scalar_one()
    return out
