"""Monthly reconciliation (对账) on plain values: what a statement's content is, its hash, the
states a reconciliation goes through, when it is overdue, and the policy pass-through gap.

A reconciliation is one account's statement of one closed month, issued by its supplier (the
company, or the account's general distributor) and confirmed or disputed by the account.
Corrections agreed in a dispute are posted in a later, open month and linked to the dispute:
they belong to the reconciled content, so the balance both sides agree on is the month's
closing balance plus those corrections.

    issued ──confirm──▶ confirmed (frozen)
      │  ▲
  dispute │  all disputed lines answered (re-issued as a new version)
      ▼  │
    disputed

Re-issuing on demand (new content after a reopened month) is allowed from issued or disputed.
"""
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from .ledger import Statement

STATUSES = ("issued", "disputed", "confirmed")
ITEM_STATUSES = ("open", "explained", "corrected")
OVERDUE_ACTIONS = ("none", "warn", "hold")
DEFAULT_ANSWER_DAYS = 10
MAX_ANSWER_DAYS = 90


class ReconciliationError(Exception):
    """A reconciliation rule was broken; `code` names it, `info` carries what the message needs."""

    def __init__(self, code, field=None, **info):
        super().__init__(code)
        self.code = code
        self.field = field
        self.info = info


class Correction(NamedTuple):
    """A document posted after the month to settle a disputed line (signed fen: + debit)."""

    number: str
    on: date
    kind: str
    amount_fen: int


@dataclass(frozen=True)
class Content:
    """What the account is asked to agree to."""

    account: str  # account code
    period: str  # "2026-10"
    statement: Statement
    corrections: tuple[Correction, ...] = ()

    @property
    def correction_fen(self) -> int:
        return sum(c.amount_fen for c in self.corrections)

    @property
    def agreed_fen(self) -> int:
        """The balance both sides agree on: the month's closing plus the corrections."""
        return self.statement.closing_fen + self.correction_fen

    def canonical(self) -> bytes:
        """The content as bytes that do not depend on dict order, descriptions or language:
        amounts, dates and document numbers only."""
        s = self.statement
        doc = {
            "account": self.account,
            "period": self.period,
            "opening": s.opening_fen,
            "lines": [[ln.on.isoformat(), ln.number, ln.kind, ln.debit_fen, ln.credit_fen]
                      for ln in s.lines],
            "closing": s.closing_fen,
            "corrections": [[c.number, c.on.isoformat(), c.kind, c.amount_fen]
                            for c in sorted(self.corrections)],
            "agreed": self.agreed_fen,
        }
        return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


def due_on(issued_on: date, answer_days: int) -> date:
    """The last day the account may answer (confirm or dispute)."""
    if not isinstance(answer_days, int) or isinstance(answer_days, bool) or not 1 <= answer_days <= MAX_ANSWER_DAYS:
        raise ValueError(f"answer_days must be 1..{MAX_ANSWER_DAYS}, got {answer_days!r}")
    return issued_on + timedelta(days=answer_days)


def is_overdue(status: str, due: date | None, today: date) -> bool:
    """Issued and not answered by its due date. A disputed statement waits for the supplier,
    not for the account: it is never overdue."""
    return status == "issued" and due is not None and today > due


def display_status(status: str, due: date | None, today: date) -> str:
    return "overdue" if is_overdue(status, due, today) else status


def _check_answerable(status: str, shown_hash: str, current_hash: str, issued_hash: str):
    if status == "confirmed":
        raise ReconciliationError("already_confirmed")
    if status == "disputed":
        raise ReconciliationError("dispute_pending")
    if current_hash != issued_hash:
        # The ledger moved under an issued statement (a reopened month): it must be re-issued.
        raise ReconciliationError("changed_since_issue")
    if shown_hash != current_hash:
        raise ReconciliationError("stale")


def check_confirm(status: str, shown_hash: str, current_hash: str, issued_hash: str) -> str:
    """The new status when the account confirms what it was shown (hash of that content)."""
    _check_answerable(status, shown_hash, current_hash, issued_hash)
    return "confirmed"


class DisputedLine(NamedTuple):
    """One line the account disputes: a document number on the statement (or "" for a
    document it misses), and why."""

    number: str
    reason: str


def check_dispute(status: str, shown_hash: str, current_hash: str, issued_hash: str,
                  lines: Iterable[DisputedLine], numbers_on_statement: Iterable[str]) -> str:
    _check_answerable(status, shown_hash, current_hash, issued_hash)
    lines = list(lines)
    if not lines:
        raise ReconciliationError("nothing_disputed")
    known = set(numbers_on_statement)
    seen = set()
    for n, line in enumerate(lines, start=1):
        if not (line.reason or "").strip():
            raise ReconciliationError("dispute_reason_required", line=n, number=line.number)
        if line.number:
            if line.number not in known:
                raise ReconciliationError("not_on_statement", number=line.number)
            if line.number in seen:
                raise ReconciliationError("disputed_twice", number=line.number)
            seen.add(line.number)
    return "disputed"


def status_after_answer(open_items_left: int) -> str:
    """Answering a disputed line: when none is left open, the statement is re-issued."""
    if open_items_left < 0:
        raise ValueError("open_items_left must not be negative")
    return "disputed" if open_items_left else "issued"


def check_reissue(status: str):
    if status == "confirmed":
        raise ReconciliationError("already_confirmed")


class PassThrough(NamedTuple):
    """Policy payouts (兑现政策) the company credited a distributor for one dealer, against
    what the distributor credited that dealer in turn (both net of reversals, through a date)."""

    dealer_id: int
    received_fen: int
    passed_fen: int

    @property
    def gap_fen(self) -> int:
        """What the distributor still owes the dealer (negative: it passed on more)."""
        return self.received_fen - self.passed_fen

    @property
    def flagged(self) -> bool:
        return self.gap_fen > 0


def pass_through(received: dict[int, int], passed: dict[int, int]) -> list[PassThrough]:
    """One row per dealer that received or was passed anything, largest gap first."""
    rows = [PassThrough(d, received.get(d, 0), passed.get(d, 0)) for d in set(received) | set(passed)]
    return sorted(rows, key=lambda r: (-r.gap_fen, r.dealer_id))
