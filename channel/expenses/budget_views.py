"""Budget, settings and summary pages of the expenses area: the regions' monthly budgets (set,
copied from last month, imported from Excel), the second-approval amount and policy caps, and
the monthly summary by region, category and person with its Excel export.

Views load, check (403 for a feature the role lacks, 404 for a region outside the user's
scope), act through the services, and commit once; a refused form changes nothing (422), a
budget grid saved over someone else's change is refused (409).
"""
import hashlib
from types import SimpleNamespace

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from ..auth.permissions import can, require
from ..core.money import fen_to_decimal
from ..core.periods import Month
from ..exports import workbook_response
from ..extensions import db
from ..i18n import label
from ..ledger import views as ledger_views
from ..masterdata.models import Region
from ..transactions import begin_write, lock_rows
from . import budget_import, services
from .blueprint import bp
from .budget_forms import BudgetImportForm, CopyBudgetsForm, ExpenseSettingsForm, budget_grid_form
from .models import BUDGET_CATEGORIES
from .summary import monthly_summary, region_figures, summary_regions

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month():
    return ledger_views._month_arg("month", Month.of(services.business_today()))


def _may_see_budgets():
    """Admin and finance set budgets; a supervisor sees their regions' budgets read-only."""
    if can("manage_budgets"):
        return True
    if current_user.role == "supervisor" and can("view_expense_summary"):
        return False
    abort(403)


def _seen(budgets: dict, regions) -> str:
    """What the page was drawn from: a digest of the shown regions' budgets of the month."""
    ids = {r.id for r in regions}
    text = repr(sorted((k, v) for k, v in budgets.items() if k[0] in ids))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _lock_budgets(regions):
    """Budget writes of one month queue behind each other (PostgreSQL: the regions' rows;
    SQLite: begin_write's lock), so the check of what was seen holds until the commit."""
    begin_write()
    db.session.execute(lock_rows(select(Region.id).where(Region.id.in_([r.id for r in regions] or [-1]))))


def _saved_grid(month, regions):
    """The grid as saved, with the digest of what it shows."""
    budgets = services.budgets_of(month)
    return budget_grid_form(regions, budgets=budgets, seen=_seen(budgets, regions))


def _budgets_page(month, regions, editable, form=None, status=200, problem=None):
    ids = {r.id for r in regions}
    return render_template(
        "expenses/budgets.html", month=month, regions=regions, editable=editable, form=form,
        budgets=services.budgets_of(month), figures=region_figures(month, list(ids), current_user),
        categories=BUDGET_CATEGORIES, problem=problem,
        copy_form=CopyBudgetsForm(formdata=None, month=str(month)) if editable else None,
        has_previous=any(key[0] in ids for key in services.budgets_of(month.prev())),
    ), status


@bp.route("/budgets", methods=["GET", "POST"])
@login_required
def budgets():
    editable = _may_see_budgets()
    month = _month()
    if request.method == "POST":
        require("manage_budgets")
    regions = services.budget_regions() if editable else summary_regions(current_user)
    if request.method == "GET":
        return _budgets_page(month, regions, editable, _saved_grid(month, regions) if editable else None)
    form = budget_grid_form(regions)
    if not form.validate():
        return _budgets_page(month, regions, editable, form, 422)
    _lock_budgets(regions)
    if form.seen.data != _seen(services.budgets_of(month), regions):
        db.session.rollback()
        return _budgets_page(month, regions, editable, form, 409, problem=_(
            "Someone changed the budgets of %(month)s while you were editing them. Nothing was saved: "
            "reload the page to see their values, then enter yours again.", month=month))
    changed = sum(services.set_budgets(month, r, form.amounts(r), by=current_user) for r in regions)
    db.session.commit()
    flash(ngettext("Budgets of %(month)s saved: %(num)s change.", "Budgets of %(month)s saved: %(num)s changes.",
                   changed, month=month) if changed else _("Nothing changed."), "success" if changed else "info")
    return redirect(url_for(".budgets", month=str(month)))


@bp.route("/budgets/copy", methods=["POST"])
@login_required
def copy_budgets():
    require("manage_budgets")
    form = CopyBudgetsForm()
    regions = services.budget_regions()
    if not form.validate():
        month = _month()
        return _budgets_page(month, regions, True, _saved_grid(month, regions), 422,
                             problem=_("Nothing was copied: the form has expired. Reload the page and try again."))
    month = Month.parse(form.month.data)
    _lock_budgets(regions)
    copied = services.copy_budgets(month.prev(), month, by=current_user)
    db.session.commit()
    if copied:
        flash(ngettext("%(num)s budget copied from %(source)s (only where %(month)s had none).",
                       "%(num)s budgets copied from %(source)s (only where %(month)s had none).",
                       copied, source=month.prev(), month=month), "success")
    else:
        flash(_("Nothing copied: %(source)s has no budget that %(month)s lacks.",
                source=month.prev(), month=month), "info")
    return redirect(url_for(".budgets", month=str(month)))


@bp.route("/budgets/template.xlsx")
@login_required
def budget_template():
    require("manage_budgets")
    month = _month()
    return Response(budget_import.template_file(month), mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="budgets-{month}.xlsx"'})


@bp.route("/budgets/import", methods=["GET", "POST"])
@login_required
def import_budgets():
    require("manage_budgets")
    month = _month()
    form = BudgetImportForm()
    result = None
    if request.method == "POST" and form.validate():
        try:
            result = budget_import.check_file(budget_import.read_upload(form.file.data.stream))
        except budget_import.ImportRefused as err:
            form.file.errors.append(str(err))
        else:
            if result.ok:
                regions = services.budget_regions()
                _lock_budgets(regions)
                changed = budget_import.save(month, result.rows, by=current_user)
                db.session.commit()
                flash(_("Budgets of %(month)s imported: %(rows)s rows read, %(changed)s budgets changed.",
                        month=month, rows=len(result.rows), changed=changed), "success")
                return redirect(url_for(".budgets", month=str(month)))
    status = 422 if request.method == "POST" else 200
    return render_template("expenses/budgets_import.html", form=form, month=month, result=result,
                           columns=budget_import.COLUMNS, max_rows=budget_import.MAX_ROWS), status


# --- settings: the second-approval amount and the policy caps ---------------------------------

@bp.route("/settings", methods=["GET", "POST"])
@login_required
def expense_settings():
    require("manage_expense_settings")
    if request.method == "GET":
        return render_template("expenses/settings.html", form=ExpenseSettingsForm.initial(services.get_settings()))
    form = ExpenseSettingsForm()
    if not form.validate():
        return render_template("expenses/settings.html", form=form), 422
    begin_write()
    services.save_settings(second_approval_over_fen=form.second_approval_over.fen,
                           per_day_fen=form.per_day_fen(), per_night_fen=form.per_night_fen(), by=current_user)
    db.session.commit()
    flash(_("Expense settings saved."), "success")
    return redirect(url_for(".expense_settings"))


# --- the monthly summary ----------------------------------------------------------------------

def _summary_args():
    require("view_expense_summary")
    month = _month()
    region = None
    text = request.args.get("region", "").strip()
    if text:
        if not text.isdigit() or len(text) > 9:
            abort(404)
        region = next((r for r in summary_regions(current_user) if r.id == int(text)), None)
        if region is None:
            abort(404)  # no such budget region, or not one of the user's
    return month, region


@bp.route("/summary")
@login_required
def summary():
    month, region = _summary_args()
    return render_template("expenses/summary.html", summary=monthly_summary(month, current_user, region),
                           region=region, regions=summary_regions(current_user))


def _yuan(fen):
    return fen_to_decimal(fen) if fen is not None else None


FIGURE_COLUMNS = [
    (_l("Budget (¥)"), lambda r: _yuan(r[-1].budget_fen)),
    (_l("Approved (¥)"), lambda r: _yuan(r[-1].approved_fen)),
    (_l("Paid (¥)"), lambda r: _yuan(r[-1].paid_fen)),
    (_l("Pending (¥)"), lambda r: _yuan(r[-1].pending_fen)),
    (_l("Left (¥)"), lambda r: _yuan(r[-1].left_fen)),
    (_l("Use (%)"), lambda r: r[-1].use_percent),
]
REGION_COLUMNS = [(_l("Region code"), lambda r: r[0].code), (_l("Region"), lambda r: r[0].name)] + FIGURE_COLUMNS
CATEGORY_COLUMNS = [(_l("Region code"), lambda r: r[0].code), (_l("Region"), lambda r: r[0].name),
                    (_l("Category"), lambda r: str(label(r[1], "expense_category")))] + FIGURE_COLUMNS
PERSON_COLUMNS = [
    (_l("Username"), lambda p: p.user.username),
    (_l("Name"), lambda p: p.user.full_name),
    (_l("Region"), lambda p: p.region.name),
    (_l("Claims"), lambda p: p.claims),
    (_l("Claimed (¥)"), lambda p: _yuan(p.claimed_fen)),
    (_l("Approved (¥)"), lambda p: _yuan(p.approved_fen)),
    (_l("Paid (¥)"), lambda p: _yuan(p.paid_fen)),
]


@bp.route("/summary.xlsx")
@login_required
def summary_xlsx():
    month, region = _summary_args()
    data = monthly_summary(month, current_user, region)
    regions = [(row.region, row.figures) for row in data.regions]
    total = SimpleNamespace(code="", name=_("Total"))
    categories = [(row.region, c, f) for row in data.regions for c, f in row.categories]
    suffix = f"-{region.code}" if region is not None else ""
    return workbook_response(f"expense-summary-{month}{suffix}", [
        (_("Regions"), REGION_COLUMNS, regions + [(total, data.total)]),
        (_("Regions and categories"), CATEGORY_COLUMNS, categories),
        (_("People"), PERSON_COLUMNS, data.people),
    ])

