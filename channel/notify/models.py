"""Notifications: what a user is told in the app (the dashboard panel, /notifications) and, where
SMTP is configured, by e-mail.

A row keeps the kind and the values its message needs, not the text: the text is rendered when
shown, in the reader's language (see services.render). The e-mail goes through an outbox:
'none' (no mail owed), 'pending' → 'sending' (claimed by one process) → 'sent', or back to
'pending' after a failed attempt, 'failed' after the last one.
"""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

BigId = BigInteger().with_variant(Integer, "sqlite")

EMAIL_STATES = ("none", "pending", "sending", "sent", "failed")


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(f"email_state IN {EMAIL_STATES!r}", name="email_state_known"),
        CheckConstraint("email_attempts >= 0", name="email_attempts_positive"),
        CheckConstraint("email_state <> 'sent' OR emailed_at IS NOT NULL", name="sent_has_time"),
        # The dashboard asks "this user's unread ones" on every visit.
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        # The outbox asks "which are pending" (and "which are stuck sending") every 30 seconds.
        Index("ix_notifications_email_state", "email_state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # the values its message needs
    link: Mapped[str] = mapped_column(String(300))  # an app path, "/reconciliation/12"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_state: Mapped[str] = mapped_column(String(10), default="none")
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the last send began: a row left 'sending' long after it was claimed by a process
    # that died is marked failed, never sent again (one missing mail rather than a double).
    email_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the server took it
    email_error: Mapped[str | None] = mapped_column(String(500))

    user = relationship("User")

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def __repr__(self):
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"
