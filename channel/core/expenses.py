"""Expense claims (报销) on plain values: the states a claim goes through and who may move it,
line cuts, a region's budget for a month, and the policy caps that flag lines.

    draft ──submit──▶ submitted ──approve──▶ approved ──pay──▶ paid (never changes again)
      ▲                  │   └─approve (over the second-approval amount)─▶ second_approval
      └────reject────────┴──────────────────────────────reject──────────────┘   │ approve
                                                                                 ▼
                                                                              approved

A rejection returns the claim to its owner as a draft to revise and resubmit (its history is
kept by the caller). Amounts are integer fen; no float anywhere.
"""
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

CATEGORIES = ("travel", "accommodation", "local_transport", "meal", "supplement", "misc",
              "entertainment", "other")
STATUSES = ("draft", "submitted", "second_approval", "approved", "paid")
ACTIONS = ("submit", "approve", "reject", "pay")
CITY_TIERS = (1, 2, 3)


class ExpenseError(Exception):
    """An expense rule was broken; `code` names it, `info` carries what the message needs."""

    def __init__(self, code, field=None, **info):
        super().__init__(code)
        self.code = code
        self.field = field
        self.info = info


def _fen(name, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be integer fen, got {value!r}")
    return value


# --- states ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Actor:
    """Who acts: their user id, role, whether they supervise the claimant's region, and whether
    they may give a second approval (a manager or admin)."""

    user_id: int
    role: str
    supervises_region: bool = False
    second_approver: bool = False


def next_status(status: str, action: str, *, actor: Actor, claimant_id: int, claimant_role: str,
                total_fen: int, second_approval_over_fen: int, first_approver_id: int | None = None) -> str:
    """The status after `action`, or ExpenseError saying why the actor may not take it.

    - submit: only the claimant, from draft, with a total above zero.
    - approve from submitted: a supervisor of the claimant's region, never the claimant; a
      supervisor's own claim goes to the next level (a second approver). Above
      `second_approval_over_fen` the claim then waits for a second approval.
    - approve from second_approval: a second approver who is neither the claimant nor the first
      approver.
    - reject: whoever may approve it now; the claim goes back to draft.
    - pay: finance, from approved."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    _fen("total_fen", total_fen)
    if action == "submit":
        if status != "draft":
            raise ExpenseError("not_a_draft", status=status)
        if actor.user_id != claimant_id:
            raise ExpenseError("not_your_claim")
        if total_fen <= 0:
            raise ExpenseError("nothing_claimed")
        return "submitted"
    if action == "pay":
        if status == "paid":
            raise ExpenseError("already_paid")
        if status != "approved":
            raise ExpenseError("not_approved", status=status)
        if actor.role not in ("finance", "admin"):
            raise ExpenseError("not_finance")
        return "paid"
    # approve / reject
    if status not in ("submitted", "second_approval"):
        raise ExpenseError("not_waiting_for_approval", status=status)
    if actor.user_id == claimant_id:
        raise ExpenseError("own_claim")
    if status == "submitted":
        if claimant_role == "supervisor":  # a supervisor's own travel goes to the next level
            if not actor.second_approver:
                raise ExpenseError("needs_next_level")
        elif not (actor.role == "supervisor" and actor.supervises_region) and not actor.second_approver:
            raise ExpenseError("not_your_region")
        if action == "reject":
            return "draft"
        if claimant_role != "supervisor" and total_fen > second_approval_over_fen:
            return "second_approval"
        return "approved"
    if not actor.second_approver:
        raise ExpenseError("needs_second_approver")
    if first_approver_id is not None and actor.user_id == first_approver_id:
        raise ExpenseError("same_approver_twice")
    return "draft" if action == "reject" else "approved"


# --- lines and cuts -------------------------------------------------------------------------

class Line(NamedTuple):
    on: date
    category: str
    claimed_fen: int
    approved_fen: int | None = None  # None: approved as claimed
    nights: int = 1  # accommodation: nights the amount covers
    city_tier: int | None = None  # accommodation: 1, 2 or 3
    cut_reason: str = ""

    @property
    def payable_fen(self) -> int:
        return self.claimed_fen if self.approved_fen is None else self.approved_fen


def check_line(line: Line) -> Line:
    if line.category not in CATEGORIES:
        raise ExpenseError("category_unknown", "category", category=line.category)
    _fen("claimed_fen", line.claimed_fen)
    if line.claimed_fen <= 0:
        raise ExpenseError("amount_positive", "amount")
    if not isinstance(line.nights, int) or isinstance(line.nights, bool) or line.nights < 1:
        raise ExpenseError("nights_positive", "nights")
    if line.city_tier is not None and line.city_tier not in CITY_TIERS:
        raise ExpenseError("city_tier_unknown", "city_tier")
    return line


def cut(line: Line, approved_fen: int, reason: str) -> Line:
    """The approver pays less than claimed on a line, with a reason; never more, never below 0."""
    _fen("approved_fen", approved_fen)
    if approved_fen > line.claimed_fen:
        raise ExpenseError("cut_above_claim", "approved_amount")
    if approved_fen < 0:
        raise ExpenseError("amount_negative", "approved_amount")
    if approved_fen < line.claimed_fen and not (reason or "").strip():
        raise ExpenseError("cut_reason_required", "cut_reason")
    return line._replace(approved_fen=approved_fen, cut_reason=(reason or "").strip())


def payable(lines: Iterable[Line]) -> int:
    """What finance pays: the approved amounts, never more than claimed."""
    return sum(min(ln.payable_fen, ln.claimed_fen) for ln in lines)


# --- budgets --------------------------------------------------------------------------------

@dataclass(frozen=True)
class BudgetUse:
    """One region's budget for a month (total or one category) as the approval screen shows it:
    the budget, approved so far (paid included), pending (submitted, waiting for approval; this
    claim excluded), and what approving this claim would leave."""

    budget_fen: int | None  # None: no budget set
    approved_fen: int
    pending_fen: int
    this_claim_fen: int

    @property
    def left_after_fen(self) -> int | None:
        if self.budget_fen is None:
            return None
        return self.budget_fen - self.approved_fen - self.this_claim_fen

    @property
    def over(self) -> bool:
        """Approving this claim takes the budget over: needs an override reason."""
        return self.left_after_fen is not None and self.left_after_fen < 0

    @property
    def over_with_pending(self) -> bool:
        """Over once the other pending claims are approved too (a warning only)."""
        return self.budget_fen is not None and self.left_after_fen - self.pending_fen < 0


def check_override(use: BudgetUse, reason: str | None):
    if use.over and not (reason or "").strip():
        raise ExpenseError("budget_override_reason_required", "override_reason",
                           over=-use.left_after_fen)


# --- policy caps ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Caps:
    """Per category a cap per day (e.g. meal allowance), and accommodation per night by city tier."""

    per_day_fen: dict  # category -> fen
    per_night_fen: dict  # city tier -> fen


def flag_lines(lines: list[Line], caps: Caps) -> dict[int, str]:
    """{line index: reason code} for the lines over a policy cap. Per-day caps count every line
    of the category on the same day together (two meal lines of one day share one allowance); an
    accommodation line is held against its tier's cap times its nights."""
    flags: dict[int, str] = {}
    by_day = defaultdict(list)
    for i, line in enumerate(lines):
        if line.category == "accommodation" and line.city_tier in caps.per_night_fen:
            if line.claimed_fen > caps.per_night_fen[line.city_tier] * line.nights:
                flags[i] = "over_night_cap"
        if line.category in caps.per_day_fen:
            by_day[(line.category, line.on)].append(i)
    for (category, _), indexes in by_day.items():
        if sum(lines[i].claimed_fen for i in indexes) > caps.per_day_fen[category]:
            for i in indexes:
                flags.setdefault(i, "over_day_cap")
    return flags
