"""Uploaded attachments (dispute attachments, expense receipts), stored in the database.

Like report_files: the bytes sit outside any web root, in the one backup, and every app server
reads them. A file is named by its sha256, so the same bytes stored twice are one row (which
is how a receipt handed in twice can be noticed). Rows are never updated or deleted (triggers).
"""
from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

MIME_TYPES = ("application/pdf", "image/jpeg", "image/png")


class StoredFile(db.Model):
    """One uploaded file's bytes, whose type was read from the content (services.store)."""

    __tablename__ = "stored_files"
    __table_args__ = (CheckConstraint(f"mime IN {MIME_TYPES!r}", name="mime_allowed"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
