"""Monthly reconciliations (对账), their issued versions, disputed lines, the conversation, and
released shipment holds.

One reconciliation per account and closed month, issued by the account's supplier (the company,
or its general distributor). Every issue of it is kept as a version with the hash of what was
shown; a confirmation names the hash it agreed to. The database refuses: a reconciliation of an
open month, any change to a confirmed one, an entry into a month an account has confirmed, and
UPDATE/DELETE on versions, events, corrections and releases (migrations/versions/0008).
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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.reconciliation import ITEM_STATUSES, STATUSES
from ..db_types import UTCDateTime, utcnow
from ..extensions import db
from ..ledger.models import BigId

EVENT_KINDS = ("issued", "reissued", "confirmed", "disputed", "explained", "corrected",
               "hold_released")


class Reconciliation(db.Model):
    __tablename__ = "reconciliations"
    __table_args__ = (
        UniqueConstraint("account_id", "month", name="uq_reconciliations_account_month"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status_known"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "status <> 'confirmed' OR (confirmed_at IS NOT NULL AND confirmed_hash = content_hash)",
            name="confirmed_names_content"),
        CheckConstraint("due_on >= issued_on", name="due_after_issue"),
        Index("ix_reconciliations_month_status", "month", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(10), default="issued")
    version: Mapped[int] = mapped_column(Integer, default=1)
    content_hash: Mapped[str] = mapped_column(String(64))
    opening_fen: Mapped[int] = mapped_column(BigInteger)
    closing_fen: Mapped[int] = mapped_column(BigInteger)
    agreed_fen: Mapped[int] = mapped_column(BigInteger)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who signed for the account when its supplier records the answer (a dealer without a login).
    confirmed_by_name: Mapped[str | None] = mapped_column(String(100))
    confirmed_ip: Mapped[str | None] = mapped_column(String(64))
    confirmed_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account = relationship("Account", foreign_keys=[account_id])
    supplier = relationship("Account", foreign_keys=[supplier_id])
    issued_by = relationship("User", foreign_keys=[issued_by_id])
    confirmed_by = relationship("User", foreign_keys=[confirmed_by_id])
    items = relationship("DisputeItem", back_populates="reconciliation", order_by="DisputeItem.id")
    events = relationship("ReconciliationEvent", back_populates="reconciliation",
                          order_by="ReconciliationEvent.id")
    versions = relationship("ReconciliationVersion", order_by="ReconciliationVersion.version")

    @property
    def company_tier(self) -> bool:
        return self.supplier_id is None

    def __str__(self):
        return f"{self.month} {self.account.code}"


class ReconciliationVersion(db.Model):
    """Each issue of a statement, with the hash of what was shown."""

    __tablename__ = "reconciliation_versions"
    __table_args__ = (UniqueConstraint("reconciliation_id", "version", name="uq_reconciliation_versions"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(ForeignKey("reconciliations.id"))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    closing_fen: Mapped[int] = mapped_column(BigInteger)
    agreed_fen: Mapped[int] = mapped_column(BigInteger)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    issued_by = relationship("User")


class DisputeItem(db.Model):
    """One disputed line of a statement (document_id), or a document the account misses."""

    __tablename__ = "dispute_items"
    __table_args__ = (
        CheckConstraint(f"status IN {ITEM_STATUSES!r}", name="status_known"),
        CheckConstraint("status = 'open' OR (answer IS NOT NULL AND answered_at IS NOT NULL)",
                        name="answered_has_answer"),
        CheckConstraint("missing_amount_fen IS NULL OR missing_amount_fen > 0", name="missing_amount_positive"),
        # One open dispute per document of a statement.
        Index("uq_dispute_items_open_document", "reconciliation_id", "document_id", unique=True,
              sqlite_where=db.text("status = 'open' AND document_id IS NOT NULL"),
              postgresql_where=db.text("status = 'open' AND document_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(ForeignKey("reconciliations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)  # the version it was raised against
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    missing_date: Mapped[date | None] = mapped_column(Date)
    missing_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    missing_ref: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    attachment_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"))
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="open")
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reconciliation = relationship("Reconciliation", back_populates="items")
    document = relationship("Document")
    raised_by = relationship("User", foreign_keys=[raised_by_id])
    answered_by = relationship("User", foreign_keys=[answered_by_id])
    corrections = relationship("DisputeCorrection", back_populates="item", order_by="DisputeCorrection.id")


class DisputeCorrection(db.Model):
    """A document posted (in an open month) to correct a disputed line."""

    __tablename__ = "dispute_corrections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("dispute_items.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), unique=True)

    item = relationship("DisputeItem", back_populates="corrections")
    document = relationship("Document")


class ReconciliationEvent(db.Model):
    """The history of a reconciliation: issues, answers, the dispute conversation."""

    __tablename__ = "reconciliation_events"
    __table_args__ = (CheckConstraint(f"kind IN {EVENT_KINDS!r}", name="kind_known"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(ForeignKey("reconciliations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("dispute_items.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str | None] = mapped_column(String(100))  # who signed, when recorded for them
    body: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reconciliation = relationship("Reconciliation", back_populates="events")
    author = relationship("User")
    item = relationship("DisputeItem")


class HoldRelease(db.Model):
    """Finance lets shipments through although the account's reconciliation is overdue."""

    __tablename__ = "reconciliation_hold_releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(ForeignKey("reconciliations.id"))
    version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("reconciliation_id", "version", name="uq_hold_releases_version"),)

    released_by = relationship("User")
    reconciliation = relationship("Reconciliation")
