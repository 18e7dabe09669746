"""Expense claims (报销单), their lines and receipts, the history of every transition, and the
regions' monthly budgets.

A claim covers one month of one person's expenses in one region; it counts against the budget of
its budget region (the top of the claimant's region tree) for that month. The database refuses
(constraints here, triggers in migrations/versions/0009): a line amount that is not positive, an
approved amount above the claimed one or a cut without a reason, the claimant as approver, the
same person approving twice, a paid claim that does not pay exactly the approved total; any
change to a paid claim or its lines; lines and receipts added or removed outside a draft; claimed
amounts changed once submitted; UPDATE/DELETE of the history. Two transitions of one claim
cannot both be recorded: each event takes the claim's next version, unique per claim.
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

from ..core.expenses import CATEGORIES, CITY_TIERS, STATUSES
from ..db_types import UTCDateTime, utcnow
from ..extensions import db
from ..ledger.models import BigId

EVENT_ACTIONS = ("submit", "approve", "reject", "pay")
BUDGET_CATEGORIES = ("total",) + CATEGORIES


class ExpenseClaim(db.Model):
    __tablename__ = "expense_claims"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES!r}", name="status_known"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("claimed_fen >= 0", name="claimed_not_negative"),
        CheckConstraint("approved_fen IS NULL OR (approved_fen >= 0 AND approved_fen <= claimed_fen)",
                        name="approved_within_claimed"),
        CheckConstraint("first_approver_id IS NULL OR first_approver_id <> claimant_id",
                        name="first_approver_not_claimant"),
        CheckConstraint("approver_id IS NULL OR approver_id <> claimant_id", name="approver_not_claimant"),
        CheckConstraint("second_approver_id IS NULL OR (second_approver_id <> claimant_id AND "
                        "second_approver_id <> first_approver_id)", name="second_approver_other"),
        CheckConstraint("status NOT IN ('approved', 'paid') OR (approved_fen IS NOT NULL AND "
                        "approver_id IS NOT NULL AND approved_at IS NOT NULL)", name="approved_has_approver"),
        CheckConstraint("status <> 'second_approval' OR first_approver_id IS NOT NULL",
                        name="second_approval_after_first"),
        CheckConstraint("status <> 'paid' OR (paid_on IS NOT NULL AND payment_ref IS NOT NULL AND "
                        "paid_by_id IS NOT NULL AND paid_fen = approved_fen)", name="paid_exactly_approved"),
        CheckConstraint("paid_fen IS NULL OR status = 'paid'", name="paid_only_when_paid"),
        Index("ix_expense_claims_budget", "budget_region_id", "month", "status"),
        Index("ix_expense_claims_claimant", "claimant_id", "month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claimant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    budget_region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    month: Mapped[str] = mapped_column(String(7))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    claimed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    approved_fen: Mapped[int | None] = mapped_column(BigInteger)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    second_approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the final approval
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_on: Mapped[date | None] = mapped_column(Date)
    payment_ref: Mapped[str | None] = mapped_column(String(64))
    paid_fen: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claimant = relationship("User", foreign_keys=[claimant_id])
    region = relationship("Region", foreign_keys=[region_id])
    budget_region = relationship("Region", foreign_keys=[budget_region_id])
    first_approver = relationship("User", foreign_keys=[first_approver_id])
    second_approver = relationship("User", foreign_keys=[second_approver_id])
    approver = relationship("User", foreign_keys=[approver_id])
    paid_by = relationship("User", foreign_keys=[paid_by_id])
    lines = relationship("ExpenseLine", back_populates="claim", order_by="(ExpenseLine.spent_on, ExpenseLine.id)")
    events = relationship("ExpenseEvent", back_populates="claim", order_by="ExpenseEvent.seq")

    @property
    def number(self) -> str:
        """The voucher number people quote: BX + the month + the claim id."""
        return f"BX{self.month.replace('-', '')}-{self.id:05d}"

    def __str__(self):
        return self.number


class ExpenseLine(db.Model):
    __tablename__ = "expense_lines"
    __table_args__ = (
        CheckConstraint(f"category IN {CATEGORIES!r}", name="category_known"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("approved_fen IS NULL OR (approved_fen >= 0 AND approved_fen <= amount_fen)",
                        name="approved_within_claimed"),
        CheckConstraint("approved_fen IS NULL OR approved_fen = amount_fen OR "
                        "(cut_reason IS NOT NULL AND cut_reason <> '')", name="cut_has_reason"),
        CheckConstraint("nights >= 1", name="nights_positive"),
        CheckConstraint(f"city_tier IS NULL OR city_tier IN {CITY_TIERS!r}", name="city_tier_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("expense_claims.id"), index=True)
    spent_on: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200), default="")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))  # the account visited
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # claimed
    approved_fen: Mapped[int | None] = mapped_column(BigInteger)  # None: not decided yet
    cut_reason: Mapped[str | None] = mapped_column(String(200))
    nights: Mapped[int] = mapped_column(Integer, default=1)
    city_tier: Mapped[int | None] = mapped_column(Integer)

    claim = relationship("ExpenseClaim", back_populates="lines")
    account = relationship("Account")
    receipts = relationship("ExpenseReceipt", back_populates="line", order_by="ExpenseReceipt.id")

    @property
    def payable_fen(self) -> int:
        return self.amount_fen if self.approved_fen is None else self.approved_fen


class ExpenseReceipt(db.Model):
    """A receipt (PDF, JPEG, PNG) of a line; the bytes are a StoredFile, named by their sha256, so
    the same receipt handed in with another claim is noticed."""

    __tablename__ = "expense_receipts"
    __table_args__ = (UniqueConstraint("line_id", "sha256", name="uq_expense_receipts_line_file"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("expense_claims.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("expense_lines.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    line = relationship("ExpenseLine", back_populates="receipts")
    file = relationship("StoredFile")
    uploaded_by = relationship("User")


class ExpenseEvent(db.Model):
    """One transition of a claim: who, when, from which state to which, and why."""

    __tablename__ = "expense_events"
    __table_args__ = (
        UniqueConstraint("claim_id", "seq", name="uq_expense_events_seq"),
        CheckConstraint(f"action IN {EVENT_ACTIONS!r}", name="action_known"),
        CheckConstraint(f"from_status IN {STATUSES!r} AND to_status IN {STATUSES!r}", name="statuses_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("expense_claims.id"))
    seq: Mapped[int] = mapped_column(Integer)  # the claim's version this transition made
    action: Mapped[str] = mapped_column(String(10))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text)
    override_reason: Mapped[str | None] = mapped_column(Text)  # approving over the budget
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)  # claimed / approved / paid by it
    ip: Mapped[str | None] = mapped_column(String(64))

    claim = relationship("ExpenseClaim", back_populates="events")
    by = relationship("User")


class ExpenseBudget(db.Model):
    """A region's budget for a month: in total (category 'total') or for one category."""

    __tablename__ = "expense_budgets"
    __table_args__ = (
        UniqueConstraint("region_id", "month", "category", name="uq_expense_budgets"),
        CheckConstraint(f"category IN {BUDGET_CATEGORIES!r}", name="category_known"),
        CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    month: Mapped[str] = mapped_column(String(7), index=True)
    category: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    region = relationship("Region")
