"""The plan-versus-actual PDFs of the regions: the list (the user's regions, by period), making
one now, and the download.

Made on demand at once, not queued: one region's report is a page or two that renders in a
fraction of a second through the web process's render worker (channel/reports/ondemand.py,
shared with the expense voucher), so the person gets it while they wait instead of
watching a queue the scheduler works off. A report whose figures did not change is not made
again. Every download is audited; a report of a region outside the user's scope is 404.
"""
import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from ..audit.services import record
from ..auth.permissions import require, scope_regions
from ..core.periods import TenDay
from ..extensions import db
from ..i18n import LANGUAGE_NAMES, current_language, label
from ..masterdata.models import Region, in_tree_order
from . import reports
from . import services as ps
from .blueprint import bp
from .report_models import PlanReport


class ReportForm(FlaskForm):
    region = SelectField(_l("Region"), coerce=int, validators=[InputRequired(message=_l("Choose a region."))])
    period = SelectField(_l("Period"), validators=[InputRequired(message=_l("Choose a finished period."))])
    lang = SelectField(_l("Language"), choices=[SelectChoice(k, v) for k, v in LANGUAGE_NAMES.items()])

    def __init__(self, regions, periods, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = [(r.id, r.path) for r in regions]
        self.period.choices = [(str(p), period_name(p)) for p in periods]
        if not self.period.data and periods:
            self.period.data = str(periods[0])
        if not self.lang.data:
            self.lang.data = current_language()


def period_name(period: TenDay) -> str:
    """The period as people pick it: 2026-03-2 second ten days (11-20)."""
    return f"{period} {label(period.index, 'tenday')} ({period.start.day}-{period.end.day})"


def _regions():
    return in_tree_order(db.session.execute(scope_regions(select(Region), current_user)).scalars().all())


def _periods():
    return reports.finished_periods(ps.business_today(), reports.PERIODS_OFFERED)


def _filters(regions):
    region_id = request.args.get("region", type=int)
    period = request.args.get("period", "").strip()
    try:
        period = str(TenDay.parse(period)) if period else ""
    except ValueError:
        period = ""
    return {"region": region_id if region_id in {r.id for r in regions} else None, "period": period}


def _page(form, status=200):
    regions = _regions()
    f = _filters(regions)
    stmt = reports.reports_stmt(current_user, region_id=f["region"], period=f["period"] or None)
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template("plans/reports.html", page=page, f=f, form=form, regions=regions,
                           periods=_periods(), period_name=period_name), status


@bp.route("/reports", endpoint="reports")
@login_required
def list_reports():
    require("view_plan_reports")
    regions, periods = _regions(), _periods()
    form = ReportForm(regions, periods, formdata=None)
    if request.args.get("region", type=int) in {r.id for r in regions}:
        form.region.data = request.args.get("region", type=int)
    return _page(form)


@bp.route("/reports/generate", methods=["POST"], endpoint="generate_report")
@login_required
def generate_report():
    require("view_plan_reports")
    regions, periods = _regions(), _periods()
    form = ReportForm(regions, periods)
    if not form.validate_on_submit():
        return _page(form, status=422)
    region = next(r for r in regions if r.id == form.region.data)
    period = TenDay.parse(form.period.data)
    try:
        report, new = reports.make(region, period, form.lang.data, pool=reports.OnDemandPool(), by=current_user)
    except reports.ReportError as err:
        db.session.rollback()
        form.period.errors.append(str(err))
        return _page(form, status=422)
    except reports.ReportUnavailable:
        db.session.rollback()
        return render_template("errors/error.html", code=503, title=_("Report not available"),
                               text=_("The report could not be made just now. Please try again in a "
                                      "minute; if it persists, tell your administrator.")), 503
    if new:
        record("reports_requested", report, by=current_user, object_type="plan_reports", label=report.filename)
        flash(_("The report of %(region)s for %(period)s is made (version %(version)s).",
                region=report.region.name, period=report.period, version=report.version), "success")
    else:
        flash(_("The report of %(region)s for %(period)s is up to date: nothing changed since it was made.",
                region=report.region.name, period=report.period), "info")
    db.session.commit()
    return redirect(url_for(".reports", region=report.region_id, period=report.period))


@bp.route("/reports/<int:report_id>.pdf", endpoint="report_pdf")
@login_required
def report_pdf(report_id):
    require("view_plan_reports")
    report = db.session.get(PlanReport, report_id)
    if report is None or not reports.in_scope(report, current_user):
        abort(404)
    pdf = reports.pdf_bytes(report)
    record("report_downloaded", report, by=current_user, object_type="plan_reports", label=report.filename)
    db.session.commit()
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=report.filename, etag=report.sha256, max_age=0)
