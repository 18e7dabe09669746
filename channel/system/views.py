"""The scheduler's admin pages: schedules (edit, run now) and the run history (retry)."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from reports.jobs import JOBS, business_tz, job_title, load_job_modules, next_fire_times, show_text

from ..auth.permissions import require
from ..db_types import utcnow
from ..extensions import db
from .forms import ScheduleForm
from .models import RUN_STATUSES, JobRun, JobSchedule
from .services import (
    ScheduleError,
    request_run,
    retry_run,
    run_job_ids,
    runs_query,
    save_schedule,
    scheduler_state,
    schedules,
)

bp = Blueprint("system", __name__, url_prefix="/system")


@bp.before_request
@login_required
def _login_first():
    pass


def _job_or_404(job_id):
    job = JOBS.get(job_id)
    if job is None:
        abort(404)
    return job


@bp.route("/schedules")
def list_schedules():
    require("view_system")
    failed_modules = load_job_modules()
    return render_template("system/schedules.html", schedules=schedules(), state=scheduler_state(),
                           failed_modules=failed_modules, tz=business_tz().key)


@bp.route("/schedules/<job_id>/edit", methods=["GET", "POST"])
def edit_schedule(job_id):
    require("manage_schedules")
    load_job_modules()
    job = _job_or_404(job_id)
    schedule = db.session.get(JobSchedule, job.id)
    tz = business_tz()
    # A POST stands on its own: a field left out is refused, not taken from the saved schedule.
    saved = {"cron": schedule.cron, "enabled": schedule.enabled} if schedule else \
        {"cron": job.default_cron, "enabled": True}
    form = ScheduleForm(tz=tz, data=saved if request.method == "GET" else None)
    if form.validate_on_submit():
        changed = save_schedule(job, cron=form.cron.data, enabled=form.enabled.data, by=current_user)
        db.session.commit()
        flash(_("Saved. The scheduler applies the new schedule within a few seconds.") if changed
              else _("Nothing changed."), "success" if changed else "info")
        return redirect(url_for(".list_schedules"))
    current = schedule.cron if schedule else job.default_cron
    upcoming = next_fire_times(current, tz, utcnow().astimezone(tz), 3)
    return render_template("system/schedule_form.html", form=form, job=job, title=job_title(job.id),
                           upcoming=upcoming, tz=tz.key), 422 if form.errors else 200


@bp.route("/schedules/<job_id>/run", methods=["POST"])
def run_job_now(job_id):
    require("manage_schedules")
    load_job_modules()
    job = _job_or_404(job_id)
    request_run(job, by=current_user)
    db.session.commit()
    flash(_("Asked the scheduler to run “%(job)s”: it starts within a few seconds if anything is owed.",
            job=job_title(job.id)), "success")
    return redirect(url_for(".list_schedules"))


@bp.route("/runs")
def list_runs():
    require("view_system")
    load_job_modules()
    job_id = request.args.get("job", "").strip()
    status = request.args.get("status", "").strip()
    if status not in RUN_STATUSES:
        status = ""
    page = db.paginate(runs_query(job_id or None, status or None),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("system/runs.html", page=page, job_id=job_id, status=status,
                           job_ids=run_job_ids(), statuses=RUN_STATUSES, title=job_title, text=show_text)


@bp.route("/runs/<int:run_id>/retry", methods=["POST"])
def retry_failed_run(run_id):
    require("manage_schedules")
    load_job_modules()
    run = db.get_or_404(JobRun, run_id)
    try:
        retry_run(run, by=current_user)
    except ScheduleError:
        db.session.rollback()
        flash(_("Only a failed run can be retried."), "error")
        return redirect(url_for(".list_runs"))
    db.session.commit()
    flash(_("The run of %(key)s is retried within a few seconds.", key=run.key), "success")
    return redirect(url_for(".list_runs", job=run.job_id))
