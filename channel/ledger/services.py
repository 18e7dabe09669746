"""Posting documents, reversing them, closing months, and reading balances and statements.

Services validate, change, flush and audit; the caller commits once (after `begin_write()` from
channel.transactions). Balances start from the latest month-end snapshot and add only the entries
after it, so that no balance ever sums the whole history.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..audit.services import record
from ..core import ledger as core
from ..core.money import MAX_ABS_FEN
from ..core.periods import Month
from ..db_types import utcnow
from ..extensions import db
from ..masterdata.models import Account, Product
from .models import (
    CREDIT_KINDS,
    DEBIT_KINDS,
    DOCUMENT_KINDS,
    EITHER_KINDS,
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


class DuplicateConflict(LedgerError):
    """The external reference exists already with different content (HTTP 409)."""

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
    document: Document
    created: bool
    warnings: list = field(default_factory=list)


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


def _refuse_closed(on: date):
    """Nothing is posted into a closed month, nor into an open month before the latest closed
    one (a month left open, without entries, when a later one was closed first): balances start
    from the latest snapshot, which would never see such an entry."""
    _lock_ledger_for_posting()
    month = Month.of(on)
    if is_closed(month):
        raise LedgerError("period_closed", "date", month=str(month))
    latest = last_closed_month()
    if latest is not None and month < latest:
        raise LedgerError("before_closed_period", "date", month=str(month), closed=str(latest))


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

def _base_month(on: date | None) -> Month | None:
    """The latest closed month that ends on or before `on` (any closed month when on is None)."""
    if on is None:
        return last_closed_month()
    month = Month.of(on)
    if on == month.last_day and is_closed(month):
        return month
    return last_closed_month(before=month)


def balances_at(on: date | None = None, account_ids=None) -> dict[int, int]:
    """{account id: balance} at the end of day `on` (None: including every entry). Accounts
    without any entry are left out (their balance is 0)."""
    base = _base_month(on)
    result: dict[int, int] = {}
    if base is not None:
        stmt = select(BalanceSnapshot.account_id, BalanceSnapshot.closing_fen).where(
            BalanceSnapshot.month == str(base))
        if account_ids is not None:
            stmt = stmt.where(BalanceSnapshot.account_id.in_(account_ids))
        result.update({a: int(c) for a, c in db.session.execute(stmt).all()})
    if base is not None and on is not None and on <= base.last_day:
        return result  # the snapshot is the answer: nothing to add after it
    stmt = select(LedgerEntry.account_id, func.sum(LedgerEntry.amount_fen)).group_by(LedgerEntry.account_id)
    if base is not None:
        stmt = stmt.where(LedgerEntry.entry_date > base.last_day)
    if on is not None:
        stmt = stmt.where(LedgerEntry.entry_date <= on)
    if account_ids is not None:
        stmt = stmt.where(LedgerEntry.account_id.in_(account_ids))
    for account_id, moved in db.session.execute(stmt).all():
        result[account_id] = result.get(account_id, 0) + int(moved)
    return result


def balance_at(account, on: date | None = None) -> int:
    account_id = getattr(account, "id", account)
    base = _base_month(on)
    snapshot = 0
    if base is not None:
        snapshot = db.session.execute(
            select(BalanceSnapshot.closing_fen).where(BalanceSnapshot.account_id == account_id,
                                                      BalanceSnapshot.month == str(base))
        ).scalar_one_or_none() or 0
    if base is not None and on is not None and on <= base.last_day:
        return int(snapshot)
    stmt = select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(LedgerEntry.account_id == account_id)
    if base is not None:
        stmt = stmt.where(LedgerEntry.entry_date > base.last_day)
    if on is not None:
        stmt = stmt.where(LedgerEntry.entry_date <= on)
    return int(snapshot) + int(db.session.execute(stmt).scalar_one())


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


def statement(account, month: Month) -> core.Statement:
    opening = balance_at(account, month.first_day - timedelta(days=1))
    # Plain columns, not ORM objects: a statement is read far more often than it is written.
    original = aliased(Document)
    rows = db.session.execute(
        select(LedgerEntry.entry_date, LedgerEntry.id, LedgerEntry.amount_fen, Document.number, Document.kind,
               Document.memo, Document.reason, original.number)
        .join(Document, LedgerEntry.document_id == Document.id)
        .outerjoin(original, Document.reversal_of_id == original.id)
        .where(LedgerEntry.account_id == getattr(account, "id", account),
               LedgerEntry.entry_date >= month.first_day, LedgerEntry.entry_date <= month.last_day)
        .order_by(LedgerEntry.entry_date, LedgerEntry.id)
    ).all()
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

def _next_number(kind: str, year: int) -> str:
    prefix = PREFIXES[kind]
    bump = (update(DocumentCounter)
            .where(DocumentCounter.prefix == prefix, DocumentCounter.year == year)
            .values(last_number=DocumentCounter.last_number + 1)
            .returning(DocumentCounter.last_number))
    number = db.session.execute(bump).scalar_one_or_none()
    if number is None:
        try:
            with db.session.begin_nested():
                db.session.add(DocumentCounter(prefix=prefix, year=year, last_number=1))
            number = 1
        except IntegrityError:  # another transaction created this year's counter first
            number = db.session.execute(bump).scalar_one()
    return f"{prefix}-{year}-{number:06d}"


def _lock_counter(kind, on):
    """PostgreSQL: lock the number series (prefix, year) *before* the account row.

    The counter row stays locked until commit once a number is taken. Taken after the account
    lock, a transaction posting several documents (an import: DL-BJ001, then DL-BJ002) held the
    counter and waited for DL-BJ002, while a single posting held DL-BJ002 and waited for the
    counter: deadlock. Locking the series first, the single posting waits holding nothing.
    The row is created (last_number 0) if this is the year's first document of the kind."""
    if db.session.get_bind().dialect.name != "postgresql" or kind not in PREFIXES or not isinstance(on, date):
        return
    key = (DocumentCounter.prefix == PREFIXES[kind], DocumentCounter.year == on.year)
    lock = select(DocumentCounter.last_number).where(*key).with_for_update()
    if db.session.execute(lock).first() is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(DocumentCounter).values(prefix=PREFIXES[kind], year=on.year,
                                                                  last_number=0))
        except IntegrityError:  # created by another transaction meanwhile: wait for it, lock it
            db.session.execute(lock).one()


def _lock_account(account) -> Account:
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
    return db.session.execute(
        select(Account).where(Account.id == account.id).with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one()


def _direction(kind, direction):
    if kind in DEBIT_KINDS:
        return "debit"
    if kind in CREDIT_KINDS:
        return "credit"
    if direction not in ("debit", "credit"):
        raise LedgerError("direction_required", "direction")
    return direction


def _fingerprint(kind, account, on, amount_fen, direction, lines, payment_method, bank_ref, memo, reason):
    return {
        "kind": kind, "account": account.code, "date": on.isoformat(), "amount": amount_fen,
        "direction": direction,
        "lines": [(ln.product.code, ln.quantity, ln.unit_price_fen) for ln in lines],
        "payment_method": payment_method or None, "bank_ref": bank_ref or None,
        "memo": memo or None, "reason": reason or None,
    }


def _document_fingerprint(doc: Document):
    return {
        "kind": doc.kind, "account": doc.account.code, "date": doc.document_date.isoformat(),
        "amount": doc.amount_fen, "direction": doc.direction,
        "lines": [(ln.product.code, ln.quantity, ln.unit_price_fen) for ln in doc.lines],
        "payment_method": doc.payment_method, "bank_ref": doc.bank_ref, "memo": doc.memo,
        "reason": doc.reason,
    }


def find_by_external_ref(account, external_ref):
    return db.session.execute(
        select(Document).where(Document.supplier_key == (account.supplier_id or 0),
                               Document.external_ref == external_ref)
    ).scalar_one_or_none()


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


def post_document(*, kind, account, on, by, amount_fen=None, lines=(), direction=None,
                  external_ref=None, memo=None, payment_method=None, bank_ref=None, reason=None,
                  override_reason=None) -> PostResult:
    """Post one document and its one ledger entry. Replaying the same external reference with
    the same content returns the existing document and posts nothing."""
    lines = list(lines)
    external_ref = (external_ref or "").strip() or None
    memo = (memo or "").strip() or None
    reason = (reason or "").strip() or None
    # Normalised before the replay comparison too: stored stripped, a retry with the same
    # " BT001 " must compare equal to what was stored, not be a 409.
    bank_ref = (bank_ref or "").strip() or None
    _lock_counter(kind, on)  # before the account: see there
    account = _lock_account(account)  # postings to one account queue up behind each other
    amount_fen = _validate(kind, account, on, amount_fen, lines, payment_method, reason)
    direction = _direction(kind, direction)
    if kind != "payment":
        payment_method = bank_ref = None

    def replay(existing):
        wanted = _fingerprint(kind, account, on, amount_fen, direction, lines, payment_method,
                              bank_ref, memo, reason)
        have = _document_fingerprint(existing)
        differences = [k for k in wanted if wanted[k] != have[k]]
        if differences:
            raise DuplicateConflict(existing, differences)
        return PostResult(existing, created=False)

    if external_ref is not None:
        existing = find_by_external_ref(account, external_ref)
        if existing is not None:
            return replay(existing)
    _refuse_unshippable(kind, account, lines)
    _refuse_closed(on)
    warnings = []
    if kind == "shipment":
        check = core.credit_check(current_balance(account), account.credit_limit_fen, amount_fen)
        if not check.allowed:
            if not (override_reason or "").strip():
                raise LedgerError("credit_limit", "amount", limit=check.credit_limit_fen,
                                  balance=check.balance_fen, shortfall=check.shortfall_fen)
            warnings.append("credit_override")
    document = Document(
        number=_next_number(kind, on.year), kind=kind, direction=direction, account_id=account.id,
        supplier_id=account.supplier_id, supplier_key=account.supplier_id or 0, document_date=on,
        amount_fen=amount_fen, external_ref=external_ref, payment_method=payment_method,
        bank_ref=(bank_ref or "").strip() or None, reason=reason, memo=memo,
        credit_override_reason=(override_reason or "").strip() or None if warnings else None,
        created_by_id=getattr(by, "id", None),
    )
    try:
        with db.session.begin_nested():
            db.session.add(document)
    except IntegrityError:
        # PostgreSQL: the account lock queues postings to one account only, so another account
        # of the same supplier may have committed this external reference a moment ago (the
        # unique index waited for it). Answer as if it had been there first: 409, or a replay.
        existing = find_by_external_ref(account, external_ref) if external_ref else None
        if existing is None:
            raise
        return replay(existing)
    for n, line in enumerate(lines, start=1):
        db.session.add(DocumentLine(document_id=document.id, line_no=n, product_id=line.product.id,
                                    quantity=line.quantity, unit_price_fen=line.unit_price_fen,
                                    amount_fen=line.quantity * line.unit_price_fen))
    db.session.add(LedgerEntry(account_id=account.id, document_id=document.id, entry_date=on, kind=kind,
                               amount_fen=document.signed_fen, posted_by_id=getattr(by, "id", None)))
    db.session.flush()
    if warnings:
        record("credit_override", document, by=by, reason=document.credit_override_reason,
               label=document.number)
    return PostResult(document, created=True, warnings=warnings)


def reverse_document(document: Document, *, reason: str, on: date, by) -> Document:
    """Post the opposite of `document` dated `on` (an open month). A document is reversed once;
    a reversal is not reversed again (post a new document instead)."""
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError("reason_required", "reason")
    if isinstance(on, datetime) or not isinstance(on, date):  # as in _validate: a TypeError before
        raise LedgerError("date_required", "date")
    _lock_counter(document.kind, on)  # before the account, as in post_document
    _lock_account(document.account)
    if document.reversal_of_id is not None:
        raise LedgerError("reversal_not_reversible", number=document.number)
    already = db.session.execute(select(Document.number).where(Document.reversal_of_id == document.id)).scalar_one_or_none()
    if already:
        raise LedgerError("already_reversed", number=document.number, reversal=already)
    _refuse_closed(on)
    reversal = Document(
        number=_next_number(document.kind, on.year), kind=document.kind,
        direction="credit" if document.direction == "debit" else "debit",
        account_id=document.account_id, supplier_id=document.supplier_id,
        supplier_key=document.supplier_key, document_date=on, amount_fen=document.amount_fen,
        payment_method=document.payment_method, reason=reason, memo=document.memo,
        reversal_of_id=document.id, created_by_id=getattr(by, "id", None),
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
