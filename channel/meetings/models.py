"""Monthly distributor meetings (月度经销商会议): one per region and month is expected. A meeting
has its date and time, place, the accounts and staff invited (and who attended), and an agenda of
typed items: market information, policy (the promotions announced, linked), problems raised (each
an action item with owner, due date, status and resolution) and each attending account's targets
for the month (目标任务), which the ten-day plan pages measure the month against.

    planned ──hold──▶ held ──publish──▶ published (the minutes, 会议纪要: a PDF for the invited accounts)

The database refuses (constraints here, triggers in migrations/versions/0012): an unknown status,
a held or published meeting without who and when, a second target of an account for a month,
negative targets, an attendee that is neither an account nor a user (or both), an action item
done without a resolution; any change to a published meeting, its agenda, targets or invitees,
and new or re-assigned action items of a published meeting (their follow-up — owner, due date,
status, resolution — goes on after the minutes).
"""
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.meetings import ITEM_STATUSES, STATUSES
from ..db_types import UTCDateTime, utcnow
from ..extensions import db
from ..ledger.models import BigId

AGENDA_KINDS = ("market", "policy", "other")  # problems are action items; targets have their table


class Meeting(db.Model):
    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES!r}", name="status_known"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("status = 'planned' OR (held_at IS NOT NULL AND held_by_id IS NOT NULL)", name="held_has_who"),
        CheckConstraint("status <> 'published' OR (published_at IS NOT NULL AND published_by_id IS NOT NULL)",
                        name="published_has_who"),
        CheckConstraint("month = substr(CAST(meeting_date AS VARCHAR(10)), 1, 7)", name="month_of_date"),
        Index("ix_meetings_region_month", "region_id", "month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    month: Mapped[str] = mapped_column(String(7))  # "2026-11": the month whose targets it sets
    meeting_date: Mapped[date] = mapped_column(Date, index=True)
    meeting_time: Mapped[time | None] = mapped_column(Time)
    place: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="planned")
    version: Mapped[int] = mapped_column(Integer, default=1)
    summary: Mapped[str | None] = mapped_column(Text)  # the chair's summary in the minutes
    carried_over: Mapped[list | None] = mapped_column(JSON)  # the open items reviewed, kept when held
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    region = relationship("Region")
    created_by = relationship("User", foreign_keys=[created_by_id])
    held_by = relationship("User", foreign_keys=[held_by_id])
    published_by = relationship("User", foreign_keys=[published_by_id])
    attendees = relationship("MeetingAttendee", back_populates="meeting", order_by="MeetingAttendee.id",
                             cascade="all, delete-orphan")
    agenda = relationship("AgendaItem", back_populates="meeting", order_by="AgendaItem.seq",
                          cascade="all, delete-orphan")
    targets = relationship("MeetingTarget", back_populates="meeting", order_by="MeetingTarget.id",
                           cascade="all, delete-orphan")
    action_items = relationship("ActionItem", back_populates="meeting", order_by="ActionItem.seq")

    @property
    def accounts(self):
        return [a.account for a in self.attendees if a.account_id is not None]

    @property
    def staff(self):
        return [a.user for a in self.attendees if a.user_id is not None]

    def __str__(self):
        return f"{self.month} {self.title}"


class MeetingAttendee(db.Model):
    """An account or a member of staff invited; `attended` once the meeting was held."""

    __tablename__ = "meeting_attendees"
    __table_args__ = (
        CheckConstraint("(account_id IS NULL) <> (user_id IS NULL)", name="account_or_user"),
        UniqueConstraint("meeting_id", "account_id", name="uq_meeting_attendees_account"),
        UniqueConstraint("meeting_id", "user_id", name="uq_meeting_attendees_user"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    attended: Mapped[bool] = mapped_column(Boolean, default=False)

    meeting = relationship("Meeting", back_populates="attendees")
    account = relationship("Account")
    user = relationship("User")


class AgendaItem(db.Model):
    """Market information shared, a policy or promotion announced (linked), or another point."""

    __tablename__ = "meeting_agenda"
    __table_args__ = (
        UniqueConstraint("meeting_id", "seq", name="uq_meeting_agenda_seq"),
        CheckConstraint(f"kind IN {AGENDA_KINDS!r}", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    promotion_id: Mapped[int | None] = mapped_column(ForeignKey("promotions.id"))

    meeting = relationship("Meeting", back_populates="agenda")
    promotion = relationship("Promotion")


class MeetingTarget(db.Model):
    """An account's targets for the meeting's month (目标任务): shipments and payments, in fen.
    One per account and month, whichever meeting set it."""

    __tablename__ = "meeting_targets"
    __table_args__ = (
        UniqueConstraint("account_id", "month", name="uq_meeting_targets_account_month"),
        CheckConstraint("shipment_fen >= 0 AND payment_fen >= 0", name="targets_not_negative"),
        Index("ix_meeting_targets_month", "month"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    month: Mapped[str] = mapped_column(String(7))
    shipment_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    meeting = relationship("Meeting", back_populates="targets")
    account = relationship("Account")


class ActionItem(db.Model):
    """A problem raised at a meeting: who owns it, by when, and how it was resolved."""

    __tablename__ = "action_items"
    __table_args__ = (
        UniqueConstraint("meeting_id", "seq", name="uq_action_items_seq"),
        CheckConstraint(f"status IN {ITEM_STATUSES!r}", name="status_known"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("status = 'open' OR (resolution IS NOT NULL AND resolved_at IS NOT NULL)",
                        name="done_has_resolution"),
        Index("ix_action_items_owner_status", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    seq: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))  # who raised it, if an account
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    version: Mapped[int] = mapped_column(Integer, default=1)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting = relationship("Meeting", back_populates="action_items")
    account = relationship("Account")
    owner = relationship("User", foreign_keys=[owner_id])
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])

    @property
    def number(self) -> str:
        return f"M{self.meeting_id}-{self.seq}"
