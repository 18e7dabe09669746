"""The report archive: list, download (one, or a month as a ZIP), ask for a month's settlements,
watch a batch, regenerate or retry one report.

Nothing is rendered here: asking queues runs that the scheduler process renders. Every download
is authorised by the policy module (a run is seen with its account) and audited.
"""
import io
import tempfile
import zipfile

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, joinedload

from ..audit.services import record
from ..auth.permissions import can, region_tree_ids, require, scope_accounts, scope_regions
from ..core.periods import Month
from ..extensions import db
from ..ledger.models import Period
from ..masterdata.models import Account, Region, in_tree_order
from . import services
from .forms import GenerateForm
from .models import REPORT_KINDS, RUN_STATUSES, ReportBatch, ReportRun

bp = Blueprint("reports", __name__, url_prefix="/reports")

MONTHS_OFFERED = 24
ZIP_LIMIT = 5000  # reports in one ZIP


@bp.before_request
@login_required
def _login_first():
    pass


def closed_months() -> list[Month]:
    return [Month.parse(m) for m in db.session.execute(
        select(Period.month).where(Period.status == "closed").order_by(Period.month.desc())
        .limit(MONTHS_OFFERED)).scalars()]


def _current_runs():
    """The newest version of every report, limited to the accounts the user may see."""
    newest = (select(ReportRun.kind, ReportRun.period, ReportRun.account_id, ReportRun.lang,
                     func.max(ReportRun.version).label("version"))
              .group_by(ReportRun.kind, ReportRun.period, ReportRun.account_id, ReportRun.lang).subquery())
    stmt = (select(ReportRun)
            .join(newest, (ReportRun.kind == newest.c.kind) & (ReportRun.period == newest.c.period)
                  & (ReportRun.account_id == newest.c.account_id) & (ReportRun.lang == newest.c.lang)
                  & (ReportRun.version == newest.c.version))
            .join(Account, ReportRun.account_id == Account.id))
    return scope_accounts(stmt, current_user)


def _filters():
    args = request.args
    f = {"period": args.get("period", "").strip(), "kind": args.get("kind", ""), "status": args.get("status", ""),
         "q": args.get("q", "").strip()[:100], "region": args.get("region", type=int), "lang": args.get("lang", "")}
    try:
        f["month"] = Month.parse(f["period"]) if f["period"] else None
    except ValueError:
        f["month"] = None
    return f


def _filtered(stmt, f):
    if f["month"] is not None:
        stmt = stmt.where(ReportRun.period == str(f["month"]))
    if f["kind"] in REPORT_KINDS:
        stmt = stmt.where(ReportRun.kind == f["kind"])
    if f["lang"]:
        stmt = stmt.where(ReportRun.lang == f["lang"])
    if f["status"] == "downloaded":
        stmt = stmt.where(ReportRun.status == "done", ReportRun.downloaded_at.is_not(None))
    elif f["status"] in RUN_STATUSES:
        stmt = stmt.where(ReportRun.status == f["status"])
    if f["region"]:
        stmt = stmt.where(Account.region_id.in_(region_tree_ids(f["region"])))
    if f["q"]:
        like = f"%{f['q']}%"
        stmt = stmt.where(or_(Account.code.ilike(like), Account.name.ilike(like)))
    return stmt


def _visible_regions():
    if current_user.role == "distributor":
        return []
    return in_tree_order(db.session.execute(scope_regions(select(Region), current_user)).scalars().all())


def _page(form, status=200):
    f = _filters()
    stmt = _filtered(_current_runs(), f).options(joinedload(ReportRun.account))
    stmt = stmt.order_by(ReportRun.period.desc(), Account.code, ReportRun.lang)
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template("archive/list.html", page=page, f=f, form=form, regions=_visible_regions(),
                           kinds=REPORT_KINDS, statuses=RUN_STATUSES + ("downloaded",),
                           months=closed_months(), waiting=_waiting()), status


def _waiting():
    """What the schedule is waiting for (e.g. a month not closed yet), for finance to see."""
    if not can("generate_reports") or current_user.role == "distributor":
        return []
    from reports.jobs import waiting_runs

    return waiting_runs()


@bp.route("/")
def archive():
    require("view_reports")
    form = GenerateForm(closed_months(), formdata=None) if can("generate_reports") else None
    return _page(form)


@bp.route("/settlements", methods=["POST"])
def generate():
    require("generate_reports")
    form = GenerateForm(closed_months())
    if not form.validate_on_submit():
        return _page(form, status=422)
    month = Month.parse(form.period.data)
    accounts = services.settlement_accounts(month)
    if current_user.role == "distributor":
        accounts = [a for a in accounts if can("generate_reports", a)]
    try:
        batch = services.request_batch("settlement", month, form.lang.data, by=current_user,
                                       accounts=accounts, force=form.force.data)
    except services.ReportError as err:
        db.session.rollback()
        form.period.errors.append(str(err))
        return _page(form, status=422)
    record("reports_requested", batch, by=current_user, object_type="report_batches",
           label=f"{_('Monthly settlement')} {month} ({batch.total})")
    db.session.commit()
    if batch.total == 0:
        flash(_("Every settlement of %(month)s is up to date: nothing to render.", month=str(month)), "info")
        return redirect(url_for(".archive", period=str(month)))
    flash(_("%(n)s settlements of %(month)s queued.", n=batch.total, month=str(month)), "success")
    return redirect(url_for(".show_batch", batch_id=batch.id))


def _batch_runs(batch):
    stmt = (select(ReportRun).join(Account, ReportRun.account_id == Account.id)
            .where(ReportRun.batch_id == batch.id).options(joinedload(ReportRun.account))
            .order_by(Account.code))
    return scope_accounts(stmt, current_user)


@bp.route("/batches/<int:batch_id>")
def show_batch(batch_id):
    require("view_reports")
    batch = db.get_or_404(ReportBatch, batch_id)
    runs = db.session.execute(_batch_runs(batch)).scalars().all()
    if not runs and not can("generate_reports"):
        abort(404)
    if current_user.role == "distributor" and batch.requested_by_id != current_user.id and not runs:
        abort(404)
    counts = {status: 0 for status in ("queued", "running", "done", "failed")}
    for run in runs:
        counts[run.status] += 1
    active = counts["queued"] + counts["running"] > 0
    return render_template("archive/batch.html", batch=batch, runs=runs, counts=counts, active=active,
                           finished=counts["done"] + counts["failed"], total=len(runs))


def _run_or_404(run_id):
    run = db.session.get(ReportRun, run_id)
    if run is None:
        abort(404)
    require("download_report", run)
    return run


def _run_to_make(run_id):
    run = _run_or_404(run_id)
    if not can("generate_reports", run.account):
        abort(403)  # the user sees the report but may not make it
    return run


@bp.route("/runs/<int:run_id>")
def show_run(run_id):
    run = _run_or_404(run_id)
    older = aliased(ReportRun)
    versions = db.session.execute(
        select(older).where(older.kind == run.kind, older.period == run.period,
                            older.account_id == run.account_id, older.lang == run.lang)
        .order_by(older.version.desc())).scalars().all()
    return render_template("archive/run.html", run=run, versions=versions)


@bp.route("/runs/<int:run_id>/download")
def download(run_id):
    run = _run_or_404(run_id)
    if run.status != "done":
        abort(404)
    pdf = services.pdf_bytes(run)
    services.mark_downloaded(run, current_user)
    record("report_downloaded", run, by=current_user, object_type="report_runs", label=run.filename)
    db.session.commit()
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=run.filename, etag=run.file_sha256, max_age=0)


@bp.route("/runs/<int:run_id>/regenerate", methods=["POST"])
def regenerate(run_id):
    run = _run_to_make(run_id)
    try:
        new, created = services.request_report(run.kind, Month.parse(run.period), run.account, run.lang,
                                               by=current_user, force=True)
    except services.ReportError as err:
        db.session.rollback()
        flash(str(err), "error")
        return redirect(url_for(".show_run", run_id=run.id))
    if created:
        record("reports_requested", new, by=current_user, object_type="report_runs", label=new.filename)
        flash(_("Version %(v)s queued.", v=new.version), "success")
    else:
        flash(_("This report is already queued."), "info")
    db.session.commit()
    return redirect(url_for(".show_run", run_id=new.id))


@bp.route("/runs/<int:run_id>/retry", methods=["POST"])
def retry(run_id):
    run = _run_to_make(run_id)
    try:
        services.retry_run(run)
    except services.ReportError as err:
        db.session.rollback()
        flash(str(err), "error")
        return redirect(url_for(".show_run", run_id=run.id))
    record("reports_requested", run, by=current_user, object_type="report_runs", label=run.filename)
    db.session.commit()
    flash(_("Queued again."), "success")
    return redirect(url_for(".show_run", run_id=run.id))


@bp.route("/settlements/<period>.zip")
def download_zip(period):
    require("view_reports")
    try:
        month = Month.parse(period)
    except ValueError:
        abort(404)
    f = _filters() | {"month": month}
    stmt = _filtered(_current_runs(), f).where(ReportRun.status == "done").options(joinedload(ReportRun.account))
    runs = db.session.execute(stmt.order_by(Account.code, ReportRun.lang).limit(ZIP_LIMIT + 1)).scalars().all()
    if not runs:
        flash(_("No finished settlements of %(month)s to download.", month=str(month)), "info")
        return redirect(url_for(".archive", period=str(month)))
    if len(runs) > ZIP_LIMIT:
        flash(_("More than %(n)s reports: narrow the filter.", n=ZIP_LIMIT), "error")
        return redirect(url_for(".archive", period=str(month)))
    # A month of a thousand settlements is some 60 MB: kept in memory up to 32 MB, then on disk.
    buffer = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive_file:  # PDFs are compressed already
        for run in runs:
            archive_file.writestr(run.filename, services.pdf_bytes(run))
            services.mark_downloaded(run, current_user)
    record("report_downloaded", None, by=current_user, object_type="report_runs",
           label=f"settlement-{month}.zip ({len(runs)})")
    db.session.commit()
    buffer.seek(0)
    return send_file(buffer, mimetype="application/zip", as_attachment=True,
                     download_name=f"settlement-{month}.zip", max_age=0)
