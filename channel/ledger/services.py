"""Posting documents, reversing them, closing months, and reading balances and statements.

Services validate, change, flush and audit; the caller commits once (after `begin_write()` from
channel.transactions). Documents post in batches (post_documents, what the import uses; a single
posting is the batch of one), so that a batch costs a few statements, not a few per document.
Balances start from the latest month-end snapshot and add only the entries after it, so that no
balance ever sums the whole history.
"""
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import (
    Date,
    Integer,
    String,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.sql.functions import FunctionElement

from ..audit.services import record
from ..core import ledger as core
from ..core.money import MAX_ABS_FEN
from ..core.periods import MAX_YEAR, Month
from ..db_types import utcnow
from ..extensions import db
from ..masterdata.models import Account, Product
from .models import (
    CREDIT_KINDS,
    DEBIT_KINDS,
    DOCUMENT_KINDS,
    LINE_KINDS,
    PAYMENT_METHODS,
    PREFIXES,
    BalanceSnapshot,
    Document,
    DocumentCounter,
    DocumentLine,
    LedgerEntry,
    Period,
)


class LedgerError(Exception):
    """A posting rule was broken. `code` names it, `field` is the input it concerns, `info`
    carries the figures for the message (fen as int)."""

    def __init__(self, code, field=None, **info):
        super().__init__(code)
        self.code = code
        self.field = field
        self.info = info
        self.index = None  # which input of a batch (post_documents) it concerns
        self.refused = [self]  # a batch: the errors of every refused input, this one first


class DuplicateConflict(LedgerError):
    """The external reference exists already with different content (HTTP 409). `document` is
    the one holding it; for a reference used earlier in the same batch, the planned document
    (its number is what the message needs)."""

    def __init__(self, document, differences):
        super().__init__("external_ref_conflict", "external_ref", number=document.number,
                         fields=", ".join(differences))
        self.document = document
        self.differences = differences


@dataclass(frozen=True)
class LineInput:
    product: Product
    quantity: int
    unit_price_fen: int


@dataclass
class PostResult:
    """What posting one input did. `document` is loaded when first asked for: a batch's caller
    (the import) often needs no more than the numbers."""

    document_id: int
    number: str
    created: bool
    warnings: list = field(default_factory=list)

    @property
    def document(self) -> Document:
        return db.session.get(Document, self.document_id)


# --- periods --------------------------------------------------------------------------------

def period_status(month: Month) -> str:
    row = db.session.get(Period, str(month))
    return row.status if row is not None else "open"


def is_closed(month: Month) -> bool:
    return period_status(month) == "closed"


def last_closed_month(before: Month | None = None) -> Month | None:
    stmt = select(func.max(Period.month)).where(Period.status == "closed")
    if before is not None:
        stmt = stmt.where(Period.month < str(before))
    value = db.session.execute(stmt).scalar_one()
    return Month.parse(value) if value else None


def _closed_months() -> frozenset[str]:
    """Every closed month ("2026-03"), read once per posting (a batch) after the ledger lock."""
    _lock_ledger_for_posting()
    return frozenset(db.session.execute(select(Period.month).where(Period.status == "closed")).scalars())


def _refuse_closed(on: date, closed: frozenset[str]):
    """Nothing is posted into a closed month, nor into an open month before the latest closed
    one (a month left open, without entries, when a later one was closed first): balances start
    from the latest snapshot, which would never see such an entry."""
    month = str(Month.of(on))
    if month in closed:
        raise LedgerError("period_closed", "date", month=month)
    latest = max(closed, default=None)
    if latest is not None and month < latest:
        raise LedgerError("before_closed_period", "date", month=month, closed=latest)


def _lock_ledger_for_posting():
    # PostgreSQL: the lock an INSERT into ledger_entries takes anyway, taken before the period is
    # read. It waits for a close in progress (SHARE ROW EXCLUSIVE), so the period read next is the
    # committed one and a posting racing the close gets "period_closed", not the trigger's raw
    # database error; and a close that starts later waits for this posting to commit.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE ledger_entries IN ROW EXCLUSIVE MODE"))


def _lock_ledger_for_close():
    # PostgreSQL: wait for every transaction that is inserting entries, and keep new ones out
    # until this close commits, so that no entry slips into a month being snapshotted.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE ledger_entries IN SHARE ROW EXCLUSIVE MODE"))


def close_period(month: Month, *, by, today: date):
    if month.last_day >= today:
        raise LedgerError("period_not_ended", "month", month=str(month))
    _lock_ledger_for_close()
    period = db.session.get(Period, str(month))
    if period is not None and period.status == "closed":
        raise LedgerError("period_already_closed", "month", month=str(month))
    prev = month.prev()
    if not is_closed(prev):
        earlier = db.session.execute(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.entry_date < month.first_day)
        ).scalar_one()
        if earlier:
            raise LedgerError("previous_period_open", "month", month=str(month), previous=str(prev))
    if period is None:
        period = Period(month=str(month))
        db.session.add(period)
    period.status = "closed"
    period.closed_at = utcnow()
    period.closed_by_id = getattr(by, "id", None)
    _write_snapshots(month)
    db.session.flush()
    record("period_closed", None, by=by, object_type="periods", label=str(month))
    # Closing a month issues the company's statements of it for reconciliation (对账).
    from ..reconciliation.services import issue_after_close

    issue_after_close(month, by=by, today=today)
    return period


def _write_snapshots(month: Month):
    prev = {a: c for a, c in db.session.execute(
        select(BalanceSnapshot.account_id, BalanceSnapshot.closing_fen)
        .where(BalanceSnapshot.month == str(month.prev()))
    ).all()}
    if not prev:
        # No snapshot for the month before: this is the first close, so start from the beginning.
        start = None
    else:
        start = month.first_day
    stmt = select(
        LedgerEntry.account_id,
        func.coalesce(func.sum(case((LedgerEntry.amount_fen > 0, LedgerEntry.amount_fen), else_=0)), 0),
        func.coalesce(func.sum(case((LedgerEntry.amount_fen < 0, -LedgerEntry.amount_fen), else_=0)), 0),
    ).where(LedgerEntry.entry_date <= month.last_day).group_by(LedgerEntry.account_id)
    if start is not None:
        stmt = stmt.where(LedgerEntry.entry_date >= start)
    moved = {a: (int(d), int(c)) for a, d, c in db.session.execute(stmt).all()}
    db.session.execute(delete(BalanceSnapshot).where(BalanceSnapshot.month == str(month)))
    rows = []
    for account_id in set(prev) | set(moved):
        debit, credit = moved.get(account_id, (0, 0))
        opening = prev.get(account_id, 0) if start is not None else 0
        rows.append({"account_id": account_id, "month": str(month), "debit_fen": debit,
                     "credit_fen": credit, "closing_fen": opening + debit - credit})
    if rows:
        db.session.execute(insert(BalanceSnapshot), rows)


def reopen_period(month: Month, *, reason: str, by):
    if not (reason or "").strip():
        raise LedgerError("reason_required", "reason")
    period = db.session.get(Period, str(month))
    if period is None or period.status != "closed":
        raise LedgerError("period_not_closed", "month", month=str(month))
    later = last_closed_month()
    if later is not None and later != month:
        raise LedgerError("later_period_closed", "month", month=str(month), later=str(later))
    period.status = "open"
    period.reopened_at = utcnow()
    period.reopened_by_id = getattr(by, "id", None)
    period.reopen_reason = reason.strip()
    db.session.execute(delete(BalanceSnapshot).where(BalanceSnapshot.month == str(month)))
    db.session.flush()
    record("period_reopened", None, by=by, object_type="periods", label=str(month), reason=reason.strip())
    return period


# --- balances -------------------------------------------------------------------------------

LAST_DAY = Month(MAX_YEAR, 12).last_day  # no entry is dated later: "on" for every entry
DAWN = date(1, 1, 1)


def _through(on: date) -> str:
    """The latest month whose snapshot may answer for the end of day `on`: its own month when
    `on` is its last day, else the month before."""
    month = Month.of(on)
    return str(month if on == month.last_day else month.prev())


@cache
def _base_month():
    """The month a balance starts from: the latest closed month up to the bound `through`
    ("2026-03"; NULL when none). Its snapshot holds everything up to its last day."""
    return (select(func.max(Period.month))
            .where(Period.status == "closed", Period.month <= bindparam("through")))


def balances_at(on: date | None = None, account_ids=None) -> dict[int, int]:
    """{account id: balance} at the end of day `on` (None: including every entry). Accounts
    without any entry are left out (their balance is 0). The base month is read first: with the
    dates known, the engines plan the scan over all accounts' entries well, and it is skipped
    when the snapshot is the answer."""
    on = on or LAST_DAY
    base = db.session.execute(_base_month(), {"through": _through(on)}).scalar_one()
    result: dict[int, int] = {}
    if base is not None:
        stmt = (select(BalanceSnapshot.account_id, BalanceSnapshot.closing_fen)
                .where(BalanceSnapshot.month == base))
        if account_ids is not None:
            stmt = stmt.where(BalanceSnapshot.account_id.in_(account_ids))
        result.update({a: int(c) for a, c in db.session.execute(stmt).all()})
    start = Month.parse(base).next().first_day if base is not None else DAWN
    if start > on:
        return result  # the snapshot is the answer: nothing to add after it
    stmt = (select(LedgerEntry.account_id, func.sum(LedgerEntry.amount_fen)).group_by(LedgerEntry.account_id)
            .where(LedgerEntry.entry_date >= start, LedgerEntry.entry_date <= on))
    if account_ids is not None:
        stmt = stmt.where(LedgerEntry.account_id.in_(account_ids))
    for account_id, moved in db.session.execute(stmt).all():
        result[account_id] = result.get(account_id, 0) + int(moved)
    return result


class _first_day_after(FunctionElement):
    """The first day of the month after a "YYYY-MM" month, in SQL: where the entries after a
    month-end snapshot start. Each engine does month arithmetic in its own words."""

    type = Date()
    name = "first_day_after"
    inherit_cache = True


@compiles(_first_day_after, "sqlite")
def _first_day_after_sqlite(element, compiler, **kw):
    # Dates are ISO text on SQLite: the result compares with entry_date as stored.
    return f"date({compiler.process(element.clauses, **kw)} || '-01', '+1 month')"


@compiles(_first_day_after, "postgresql")
def _first_day_after_postgresql(element, compiler, **kw):
    # Cast back to DATE, or entry_date would be compared as a timestamp and lose its index.
    month = compiler.process(element.clauses, **kw)
    return f"CAST(CAST({month} || '-01' AS DATE) + INTERVAL '1 month' AS DATE)"


@cache
def _balance_statement():
    """One account's balance in one round trip, for the binds `account`, `through` and `on`: the
    base month's snapshot plus the entries after that month up to `on`, as scalar subqueries (the
    base month one of them too), built once."""
    base = _base_month().scalar_subquery()
    account = bindparam("account")
    snapshot = select(BalanceSnapshot.closing_fen).where(BalanceSnapshot.account_id == account,
                                                         BalanceSnapshot.month == base).scalar_subquery()
    moved = select(func.sum(LedgerEntry.amount_fen)).where(
        LedgerEntry.account_id == account,
        LedgerEntry.entry_date >= func.coalesce(_first_day_after(base), DAWN),
        LedgerEntry.entry_date <= bindparam("on", type_=Date())).scalar_subquery()
    return select(func.coalesce(snapshot, 0) + func.coalesce(moved, 0))


def balance_at(account, on: date | None = None) -> int:
    """One account's balance at the end of day `on` (None: including every entry): balances_at
    for one account, in one statement (a single balance is asked for far more often)."""
    on = on or LAST_DAY
    params = {"account": getattr(account, "id", account), "through": _through(on), "on": on}
    return int(db.session.execute(_balance_statement(), params).scalar_one())


def current_balance(account) -> int:
    """Everything posted, whatever its date: what credit control looks at."""
    return balance_at(account, None)


def entries_between(account, start: date | None, end: date | None):
    """(entry, document) pairs of one account, in date order."""
    stmt = (select(LedgerEntry, Document).join(Document, LedgerEntry.document_id == Document.id)
            .where(LedgerEntry.account_id == getattr(account, "id", account))
            .order_by(LedgerEntry.entry_date, LedgerEntry.id))
    if start is not None:
        stmt = stmt.where(LedgerEntry.entry_date >= start)
    if end is not None:
        stmt = stmt.where(LedgerEntry.entry_date <= end)
    return db.session.execute(stmt).all()


@cache
def _statement_entries():
    """One account's entries of a date range with what a statement line shows, built once.
    Plain columns, not ORM objects: a statement is read far more often than it is written."""
    original = aliased(Document)
    return (select(LedgerEntry.entry_date, LedgerEntry.id, LedgerEntry.amount_fen, Document.number,
                   Document.kind, Document.memo, Document.reason, original.number)
            .join(Document, LedgerEntry.document_id == Document.id)
            .outerjoin(original, Document.reversal_of_id == original.id)
            .where(LedgerEntry.account_id == bindparam("account"),
                   LedgerEntry.entry_date >= bindparam("start", type_=Date()),
                   LedgerEntry.entry_date <= bindparam("end", type_=Date()))
            .order_by(LedgerEntry.entry_date, LedgerEntry.id))


def statement(account, month: Month) -> core.Statement:
    opening = balance_at(account, month.first_day - timedelta(days=1))
    rows = db.session.execute(_statement_entries(), {"account": getattr(account, "id", account),
                                                      "start": month.first_day, "end": month.last_day})
    entries = []
    for on, seq, amount, number, kind, memo, reason, reversed_number in rows:
        description = memo or ""
        if reversed_number is not None:
            description = f"↩ {reversed_number}" + (f" {reason}" if reason else "")
        entries.append(core.Entry(on=on, number=number, kind=kind, amount_fen=amount,
                                  description=description, seq=seq))
    return core.build_statement(month, opening, entries)


def _ageing_entries(account, as_of: date):
    rows = entries_between(account, None, as_of)
    numbers = {d.id: d.number for _, d in rows}
    return [core.Entry(on=e.entry_date, number=d.number, kind=d.kind, amount_fen=e.amount_fen, seq=e.id,
                       reverses=numbers.get(d.reversal_of_id, "") if d.reversal_of_id else "")
            for e, d in rows]


def ageing(account, as_of: date) -> core.Ageing:
    return core.age(_ageing_entries(account, as_of), as_of)


def overdue(account, as_of: date) -> int:
    return core.overdue_fen(_ageing_entries(account, as_of), as_of, account.payment_terms_days)


# --- posting --------------------------------------------------------------------------------

@dataclass(frozen=True)
class DocumentInput:
    """One document to post: what post_document takes. `account` and the lines' products are
    loaded objects, amounts are fen; `amount_fen` is left out for kinds with lines."""

    kind: str
    account: Account
    on: date
    amount_fen: int | None = None
    lines: tuple = ()
    direction: str | None = None
    external_ref: str | None = None
    memo: str | None = None
    payment_method: str | None = None
    bank_ref: str | None = None
    reason: str | None = None
    override_reason: str | None = None
    for_account: Account | None = None  # a company rebate meant for this dealer of the distributor
    passes_on: Document | None = None  # a distributor's rebate passing this company payout on

    def normalised(self) -> "DocumentInput":
        """Texts stripped, blank ones None; payment fields only on payments. Normalised before
        the replay comparison too: stored stripped, a retry with the same " BT001 " must compare
        equal to what was stored, not be a 409."""
        payment = self.kind == "payment"
        return replace(self, lines=tuple(self.lines), external_ref=_stripped(self.external_ref),
                       memo=_stripped(self.memo), reason=_stripped(self.reason),
                       override_reason=_stripped(self.override_reason),
                       payment_method=self.payment_method if payment else None,
                       bank_ref=_stripped(self.bank_ref) if payment else None)


def _stripped(value):
    return (value or "").strip() or None


def _chunks(values, size=1000) -> list[list]:
    """A list cut for IN (...): both engines cap the parameters of one statement."""
    values = list(values)
    return [values[i:i + size] for i in range(0, len(values), size)]


def _series(kind, on) -> tuple[str, int] | None:
    """The number series (prefix, year) a document takes its number from; None for an unknown
    kind or a date that is none (refused by _validate)."""
    if kind in PREFIXES and isinstance(on, date):
        return PREFIXES[kind], on.year
    return None


def _number(series, n: int) -> str:
    prefix, year = series
    return f"{prefix}-{year}-{n:06d}"


def _lock_counters(series) -> dict[tuple[str, int], int]:
    """{(prefix, year): last number given} of every series, each locked in one fixed order."""
    return {one: _lock_counter(*one) for one in sorted(set(series) - {None})}


def _lock_counter(prefix: str, year: int) -> int:
    """The last number given in one series, its row locked *before* any account row (PostgreSQL;
    on SQLite the transaction holds the write lock already).

    The counter row stays locked until commit. Taken after the account lock, a transaction
    posting several documents (an import: DL-BJ001, then DL-BJ002) held the counter and waited
    for DL-BJ002, while a single posting held DL-BJ002 and waited for the counter: deadlock.
    Locking the series first, the single posting waits holding nothing.
    The row is created (last_number 0) if this is the year's first document of the kind."""
    lock = (select(DocumentCounter.last_number)
            .where(DocumentCounter.prefix == prefix, DocumentCounter.year == year).with_for_update())
    last = db.session.execute(lock).scalar_one_or_none()
    if last is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(DocumentCounter).values(prefix=prefix, year=year,
                                                                  last_number=0))
            last = 0
        except IntegrityError:  # created by another transaction meanwhile: wait for it, lock it
            last = db.session.execute(lock).scalar_one()
    return last


def _store_counters(last: dict[tuple[str, int], int]):
    """Write back the last number given per series: one UPDATE however many numbers were taken."""
    db.session.execute(update(DocumentCounter), [
        {"prefix": prefix, "year": year, "last_number": n} for (prefix, year), n in last.items()])


def _lock_accounts(ids) -> dict[int, Account]:
    """{id: account}, the rows locked in id order (after the counters), so that postings to one
    account queue up behind each other and two batches never wait for each other crosswise."""
    # FOR NO KEY UPDATE (key_share=True), not FOR UPDATE: it still queues postings to one account,
    # but does not block the FOR KEY SHARE that PostgreSQL takes on a referenced row when a row
    # pointing at it is inserted. With FOR UPDATE a dealer's document (supplier_id -> GD-BJ01)
    # waited for a posting to GD-BJ01 that itself waited for the dealer's document counter:
    # deadlock; and so did a month close inserting snapshots (account_id) against postings
    # waiting for the close's table lock.
    # populate_existing: the locked row's values replace what the session read before the lock
    # (PostgreSQL; on SQLite begin_write's commit has expired them already). Otherwise a request
    # that had loaded the account judged status and credit limit by that earlier read, and
    # shipped to an account an admin had suspended in between.
    accounts = {}
    for chunk in _chunks(sorted(ids)):
        accounts.update((account.id, account) for account in db.session.execute(
            select(Account).where(Account.id.in_(chunk)).order_by(Account.id)
            .with_for_update(key_share=True).execution_options(populate_existing=True)).scalars())
    return accounts


def _direction(kind, direction):
    if kind in DEBIT_KINDS:
        return "debit"
    if kind in CREDIT_KINDS:
        return "credit"
    if direction not in ("debit", "credit"):
        raise LedgerError("direction_required", "direction")
    return direction


def _fingerprint(item: DocumentInput, account, amount_fen, direction):
    return {
        "kind": item.kind, "account": account.code, "date": item.on.isoformat(), "amount": amount_fen,
        "direction": direction,
        "lines": [(ln.product.code, ln.quantity, ln.unit_price_fen) for ln in item.lines],
        "payment_method": item.payment_method or None, "bank_ref": item.bank_ref or None,
        "memo": item.memo or None, "reason": item.reason or None,
        "for_account": item.for_account.code if item.for_account else None,
        "passes_on": item.passes_on.number if item.passes_on else None,
    }


def _document_fingerprint(doc: Document):
    return {
        "kind": doc.kind, "account": doc.account.code, "date": doc.document_date.isoformat(),
        "amount": doc.amount_fen, "direction": doc.direction,
        "lines": [(ln.product.code, ln.quantity, ln.unit_price_fen) for ln in doc.lines],
        "payment_method": doc.payment_method, "bank_ref": doc.bank_ref, "memo": doc.memo,
        "reason": doc.reason, "for_account": doc.for_account.code if doc.for_account else None,
        "passes_on": doc.passes_on.number if doc.passes_on else None,
    }


LOOKUP_SIZES = (1, 10, 100)  # references per lookup statement: a few shapes, each built once


@cache
def _refs_lookup(size: int):
    """One row: for each pair bound as s0, r0 ... (supplier key, external ref), the id of the
    document holding it, or NULL. Each is its own equality lookup on the unique index: asked
    `external_ref IN (...)` instead, SQLite believed its statistics (after ANALYZE, most documents
    share one NULL reference) and scanned the whole table. A shorter list is padded with NULL
    references, which match nothing."""
    def lookup(n):
        return select(Document.id).where(Document.supplier_key == bindparam(f"s{n}", type_=Integer()),
                                         Document.external_ref == bindparam(f"r{n}", type_=String()))

    return select(*[lookup(n).scalar_subquery() for n in range(size)])


def _find_by_refs(keys) -> dict:
    """{(supplier key, external ref): document} of the documents posted with these references,
    their lines loaded for the replay comparison."""
    found = []
    for chunk in _chunks(keys, LOOKUP_SIZES[-1]):
        size = next(size for size in LOOKUP_SIZES if size >= len(chunk))
        chunk += [(0, None)] * (size - len(chunk))
        params = {f"{name}{n}": value for n, pair in enumerate(chunk) for name, value in zip("sr", pair)}
        found += [doc_id for doc_id in db.session.execute(_refs_lookup(size), params).one()
                  if doc_id is not None]
    documents = {}
    for chunk in _chunks(found):
        documents.update(((doc.supplier_key, doc.external_ref), doc) for doc in db.session.execute(
            select(Document).options(selectinload(Document.lines)).where(Document.id.in_(chunk))).scalars())
    return documents


def find_by_external_ref(account, external_ref):
    key = (account.supplier_id or 0, external_ref)
    return _find_by_refs([key]).get(key)


def _validate(kind, account, on, amount_fen, lines, payment_method, reason):
    if kind not in DOCUMENT_KINDS:
        raise LedgerError("kind_unknown", "kind")
    if isinstance(on, datetime) or not isinstance(on, date):  # a timestamp is not a business day
        raise LedgerError("date_required", "date")
    if kind in LINE_KINDS:
        if not lines:
            raise LedgerError("lines_required", "lines")
        for n, line in enumerate(lines, start=1):
            if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity <= 0:
                raise LedgerError("quantity_positive", "lines", line=n)
            if line.quantity > 10_000_000:
                raise LedgerError("quantity_too_large", "lines", line=n)
            if (not isinstance(line.unit_price_fen, int) or isinstance(line.unit_price_fen, bool)
                    or line.unit_price_fen < 0):
                raise LedgerError("price_not_negative", "lines", line=n)
        amount_fen = sum(line.quantity * line.unit_price_fen for line in lines)
    elif lines:
        raise LedgerError("lines_not_allowed", "lines")
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise LedgerError("amount_positive", "amount")
    if amount_fen > MAX_ABS_FEN:
        raise LedgerError("amount_too_large", "amount")
    if kind == "payment" and payment_method not in PAYMENT_METHODS:
        raise LedgerError("payment_method_required", "payment_method")
    if kind == "adjustment" and not (reason or "").strip():
        raise LedgerError("reason_required", "reason")
    return amount_fen


def _refuse_policy_link(item: DocumentInput, account):
    """A payout for a dealer goes to the dealer's own general distributor; a pass-on goes from
    that distributor to that dealer, of a payout meant for it (the database checks it too)."""
    if item.for_account is None and item.passes_on is None:
        return
    if item.kind != "rebate":
        raise LedgerError("policy_link_rebates_only", "kind")
    if item.for_account is not None and (account.supplier_id is not None
                                         or item.for_account.supplier_id != account.id):
        raise LedgerError("for_account_not_dealer", "for_account", account=account.code,
                          dealer=item.for_account.code)
    payout = item.passes_on
    if payout is not None and (payout.for_account_id != account.id or payout.account_id != account.supplier_id
                               or payout.reversal_of_id is not None):
        raise LedgerError("pass_on_mismatch", "passes_on", number=payout.number, account=account.code)


def _reconciliation_holds(account_ids) -> dict:
    """{account id: ("warn" | "hold", month)} for company accounts whose reconciliation is overdue."""
    if not account_ids:
        return {}
    from ..reconciliation.services import shipment_holds

    return shipment_holds(account_ids)


def _passed_on(payout_ids) -> dict:
    """{payout id: fen passed on so far} and {("reversed", payout id): True} for reversed payouts;
    read under the dealer's lock, which every pass-on of a payout takes (it names one dealer)."""
    if not payout_ids:
        return {}
    signed = func.sum(case((Document.direction == "credit", Document.amount_fen), else_=-Document.amount_fen))
    passed = dict(db.session.execute(select(Document.passes_on_id, signed).where(
        Document.passes_on_id.in_(list(payout_ids))).group_by(Document.passes_on_id)).all())
    passed = {k: int(v) for k, v in passed.items()}
    for original in db.session.execute(select(Document.reversal_of_id).where(
            Document.reversal_of_id.in_(list(payout_ids)))).scalars():
        passed[("reversed", original)] = True
    return passed


def _refuse_unshippable(kind, account, lines):
    """What the account's status and the catalogue allow today. Checked after the replay lookup:
    the ERP retrying a shipment posted while the account was active (or the product on sale)
    gets that document back, as every replay does, not an error."""
    if kind != "shipment":
        return
    for n, line in enumerate(lines, start=1):
        if not line.product.active:
            raise LedgerError("product_inactive", "lines", line=n, product=line.product.code)
    if account.status != "active":
        raise LedgerError("account_suspended", "account", account=account.code)


@dataclass
class _New:
    """A document the batch writes: its number, and what it does to the account's balance."""

    item: DocumentInput
    account: Account
    amount_fen: int
    direction: str
    fingerprint: dict | None  # for a later input with the same external reference
    number: str
    warnings: list
    document_id: int | None = None  # once written

    @property
    def signed_fen(self) -> int:
        return self.amount_fen if self.direction == "debit" else -self.amount_fen

    def row(self, by_id, now) -> dict:
        item, account = self.item, self.account
        return {"number": self.number, "kind": item.kind, "direction": self.direction,
                "account_id": account.id, "supplier_id": account.supplier_id,
                "supplier_key": account.supplier_id or 0, "document_date": item.on,
                "amount_fen": self.amount_fen, "external_ref": item.external_ref,
                "payment_method": item.payment_method, "bank_ref": item.bank_ref, "reason": item.reason,
                "memo": item.memo, "created_by_id": by_id, "created_at": now,
                "for_account_id": getattr(item.for_account, "id", None),
                "passes_on_id": getattr(item.passes_on, "id", None),
                "credit_override_reason": item.override_reason if "credit_override" in self.warnings else None}


def _replay(earlier, wanted: dict):
    """The document posted before with this reference (or earlier in the batch) if its content
    is the same; a 409 naming what differs if not."""
    have = earlier.fingerprint if isinstance(earlier, _New) else _document_fingerprint(earlier)
    differences = [k for k in wanted if wanted[k] != have[k]]
    if differences:
        raise DuplicateConflict(earlier, differences)
    return earlier


class _Plan:
    """What a batch does, input by input: each judged by post_document's rules as if posted on
    its own after the inputs before it in the same transaction (a reference posted earlier in the
    batch is a replay; a shipment's credit check sees the balance the earlier inputs leave). The
    period state, the existing references and the balances are read once. A refused input is
    recorded in `errors` and changes nothing, so that a caller can list every refusal."""

    def __init__(self, items, accounts, last_numbers):
        self.accounts = accounts
        self.last = dict(last_numbers)
        self.known = _find_by_refs({self._ref_key(item) for item in items if item.external_ref})
        self.closed = _closed_months()
        shipping = {item.account.id for item in items if item.kind == "shipment"}
        self.balances = balances_at(None, shipping) if shipping else {}
        self.holds = _reconciliation_holds({i for i in shipping if accounts[i].supplier_id is None})
        self.passed = _passed_on({item.passes_on.id for item in items if item.passes_on is not None})
        self.outcomes = []  # per input: (_New or the earlier document, created)
        self.errors = []
        for index, item in enumerate(items):
            try:
                self.outcomes.append(self._judge(item))
            except LedgerError as err:
                err.index = index
                self.errors.append(err)

    @property
    def new(self) -> list[_New]:
        return [target for target, created in self.outcomes if created]

    def _ref_key(self, item):
        return self.accounts[item.account.id].supplier_id or 0, item.external_ref

    def refs_taken_meanwhile(self) -> bool:
        """Whether another transaction has committed the reference of a document this plan
        would write (PostgreSQL: a posting to another account of the same supplier)."""
        return bool(_find_by_refs({self._ref_key(one.item) for one in self.new
                                   if one.item.external_ref is not None}))

    def _judge(self, item: DocumentInput):
        account = self.accounts[item.account.id]
        amount_fen = _validate(item.kind, account, item.on, item.amount_fen, item.lines,
                               item.payment_method, item.reason)
        direction = _direction(item.kind, item.direction)
        fingerprint = _fingerprint(item, account, amount_fen, direction) if item.external_ref else None
        if item.external_ref is not None and self._ref_key(item) in self.known:
            return _replay(self.known[self._ref_key(item)], fingerprint), False
        _refuse_unshippable(item.kind, account, item.lines)
        _refuse_closed(item.on, self.closed)
        _refuse_policy_link(item, account)
        if item.passes_on is not None:
            self._take_from_payout(item.passes_on, amount_fen)
        warnings = self._credit_check(item, account, amount_fen)
        if item.kind == "shipment" and account.id in self.holds:
            action, month = self.holds[account.id]
            if action == "hold":
                raise LedgerError("reconciliation_hold", "account", account=account.code, month=month)
            warnings.append("reconciliation_overdue")
        series = _series(item.kind, item.on)
        self.last[series] += 1
        new = _New(item, account, amount_fen, direction, fingerprint, _number(series, self.last[series]),
                   warnings)
        self.balances[account.id] = self.balances.get(account.id, 0) + new.signed_fen
        if item.external_ref is not None:
            self.known[self._ref_key(item)] = new
        return new, True

    def _take_from_payout(self, payout: Document, amount_fen: int):
        """A pass-on may not give the dealer more of a payout than is left of it."""
        received = 0 if self.passed.get(("reversed", payout.id)) else payout.amount_fen
        left = received - self.passed.get(payout.id, 0)
        if amount_fen > left:
            raise LedgerError("pass_on_exceeds", "amount", number=payout.number, left=max(left, 0))
        self.passed[payout.id] = self.passed.get(payout.id, 0) + amount_fen

    def _credit_check(self, item, account, amount_fen) -> list:
        if item.kind != "shipment":
            return []
        check = core.credit_check(self.balances.get(account.id, 0), account.credit_limit_fen, amount_fen)
        if check.allowed:
            return []
        if item.override_reason is None:
            raise LedgerError("credit_limit", "amount", limit=check.credit_limit_fen,
                              balance=check.balance_fen, shortfall=check.shortfall_fen)
        return ["credit_override"]

    def write(self, last_numbers, by):
        """The new documents, their lines and entries, one INSERT per table executed for all the
        rows (on the tables: no ORM objects are built for rows nobody may look at), and each
        number series moved on once. One timestamp for the batch: it posts in one transaction."""
        new = self.new
        if not new:
            return
        _store_counters({series: n for series, n in self.last.items() if n != last_numbers[series]})
        by_id, now = getattr(by, "id", None), utcnow()
        documents = Document.__table__
        # The ids are read back by number rather than RETURNING: with RETURNING, the rows go as
        # multi-row statements with thousands of parameters, which psycopg parses in Python and
        # PostgreSQL plans anew, where one short INSERT runs many times, prepared once (and
        # SQLAlchemy, asked to keep the rows' order, sends one statement per row on SQLite).
        db.session.execute(insert(documents), [one.row(by_id, now) for one in new])
        ids = {}
        for chunk in _chunks(one.number for one in new):
            ids.update(db.session.execute(select(documents.c.number, documents.c.id)
                                          .where(documents.c.number.in_(chunk))).all())
        lines, entries = [], []
        for one in new:
            one.document_id = document_id = ids[one.number]
            lines.extend({"document_id": document_id, "line_no": n, "product_id": line.product.id,
                          "quantity": line.quantity, "unit_price_fen": line.unit_price_fen,
                          "amount_fen": line.quantity * line.unit_price_fen}
                         for n, line in enumerate(one.item.lines, start=1))
            entries.append({"account_id": one.account.id, "document_id": document_id,
                            "entry_date": one.item.on, "kind": one.item.kind, "amount_fen": one.signed_fen,
                            "posted_at": now, "posted_by_id": by_id})
        if lines:
            db.session.execute(insert(DocumentLine.__table__), lines)
        db.session.execute(insert(LedgerEntry.__table__), entries)

    def results(self) -> list[PostResult]:
        return [PostResult(target.document_id, target.number, created=True, warnings=target.warnings)
                if created else PostResult(target.document_id if isinstance(target, _New) else target.id,
                                           target.number, created=False)
                for target, created in self.outcomes]


def post_documents(inputs, *, by) -> list[PostResult]:
    """Post many documents (DocumentInput) in the caller's transaction, each with its one ledger
    entry, by exactly post_document's rules (post_document is the batch of one), in input order.

    The cost is per batch, not per document: one lock and one number bump per series, every
    account locked once, the periods, the existing references and the balances read once, and
    multi-row INSERTs. Any refused input refuses the whole batch and nothing is written: the
    LedgerError of the first refused input is raised, `index` naming it, `refused` listing every
    refused input's error. A replay (an external reference posted before, or earlier in the batch,
    with the same content) gives that document with created=False."""
    items = [item.normalised() for item in inputs]
    last_numbers = _lock_counters(_series(item.kind, item.on) for item in items)  # before the accounts
    accounts = _lock_accounts({item.account.id for item in items})
    while True:
        plan = _Plan(items, accounts, last_numbers)
        if plan.errors:
            plan.errors[0].refused = plan.errors
            raise plan.errors[0]
        try:
            with db.session.begin_nested():
                plan.write(last_numbers, by)
            break
        except IntegrityError:
            # PostgreSQL: the account lock queues postings to one account only, so another account
            # of the same supplier may have committed one of these external references a moment
            # ago (the unique index waited for it). Judge the batch again as if it had been there
            # first: a replay, or a 409.
            if not plan.refs_taken_meanwhile():
                raise
    for one in plan.new:
        if "credit_override" in one.warnings:
            record("credit_override", db.session.get(Document, one.document_id), by=by,
                   reason=one.item.override_reason, label=one.number)
    return plan.results()


def post_document(*, by, **fields) -> PostResult:
    """Post one document (the fields of DocumentInput) and its one ledger entry: the batch of
    one. Replaying the same external reference with the same content returns the existing
    document and posts nothing."""
    return post_documents([DocumentInput(**fields)], by=by)[0]


def reverse_document(document: Document, *, reason: str, on: date, by) -> Document:
    """Post the opposite of `document` dated `on` (an open month). A document is reversed once;
    a reversal is not reversed again (post a new document instead)."""
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError("reason_required", "reason")
    if isinstance(on, datetime) or not isinstance(on, date):  # as in _validate: a TypeError before
        raise LedgerError("date_required", "date")
    series = _series(document.kind, on)
    last = _lock_counters([series])  # before the account, as in post_documents
    _lock_accounts([document.account_id])
    if document.reversal_of_id is not None:
        raise LedgerError("reversal_not_reversible", number=document.number)
    already = db.session.execute(select(Document.number).where(Document.reversal_of_id == document.id)).scalar_one_or_none()
    if already:
        raise LedgerError("already_reversed", number=document.number, reversal=already)
    _refuse_closed(on, _closed_months())
    last[series] += 1
    _store_counters(last)
    reversal = Document(
        number=_number(series, last[series]), kind=document.kind,
        direction="credit" if document.direction == "debit" else "debit",
        account_id=document.account_id, supplier_id=document.supplier_id,
        supplier_key=document.supplier_key, document_date=on, amount_fen=document.amount_fen,
        payment_method=document.payment_method, reason=reason, memo=document.memo,
        reversal_of_id=document.id, created_by_id=getattr(by, "id", None),
        for_account_id=document.for_account_id, passes_on_id=document.passes_on_id,
    )
    number = document.number
    try:
        # Added inside the savepoint: begin_nested() flushes what is pending *before* its
        # SAVEPOINT, so a reversal added before it failed outside the savepoint, and the session
        # was left needing a rollback (PendingRollbackError instead of "already_reversed").
        with db.session.begin_nested():
            db.session.add(reversal)
    except IntegrityError:  # reversed by someone else a moment ago (unique reversal_of_id)
        raise LedgerError("already_reversed", number=number) from None
    for line in document.lines:
        db.session.add(DocumentLine(document_id=reversal.id, line_no=line.line_no, product_id=line.product_id,
                                    quantity=line.quantity, unit_price_fen=line.unit_price_fen,
                                    amount_fen=line.amount_fen))
    db.session.add(LedgerEntry(account_id=reversal.account_id, document_id=reversal.id, entry_date=on,
                               kind=reversal.kind, amount_fen=reversal.signed_fen,
                               posted_by_id=getattr(by, "id", None)))
    db.session.flush()
    record("reversed", document, by=by, reason=reason, label=f"{document.number} → {reversal.number}")
    return reversal
