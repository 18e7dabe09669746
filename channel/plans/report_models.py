"""The archive of plan-versus-actual PDFs: one row per rendered report of a region and a finished
ten-day period, in one language, at one version. The PDF itself is in the report archive's
content-addressed store (`report_files`, shared with the settlements).

Rows are only ever added (a trigger refuses UPDATE and DELETE, migration 0011): a report made
again after its figures changed (a late payment, a variance note) is version n+1, and the
earlier one stays downloadable. `input_hash` is the hash of what the PDF prints (its context
without the time it was made, the language and the engine's fingerprint): a report whose inputs
did not change is not rendered again.
"""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime, utcnow
from ..extensions import db


class PlanReport(db.Model):
    __tablename__ = "plan_reports"
    __table_args__ = (
        UniqueConstraint("region_id", "period", "lang", "version", name="uq_plan_reports_version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("size > 0", name="size_positive"),
        Index("ix_plan_reports_period_region", "period", "region_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    period: Mapped[str] = mapped_column(String(10))  # TenDay: "2026-03-2"
    lang: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer, default=1)
    sha256: Mapped[str] = mapped_column(ForeignKey("report_files.sha256"))
    size: Mapped[int] = mapped_column(Integer)
    input_hash: Mapped[str] = mapped_column(String(64))
    seconds: Mapped[float | None] = mapped_column()
    schedule: Mapped[str | None] = mapped_column(String(64))  # the job that made it, if any
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region = relationship("Region")
    requested_by = relationship("User")
    file = relationship("ReportFile")

    @property
    def filename(self) -> str:
        code = self.region.code if self.region is not None else str(self.region_id)
        return f"plan-actual-{self.period}-{code}-{self.lang}-v{self.version}.pdf"

    def __str__(self) -> str:
        return self.filename
