import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

ROLES = ("admin", "finance", "supervisor", "field_staff", "distributor")
FIELD_KINDS = ("rep", "merchandiser", "promoter")

supervisor_regions = Table(
    "supervisor_regions",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True),
)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="role_known"),
        CheckConstraint(
            f"field_kind IS NULL OR field_kind IN {FIELD_KINDS!r}", name="field_kind_known"
        ),
        CheckConstraint(
            "role <> 'field_staff' OR (region_id IS NOT NULL AND field_kind IS NOT NULL)",
            name="field_staff_has_region",
        ),
        CheckConstraint("role <> 'distributor' OR account_id IS NOT NULL", name="distributor_bound"),
        CheckConstraint("role = 'distributor' OR account_id IS NULL", name="only_distributor_bound"),
        CheckConstraint("username = lower(username)", name="username_lower"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    field_kind: Mapped[str | None] = mapped_column(String(20))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    is_active_user: Mapped[bool] = mapped_column("active", Boolean, default=True)
    # May give the second approval of expense claims (a channel manager); admin always may.
    second_approver: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    locale: Mapped[str | None] = mapped_column(String(10))
    # Rotated on logout, password change and deactivation: every session holding the old one ends.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    region = relationship("Region", foreign_keys=[region_id])
    account = relationship("Account", foreign_keys=[account_id])
    supervised_regions = relationship(
        "Region", secondary=supervisor_regions, back_populates="supervisors", order_by="Region.code"
    )

    @property
    def is_active(self):  # Flask-Login: an inactive user cannot log in or stay logged in
        return self.is_active_user

    def get_id(self):
        return self.session_token

    def has_role(self, *roles):
        return self.role in roles

    def __repr__(self):
        return f"<User {self.username} {self.role}>"


class LoginAttempt(db.Model):
    """Every login attempt, shared by all workers and servers: the throttle reads it."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean)
