from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    Unicode,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime, utcnow
from ..extensions import db


class Setting(db.Model):
    """Small facts about this installation (e.g. that demo data was loaded)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SchedulerHeartbeat(db.Model):
    """One row per scheduler process: when it last said it was alive, and whether it held the
    lease (ran the jobs) then."""

    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(default=False, server_default=false())


class SchedulerLease(db.Model):
    """Which scheduler process runs the jobs. Taken and renewed only by conditional UPDATEs (or
    the INSERT of the first row) so that one process wins on SQLite and PostgreSQL alike."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobSchedule(db.Model):
    """When a registered job's cron fires (in the business time zone); admins edit it. Created
    from the job's default when missing. `run_requested_at` is an admin's "run now", which the
    active scheduler process picks up (the web never runs a job)."""

    __tablename__ = "job_schedules"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cron: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    run_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    updated_by = relationship("User", foreign_keys=[updated_by_id])
    run_requested_by = relationship("User", foreign_keys=[run_requested_by_id])

    def __str__(self):
        return self.job_id


RUN_STATUSES = ("waiting", "running", "done", "failed")


class JobRun(db.Model):
    """One unit of a job's work, keyed (job, key), e.g. ("monthly_settlements", "2026-10"). The
    unique key is claimed before any work starts; a key is done at most once. Later attempts
    (after a failure) update the same row."""

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job_id", "key"),
        CheckConstraint("status IN ('waiting', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    holder: Mapped[str | None] = mapped_column(String(100))  # the scheduler process of the last attempt
    progress_done: Mapped[int | None]
    progress_total: Mapped[int | None]
    # Texts for people are kept as msgid + arguments and translated when shown.
    reason: Mapped[str | None] = mapped_column(Text)  # why a waiting key cannot run yet
    reason_args: Mapped[dict | None] = mapped_column(JSON)
    summary: Mapped[str | None] = mapped_column(Text)
    summary_args: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A failed or waiting key is tried again from this time on (the periodic catch-up, or an
    # admin's "retry", which sets it to now).
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __str__(self):
        return f"{self.job_id} {self.key}"


# APScheduler's SQLAlchemyJobStore keeps the scheduler's persistent jobs here (the cron triggers
# of the job schedules). Its layout is APScheduler's own; declared here so that the migration
# creates it on every engine and the schema comparison knows it.
apscheduler_jobs = db.Table(
    "apscheduler_jobs",
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
