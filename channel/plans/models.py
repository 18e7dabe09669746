"""Ten-day plans (旬计划): one per account and ten-day period, with the market notes (stock on hand
and last period's sell-out by product, competitor activity, problems), the planned shipment
lines, the planned payment, the history of every step and the earlier versions of a plan
changed after it locked.

The database refuses (constraints here, triggers in migrations/versions/0010): a second plan of
an account for a period, non-positive quantities, an amount other than quantity x price; any
change to an approved plan's figures (its payment, its lines, its stock notes) unless the
earlier version was kept first (a plan_versions row for the plan's current version); UPDATE or
DELETE of versions and events.
"""
from datetime import date, datetime

from sqlalchemy import (
    JSON,
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

from ..core.plans import ACTIONS, STATUSES
from ..db_types import UTCDateTime, utcnow
from ..extensions import db
from ..ledger.models import BigId


class Plan(db.Model):
    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("account_id", "period", name="uq_plans_account_period"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status_known"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("payment_fen >= 0", name="payment_not_negative"),
        CheckConstraint("status <> 'approved' OR (approved_by_id IS NOT NULL AND approved_at IS NOT NULL)",
                        name="approved_has_approver"),
        Index("ix_plans_period_status", "period", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    period: Mapped[str] = mapped_column(String(10))  # TenDay: "2026-03-2"
    period_start: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    payment_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_on: Mapped[date | None] = mapped_column(Date)
    competitor_notes: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[str | None] = mapped_column(Text)
    variance_note: Mapped[str | None] = mapped_column(Text)  # why below plan, after the period
    variance_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    account = relationship("Account")
    drafted_by = relationship("User", foreign_keys=[drafted_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    variance_by = relationship("User", foreign_keys=[variance_by_id])
    lines = relationship("PlanLine", back_populates="plan", order_by="PlanLine.id", cascade="all, delete-orphan")
    stock = relationship("PlanStock", back_populates="plan", order_by="PlanStock.id", cascade="all, delete-orphan")
    events = relationship("PlanEvent", back_populates="plan", order_by="PlanEvent.seq")
    versions = relationship("PlanVersion", back_populates="plan", order_by="PlanVersion.version")

    @property
    def shipment_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    def __str__(self):
        return f"{self.period} {self.account.code if self.account else self.account_id}"


class PlanLine(db.Model):
    """A planned shipment: product, quantity, unit price (the list price unless edited)."""

    __tablename__ = "plan_lines"
    __table_args__ = (
        UniqueConstraint("plan_id", "product_id", name="uq_plan_lines_product"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_fen >= 0", name="price_not_negative"),
        CheckConstraint("amount_fen = quantity * unit_price_fen", name="amount_is_quantity_times_price"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    plan = relationship("Plan", back_populates="lines")
    product = relationship("Product")


class PlanStock(db.Model):
    """Market notes by product: stock on hand at the account, and what it sold last period."""

    __tablename__ = "plan_stock"
    __table_args__ = (
        UniqueConstraint("plan_id", "product_id", name="uq_plan_stock_product"),
        CheckConstraint("stock_qty >= 0 AND sellout_qty >= 0", name="quantities_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    stock_qty: Mapped[int] = mapped_column(Integer, default=0)
    sellout_qty: Mapped[int] = mapped_column(Integer, default=0)

    plan = relationship("Plan", back_populates="stock")
    product = relationship("Product")


class PlanVersion(db.Model):
    """What a plan said before a supervisor changed it after it locked (with the reason)."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "version", name="uq_plan_versions"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    version: Mapped[int] = mapped_column(Integer)  # the version this change made
    content: Mapped[dict] = mapped_column(JSON)  # the figures of version - 1
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan = relationship("Plan", back_populates="versions")
    by = relationship("User")


class PlanEvent(db.Model):
    """One step of a plan: submitted, approved, sent back (with a comment), changed (with a reason)."""

    __tablename__ = "plan_events"
    __table_args__ = (
        UniqueConstraint("plan_id", "seq", name="uq_plan_events_seq"),
        CheckConstraint(f"action IN {ACTIONS!r}", name="action_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))
    from_status: Mapped[str] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text)

    plan = relationship("Plan", back_populates="events")
    by = relationship("User")
