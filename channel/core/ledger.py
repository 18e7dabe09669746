"""Ledger math on plain values: running balances, statements, credit checks, ageing (账龄).

Amounts are signed integer fen: positive is a debit (the account owes more), negative a credit.
A kind does not fix the sign: a reversal (红冲) of a shipment is a negative "shipment".
"""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from .periods import Month

KINDS = ("opening", "shipment", "payment", "return", "rebate", "adjustment")
DEFAULT_BUCKETS = (30, 60, 90)


class Entry(NamedTuple):
    """One posted document's effect on one account's ledger."""

    on: date
    number: str
    kind: str
    amount_fen: int
    description: str = ""
    seq: int = 0  # orders entries within a day
    reverses: str = ""  # the number of the document this entry reverses (红冲), if any


class StatementLine(NamedTuple):
    on: date
    number: str
    kind: str
    description: str
    debit_fen: int
    credit_fen: int
    balance_fen: int


@dataclass(frozen=True)
class Statement:
    """A month's statement (对账单): closing == opening + every line == the last line's balance."""

    period: Month
    opening_fen: int
    lines: tuple[StatementLine, ...]
    totals: dict[str, int]  # kind -> net signed fen; every kind in KINDS, 0 when none
    debit_total_fen: int
    credit_total_fen: int  # a positive number: the sum of the credit column
    closing_fen: int


class CreditCheck(NamedTuple):
    """Whether a shipment fits the credit limit (信用额度), with what the message needs."""

    allowed: bool
    shortfall_fen: int  # how far balance + amount would go over the limit; 0 when allowed
    balance_fen: int
    credit_limit_fen: int
    amount_fen: int

    @property
    def available_fen(self) -> int:
        """What could still be shipped now without going over the limit."""
        return max(0, self.credit_limit_fen - self.balance_fen)


@dataclass(frozen=True)
class Ageing:
    """Outstanding debits by age (账龄) after credits are applied to the oldest debits first.

    `buckets_fen[i]` holds debits aged up to `bounds[i]` days (and over the previous bound);
    the last holds everything older than `bounds[-1]`. Defaults: 0-30, 31-60, 61-90, over 90.
    """

    as_of: date
    bounds: tuple[int, ...]
    buckets_fen: tuple[int, ...]
    total_fen: int  # == max(0, balance)
    unapplied_credit_fen: int  # a prepayment: == max(0, -balance)

    @property
    def labels(self) -> tuple[str, ...]:
        """("0-30", "31-60", "61-90", ">90") for the default bounds."""
        if not self.bounds:
            return ("all",)
        lows = (0,) + tuple(bound + 1 for bound in self.bounds)
        closed = tuple(f"{low}-{high}" for low, high in zip(lows, self.bounds))
        return closed + (f">{self.bounds[-1]}",)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_amount(name: str, value) -> int:
    if not _is_int(value):
        raise TypeError(f"{name} must be integer fen, got {value!r}")
    return value


def _check_date(name: str, value) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a business date (datetime.date), got {value!r}")
    return value


def _checked(entries: Iterable[Entry]) -> list[Entry]:
    """Refuse floats, timestamps and unknown kinds before any arithmetic."""
    result = list(entries)
    for entry in result:
        if not isinstance(entry, Entry):
            raise TypeError(f"not a ledger Entry: {entry!r}")
        _check_date(f"entry {entry.number} date", entry.on)
        _check_amount(f"entry {entry.number} amount", entry.amount_fen)
        if entry.kind not in KINDS:
            raise ValueError(f"entry {entry.number}: unknown kind {entry.kind!r}")
        if not _is_int(entry.seq):
            raise TypeError(f"entry {entry.number}: seq must be an integer")
    return result


def sort_key(entry: Entry) -> tuple[date, int, str]:
    """The one order of a ledger: by date, then seq within the day, then document number."""
    return (entry.on, entry.seq, entry.number)


def running(entries: Iterable[Entry], opening_fen: int) -> list[tuple[Entry, int]]:
    """Each entry with the balance after it, in the order given (the caller sorts)."""
    balance = _check_amount("opening_fen", opening_fen)
    result = []
    for entry in _checked(entries):
        balance += entry.amount_fen
        result.append((entry, balance))
    return result


def balance_from_snapshot(snapshot_fen: int, entries_after: Iterable[Entry]) -> int:
    """A balance is a closed month's snapshot plus what came after: never the whole history."""
    return _check_amount("snapshot_fen", snapshot_fen) + sum(
        e.amount_fen for e in _checked(entries_after))


def build_statement(period: Month, opening_fen: int, entries: Iterable[Entry]) -> Statement:
    """The month's statement; every entry must be dated inside `period`."""
    if not isinstance(period, Month):
        raise TypeError(f"period must be a Month, got {period!r}")
    _check_amount("opening_fen", opening_fen)
    ordered = sorted(_checked(entries), key=sort_key)
    outside = [e for e in ordered if not period.contains(e.on)]
    if outside:
        listed = ", ".join(f"{e.number} ({e.on.isoformat()})" for e in outside[:5])
        raise ValueError(f"{len(outside)} entries outside {period}: {listed}")
    lines = []
    totals = dict.fromkeys(KINDS, 0)
    debit_total = credit_total = 0
    for entry, balance in running(ordered, opening_fen):
        debit = max(entry.amount_fen, 0)
        credit = max(-entry.amount_fen, 0)
        debit_total += debit
        credit_total += credit
        totals[entry.kind] += entry.amount_fen
        lines.append(StatementLine(entry.on, entry.number, entry.kind, entry.description,
                                   debit, credit, balance))
    closing = opening_fen + debit_total - credit_total
    # Two ways to the same number; if they ever differ the statement must not go out.
    if lines and lines[-1].balance_fen != closing:
        raise ArithmeticError("statement closing differs from its running balance")
    return Statement(period, opening_fen, tuple(lines), totals, debit_total, credit_total, closing)


def credit_check(balance_fen: int, credit_limit_fen: int, amount_fen: int) -> CreditCheck:
    """May `amount_fen` more be shipped? Allowed while balance + amount stays within the limit."""
    _check_amount("balance_fen", balance_fen)
    _check_amount("credit_limit_fen", credit_limit_fen)
    _check_amount("amount_fen", amount_fen)
    if amount_fen <= 0:
        raise ValueError("amount_fen must be positive")
    if credit_limit_fen < 0:
        raise ValueError("credit_limit_fen must not be negative")
    over = balance_fen + amount_fen - credit_limit_fen
    return CreditCheck(over <= 0, max(over, 0), balance_fen, credit_limit_fen, amount_fen)


def _open_debits(entries: Iterable[Entry], as_of: date) -> tuple[list[tuple[Entry, int]], int]:
    """FIFO: every credit up to as_of pays the oldest debits first, whatever the credit's date.

    Returns each debit with what is left of it (only those with something left), and the credit
    left over when credits exceed debits.
    """
    _check_date("as_of", as_of)
    known = [e for e in _checked(entries) if e.on <= as_of]
    # A reversal cancels the document it reverses, not the oldest open debit: drop each such
    # pair first, so that a 红冲 never makes an old unpaid invoice look paid.
    # Pairs are matched by identity: an entry never reverses itself, and each original is
    # cancelled at most once, whatever the numbers look like.
    originals: dict[str, list[Entry]] = {}
    for e in known:
        originals.setdefault(e.number, []).append(e)
    dropped: set[int] = set()
    for e in known:
        if not e.reverses or id(e) in dropped:
            continue
        match = next((o for o in originals.get(e.reverses, ())
                      if o is not e and id(o) not in dropped and o.amount_fen == -e.amount_fen),
                     None)
        if match is not None:
            dropped.update((id(e), id(match)))
    known = [e for e in known if id(e) not in dropped]
    pool = sum(-e.amount_fen for e in known if e.amount_fen < 0)
    remaining = []
    for debit in sorted((e for e in known if e.amount_fen > 0), key=sort_key):
        applied = min(pool, debit.amount_fen)
        pool -= applied
        if debit.amount_fen > applied:
            remaining.append((debit, debit.amount_fen - applied))
    return remaining, pool


def age(entries: Iterable[Entry], as_of: date,
        buckets: tuple[int, ...] = DEFAULT_BUCKETS) -> Ageing:
    """Receivables by age in days (as_of - date) after FIFO; entries after as_of are ignored."""
    bounds = tuple(buckets)
    if not all(_is_int(b) and b >= 0 for b in bounds) or any(
            a >= b for a, b in zip(bounds, bounds[1:])):
        raise ValueError(f"buckets must be increasing whole numbers of days, got {buckets!r}")
    remaining, unapplied = _open_debits(entries, as_of)
    amounts = [0] * (len(bounds) + 1)
    for debit, left in remaining:
        days = (as_of - debit.on).days
        slot = next((i for i, bound in enumerate(bounds) if days <= bound), len(bounds))
        amounts[slot] += left
    return Ageing(as_of, bounds, tuple(amounts), sum(amounts), unapplied)


def overdue_fen(entries: Iterable[Entry], as_of: date, terms_days: int) -> int:
    """What is left of debits past their payment terms (账期): date + terms_days < as_of."""
    if not _is_int(terms_days) or terms_days < 0:
        raise ValueError(f"terms_days must be a whole number >= 0, got {terms_days!r}")
    remaining, _ = _open_debits(entries, as_of)
    return sum(left for debit, left in remaining if (as_of - debit.on).days > terms_days)
