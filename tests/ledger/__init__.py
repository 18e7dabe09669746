"""Ledger service tests, and the few helpers they share.

Every helper that writes runs one transaction the way a request does: `begin_write()`, the
service, `db.session.commit()`; on a refusal it rolls back, so the session is clean again.
Call them inside `with app.app_context():`.
"""
from datetime import date
from itertools import count

from hypothesis import strategies as st
from sqlalchemy import func, select

from channel.auth.models import User
from channel.core.money import parse_amount
from channel.core.periods import Month
from channel.extensions import db
from channel.ledger import services
from channel.ledger.models import Document, DocumentLine, LedgerEntry
from channel.ledger.services import LineInput
from channel.masterdata.models import Account, Product
from channel.transactions import begin_write

__all__ = ["LineInput", "Month", "yuan", "account", "product", "user", "post", "reverse", "close",
           "reopen", "counts", "new_account", "entries_sum", "written", "Calendar", "WINDOW",
           "documents", "on", "call", "signed"]


def yuan(text: str) -> int:
    """"28.80" -> 2880 fen: amounts in the tests read as they print on a statement."""
    return parse_amount(text)


def account(code: str) -> Account:
    return db.session.execute(select(Account).where(Account.code == code)).scalar_one()


def product(code: str) -> Product:
    return db.session.execute(select(Product).where(Product.code == code)).scalar_one()


def user(username: str = "finance") -> User:
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def written(fn, *args, **kw):
    """fn(*args, **kw) in one write transaction: committed, or rolled back if it raises."""
    begin_write()
    try:
        result = fn(*args, **kw)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def post(**kw) -> services.PostResult:
    """post_document in its own transaction; `account` may be given as a code, `by` defaults to
    the finance user."""
    def go():
        if isinstance(kw.get("account"), str):
            kw["account"] = account(kw["account"])
        kw.setdefault("by", user("finance"))
        return services.post_document(**kw)
    return written(go)


def reverse(document, *, on, reason="录入错误 wrong entry", by=None):
    return written(lambda: services.reverse_document(document, reason=reason, on=on,
                                                     by=by or user("finance")))


def close(month: Month, *, today=None, by=None):
    today = today or month.next().last_day
    return written(lambda: services.close_period(month, by=by or user("finance"), today=today))


def reopen(month: Month, *, reason="补录漏记单据 a missed document", by=None):
    return written(lambda: services.reopen_period(month, reason=reason, by=by or user("admin")))


def counts() -> tuple[int, int, int]:
    """(documents, ledger entries, document lines): what a refusal must leave unchanged."""
    return tuple(db.session.execute(select(func.count()).select_from(model)).scalar_one()
                 for model in (Document, LedgerEntry, DocumentLine))


_codes = count(1)


def new_account(*, supplier: str | None = None, limit_fen: int = 10**12, status="active",
                prefix="T") -> Account:
    """A fresh account (a dealer of `supplier`, or a distributor of the company) with no entries."""
    def go():
        region = account("GD-BJ01").region
        sup = account(supplier) if supplier else None
        acc = Account(code=f"{prefix}-{next(_codes):06d}", name="测试客户 test account",
                      kind="dealer" if sup else "distributor", region=region, supplier=sup,
                      credit_limit_fen=limit_fen, payment_terms_days=30, status=status)
        db.session.add(acc)
        db.session.flush()
        return acc
    acc = written(go)
    return db.session.get(Account, acc.id)


def entries_sum(acc, upto=None) -> int:
    """The plain sum of an account's entries (up to a date): what every balance must equal."""
    stmt = select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(
        LedgerEntry.account_id == getattr(acc, "id", acc))
    if upto is not None:
        stmt = stmt.where(LedgerEntry.entry_date <= upto)
    return int(db.session.execute(stmt).scalar_one())


# --- for the hypothesis tests (test_properties, test_stateful) ----------------------------------

PRODUCTS = ("P-W550", "P-GT500", "P-CL330", "P-MT250", "P-OLD01")
WINDOW = 3  # months per example


class Calendar:
    """Months for examples that share one database: each window is new, closes go in order."""

    def __init__(self, first=Month(2030, 1)):
        self.free = first
        self.closed = first - 1  # nothing is ever dated before `first`

    def window(self, months=WINDOW) -> Month:
        first = self.free
        self.free = first + months
        return first

    def close_through(self, month: Month):
        while self.closed < month:
            self.closed += 1
            close(self.closed, today=self.closed.next().first_day)


# --- what an example posts ------------------------------------------------------------------

line = st.tuples(st.sampled_from(PRODUCTS), st.integers(1, 500), st.integers(0, 50_000))
documents = st.fixed_dictionaries({
    "kind": st.sampled_from(("shipment", "payment", "return", "rebate", "adjustment", "opening")),
    "month": st.integers(0, WINDOW - 1),
    "day": st.integers(1, 28),
    "amount": st.integers(1, 10**9),
    "direction": st.sampled_from(("debit", "credit")),
    "method": st.sampled_from(("bank_transfer", "cash", "acceptance_bill")),
    "lines": st.lists(line, min_size=1, max_size=3).filter(lambda ls: any(q * p for _, q, p in ls)),
})


def on(doc, first: Month) -> date:
    return (first + doc["month"]).first_day.replace(day=doc["day"])


def call(doc, acc, first: Month, external_ref=None) -> dict:
    """The post_document arguments for a drawn document (the same dict replays the same call)."""
    kw = dict(kind=doc["kind"], account=acc, on=on(doc, first), external_ref=external_ref)
    if doc["kind"] in ("shipment", "return"):
        codes = [c for c, _, _ in doc["lines"]]
        if doc["kind"] == "shipment":  # the discontinued product only comes back
            codes = ["P-W550" if c == "P-OLD01" else c for c in codes]
        kw["lines"] = [LineInput(product(c), q, p) for c, (_, q, p) in zip(codes, doc["lines"])]
    else:
        kw["amount_fen"] = doc["amount"]
    if doc["kind"] == "payment":
        kw["payment_method"] = doc["method"]
    if doc["kind"] in ("adjustment", "opening"):
        kw["direction"] = doc["direction"]
    if doc["kind"] == "adjustment":
        kw["reason"] = "性质测试 property"
    return kw


def signed(kw) -> int:
    """What the document must do to the balance, worked out without the ledger."""
    if kw["kind"] in ("shipment", "return"):
        amount = sum(ln.quantity * ln.unit_price_fen for ln in kw["lines"])
    else:
        amount = kw["amount_fen"]
    debit = kw["kind"] == "shipment" or (
        kw["kind"] in ("adjustment", "opening") and kw["direction"] == "debit")
    return amount if debit else -amount
