"""Ten-day plans (旬计划) on plain values: who may move a plan, when it locks, what the ledger's
documents add up to in a period, achievement against plan, and when a variance note is due.

    draft ──submit──▶ submitted ──approve──▶ approved ─(its period starts)─▶ locked
      ▲                   │                     │                              │
      └────send_back──────┴─────send_back───────┘         change (supervisor + reason;
                                                           the earlier version is kept)

Amounts are integer fen, quantities whole units, percentages Decimal; no float anywhere.
"""
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .periods import TenDay

STATUSES = ("draft", "submitted", "approved")
ACTIONS = ("submit", "approve", "send_back", "change")
DEFAULT_REMINDER_DAYS = (8, 18, 28)
DEFAULT_VARIANCE_THRESHOLD = 80  # per cent of plan


class PlanError(Exception):
    """A plan rule was broken; `code` names it, `info` carries what the message needs."""

    def __init__(self, code, field=None, **info):
        super().__init__(code)
        self.code = code
        self.field = field
        self.info = info


def is_locked(status: str, period: TenDay, today: date) -> bool:
    """An approved plan locks when its period starts: from then on only a supervisor changes it."""
    return status == "approved" and today >= period.start


@dataclass(frozen=True)
class PlanActor:
    """Who acts: may they draft the account's plan (its field staff, or the distributor's own
    user for its own account), and do they supervise the account's region (or are admin)."""

    drafts: bool = False
    supervises: bool = False


def next_status(status: str, action: str, *, actor: PlanActor, period: TenDay, today: date,
                reason: str | None = None) -> str:
    """The status after `action`, or PlanError saying why the actor may not take it.

    - submit: a drafter, from draft, before the period ends.
    - approve: a supervisor, from submitted.
    - send_back: a supervisor, from submitted, or from approved while not locked.
    - change (of a locked plan's figures): a supervisor, with a reason; it stays approved."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if action == "submit":
        if not actor.drafts:
            raise PlanError("not_your_plan")
        if status != "draft":
            raise PlanError("not_a_draft", status=status)
        if today > period.end:
            raise PlanError("period_over", period=str(period))
        return "submitted"
    if not actor.supervises:
        raise PlanError("needs_supervisor")
    if action == "approve":
        if status != "submitted":
            raise PlanError("not_submitted", status=status)
        return "approved"
    if action == "send_back":
        if status == "draft":
            raise PlanError("not_submitted", status=status)
        if is_locked(status, period, today):
            raise PlanError("locked", period=str(period))
        return "draft"
    # change
    if not is_locked(status, period, today):
        raise PlanError("not_locked")
    if not (reason or "").strip():
        raise PlanError("reason_required", "reason")
    return "approved"


def may_edit(status: str, period: TenDay, today: date, *, actor: PlanActor) -> bool:
    """A drafter edits a draft and a supervisor a draft or a submitted plan, before the period
    ends. An approved plan is sent back to be edited before it locks; once locked it changes
    only through `change`."""
    if today > period.end:
        return False
    if status == "draft":
        return actor.drafts or actor.supervises
    return status == "submitted" and actor.supervises


# --- actual figures from the ledger -----------------------------------------------------------

# The usual direction of each kind: a document in the other direction is a reversal (红冲).
USUAL_DIRECTION = {"shipment": "debit", "return": "credit", "payment": "credit"}


@dataclass(frozen=True)
class Movement:
    """One ledger document line as the plan sees it: its kind, direction, and (for shipments and
    returns) a product and quantity; amount in fen."""

    kind: str
    direction: str
    amount_fen: int
    product_id: int | None = None
    quantity: int = 0


@dataclass
class Actual:
    shipped_qty: dict  # product id -> net quantity shipped (shipments less returns, reversals undone)
    shipped_fen: int
    paid_fen: int


def actual(movements) -> Actual:
    """Net shipments (shipments less returns; a reversal undoes what it reverses) by product and
    in fen, and payments in fen. Other kinds (rebates, adjustments, openings) do not count."""
    qty: dict = {}
    shipped = paid = 0
    for m in movements:
        if m.kind not in USUAL_DIRECTION:
            continue
        sign = 1 if m.direction == USUAL_DIRECTION[m.kind] else -1
        if m.kind == "return":
            sign = -sign  # a return takes shipped goods back
        if m.kind == "payment":
            paid += sign * m.amount_fen
            continue
        shipped += sign * m.amount_fen
        if m.product_id is not None:
            qty[m.product_id] = qty.get(m.product_id, 0) + sign * m.quantity
    return Actual(qty, shipped, paid)


# --- achievement ------------------------------------------------------------------------------

def percent(actual_value: int, plan_value: int) -> Decimal | None:
    """Actual as a percentage of plan, to one decimal (half up); None when nothing was planned."""
    if plan_value <= 0:
        return None
    return (Decimal(actual_value) * 100 / Decimal(plan_value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Achievement:
    plan_qty: int
    actual_qty: int
    plan_fen: int
    actual_fen: int
    plan_paid_fen: int
    actual_paid_fen: int

    @property
    def shipped_pct(self) -> Decimal | None:
        return percent(self.actual_fen, self.plan_fen)

    @property
    def qty_pct(self) -> Decimal | None:
        return percent(self.actual_qty, self.plan_qty)

    @property
    def paid_pct(self) -> Decimal | None:
        return percent(self.actual_paid_fen, self.plan_paid_fen)

    @property
    def gap_fen(self) -> int:
        """How far shipments fell short of plan (negative: above plan)."""
        return self.plan_fen - self.actual_fen

    def __add__(self, other: "Achievement") -> "Achievement":
        return Achievement(*(a + b for a, b in zip(self._values(), other._values())))

    def _values(self):
        return (self.plan_qty, self.actual_qty, self.plan_fen, self.actual_fen, self.plan_paid_fen,
                self.actual_paid_fen)


ZERO = Achievement(0, 0, 0, 0, 0, 0)


def total(achievements) -> Achievement:
    out = ZERO
    for a in achievements:
        out = out + a
    return out


def needs_variance_note(a: Achievement, threshold_pct: int) -> bool:
    """Below the threshold on shipments or payments (what was planned only)."""
    return any(p is not None and p < threshold_pct for p in (a.shipped_pct, a.paid_pct))


def furthest_below_first(rows):
    """(key, Achievement) pairs, the largest shortfall in fen first (then the lowest %)."""
    return sorted(rows, key=lambda r: (-r[1].gap_fen, r[1].shipped_pct if r[1].shipped_pct is not None
                                       else Decimal(1000)))
