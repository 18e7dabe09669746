"""The promotion pages: the list (with the field staff's "my promotions" and the supervisor's
reports to check) and the month calendar; a promotion (terms, rollout progress by region and
account, cost against budget, uplift, enrolment, the settlement link); head office's form for a
promotion (a draft's every term, a published one's name, description and budgets), publishing
and deleting a draft; the execution reports with their photos, the field staff's report form (a
phone's camera) and the supervisor's verdict.

Views load, check (404 for a promotion, enrolment, report or photo the user may not see, 403 for
what they may not do), act through channel.promotions.services and commit once. A refused action
changes nothing and says why in the user's language: 422 for what the user typed, 409 when the
promotion or report moved on meanwhile (a stale version: someone else acted first), 403 when the
rules say this user may not.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..auth.permissions import can, region_scope, region_tree_ids, regions_touching, require
from ..core import plans as plan_core
from ..core import promotions as core
from ..core.money import format_fen
from ..core.periods import Month
from ..extensions import db
from ..files import services as files
from ..ledger.services import LedgerError
from ..masterdata.models import Account, Product, Region, in_tree_order
from ..transactions import begin_write
from . import services
from .blueprint import bp
from .forms import EnrolForm, PromotionForm, ReportForm, TargetsForm, VerdictForm, VersionForm, rate_text
from .messages import promotion_message
from .models import Enrolment, ExecutionPhoto, ExecutionReport, Promotion, PromotionProduct, PromotionRegion

PromotionError = core.PromotionError

PER_PAGE = 50
MY_ENROLMENTS = 100  # the field staff's "my promotions" list, running ones first
# The promotion or report moved on while the user looked at it: 409 with the page as it is now.
CONFLICTS = frozenset({"stale", "not_a_draft", "already_settled", "terms_fixed", "already_checked",
                       "not_open_for_enrolment", "has_reports"})
# The rules say this user may not: 403.
FORBIDDEN = frozenset({"not_allowed", "not_your_region", "own_report"})
# PromotionError.field -> the form field that shows the message ("regions": the budget rows).
FIELDS = {"cap_fen": "cap", "account": "account_id"}
REPORT_FILTERS = {"pending": "submitted", "verified": "verified", "rejected": "rejected"}


@bp.before_request
@login_required
def _login_first():
    pass


# --- helpers ----------------------------------------------------------------------------------

def _today() -> date:
    return services.business_today()


def _status_code(err) -> int:
    if isinstance(err, LedgerError):
        return 422
    if err.code in CONFLICTS:
        return 409
    if err.code in FORBIDDEN:
        return 403
    return 422


def _promotion_or_404(promotion_id) -> Promotion:
    promotion = db.session.execute(
        select(Promotion).where(Promotion.id == promotion_id).options(
            selectinload(Promotion.products).selectinload(PromotionProduct.product),
            selectinload(Promotion.regions).selectinload(PromotionRegion.region),
            selectinload(Promotion.enrolments).selectinload(Enrolment.account),
            selectinload(Promotion.enrolments).selectinload(Enrolment.region),
            selectinload(Promotion.enrolments).selectinload(Enrolment.reports),
            selectinload(Promotion.settlements))
    ).scalar_one_or_none()
    if promotion is None:
        abort(404)
    require("view_promotion", promotion)
    return promotion


def _enrolment_or_404(promotion, enrolment_id) -> Enrolment:
    """One of the promotion's enrolments that the user sees."""
    found = next((e for e in services.visible_enrolments(current_user, promotion) if e.id == enrolment_id), None)
    if found is None:
        abort(404)
    return found


def _report_or_404(report_id) -> ExecutionReport:
    report = db.session.get(ExecutionReport, report_id)
    if report is None:
        abort(404)
    promotion = _promotion_or_404(report.enrolment.promotion_id)
    _enrolment_or_404(promotion, report.enrolment_id)
    return report


def _expired_form():
    return _("The form has expired. Reload the page and try again.")


def _error_on(form, err) -> bool:
    """The message of a refused action on the form field it concerns; False when the form has no
    such field (the caller shows the message above the form)."""
    if form is None or not getattr(err, "field", None):
        return False
    if err.field == "regions" and hasattr(form, "row_errors"):
        form.row_errors = list(form.row_errors) + [promotion_message(err)]
        return True
    target = getattr(form, FIELDS.get(err.field, err.field), None)
    if target is None or not hasattr(target, "errors"):
        return False
    target.errors = list(target.errors) + [promotion_message(err)]
    return True


def rules_text(promotion) -> str:
    """The rules in words: "¥2.00 per 箱 shipped, from 10 箱, at most ¥500.00 per account"."""
    units = {pp.product.unit for pp in promotion.products if pp.product is not None}
    unit = units.pop() if len(units) == 1 else _("unit")
    if promotion.kind == "per_unit":
        parts = [_("%(rate)s per %(unit)s shipped", rate=format_fen(promotion.rate), unit=unit)]
    elif promotion.kind == "percent":
        parts = [_("%(rate)s%% of the net shipment amount", rate=rate_text("percent", promotion.rate))]
    elif promotion.kind == "per_outlet":
        parts = [_("%(rate)s per outlet stocked (verified)", rate=format_fen(promotion.rate))]
    else:
        parts = [_("a display fee of %(rate)s once execution is verified", rate=format_fen(promotion.rate))]
    if promotion.min_quantity and promotion.kind in ("per_unit", "percent"):
        parts.append(_("from %(n)s %(unit)s (net)", n=promotion.min_quantity, unit=unit))
    if promotion.cap_fen is not None:
        parts.append(_("at most %(cap)s per account", cap=format_fen(promotion.cap_fen)))
    text = parts[0]
    for part in parts[1:]:
        text = _("%(rules)s, %(rule)s", rules=text, rule=part)  # a list of rules, one more added
    return text


def _settlement_url(promotion):
    """P2's settlement page of the promotion, when it exists."""
    if "promotions.settlement" not in current_app.view_functions:
        return None
    return url_for("promotions.settlement", promotion_id=promotion.id)


def _regions_offered():
    """The regions of the list filter: all for head office, one's own (and those above) for staff."""
    if current_user.role in ("admin", "finance"):
        return services.regions_offered()
    if current_user.role == "distributor":
        return []
    touching = regions_touching(current_user)
    return in_tree_order(db.session.execute(select(Region).where(Region.id.in_(touching or [-1]))).scalars())


def _status_where(stmt, status, today):
    if status == "draft":
        return stmt.where(Promotion.status == "draft")
    if status == "settled":
        return stmt.where(Promotion.status == "settled")
    published = Promotion.status == "published"
    if status == "published":
        return stmt.where(published, Promotion.starts_on > today)
    if status == "running":
        return stmt.where(published, Promotion.starts_on <= today, Promotion.ends_on >= today)
    if status == "ended":
        return stmt.where(published, Promotion.ends_on < today)
    return stmt


def _in_region(stmt, region_id):
    """Promotions running in the region: one of theirs is it, above it or below it."""
    ids = set(region_tree_ids([region_id]))
    parents = dict(db.session.execute(select(Region.id, Region.parent_id)).all())
    node = parents.get(region_id)
    while node is not None and node not in ids:
        ids.add(node)
        node = parents.get(node)
    return stmt.where(Promotion.id.in_(select(PromotionRegion.promotion_id)
                                       .where(PromotionRegion.region_id.in_(ids))))


@dataclass
class ListRow:
    promotion: Promotion
    status: str
    regions: list  # [PromotionRegion] the user sees
    budget_fen: int | None  # None: not shown (distributors)
    enrolled: int


def _list_rows(promotions, today) -> list[ListRow]:
    user = current_user
    sees = services.account_filter(user)
    touching = None if user.role in ("admin", "finance", "distributor") else regions_touching(user)
    rows = []
    for p in promotions:
        enrolments = [e for e in p.enrolments if sees(e.account)]
        if user.role == "distributor":
            ids = {e.region_id for e in enrolments}
            regions = [r for r in p.regions if r.region_id in ids]
        elif touching is not None:
            regions = [r for r in p.regions if r.region_id in touching]
        else:
            regions = list(p.regions)
        budget = None if user.role == "distributor" else sum(r.budget_fen for r in regions)
        rows.append(ListRow(p, services.shown_status(p, today), regions, budget, len(enrolments)))
    return rows


def _my_enrolments(today) -> list[Enrolment]:
    """Field staff: the enrolments of their region in promotions that have started and are not
    settled (execution is reported until the settlement), running ones first."""
    scope = region_scope(current_user) or set()
    stmt = (select(Enrolment).join(Promotion, Promotion.id == Enrolment.promotion_id)
            .join(Account, Account.id == Enrolment.account_id)
            .where(Promotion.status == "published", Promotion.starts_on <= today,
                   Account.region_id.in_(scope or [-1]))
            .order_by((Promotion.ends_on < today), Promotion.ends_on, Promotion.code, Account.code)
            .options(selectinload(Enrolment.promotion), selectinload(Enrolment.account),
                     selectinload(Enrolment.reports))
            .limit(MY_ENROLMENTS))
    return list(db.session.execute(stmt).scalars())


def _waiting_by_promotion(user):
    """Supervisors: the execution reports waiting for their verdict, counted per promotion."""
    counts = {}
    for r in services.pending_reports(user):
        p = r.enrolment.promotion
        counts.setdefault(p.id, [p, 0])[1] += 1
    return sorted(counts.values(), key=lambda t: t[0].code)


# --- the list and the calendar ------------------------------------------------------------------

@bp.route("/")
def index():
    require("view_promotions")
    today = _today()
    status = request.args.get("status", "")
    status = status if status in core.STATUSES else ""
    kind = request.args.get("kind", "")
    kind = kind if kind in core.TYPES else ""
    regions = _regions_offered()
    region_id = request.args.get("region", type=int)
    if region_id is not None and not any(r.id == region_id for r in regions):
        region_id = None
    stmt = _status_where(services.promotions_query(current_user), status, today)
    if kind:
        stmt = stmt.where(Promotion.kind == kind)
    if region_id is not None:
        stmt = _in_region(stmt, region_id)
    stmt = stmt.order_by(Promotion.starts_on.desc(), Promotion.code).options(
        selectinload(Promotion.regions).selectinload(PromotionRegion.region),
        selectinload(Promotion.enrolments).selectinload(Enrolment.account))
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    mine = _my_enrolments(today) if current_user.role == "field_staff" else []
    return render_template(
        "promotions/index.html", page=page, rows=_list_rows(page.items, today), status=status, kind=kind,
        region_id=region_id, regions=regions, statuses=core.STATUSES, kinds=core.TYPES, mine=mine, today=today,
        waiting=_waiting_by_promotion(current_user) if current_user.role in ("admin", "supervisor") else [],
        shown_status=services.shown_status, may_manage=can("manage_promotions"))


@dataclass
class Bar:
    promotion: Promotion
    status: str
    start: int  # column, 1 = Monday
    span: int
    continued: bool  # it began before this week (or month)
    continues: bool  # it goes on after this week (or month)


@dataclass
class Week:
    days: list  # [date] Monday to Sunday
    bars: list = field(default_factory=list)


def _weeks(month: Month, items, today) -> list[Week]:
    """The month as weeks (Monday first) with each promotion a bar across its days in each week."""
    first = month.first_day - timedelta(days=month.first_day.weekday())
    weeks = []
    monday = first
    while monday <= month.last_day:
        week = Week([monday + timedelta(days=i) for i in range(7)])
        sunday = week.days[-1]
        for p, shown_first, shown_last in items:
            a, b = max(shown_first, monday), min(shown_last, sunday)
            if a > b:
                continue
            week.bars.append(Bar(p, services.shown_status(p, today), (a - monday).days + 1, (b - a).days + 1,
                                 a > p.starts_on, b < p.ends_on))
        weeks.append(week)
        monday += timedelta(days=7)
    return weeks


@bp.route("/calendar")
def calendar():
    require("view_promotions")
    today = _today()
    text = request.args.get("month", "").strip()
    try:
        month = Month.parse(text) if text else Month.of(today)
    except ValueError:
        abort(400)
    start, end = month.first_day, month.last_day
    promotions = db.session.execute(
        services.promotions_query(current_user).where(Promotion.starts_on <= end, Promotion.ends_on >= start)
        .options(selectinload(Promotion.regions).selectinload(PromotionRegion.region))).scalars().all()
    items = services.calendar(promotions, start, end)
    weekdays = [format_date(date(2024, 1, 1) + timedelta(days=i), "EEE") for i in range(7)]  # a Monday
    return render_template("promotions/calendar.html", month=month, items=items, weeks=_weeks(month, items, today),
                           weekdays=weekdays, today=today, shown_status=services.shown_status)


# --- one promotion -------------------------------------------------------------------------------

@dataclass
class RegionProgress:
    region: Region
    rows: list  # [services.ProgressRow]

    def _sum(self, name):
        return sum(getattr(r, name) for r in self.rows)

    @property
    def reports(self):
        return self._sum("reports")

    @property
    def pending(self):
        return self._sum("pending")

    @property
    def reported_outlets(self):
        return self._sum("reported_outlets")

    @property
    def verified_outlets(self):
        return self._sum("verified_outlets")

    @property
    def net_qty(self):
        return self._sum("net_qty")

    @property
    def net_fen(self):
        return self._sum("net_fen")

    @property
    def target_qty(self):
        return sum(r.enrolment.target_qty for r in self.rows)

    @property
    def target_outlets(self):
        return sum(r.enrolment.target_outlets for r in self.rows)

    @property
    def qty_pct(self):
        return plan_core.percent(self.net_qty, self.target_qty)

    @property
    def outlets_pct(self):
        return plan_core.percent(self.verified_outlets, self.target_outlets)


def _progress_by_region(rows) -> list[RegionProgress]:
    groups = {}
    for r in rows:
        groups.setdefault(r.enrolment.region_id, RegionProgress(r.enrolment.region, []))
        groups[r.enrolment.region_id].rows.append(r)
    return sorted(groups.values(), key=lambda g: g.region.name)


def _cost_figures(promotion):
    """The cost against budget of the promotion's regions whose every account the user sees
    (head office all; a supervisor their regions); none for the others, since a region's
    figures add up every participant in it."""
    if current_user.role in ("distributor", "field_staff"):
        return []
    scope = region_scope(current_user)
    ids = {pr.region_id for pr in promotion.regions
           if scope is None or set(region_tree_ids([pr.region_id])) <= scope}
    return services.figures(promotion, region_ids=ids) if ids else []


def _show_page(promotion, *, status=200, alert=None, enrol_form=None, target_forms=None):
    user = current_user
    today = _today()
    shown = services.shown_status(promotion, today)
    enrolments = services.visible_enrolments(user, promotion)
    progress = services.progress(promotion, enrolments)
    uplift_rows, uplift_regions, uplift_total = services.uplift(promotion, enrolments)
    open_for_enrolment = shown in ("published", "running")
    may_enrol = open_for_enrolment and can("enrol_accounts")
    if may_enrol and enrol_form is None:
        enrol_form = EnrolForm(formdata=None, accounts=services.enrollable_accounts(user, promotion))
    target_forms = dict(target_forms or {})
    changeable = {}
    for e in enrolments:
        if promotion.status != "settled" and can("enrol_accounts", e.account):
            changeable[e.id] = _unique_ids(target_forms.get(e.id) or TargetsForm(
                formdata=None, data={"target_qty": str(e.target_qty), "target_outlets": str(e.target_outlets)}),
                e.id)
    reportable = {e.id for e in enrolments
                  if shown in ("running", "ended") and can("report_execution", e)}
    return render_template(
        "promotions/show.html", promotion=promotion, shown=shown, today=today, rules=rules_text(promotion),
        enrolments=enrolments, progress=_progress_by_region(progress), progress_rows=progress,
        cost=_cost_figures(promotion), uplift_rows=uplift_rows, uplift_regions=uplift_regions,
        uplift_total=uplift_total, before=services.before_period(promotion), alert=alert,
        enrol_form=enrol_form if may_enrol else None, target_forms=changeable, reportable=reportable,
        may_manage=can("manage_promotions"),
        settlement_url=_settlement_url(promotion), settlements=services.settlements_visible(user, promotion),
        regions=services.visible_regions(user, promotion), show_budgets=user.role != "distributor",
        rate_value=rate_text(promotion.kind, promotion.rate),
    ), status


def _unique_ids(form, suffix):
    """A form shown once per row: its fields' ids (and their labels') made unique on the page."""
    for f in form:
        f.id = f"{f.name}-{suffix}"
        f.label.field_id = f.id
    return form


def _refused(promotion_id, err, **forms):
    """The promotion page again after a refused action (the transaction rolled back): a conflict
    shows the promotion as it is now with fresh forms, any other refusal the user's input with
    the message on its field."""
    db.session.rollback()
    promotion = _promotion_or_404(promotion_id)
    message = promotion_message(err)
    if _status_code(err) == 409:
        return _show_page(promotion, alert=message, status=409)
    placed = False
    for form in forms.values():
        if isinstance(form, dict):
            placed = any([_error_on(f, err) for f in form.values()]) or placed
        else:
            placed = _error_on(form, err) or placed
    return _show_page(promotion, alert=None if placed else message, status=_status_code(err), **forms)


@bp.route("/<int:promotion_id>")
def show(promotion_id):
    return _show_page(_promotion_or_404(promotion_id))


# --- head office: the promotion's terms ---------------------------------------------------------

def _form_products(promotion=None):
    """Active products, and those already on the promotion."""
    keep = promotion.product_ids if promotion is not None else set()
    return list(db.session.execute(select(Product).where(or_(Product.active.is_(True), Product.id.in_(keep or [-1])))
                                   .order_by(Product.code)).scalars())


def _input(form, promotion=None) -> services.PromotionInput:
    if form.fixed:  # a published promotion: its terms as they are, the name, description, budgets typed
        p = promotion
        return services.PromotionInput(
            code=p.code, name=form.name.data, kind=p.kind, rate=p.rate, starts_on=p.starts_on, ends_on=p.ends_on,
            product_ids=sorted(p.product_ids), budgets=form.budgets, min_quantity=p.min_quantity,
            cap_fen=p.cap_fen, description=form.description.data)
    return services.PromotionInput(
        code=form.code.data, name=form.name.data, kind=form.kind.data, rate=form.rate_value,
        starts_on=form.starts_on.data, ends_on=form.ends_on.data, product_ids=list(form.products.data or []),
        budgets=form.budgets, min_quantity=form.min_quantity.value or 0, cap_fen=form.cap.fen,
        description=form.description.data)


def _form_page(form, promotion=None, *, status=200, alert=None):
    form.pad()
    return render_template("promotions/form.html", form=form, promotion=promotion, alert=alert,
                           shown=services.shown_status(promotion) if promotion else None,
                           rules=rules_text(promotion) if promotion else None), status


def _next_month():
    return Month.of(_today()).next()


@bp.route("/new", methods=["GET", "POST"])
def new_promotion():
    require("manage_promotions")
    products, regions = _form_products(), services.regions_offered()
    if request.method == "GET":
        month = _next_month()
        form = PromotionForm(formdata=None, products=products, regions=regions,
                             data={"kind": "per_unit", "min_quantity": "0", "starts_on": month.first_day,
                                   "ends_on": month.last_day})
        return _form_page(form)
    form = PromotionForm(products=products, regions=regions)
    if not form.validate():
        return _form_page(form, status=422)
    begin_write()
    try:
        promotion = services.create_promotion(_input(form), by=current_user)
    except PromotionError as err:
        db.session.rollback()
        alert = None if _error_on(form, err) else promotion_message(err)
        return _form_page(form, alert=alert, status=_status_code(err))
    db.session.commit()
    flash(_("Promotion %(code)s saved as a draft: publish it when its terms are final.", code=promotion.code),
          "success")
    return redirect(url_for(".show", promotion_id=promotion.id))


def _edit_form(promotion, formdata=None):
    fixed = promotion.status != "draft"
    form = PromotionForm(formdata=formdata, products=_form_products(promotion), regions=services.regions_offered(),
                         fixed=fixed, data=None if formdata is not None else _form_data(promotion, fixed))
    if formdata is None:
        form.fill_rows(promotion.regions)
    return form


def _form_data(promotion, fixed):
    data = {"version": str(promotion.version), "name": promotion.name, "description": promotion.description or ""}
    if not fixed:
        data.update(code=promotion.code, kind=promotion.kind, rate=rate_text(promotion.kind, promotion.rate),
                    min_quantity=str(promotion.min_quantity),
                    cap=rate_text("per_unit", promotion.cap_fen), starts_on=promotion.starts_on,
                    ends_on=promotion.ends_on, products=sorted(promotion.product_ids))
    return data


@bp.route("/<int:promotion_id>/edit", methods=["GET", "POST"])
def edit_promotion(promotion_id):
    promotion = _promotion_or_404(promotion_id)
    require("manage_promotions")
    if promotion.status == "settled":
        return _show_page(promotion, alert=promotion_message(PromotionError("already_settled")), status=409)
    if request.method == "GET":
        return _form_page(_edit_form(promotion), promotion)
    form = _edit_form(promotion, request.form)
    if not form.validate():
        return _form_page(form, promotion, status=422)
    seen = int(form.version.data) if (form.version.data or "").isdigit() else -1
    begin_write()
    try:
        services.update_promotion(promotion, _input(form, promotion), version=seen, by=current_user)
    except PromotionError as err:
        db.session.rollback()
        promotion = _promotion_or_404(promotion_id)
        if _status_code(err) == 409:  # it moved on: the form as the promotion is now
            if promotion.status == "settled":
                return _show_page(promotion, alert=promotion_message(err), status=409)
            return _form_page(_edit_form(promotion), promotion, alert=promotion_message(err), status=409)
        alert = None if _error_on(form, err) else promotion_message(err)
        return _form_page(form, promotion, alert=alert, status=_status_code(err))
    db.session.commit()
    flash(_("Promotion %(code)s saved.", code=promotion.code), "success")
    return redirect(url_for(".show", promotion_id=promotion_id))


@bp.route("/<int:promotion_id>/publish", methods=["POST"])
def publish_promotion(promotion_id):
    promotion = _promotion_or_404(promotion_id)
    require("manage_promotions")
    form = VersionForm()
    if not form.validate():
        return _show_page(promotion, alert=_expired_form(), status=422)
    begin_write()
    try:
        services.publish(promotion, version=form.version_number, by=current_user)
    except PromotionError as err:
        return _refused(promotion_id, err)
    db.session.commit()
    flash(_("Promotion %(code)s published: supervisors can now enrol their accounts.", code=promotion.code),
          "success")
    return redirect(url_for(".show", promotion_id=promotion_id))


@bp.route("/<int:promotion_id>/delete", methods=["POST"])
def delete_promotion(promotion_id):
    promotion = _promotion_or_404(promotion_id)
    require("manage_promotions")
    form = VersionForm()
    if not form.validate():
        return _show_page(promotion, alert=_expired_form(), status=422)
    code = promotion.code
    begin_write()
    try:
        services.delete_promotion(promotion, version=form.version_number, by=current_user)
    except PromotionError as err:
        return _refused(promotion_id, err)
    db.session.commit()
    flash(_("Draft promotion %(code)s deleted.", code=code), "success")
    return redirect(url_for(".index"))


# --- rollout: enrolment ----------------------------------------------------------------------------

@bp.route("/<int:promotion_id>/enrol", methods=["POST"])
def enrol_account(promotion_id):
    promotion = _promotion_or_404(promotion_id)
    require("enrol_accounts")
    form = EnrolForm(accounts=services.enrollable_accounts(current_user, promotion))
    if not form.validate():
        return _show_page(promotion, enrol_form=form, status=422)
    account_id = form.account_id.data
    begin_write()
    try:
        enrolment = services.enrol(promotion, db.session.get(Account, account_id), target_qty=form.target_qty.value,
                                   target_outlets=form.target_outlets.value, by=current_user)
    except PromotionError as err:
        return _refused(promotion_id, err, enrol_form=form)
    db.session.commit()
    flash(_("%(account)s enrolled.", account=f"{enrolment.account.code} {enrolment.account.name}"), "success")
    return redirect(url_for(".show", promotion_id=promotion_id, _anchor=f"enrolment-{enrolment.id}"))


def _enrolment_for_change(promotion_id, enrolment_id):
    promotion = _promotion_or_404(promotion_id)
    enrolment = _enrolment_or_404(promotion, enrolment_id)
    if not can("enrol_accounts", enrolment.account):
        abort(403)
    return promotion, enrolment


@bp.route("/<int:promotion_id>/enrolments/<int:enrolment_id>", methods=["POST"])
def change_targets(promotion_id, enrolment_id):
    promotion, enrolment = _enrolment_for_change(promotion_id, enrolment_id)
    form = TargetsForm()
    if not form.validate():
        return _show_page(promotion, target_forms={enrolment.id: form}, status=422)
    begin_write()
    try:
        services.update_enrolment(enrolment, target_qty=form.target_qty.value,
                                  target_outlets=form.target_outlets.value, by=current_user)
    except PromotionError as err:
        return _refused(promotion_id, err, target_forms={enrolment_id: form})
    db.session.commit()
    flash(_("Targets of %(account)s saved.", account=enrolment.account.code), "success")
    return redirect(url_for(".show", promotion_id=promotion_id, _anchor=f"enrolment-{enrolment_id}"))


@bp.route("/<int:promotion_id>/enrolments/<int:enrolment_id>/withdraw", methods=["POST"])
def withdraw_enrolment(promotion_id, enrolment_id):
    promotion, enrolment = _enrolment_for_change(promotion_id, enrolment_id)
    if not FlaskForm().validate():
        return _show_page(promotion, alert=_expired_form(), status=422)
    code = enrolment.account.code
    begin_write()
    try:
        services.withdraw(enrolment, by=current_user)
    except PromotionError as err:
        return _refused(promotion_id, err)
    db.session.commit()
    flash(_("%(account)s withdrawn from the promotion.", account=code), "success")
    return redirect(url_for(".show", promotion_id=promotion_id, _anchor="progress"))


# --- execution reports ---------------------------------------------------------------------------

def _reports_page(promotion, *, status=200, alert=None, verdict_forms=None):
    which = request.values.get("status", "")
    which = which if which in REPORT_FILTERS else ""
    enrolments = services.visible_enrolments(current_user, promotion)
    ids = [e.id for e in enrolments] or [-1]
    stmt = (select(ExecutionReport).where(ExecutionReport.enrolment_id.in_(ids))
            .order_by(ExecutionReport.executed_on.desc(), ExecutionReport.id.desc())
            .options(selectinload(ExecutionReport.photos), selectinload(ExecutionReport.reported_by),
                     selectinload(ExecutionReport.checked_by),
                     selectinload(ExecutionReport.enrolment).selectinload(Enrolment.account)))
    if which:
        stmt = stmt.where(ExecutionReport.status == REPORT_FILTERS[which])
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    counts = dict(db.session.execute(select(ExecutionReport.status, func.count())
                                     .where(ExecutionReport.enrolment_id.in_(ids))
                                     .group_by(ExecutionReport.status)).all())
    verdict_forms = dict(verdict_forms or {})
    checkable = {}
    for r in page.items:
        if r.status == "submitted" and promotion.status != "settled" and can("check_report", r):
            checkable[r.id] = verdict_forms.get(r.id) or VerdictForm(formdata=None, data={"version": r.version})
    shown = services.shown_status(promotion)
    reportable = [e for e in enrolments if shown in ("running", "ended") and can("report_execution", e)]
    return render_template("promotions/reports.html", promotion=promotion, shown=shown, page=page, which=which,
                           counts=counts, checkable=checkable, alert=alert, reportable=reportable), status


@bp.route("/<int:promotion_id>/reports")
def reports(promotion_id):
    return _reports_page(_promotion_or_404(promotion_id))


@bp.route("/photos/<int:photo_id>")
def photo(photo_id):
    found = db.session.get(ExecutionPhoto, photo_id)
    if found is None:
        abort(404)
    _report_or_404(found.report_id)
    return files.send(found.file, found.filename)


@bp.route("/<int:promotion_id>/enrolments/<int:enrolment_id>/report", methods=["GET", "POST"])
def report_execution(promotion_id, enrolment_id):
    promotion = _promotion_or_404(promotion_id)
    enrolment = _enrolment_or_404(promotion, enrolment_id)
    if not can("report_execution", enrolment):
        abort(403)
    today = _today()
    if request.method == "GET":
        form = ReportForm(formdata=None, data={"executed_on": min(today, promotion.ends_on)})
        return _report_form(promotion, enrolment, form)
    form = ReportForm()
    if not form.validate():
        return _report_form(promotion, enrolment, form, status=422)
    begin_write()
    upload = None
    try:
        for upload in form.uploads:
            files.store(upload)  # refused files say so by name before anything is kept
        upload = None
        report = services.report_execution(enrolment, executed_on=form.executed_on.data, outlets=form.outlets.value,
                                           note=form.note.data, photos=form.uploads, by=current_user)
    except files.FileRefused as err:
        db.session.rollback()
        name = (getattr(upload, "filename", "") or _("photo"))[:100]
        form.photos.errors = list(form.photos.errors) + [f"{name}: {files.message(err)}"]
        return _report_form(*_reload(promotion_id, enrolment_id), form, status=422)
    except PromotionError as err:
        db.session.rollback()
        promotion, enrolment = _reload(promotion_id, enrolment_id)
        alert = None if _error_on(form, err) else promotion_message(err)
        return _report_form(promotion, enrolment, form, alert=alert, status=_status_code(err))
    db.session.commit()
    flash(_("Execution at %(account)s reported: it now waits for the supervisor's verification.",
            account=enrolment.account.code), "success")
    return redirect(url_for(".reports", promotion_id=promotion_id, _anchor=f"report-{report.id}"))


def _reload(promotion_id, enrolment_id):
    promotion = _promotion_or_404(promotion_id)
    return promotion, _enrolment_or_404(promotion, enrolment_id)


def _report_form(promotion, enrolment, form, *, alert=None, status=200):
    today = _today()
    earlier = sorted(enrolment.reports, key=lambda r: (r.executed_on, r.id), reverse=True)
    return render_template("promotions/report_form.html", promotion=promotion, enrolment=enrolment, form=form,
                           alert=alert, earliest=promotion.starts_on, latest=min(promotion.ends_on, today),
                           shown=services.shown_status(promotion, today), earlier=earlier,
                           max_photos=services.MAX_PHOTOS,
                           max_upload=current_app.config.get("MAX_CONTENT_LENGTH")), status


def _verdict(report_id, verdict):
    report = _report_or_404(report_id)
    promotion_id = report.enrolment.promotion_id
    if not can("check_report", report):
        abort(403)
    form = VerdictForm()
    promotion = _promotion_or_404(promotion_id)
    if not form.validate():
        return _reports_page(promotion, alert=_expired_form(), status=422)
    if verdict == "rejected" and not form.reason.data:
        form.reason.errors = list(form.reason.errors) + [_("Say why the report is rejected.")]
        return _reports_page(promotion, verdict_forms={report.id: form}, status=422)
    begin_write()
    try:
        services.check_report(report, verdict=verdict, reason=form.reason.data, version=form.version_number,
                              by=current_user)
    except PromotionError as err:
        db.session.rollback()
        promotion = _promotion_or_404(promotion_id)
        if _status_code(err) == 409:
            return _reports_page(promotion, alert=promotion_message(err), status=409)
        alert = None if _error_on(form, err) else promotion_message(err)
        return _reports_page(promotion, alert=alert, verdict_forms={report_id: form}, status=_status_code(err))
    db.session.commit()
    account = report.enrolment.account.code
    if verdict == "verified":
        flash(_("Execution report of %(account)s verified.", account=account), "success")
    else:
        flash(_("Execution report of %(account)s rejected; the reporter is told why.", account=account), "success")
    which = request.form.get("status", "")
    return redirect(url_for(".reports", promotion_id=promotion_id, status=which if which in REPORT_FILTERS else None,
                            _anchor=f"report-{report_id}"))


@bp.route("/reports/<int:report_id>/verify", methods=["POST"])
def verify_report(report_id):
    return _verdict(report_id, "verified")


@bp.route("/reports/<int:report_id>/reject", methods=["POST"])
def reject_report(report_id):
    return _verdict(report_id, "rejected")


@bp.app_template_filter("promotion_rate")
def _promotion_rate(promotion) -> str:
    """The rate as a figure: ¥2.00, or 1.5% for a percentage rebate."""
    if promotion.kind == "percent":
        return f"{rate_text('percent', promotion.rate)}%"
    return format_fen(promotion.rate)

