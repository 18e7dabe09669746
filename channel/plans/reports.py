"""The plan-versus-actual PDF of a region for a finished ten-day period: what it prints (plain
data for templates/reports/plan_actual.html, figures from channel.plans.rollup, the bars from
channel.plans.charts), rendering it, and the archive of the PDFs made (plan_reports).

Who makes them: the scheduler on the 1st, 11th and 21st for every top region and the periods just
finished (channel/plans/jobs.py, in the scheduler's render pool), and people on demand
(report_views.py, through a small render pool of the web process: one report is a single page or
two, a fraction of a second, so the person waits for it rather than for a queue).

Like the settlements, a report whose inputs did not change is not rendered again: the hash of
its context (without the time it was made), the language and the engine's fingerprint is kept
with it, and asking again gives the report that exists. A changed one (a late payment, a variance
note written since) becomes version n+1; the earlier versions stay.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..auth.models import User
from ..auth.permissions import can, region_scope, region_tree_ids
from ..core.periods import TenDay
from ..db_types import utcnow
from ..extensions import db
from ..masterdata.models import Region
from ..reports import ondemand
from ..reports.models import ReportFile
from ..reports.services import input_hash, store_file
from ..transactions import begin_write
from . import charts, rollup
from . import services as ps
from .report_models import PlanReport

KIND = "plan_actual"  # registered in reports/engine.py
PERIODS_OFFERED = 18  # on demand: the finished periods of the last six months
LABEL_LENGTH = 24  # an account's label in the chart: code and name, cut


class ReportError(Exception):
    """A report that cannot be asked for (a period not finished); the message is for people."""


class ReportUnavailable(Exception):
    """The renderer failed (error, time or memory limit); the message says why."""


# --- which ------------------------------------------------------------------------------------------

def finished_periods(today: date, n: int) -> list[TenDay]:
    """The last `n` periods that ended before `today`, the newest first."""
    out, period = [], TenDay.of(today).prev()
    for _i in range(n):
        out.append(period)
        period = period.prev()
    return out


def top_regions() -> list[Region]:
    return list(db.session.execute(select(Region).where(Region.parent_id.is_(None)).order_by(Region.code))
                .scalars())


def _require_finished(period: TenDay, today: date) -> None:
    if today <= period.end:
        raise ReportError(_("%(period)s is not over yet: the report is made for finished periods.",
                            period=str(period)))


# --- what it prints -----------------------------------------------------------------------------------

def _pct(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _figures(a) -> dict:
    return {"plan_qty": a.plan_qty, "actual_qty": a.actual_qty, "qty_pct": _pct(a.qty_pct),
            "plan_fen": a.plan_fen, "actual_fen": a.actual_fen, "shipped_pct": _pct(a.shipped_pct),
            "plan_paid_fen": a.plan_paid_fen, "actual_paid_fen": a.actual_paid_fen,
            "paid_pct": _pct(a.paid_pct), "gap_fen": a.gap_fen}


def _group(row, name: str) -> dict:
    return {"name": name, "accounts": row.accounts, "planned": row.planned, "depth": row.depth,
            **_figures(row.achievement)}


def _plain(value):
    """A chart's dataclasses as dicts, percentages as text: plain, picklable, hashable as JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _label(account) -> str:
    text = f"{account.code} {account.name}"
    return text if len(text) <= LABEL_LENGTH else text[:LABEL_LENGTH - 1] + "…"


def report_context(region: Region, period: TenDay, *, today: date | None = None, reference: str = "") -> dict:
    """Everything the PDF prints, as plain data (ints are fen, percentages text)."""
    config = current_app.config
    today = today or ps.business_today()
    figures = rollup.for_region(region, period, today=today)
    counted = [r for r in figures.accounts if r.counted]
    rows = [{
        "code": r.account.code, "name": r.account.name, "kind": r.account.kind,
        "region": r.account.region.name, "status": r.status, "below": r.needs_note,
        "variance_note": r.variance_note or "", **_figures(r.achievement),
    } for r in counted]
    # Active accounts with neither a plan nor a movement: named once, not a row of zeros each.
    idle = [{"code": r.account.code, "name": r.account.name}
            for r in sorted(figures.accounts, key=lambda r: r.account.code) if not r.counted]
    chart = charts.bars(((r.account.code, _label(r.account), r.achievement.plan_fen, r.achievement.actual_fen)
                         for r in counted if r.achievement.plan_fen or r.achievement.actual_fen),
                        threshold=figures.threshold)
    regions = [_group(g, g.key.name) for g in figures.regions] if len(figures.regions) > 1 else []
    return {
        "company": {"name": config["COMPANY_NAME"], "address": config["COMPANY_ADDRESS"],
                    "phone": config["COMPANY_PHONE"]},
        "region": {"code": region.code, "name": region.name, "path": region.path},
        "period": {"key": str(period), "month": str(period.month), "index": period.index,
                   "name_zh": period.name_zh, "start": period.start, "end": period.end},
        "threshold": figures.threshold,
        "summary": _figures(figures.total.achievement),
        "counts": {"accounts": len(counted), "planned": figures.total.planned,
                   "below": sum(1 for r in figures.accounts if r.needs_note),
                   "notes_missing": figures.notes_missing},
        "accounts": rows,
        "idle": idle,
        "regions": regions,
        "reps": [_group(g, g.key.full_name) for g in figures.reps if g.accounts],
        "chart": _plain({**asdict(chart), "empty": chart.empty}),
        "generated_at": utcnow(),
        "timezone": config["TIMEZONE"],
        "reference": reference,
    }


# --- the archive ----------------------------------------------------------------------------------------

def latest(region_id: int, period: str, lang: str) -> PlanReport | None:
    return db.session.execute(
        select(PlanReport).where(PlanReport.region_id == region_id, PlanReport.period == period,
                                 PlanReport.lang == lang)
        .order_by(PlanReport.version.desc()).limit(1)).scalar_one_or_none()


def reports_stmt(user, *, region_id: int | None = None, period: str | None = None):
    """The reports the user may see (their regions and the regions below), newest period first;
    narrowed to a region (with its sub-regions) and a period if given."""
    stmt = select(PlanReport).join(Region, PlanReport.region_id == Region.id).options(
        joinedload(PlanReport.region), joinedload(PlanReport.requested_by))
    scope = region_scope(user)
    if scope is not None:
        stmt = stmt.where(PlanReport.region_id.in_(list(scope) or [-1]))
    if region_id is not None:
        stmt = stmt.where(PlanReport.region_id.in_(list(region_tree_ids([region_id]))))
    if period:
        stmt = stmt.where(PlanReport.period == period)
    return stmt.order_by(PlanReport.period.desc(), Region.code, PlanReport.lang, PlanReport.version.desc())


def in_scope(report: PlanReport, user) -> bool:
    scope = region_scope(user)
    return scope is None or report.region_id in scope


@dataclass(frozen=True)
class LatestReport:
    """What the dashboard links: the report, its download URL and a title in the reader's language."""

    report: PlanReport

    @property
    def id(self) -> int:
        return self.report.id

    @property
    def url(self) -> str:
        return url_for("plans.report_pdf", report_id=self.report.id)

    @property
    def title(self) -> str:
        return _("Plan versus actual of %(region)s, %(period)s", region=self.report.region.name,
                 period=self.report.period)


def latest_for(user) -> LatestReport | None:
    """The newest report of the user's regions (for the supervisor's dashboard): of the latest
    period with one, the report of the highest region (a supervisor's own before its sub-regions'),
    in the user's language where there is one, its newest version. None for users who may not
    see the reports."""
    if user is None or not can("view_plan_reports", user=user):
        return None
    newest = select(PlanReport.period).order_by(PlanReport.period.desc()).limit(1)
    scope = region_scope(user)
    if scope is not None:
        newest = newest.where(PlanReport.region_id.in_(list(scope) or [-1]))
    period = db.session.execute(newest).scalar_one_or_none()
    if period is None:
        return None
    found = db.session.execute(reports_stmt(user, period=period)).scalars().all()
    lang = getattr(user, "locale", None) or current_app.config["REPORT_LANGUAGE"]
    return LatestReport(min(found, key=lambda r: (len(r.region.tree_key), r.lang != lang, -r.version, -r.id)))


def pdf_bytes(report: PlanReport) -> bytes:
    return db.session.execute(select(ReportFile.content).where(ReportFile.sha256 == report.sha256)).scalar_one()


# --- making one -------------------------------------------------------------------------------------------

@dataclass
class Prepared:
    """A report about to be rendered: its content and where it goes in the archive."""

    region_id: int
    period: str
    lang: str
    context: dict
    input_hash: str
    version: int
    current: PlanReport | None  # the existing report with these very inputs, if any


def prepare(region: Region, period: TenDay, lang: str, *, today: date | None = None) -> Prepared:
    """The report's content, and whether the archive already holds it unchanged."""
    today = today or ps.business_today()
    _require_finished(period, today)
    if lang not in current_app.config["LANGUAGES"]:
        raise ReportError(f"unknown language {lang!r}")
    last = latest(region.id, str(period), lang)
    context = report_context(region, period, today=today)
    digest = input_hash(KIND, context, lang)
    if last is not None and last.input_hash == digest:
        return Prepared(region.id, str(period), lang, context, digest, last.version, last)
    version = last.version + 1 if last is not None else 1
    context["reference"] = f"{region.code}·{period}·v{version}"
    return Prepared(region.id, str(period), lang, context, digest, version, None)


def render(prepared: Prepared, pool) -> tuple[bytes, float]:
    """The PDF from `pool` (anything with render_many, e.g. reports.pool.RenderPool); raises
    ReportUnavailable."""
    results = list(pool.render_many([(None, KIND, prepared.context, prepared.lang)]))
    result = results[0][1] if results else None
    if result is None or result.error:
        error = result.error if result is not None else "no result"
        current_app.logger.error("plan report %s %s (%s): %s", prepared.context["region"]["code"],
                                 prepared.period, prepared.lang, error)
        raise ReportUnavailable(error)
    return result.pdf, result.seconds


def store(prepared: Prepared, pdf: bytes, *, seconds: float | None = None, by=None,
          schedule: str | None = None) -> tuple[PlanReport, bool]:
    """Keep the PDF as the next version (flushes; the caller commits). Someone who stored the
    same version a moment earlier wins: theirs is returned, not new."""
    digest = store_file(pdf)
    report = PlanReport(region_id=prepared.region_id, period=prepared.period, lang=prepared.lang,
                        version=prepared.version, sha256=digest, size=len(pdf), input_hash=prepared.input_hash,
                        seconds=seconds, schedule=schedule, requested_by_id=getattr(by, "id", None))
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        return latest(prepared.region_id, prepared.period, prepared.lang), False
    return report, True


def make(region: Region, period: TenDay, lang: str, *, pool, by=None, schedule: str | None = None,
         today: date | None = None) -> tuple[PlanReport, bool]:
    """The region's report for the period: the one in the archive if its inputs did not change,
    else rendered now by `pool` and stored (returns it and whether it is new; the caller commits).

    The read ends before the render (no transaction held while a worker renders), and the write
    starts with begin_write(): call it with nothing written in the session yet."""
    prepared = prepare(region, period, lang, today=today)
    if prepared.current is not None:
        return prepared.current, False
    by_id = getattr(by, "id", None)
    db.session.rollback()
    pdf, seconds = render(prepared, pool)
    begin_write()
    by = db.session.get(User, by_id) if by_id is not None else None
    return store(prepared, pdf, seconds=seconds, by=by, schedule=schedule)


# --- rendering for a web request ------------------------------------------------------------------------

# The process's one warm render worker (channel/reports/ondemand.py), shared with the voucher.
OnDemandPool = ondemand.OnDemandPool
