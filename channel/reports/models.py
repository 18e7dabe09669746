"""The report archive: every run of a report, its batch, and the PDFs themselves.

Storage is the database (`report_files`, content-addressed by sha256): every app server reads
the same bytes without a shared directory, the file and the run that says "done" commit in one
transaction (a crash never leaves a partial PDF that looks done), and one backup holds both.

A run is one report for one (kind, period, account, language) at one version. Asking again for
a report whose inputs did not change gives the same run; a regeneration adds version n+1 and
keeps the old run with its checksum. At most one run per report is queued or running (a
partial unique index), and a run that says "done" always has its file (a check constraint).
"""
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

REPORT_KINDS = ("settlement",)
RUN_STATUSES = ("queued", "running", "done", "failed")
ACTIVE = "status IN ('queued', 'running')"


class ReportFile(db.Model):
    """A rendered PDF, named by its sha256. Never updated or deleted (triggers)."""

    __tablename__ = "report_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportBatch(db.Model):
    """Reports asked for together (a month's settlements): progress is counted from its runs."""

    __tablename__ = "report_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(7), index=True)
    lang: Mapped[str] = mapped_column(String(10))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    schedule: Mapped[str | None] = mapped_column(String(64))  # the job that asked, if any
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    total: Mapped[int] = mapped_column(Integer, default=0)

    requested_by = relationship("User")


class ReportRun(db.Model):
    __tablename__ = "report_runs"
    __table_args__ = (
        CheckConstraint(f"kind IN {REPORT_KINDS!r}" if len(REPORT_KINDS) > 1 else
                        f"kind = '{REPORT_KINDS[0]}'", name="kind_known"),
        CheckConstraint(f"status IN {RUN_STATUSES!r}", name="status_known"),
        CheckConstraint("status <> 'done' OR (file_sha256 IS NOT NULL AND input_hash IS NOT NULL)",
                        name="done_has_file"),
        CheckConstraint("version >= 1", name="version_positive"),
        UniqueConstraint("kind", "period", "account_id", "lang", "version", name="uq_report_runs_version"),
        # One queued or running run per report: two requests racing make one.
        Index("uq_report_runs_active", "kind", "period", "account_id", "lang", unique=True,
              sqlite_where=text(ACTIVE), postgresql_where=text(ACTIVE)),
        Index("ix_report_runs_status", "status"),
        Index("ix_report_runs_period_kind", "period", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(7))  # "2026-10"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    lang: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("report_batches.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    schedule: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
    input_hash: Mapped[str | None] = mapped_column(String(64))
    file_sha256: Mapped[str | None] = mapped_column(ForeignKey("report_files.sha256"))
    size: Mapped[int | None] = mapped_column(BigInteger)
    seconds: Mapped[float | None] = mapped_column()
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    downloaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    account = relationship("Account")
    batch = relationship("ReportBatch")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    downloaded_by = relationship("User", foreign_keys=[downloaded_by_id])
    file = relationship("ReportFile")

    @property
    def display_status(self) -> str:
        """queued / running / failed / done, and downloaded once someone fetched it."""
        if self.status == "done" and self.downloaded_at is not None:
            return "downloaded"
        return self.status

    @property
    def filename(self) -> str:
        code = self.account.code if self.account is not None else str(self.account_id)
        return f"{self.kind}-{self.period}-{code}-{self.lang}-v{self.version}.pdf"
