"""Documents, their lines, the append-only ledger entries, periods and month-end snapshots.

A document is never edited or deleted: a wrong one is reversed (红冲) by a new document of the
same kind that references it. Every document posts exactly one ledger entry. The database
refuses UPDATE and DELETE on entries, documents and lines, and any entry dated in a closed
month (triggers in migrations/versions/0002_ledger.py).
"""
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

DOCUMENT_KINDS = ("shipment", "payment", "return", "rebate", "adjustment", "opening")
# Number prefixes as Chinese finance staff say them: 发货 退货 回款 返利 调整 期初.
PREFIXES = {"shipment": "FH", "payment": "HK", "return": "TH", "rebate": "FL",
            "adjustment": "TZ", "opening": "QC"}
DEBIT_KINDS = ("shipment",)
CREDIT_KINDS = ("payment", "return", "rebate")
EITHER_KINDS = ("adjustment", "opening")  # direction chosen by the poster
LINE_KINDS = ("shipment", "return")
PAYMENT_METHODS = ("bank_transfer", "cash", "acceptance_bill")
PERIOD_STATUSES = ("open", "closed")

BigId = BigInteger().with_variant(Integer, "sqlite")


class Document(db.Model):
    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint(f"kind IN {DOCUMENT_KINDS!r}", name="kind_known"),
        CheckConstraint("direction IN ('debit', 'credit')", name="direction_known"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("kind <> 'adjustment' OR reason IS NOT NULL", name="adjustment_has_reason"),
        CheckConstraint(
            "kind <> 'payment' OR reversal_of_id IS NOT NULL OR payment_method IS NOT NULL",
            name="payment_has_method",
        ),
        CheckConstraint(f"payment_method IS NULL OR payment_method IN {PAYMENT_METHODS!r}",
                        name="payment_method_known"),
        CheckConstraint("reversal_of_id IS NULL OR reversal_of_id <> id", name="not_own_reversal"),
        # Policy pass-through (兑现政策): only rebates name a dealer they are for, or pass one on.
        CheckConstraint("kind = 'rebate' OR (for_account_id IS NULL AND passes_on_id IS NULL)",
                        name="policy_links_on_rebates"),
        # The ERP's document id is unique per supplier (0 stands for the company).
        UniqueConstraint("supplier_key", "external_ref", name="uq_documents_supplier_external_ref"),
        Index("ix_documents_account_date", "account_id", "document_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(6))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    supplier_key: Mapped[int] = mapped_column(Integer)
    document_date: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    external_ref: Mapped[str | None] = mapped_column(String(64))
    payment_method: Mapped[str | None] = mapped_column(String(20))
    bank_ref: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500))
    memo: Mapped[str | None] = mapped_column(String(500))
    credit_override_reason: Mapped[str | None] = mapped_column(String(500))
    reversal_of_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), unique=True)
    # A company rebate to a general distributor meant for one of its dealers (the distributor
    # must pass it on), and a distributor's rebate to that dealer passing such a rebate on.
    for_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    passes_on_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account = relationship("Account", foreign_keys=[account_id])
    supplier = relationship("Account", foreign_keys=[supplier_id])
    created_by = relationship("User")
    lines = relationship("DocumentLine", back_populates="document", order_by="DocumentLine.line_no")
    reversal_of = relationship("Document", remote_side=[id], back_populates="reversed_by",
                               foreign_keys=[reversal_of_id])
    reversed_by = relationship("Document", back_populates="reversal_of", uselist=False,
                               foreign_keys=[reversal_of_id])
    entry = relationship("LedgerEntry", back_populates="document", uselist=False)
    for_account = relationship("Account", foreign_keys=[for_account_id])
    passes_on = relationship("Document", remote_side=[id], foreign_keys=[passes_on_id])

    @property
    def signed_fen(self) -> int:
        return self.amount_fen if self.direction == "debit" else -self.amount_fen

    def __str__(self):
        return self.number


class DocumentLine(db.Model):
    __tablename__ = "document_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_fen >= 0", name="price_not_negative"),
        CheckConstraint("amount_fen = quantity * unit_price_fen", name="amount_is_quantity_times_price"),
        UniqueConstraint("document_id", "line_no", name="uq_document_lines_document_line_no"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    document = relationship("Document", back_populates="lines")
    product = relationship("Product")


class LedgerEntry(db.Model):
    """One posting: positive is a debit (the account owes more), negative a credit."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="amount_not_zero"),
        # The statement, balance and ageing queries all read one account's entries by date.
        Index("ix_ledger_entries_account_date", "account_id", "entry_date", "id", "amount_fen"),
        Index("ix_ledger_entries_date", "entry_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), unique=True)
    entry_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    document = relationship("Document", back_populates="entry")
    account = relationship("Account")


class Period(db.Model):
    """A month's state. A month with no row is open."""

    __tablename__ = "periods"
    __table_args__ = (CheckConstraint(f"status IN {PERIOD_STATUSES!r}", name="status_known"),)

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-03"
    status: Mapped[str] = mapped_column(String(10), default="open")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopen_reason: Mapped[str | None] = mapped_column(String(500))

    closed_by = relationship("User", foreign_keys=[closed_by_id])


class BalanceSnapshot(db.Model):
    """An account's closing balance of a closed month: balances start here, never at the dawn of time."""

    __tablename__ = "balance_snapshots"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True, index=True)
    closing_fen: Mapped[int] = mapped_column(BigInteger)
    debit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class DocumentCounter(db.Model):
    """The last number given per prefix and year: FH-2026-000123."""

    __tablename__ = "document_counters"

    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
