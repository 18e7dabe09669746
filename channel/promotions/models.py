"""Promotions (促销活动 / 铺货): what the company announces (type, products, period, the regions
with a budget each, the rules), the accounts enrolled with their targets, the field staff's
execution reports with photos and the supervisor's verdict on each, and the settlement that
posts each participant's rebate to the ledger.

    draft ──publish──▶ published (running from its first day, ended after its last) ──settle──▶ settled

The database refuses (constraints here, triggers in migrations/versions/0012): an unknown type or
status, a period ending before it starts, a percentage over 100 %, negative rates, budgets or
targets, a second enrolment of an account, an execution report verified or rejected without who
and when (or rejected without a reason); changes to a published promotion's terms (type, rates,
period, products; budgets may be raised or lowered until it is settled), any change to a settled
promotion, its enrolments or reports; UPDATE or DELETE of settlements and their lines.
"""
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.promotions import STORED_STATUSES, TYPES
from ..db_types import UTCDateTime, utcnow
from ..extensions import db
from ..ledger.models import BigId

REPORT_STATUSES = ("submitted", "verified", "rejected")


class Promotion(db.Model):
    __tablename__ = "promotions"
    __table_args__ = (
        CheckConstraint(f"kind IN {TYPES!r}", name="kind_known"),
        CheckConstraint(f"status IN {STORED_STATUSES!r}", name="status_known"),
        CheckConstraint("ends_on >= starts_on", name="period_forwards"),
        CheckConstraint("rate >= 0 AND min_quantity >= 0 AND (cap_fen IS NULL OR cap_fen >= 0)",
                        name="rules_not_negative"),
        CheckConstraint("kind <> 'percent' OR rate <= 10000", name="percent_at_most_100"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("status = 'draft' OR (published_at IS NOT NULL AND published_by_id IS NOT NULL)",
                        name="published_has_who"),
        CheckConstraint("status <> 'settled' OR (settled_at IS NOT NULL AND settled_by_id IS NOT NULL)",
                        name="settled_has_who"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(12))
    rate: Mapped[int] = mapped_column(BigInteger)  # per_unit / per_outlet / display_fee: fen; percent: basis points
    min_quantity: Mapped[int] = mapped_column(Integer, default=0)
    cap_fen: Mapped[int | None] = mapped_column(BigInteger)  # per account
    starts_on: Mapped[date] = mapped_column(Date, index=True)
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    created_by = relationship("User", foreign_keys=[created_by_id])
    published_by = relationship("User", foreign_keys=[published_by_id])
    settled_by = relationship("User", foreign_keys=[settled_by_id])
    products = relationship("PromotionProduct", back_populates="promotion", order_by="PromotionProduct.id",
                            cascade="all, delete-orphan")
    regions = relationship("PromotionRegion", back_populates="promotion", order_by="PromotionRegion.id",
                           cascade="all, delete-orphan")
    enrolments = relationship("Enrolment", back_populates="promotion", order_by="Enrolment.id")
    settlements = relationship("PromotionSettlement", back_populates="promotion", order_by="PromotionSettlement.id")

    @property
    def product_ids(self) -> set:
        return {p.product_id for p in self.products}

    @property
    def budget_fen(self) -> int:
        return sum(r.budget_fen for r in self.regions)

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    def __str__(self):
        return f"{self.code} {self.name}"


class PromotionProduct(db.Model):
    __tablename__ = "promotion_products"
    __table_args__ = (UniqueConstraint("promotion_id", "product_id", name="uq_promotion_products"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))

    promotion = relationship("Promotion", back_populates="products")
    product = relationship("Product")


class PromotionRegion(db.Model):
    """A region the promotion runs in (with its sub-regions), and its budget."""

    __tablename__ = "promotion_regions"
    __table_args__ = (
        UniqueConstraint("promotion_id", "region_id", name="uq_promotion_regions"),
        CheckConstraint("budget_fen >= 0", name="budget_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    budget_fen: Mapped[int] = mapped_column(BigInteger)

    promotion = relationship("Promotion", back_populates="regions")
    region = relationship("Region")


class Enrolment(db.Model):
    """An account taking part, under one of the promotion's regions, with its targets."""

    __tablename__ = "promotion_enrolments"
    __table_args__ = (
        UniqueConstraint("promotion_id", "account_id", name="uq_promotion_enrolments"),
        CheckConstraint("target_qty >= 0 AND target_outlets >= 0", name="targets_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))  # the promotion region it counts under
    target_qty: Mapped[int] = mapped_column(Integer, default=0)
    target_outlets: Mapped[int] = mapped_column(Integer, default=0)
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    promotion = relationship("Promotion", back_populates="enrolments")
    account = relationship("Account")
    region = relationship("Region")
    enrolled_by = relationship("User")
    reports = relationship("ExecutionReport", back_populates="enrolment", order_by="ExecutionReport.id")

    @property
    def verified_outlets(self) -> int:
        return sum(r.outlets for r in self.reports if r.status == "verified")

    @property
    def reported_outlets(self) -> int:
        return sum(r.outlets for r in self.reports if r.status != "rejected")

    @property
    def verified(self) -> bool:
        return any(r.status == "verified" for r in self.reports)


class ExecutionReport(db.Model):
    """What field staff saw done (outlets stocked, display set up) with photos; verified or rejected."""

    __tablename__ = "execution_reports"
    __table_args__ = (
        CheckConstraint(f"status IN {REPORT_STATUSES!r}", name="status_known"),
        CheckConstraint("outlets >= 0", name="outlets_not_negative"),
        CheckConstraint("status = 'submitted' OR (checked_by_id IS NOT NULL AND checked_at IS NOT NULL)",
                        name="checked_has_who"),
        CheckConstraint("status <> 'rejected' OR reject_reason IS NOT NULL", name="rejected_has_reason"),
        CheckConstraint("checked_by_id IS NULL OR checked_by_id <> reported_by_id", name="not_own_report"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("promotion_enrolments.id"), index=True)
    executed_on: Mapped[date] = mapped_column(Date)
    outlets: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="submitted")
    version: Mapped[int] = mapped_column(Integer, default=1)
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[str | None] = mapped_column(Text)

    enrolment = relationship("Enrolment", back_populates="reports")
    reported_by = relationship("User", foreign_keys=[reported_by_id])
    checked_by = relationship("User", foreign_keys=[checked_by_id])
    photos = relationship("ExecutionPhoto", back_populates="report", order_by="ExecutionPhoto.id")


class ExecutionPhoto(db.Model):
    __tablename__ = "execution_photos"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("execution_reports.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    filename: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report = relationship("ExecutionReport", back_populates="photos")
    file = relationship("StoredFile")


class PromotionSettlement(db.Model):
    """A region's settlement, approved by finance: once per promotion and region."""

    __tablename__ = "promotion_settlements"
    __table_args__ = (
        UniqueConstraint("promotion_id", "region_id", name="uq_promotion_settlements"),
        CheckConstraint("earned_fen >= 0 AND paid_fen >= 0 AND budget_fen >= 0", name="amounts_not_negative"),
        CheckConstraint("paid_fen <= budget_fen AND paid_fen <= earned_fen", name="paid_within_budget"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    earned_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger)
    short: Mapped[bool] = mapped_column(Boolean, default=False)  # the budget shared pro rata
    posted_on: Mapped[date] = mapped_column(Date)
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    promotion = relationship("Promotion", back_populates="settlements")
    region = relationship("Region")
    approved_by = relationship("User")
    lines = relationship("SettlementLine", back_populates="settlement", order_by="SettlementLine.id")


class SettlementLine(db.Model):
    """One participant: what the ledger and the verified execution gave, what it earned, what it
    was paid, and the rebate document (none when nothing is paid)."""

    __tablename__ = "promotion_settlement_lines"
    __table_args__ = (
        UniqueConstraint("settlement_id", "account_id", name="uq_promotion_settlement_lines"),
        CheckConstraint("earned_fen >= 0 AND paid_fen >= 0 AND paid_fen <= earned_fen", name="paid_at_most_earned"),
        CheckConstraint("(paid_fen = 0) = (document_id IS NULL)", name="paid_has_document"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("promotion_settlements.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    net_qty: Mapped[int] = mapped_column(Integer)
    net_fen: Mapped[int] = mapped_column(BigInteger)
    verified_outlets: Mapped[int] = mapped_column(Integer)
    verified: Mapped[bool] = mapped_column(Boolean)
    earned_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))

    settlement = relationship("PromotionSettlement", back_populates="lines")
    account = relationship("Account")
    document = relationship("Document")
