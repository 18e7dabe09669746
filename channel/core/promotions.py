"""Promotions (促销活动 / 铺货) on plain values: the states of a promotion, each participant's
reward by the promotion's type and rules, and the settlement of a region within its budget.

Types:
    per_unit      a rebate per unit of the promotion's products shipped (net of returns and
                  reversals) in the period
    percent       a percentage (in basis points: 150 = 1.5%) of the net shipment amount
    per_outlet    a reward per outlet stocked (铺货奖励), verified outlets only
    display_fee   a fixed display fee (陈列费) for an account whose execution was verified

Rules: a minimum net quantity to qualify (per_unit, percent), and a cap per account. Within a
region the rewards are paid in full while the region's budget lasts; when it runs short the
budget is shared pro rata to the rewards (largest remainder, so the shares add up to the budget
exactly, to the fen). Amounts are integer fen; no float anywhere.
"""
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .money import allocate

TYPES = ("per_unit", "percent", "per_outlet", "display_fee")
STORED_STATUSES = ("draft", "published", "settled")
STATUSES = ("draft", "published", "running", "ended", "settled")  # running / ended follow the dates


class PromotionError(Exception):
    # code and field positional-only: info may carry a "code" of its own (the promotion's, code_taken).
    def __init__(self, code, field=None, /, **info):
        super().__init__(code)
        self.code = code
        self.field = field
        self.info = info


@dataclass(frozen=True)
class Rules:
    kind: str
    rate: int  # per_unit: fen per unit; percent: basis points; per_outlet: fen per outlet; display_fee: fen
    min_quantity: int = 0
    cap_fen: int | None = None  # per account

    def __post_init__(self):
        if self.kind not in TYPES:
            raise PromotionError("type_unknown", "kind", kind=self.kind)
        for name in ("rate", "min_quantity"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise PromotionError("not_negative_whole", name)
        if self.cap_fen is not None and (not isinstance(self.cap_fen, int) or self.cap_fen < 0):
            raise PromotionError("not_negative_whole", "cap_fen")
        if self.kind == "percent" and self.rate > 10_000:
            raise PromotionError("percent_over_100", "rate")


@dataclass(frozen=True)
class Participation:
    """What one enrolled account did: net quantity and amount of the promotion's products shipped
    in the period (after returns and reversals), verified outlets stocked, and whether its
    execution was verified."""

    net_qty: int = 0
    net_fen: int = 0
    verified_outlets: int = 0
    verified: bool = False


def reward(rules: Rules, p: Participation) -> int:
    """The account's reward before the region's budget: by type, then the cap. Net shipments
    below zero (more returned than shipped) earn nothing."""
    if rules.kind in ("per_unit", "percent") and (p.net_qty <= 0 or p.net_qty < rules.min_quantity):
        return 0
    if rules.kind == "per_unit":
        amount = p.net_qty * rules.rate
    elif rules.kind == "percent":
        amount = int((Decimal(max(p.net_fen, 0)) * rules.rate / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    elif rules.kind == "per_outlet":
        amount = max(p.verified_outlets, 0) * rules.rate
    else:
        amount = rules.rate if p.verified else 0
    return min(amount, rules.cap_fen) if rules.cap_fen is not None else amount


@dataclass(frozen=True)
class Settlement:
    """A region's settlement: each account's reward before the budget, what it is paid, and
    whether the budget ran short (then `paid` is the budget shared pro rata to `earned`)."""

    earned: dict  # account key -> fen
    paid: dict  # account key -> fen
    budget_fen: int | None
    short: bool

    @property
    def earned_fen(self) -> int:
        return sum(self.earned.values())

    @property
    def paid_fen(self) -> int:
        return sum(self.paid.values())


def settle_region(rules: Rules, participants: dict, budget_fen: int | None) -> Settlement:
    """participants: {account key: Participation}. budget None: no limit."""
    keys = sorted(participants)
    earned = {k: reward(rules, participants[k]) for k in keys}
    total = sum(earned.values())
    if budget_fen is None or total <= budget_fen:
        return Settlement(earned, dict(earned), budget_fen, False)
    shares = allocate(budget_fen, [earned[k] for k in keys])
    return Settlement(earned, dict(zip(keys, shares)), budget_fen, True)


def status_on(stored: str, start: date, end: date, today: date) -> str:
    """What people see: a published promotion is running from its first day and ended after its
    last; draft and settled are as stored."""
    if stored not in STORED_STATUSES:
        raise ValueError(f"unknown status {stored!r}")
    if stored != "published":
        return stored
    if today < start:
        return "published"
    return "running" if today <= end else "ended"


def next_status(stored: str, action: str, *, start: date, end: date, today: date) -> str:
    """publish: a draft; settle: an ended promotion (its period over), once."""
    shown = status_on(stored, start, end, today)
    if action == "publish":
        if stored != "draft":
            raise PromotionError("not_a_draft", status=shown)
        if end < start:
            raise PromotionError("period_backwards")
        return "published"
    if action == "settle":
        if stored == "settled":
            raise PromotionError("already_settled")
        if shown != "ended":
            raise PromotionError("not_ended", status=shown)
        return "settled"
    raise ValueError(f"unknown action {action!r}")
