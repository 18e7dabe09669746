"""The planning grid and the plan pages: every account of the user's for a ten-day period (status,
the total payment edited in place, last period's plan and actual beside it, "copy last period"
for one or many rows), one account's plan (market notes, shipment lines, payment; submit,
approve, send back, change after it locked, the variance note), and the supervisor's list of
plans to approve.

Views load, check (404 for an account the user may not see, 403 for what they may not do), act
through channel.plans.services and commit once. A refused step changes nothing and says why in
the user's language: 422 for what the user typed, 409 when the plan moved on meanwhile (it was
submitted, approved or its period started), 403 when the rules say this user may not.
"""
from dataclasses import dataclass
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from ..auth.permissions import can, region_tree_ids, require, scope_accounts, scope_regions
from ..core import plans as core
from ..core.money import MoneyError, parse_amount
from ..core.periods import TenDay
from ..extensions import db
from ..i18n import label
from ..masterdata.forms import money_field_value
from ..masterdata.models import Account, Product, Region, in_tree_order
from ..transactions import begin_write
from . import services
from .blueprint import bp
from .forms import DecisionForm, PlanForm, VarianceForm
from .messages import plan_message
from .models import Plan, PlanEvent, PlanVersion

PlanError = core.PlanError

# The plan moved on while the user looked at it (or its period started or ended): 409.
CONFLICTS = frozenset({"not_a_draft", "not_submitted", "approved_send_back", "not_locked", "locked",
                       "period_over", "period_not_started"})
# The rules say this user may not: 403.
FORBIDDEN = frozenset({"not_your_plan", "needs_supervisor"})
# PlanError.field -> the form field that shows the message (rows "lines-N"/"stock-N" apart).
FIELDS = {"payment": "payment", "payment_on": "payment_on", "reason": "reason", "comment": "comment",
          "competitor_notes": "competitor_notes", "problems": "problems", "variance_note": "variance_note"}
SUPERVISING = ("admin", "finance", "supervisor")  # see several regions: the grid filters by region


@bp.before_request
@login_required
def _login_first():
    pass


@bp.context_processor
def _plan_links():
    """The plan pages' own bar: P2's plan versus actual and P3's reports when they exist."""
    views = current_app.view_functions
    return {"plan_links": {"actual": "plans.actual" in views,
                           "reports": "plans.reports" in views and can("view_plan_reports")}}


# --- helpers ----------------------------------------------------------------------------------

def _status_code(err) -> int:
    if err.code in CONFLICTS:
        return 409
    if err.code in FORBIDDEN:
        return 403
    return 422


def _period_or_404(text) -> TenDay:
    try:
        return TenDay.parse(text)
    except ValueError:
        abort(404)


def _period_arg(default):
    text = request.args.get("period", "").strip()
    if not text:
        return default
    try:
        return TenDay.parse(text)
    except ValueError:
        abort(400)


def _account_or_404(code) -> Account:
    account = db.session.execute(select(Account).where(Account.code == code)).scalar_one_or_none()
    if account is None:
        abort(404)
    require("view_account", account)
    return account


def _scoped_regions():
    return in_tree_order(db.session.execute(scope_regions(select(Region), current_user)).scalars())


def _shown_status(plan, period, today) -> str:
    """What a plan's badge says: its status, "locked" once approved and started, "none"."""
    if plan is None:
        return "none"
    return "locked" if core.is_locked(plan.status, period, today) else plan.status


def _input_of(plan) -> services.PlanInput:
    """A plan's figures as the services take them (to save it with one figure changed)."""
    c = services.content(plan)
    return services.PlanInput(lines=[tuple(x) for x in c["lines"]], stock=[tuple(x) for x in c["stock"]],
                              payment_fen=c["payment_fen"], payment_on=plan.payment_on,
                              competitor_notes=c["competitor_notes"], problems=c["problems"])


def _preload(account_ids, periods):
    """The plans of these accounts and periods with their lines, in one query: the services'
    plans_of() then finds them in the session, lines loaded (no query per plan)."""
    if not account_ids:
        return []
    return list(db.session.execute(
        select(Plan).where(Plan.account_id.in_(account_ids), Plan.period.in_([str(p) for p in periods]))
        .options(selectinload(Plan.lines))).scalars())


def _reminding(period, today) -> bool:
    """From the reminder day (the 8th, 18th, 28th) the coming period's missing plans stand out."""
    if period != services.coming_period(today):
        return False
    return today.day >= services.reminder_days()[TenDay.of(today).index - 1]


def _today() -> date:
    return services.business_today()


# --- the grid ---------------------------------------------------------------------------------

@dataclass
class GridRow:
    account: Account
    plan: Plan | None
    status: str
    actor: core.PlanActor
    editable: bool  # its total payment may be edited here (or a draft made)
    copyable: bool  # "copy last period": no plan yet, last period had one, the user may draft
    last_plan: Plan | None
    last: core.Achievement | None

    @property
    def missing(self) -> bool:
        return self.status in ("none", "draft")


def _grid_actor(user, account) -> core.PlanActor:
    """services.actor for an account already in the user's scope (plannable_accounts), without a
    region query per row: the scope is what actor() checks."""
    drafts = user.role == "field_staff" or (user.role == "distributor" and account.id == user.account_id)
    return core.PlanActor(drafts=drafts, supervises=user.role in ("admin", "supervisor"))


def _grid_rows(accounts, period, today) -> list[GridRow]:
    ids = [a.id for a in accounts]
    prev = period.prev()
    _preload(ids, [period, prev])
    plans = services.plans_of(ids, [period, prev])
    achieved = services.achievements(ids, [prev])
    rows = []
    for a in accounts:
        plan = plans.get((a.id, str(period)))
        last_plan = plans.get((a.id, str(prev)))
        who = _grid_actor(current_user, a)
        editable = core.may_edit(plan.status if plan else "draft", period, today, actor=who)
        rows.append(GridRow(a, plan, _shown_status(plan, period, today), who, editable,
                            plan is None and editable and last_plan is not None, last_plan,
                            achieved.get((a.id, str(prev)))))
    return rows


def _grid_scope():
    """(regions offered in the filter, the chosen region id, the accounts listed)."""
    regions = _scoped_regions() if current_user.role in SUPERVISING else []
    region_id = request.args.get("region", type=int)
    region_ids = None
    if region_id is not None:
        if not any(r.id == region_id for r in regions):
            abort(400)
        region_ids = region_tree_ids([region_id])
    return regions, region_id, services.plannable_accounts(current_user, region_ids)


def _grid_page(period, today, regions, region_id, accounts, *, entered=None, errors=None, status=200):
    rows = _grid_rows(accounts, period, today)
    missing = [r for r in rows if r.missing]
    return render_template(
        "plans/index.html", rows=rows, period=period, today=today, regions=regions, region_id=region_id,
        remind=_reminding(period, today), missing=missing, entered=entered or {}, errors=errors or {},
        form=FlaskForm(formdata=None), money_value=money_field_value,
        any_editable=any(r.editable for r in rows), any_copyable=any(r.copyable for r in rows),
        periods=_nearby_periods(period, today)), status


def _nearby_periods(period, today):
    """The periods the grid offers: from six back to three ahead of the coming one."""
    coming = services.coming_period(today)
    offered = list(TenDay.range(_shift(coming, -6), _shift(coming, 3)))
    if period not in offered:
        offered.append(period)
    return sorted(offered, reverse=True)


def _shift(p: TenDay, n: int) -> TenDay:
    for _n in range(abs(n)):
        p = p.next() if n > 0 else p.prev()
    return p


@bp.route("/", methods=["GET", "POST"])
def index():
    require("view_plans")
    today = _today()
    period = _period_arg(services.coming_period(today))
    regions, region_id, accounts = _grid_scope()
    if request.method == "POST":
        if not FlaskForm().validate():
            flash(_("The form has expired. Reload the page and try again."), "error")
            return _grid_page(period, today, regions, region_id, accounts, status=422)
        one = request.form.get("copy", "")
        if one:
            return _copy_last(accounts, [one], period, today, regions, region_id)
        action = request.form.get("action")
        if action == "copy":
            return _copy_last(accounts, request.form.getlist("pick"), period, today, regions, region_id)
        if action == "save":
            return _save_payments(accounts, period, today, regions, region_id)
        abort(400)
    return _grid_page(period, today, regions, region_id, accounts)


def _back_to_grid(period, region_id):
    return redirect(url_for(".index", period=str(period), region=region_id))


def _copy_last(accounts, chosen, period, today, regions, region_id):
    """New drafts from last period's plans (services.prefill) for the chosen accounts that have
    none yet and that the user may draft; the others are left as they are and named."""
    by_id = {a.id: a for a in accounts}
    picked = [by_id[int(v)] for v in dict.fromkeys(chosen) if v.isdigit() and int(v) in by_id]
    if not picked:
        flash(_("Select the accounts to copy last period's plan to."), "error")
        return _back_to_grid(period, region_id)
    begin_write()
    done, skipped = [], []
    prev = period.prev()
    for account in picked:
        who = _grid_actor(current_user, account)
        if services.find(account, period) is not None:
            skipped.append((account, _("it has a plan already")))
            continue
        if not core.may_edit("draft", period, today, actor=who):
            skipped.append((account, plan_message(PlanError("not_your_plan"))
                            if today <= period.end else plan_message(PlanError("period_over", period=str(period)))))
            continue
        if services.find(account, prev) is None:
            skipped.append((account, _("no plan last period")))
            continue
        try:  # a refusal comes before anything is written (e.g. a product discontinued since)
            services.save(account, period, services.prefill(account, period), by=current_user, today=today)
        except PlanError as err:
            skipped.append((account, plan_message(err)))
            continue
        done.append(account)
    db.session.commit()
    if done:
        flash(ngettext("%(num)s draft made from last period's plan: %(codes)s.",
                       "%(num)s drafts made from last period's plans: %(codes)s.", len(done),
                       codes=", ".join(a.code for a in done)), "success")
    if skipped:
        flash(_("Not copied:") + " " + "; ".join(f"{a.code} ({why})" for a, why in skipped), "warning")
    return _back_to_grid(period, region_id)


def _parse_row(raw_amount, raw_date):
    """(fen, date, error message) of one grid row's payment inputs."""
    try:
        fen = parse_amount(raw_amount) if raw_amount else 0
    except MoneyError as err:
        return None, None, {"negative": _("The amount must not be negative."),
                            "precision": _("At most two decimals (fen)."),
                            "range": _("The amount is too large.")}.get(
            err.code, _("Enter an amount such as 12345.60 (no commas)."))
    try:
        on = date.fromisoformat(raw_date) if raw_date else None
    except ValueError:
        return None, None, _("Enter the date as YYYY-MM-DD.")
    return fen, on, None


def _save_payments(accounts, period, today, regions, region_id):
    """The total payments typed in the grid: only the rows the user changed are saved (a new
    plan starts from last period's, like "copy last period"); all of them or none."""
    entered, errors, changed = {}, {}, []
    for a in accounts:
        raw = request.form.get(f"pay-{a.id}")
        if raw is None:
            continue
        raw, raw_on = raw.strip(), request.form.get(f"on-{a.id}", "").strip()
        entered[a.id] = (raw, raw_on)
        if (raw, raw_on) == (request.form.get(f"was-{a.id}", "").strip(),
                             request.form.get(f"was-on-{a.id}", "").strip()):
            continue
        fen, on, message = _parse_row(raw, raw_on)
        if message:
            errors[a.id] = message
        else:
            changed.append((a, fen, on))
    if errors:
        return _grid_page(period, today, regions, region_id, accounts, entered=entered, errors=errors, status=422)
    if not changed:
        flash(_("Nothing was changed."), "info")
        return _back_to_grid(period, region_id)
    begin_write()
    codes = set()
    for account, fen, on in changed:
        plan = services.find(account, period)
        data = _input_of(plan) if plan is not None else services.prefill(account, period)
        data.payment_fen, data.payment_on = fen, on
        try:
            services.save(account, period, data, by=current_user, today=today)
        except PlanError as err:
            errors[account.id] = plan_message(err)
            codes.add(_status_code(err))
    if errors:
        db.session.rollback()
        flash(_("Please correct the marked rows. Nothing was saved."), "error")
        return _grid_page(period, today, regions, region_id, accounts, entered=entered, errors=errors,
                          status=403 if 403 in codes else 409 if 409 in codes else 422)
    db.session.commit()
    flash(ngettext("%(num)s plan saved.", "%(num)s plans saved.", len(changed)), "success")
    return _back_to_grid(period, region_id)


# --- the plan page ----------------------------------------------------------------------------

def _products(plan=None, extra_ids=()):
    """Every product by id (names for versions and last period), and those the form offers:
    the active ones and any already on the plan."""
    products = list(db.session.execute(select(Product).order_by(Product.code)).scalars())
    keep = set(extra_ids) | ({ln.product_id for ln in plan.lines} if plan else set())
    return {p.id: p for p in products}, [p for p in products if p.active or p.id in keep]


def _form_for(data: services.PlanInput, products, *, fresh=False) -> PlanForm:
    """The plan form filled from `data`; `fresh` (from last period's plan): the stock notes name
    the same products with their figures left blank, to be counted again."""
    prices = {p.id: p.list_price_fen for p in products}
    lines = [(pid, qty, price if price is not None else prices.get(pid, 0)) for pid, qty, price in data.lines]
    form = PlanForm(formdata=None, products=products, data={
        "lines": [{"product_id": pid, "quantity": str(qty), "unit_price": money_field_value(price)}
                  for pid, qty, price in lines],
        "stock": [{"product_id": pid, "stock": "" if fresh else str(s), "sellout": "" if fresh else str(so)}
                  for pid, s, so in data.stock],
        "payment": money_field_value(data.payment_fen) if data.payment_fen else "",
        "payment_on": data.payment_on, "competitor_notes": data.competitor_notes, "problems": data.problems})
    for row, (_pid, qty, price) in zip(form.lines, lines):  # the amounts shown before any edit
        row.form.quantity_value, row.form.price_fen = qty, price
    form.pad()
    return form


def _find(account, period) -> Plan | None:
    return db.session.execute(
        select(Plan).where(Plan.account_id == account.id, Plan.period == str(period)).options(
            selectinload(Plan.lines), selectinload(Plan.stock),
            selectinload(Plan.events).selectinload(PlanEvent.by),
            selectinload(Plan.versions).selectinload(PlanVersion.by))).scalar_one_or_none()


def _version_rows(version, names):
    """A kept version's figures with product names (content holds product ids)."""
    c = version.content or {}
    lines = [(names.get(pid), qty, price, qty * price) for pid, qty, price in c.get("lines", [])]
    return {"lines": lines, "total": sum(x[3] for x in lines), "payment_fen": c.get("payment_fen", 0),
            "payment_on": c.get("payment_on"),
            "stock": [(names.get(pid), s, so) for pid, s, so in c.get("stock", [])],
            "competitor_notes": c.get("competitor_notes"), "problems": c.get("problems")}


def _plan_page(account, period, *, today, form=None, decision=None, variance=None, alert=None, status=200):
    plan = _find(account, period)
    who = services.actor(current_user, account)
    shown = _shown_status(plan, period, today)
    locked = shown == "locked"
    editable = core.may_edit(plan.status if plan else "draft", period, today, actor=who)
    changeable = plan is not None and locked and who.supervises
    names, offered = _products(plan)
    if (editable or changeable) and form is None:
        form = (_form_for(_input_of(plan), offered) if plan is not None
                else _form_for(services.prefill(account, period), offered, fresh=True))
    elif not (editable or changeable):
        form = None
    prev = period.prev()
    last_plan = _find(account, prev)
    started = today >= period.start
    acts = services.actuals([account.id], [prev, period] if started else [prev])
    last = services.achievement(last_plan, acts.get((account.id, str(prev)))) if (
        last_plan is not None or (account.id, str(prev)) in acts) else None
    now = services.achievement(plan, acts.get((account.id, str(period)))) if started else None
    threshold = services.variance_threshold()
    below = now is not None and plan is not None and core.needs_variance_note(now, threshold)
    may_note = plan is not None and started and (who.drafts or who.supervises)
    if may_note and (below or plan.variance_note or variance is not None):
        variance = variance or VarianceForm(formdata=None, data={"variance_note": plan.variance_note or ""})
    else:
        variance = None
    may_approve = plan is not None and plan.status == "submitted" and who.supervises
    may_send_back = plan is not None and who.supervises and (
        plan.status == "submitted" or (plan.status == "approved" and not locked))
    if may_approve or may_send_back:
        decision = decision or DecisionForm(formdata=None)
    else:
        decision = None
    actual_qty = acts.get((account.id, str(period))).shipped_qty if started and (
        account.id, str(period)) in acts else {}
    return render_template(
        "plans/show.html", account=account, period=period, plan=plan, shown=shown, today=today, who=who,
        form=form, editable=editable, changeable=changeable,
        may_submit=editable and who.drafts and (plan is None or plan.status == "draft"),
        decision=decision, may_approve=may_approve, may_send_back=may_send_back,
        variance=variance, below=below, threshold=threshold, started=started, now=now, actual_qty=actual_qty,
        last_plan=last_plan, last=last, prev=prev, names=names, alert=alert, new=plan is None,
        month_target=_month_target(account, period, today),
        versions=[(v, _version_rows(v, names)) for v in (plan.versions if plan else [])]), status


def _month_target(account, period, today):
    """The account's target for the period's month, set at a monthly meeting (channel.meetings),
    with the month's net shipments and payments so far; None when it has none."""
    from ..meetings.services import account_targets

    target = account_targets([account.id], period.month).get(account.id)
    if target is None:
        return None
    started = [p for p in period.month.tendays() if p.start <= today]
    acts = list(services.actuals([account.id], started).values())
    shipped, paid = sum(a.shipped_fen for a in acts), sum(a.paid_fen for a in acts)
    return {"target": target, "meeting": target.meeting, "month": period.month, "shipped_fen": shipped,
            "paid_fen": paid, "shipped_pct": core.percent(shipped, target.shipment_fen),
            "paid_pct": core.percent(paid, target.payment_fen)}


def _refused(account, period, today, err, **forms):
    """The plan page again after a refused step (the transaction rolled back): a conflict shows
    the plan as it is now with fresh forms, any other refusal the user's input with the message
    on its field (or above the form)."""
    db.session.rollback()
    if err.code in FORBIDDEN:
        abort(403)  # the rules say no: the plain refusal, nothing of the plan shown
    message = plan_message(err)
    if err.code in CONFLICTS:
        return _plan_page(account, period, today=today, alert=message, status=409)
    placed = any(_error_on(form, err) for form in forms.values() if form is not None)
    return _plan_page(account, period, today=today, alert=None if placed else message,
                      status=_status_code(err), **forms)


def _error_on(form, err) -> bool:
    """Put the message of a refused step on the field it concerns; False if the form has none.
    "lines-N" and "stock-N" count the filled rows the services were given."""
    message = plan_message(err)
    field = None
    name = err.field or ""
    if isinstance(form, PlanForm) and "-" in name:
        kind, _sep, n = name.partition("-")
        rows = form.filled_lines() if kind == "lines" else form.filled_stock() if kind == "stock" else []
        if n.isdigit() and int(n) < len(rows):
            row = rows[int(n)]
            if err.code in ("product_unknown", "product_twice"):
                field = row.product_id
            elif kind == "lines":
                field = row.unit_price if err.info.get("maximum") == services.MAX_FEN else row.quantity
            else:
                field = row.stock
    elif name in FIELDS:
        field = getattr(form, FIELDS[name], None)
    if field is None or not hasattr(field, "errors"):
        return False
    field.errors = list(field.errors) + [message]
    return True


def _saved_message(action, plan):
    if action == "submit":
        return _("Plan of %(account)s for %(period)s submitted for approval.", account=plan.account.code,
                 period=plan.period)
    if action == "change":
        return _("Plan of %(account)s for %(period)s changed; the earlier version is kept.",
                 account=plan.account.code, period=plan.period)
    return _("Draft plan of %(account)s for %(period)s saved.", account=plan.account.code, period=plan.period)


@bp.route("/<account_code>/<period>", methods=["GET", "POST"])
def show_plan(account_code, period):
    account = _account_or_404(account_code)
    period = _period_or_404(period)
    today = _today()
    if request.method == "GET":
        return _plan_page(account, period, today=today)
    action = request.form.get("action", "save")
    if action not in ("save", "submit", "change"):
        abort(400)
    who = services.actor(current_user, account)
    if not (who.drafts or who.supervises):
        abort(403)  # reads the account's plans, may not write them
    plan = services.find(account, period)
    _names, offered = _products(plan)
    form = PlanForm(products=offered)
    if not form.validate():
        return _plan_page(account, period, today=today, form=form, status=422)
    data = form.data_input()
    begin_write()
    try:
        if action == "change":
            if plan is None:
                raise PlanError("not_locked")
            plan = services.change(plan, data, by=current_user, reason=form.reason.data or "", today=today)
        else:
            plan = services.save(account, period, data, by=current_user, today=today)
            if action == "submit":
                plan = services.submit(plan, by=current_user, today=today)
    except PlanError as err:
        return _refused(account, period, today, err, form=form)
    db.session.commit()
    flash(_saved_message(action, plan), "success")
    return redirect(url_for(".show_plan", account_code=account.code, period=str(period)))


def _plan_or_404(account_code, period):
    account = _account_or_404(account_code)
    period = _period_or_404(period)
    plan = services.find(account, period)
    if plan is None:
        abort(404)
    return account, period, plan


def _back(default):
    """Where a decision returns: the approvals list when it was taken there."""
    if request.form.get("next") == "approvals":
        return redirect(url_for(".approvals"))
    return redirect(default)


@bp.route("/<account_code>/<period>/approve", methods=["POST"])
def approve_plan(account_code, period):
    account, period, plan = _plan_or_404(account_code, period)
    require("approve_plans")
    today = _today()
    form = DecisionForm()
    if not form.validate():
        return _plan_page(account, period, today=today, decision=form, status=422)
    begin_write()
    try:
        services.approve(plan, by=current_user, today=today, comment=form.comment.data)
    except PlanError as err:
        return _refused(account, period, today, err, decision=form)
    db.session.commit()
    flash(_("Plan of %(account)s for %(period)s approved.", account=account.code, period=str(period)), "success")
    return _back(url_for(".show_plan", account_code=account.code, period=str(period)))


@bp.route("/<account_code>/<period>/send-back", methods=["POST"])
def send_back_plan(account_code, period):
    account, period, plan = _plan_or_404(account_code, period)
    require("approve_plans")
    today = _today()
    form = DecisionForm()
    if not form.validate():
        return _plan_page(account, period, today=today, decision=form, status=422)
    begin_write()
    try:
        services.send_back(plan, by=current_user, comment=form.comment.data or "", today=today)
    except PlanError as err:
        return _refused(account, period, today, err, decision=form)
    db.session.commit()
    flash(_("Plan of %(account)s for %(period)s sent back to be revised.", account=account.code,
            period=str(period)), "success")
    return redirect(url_for(".show_plan", account_code=account.code, period=str(period)))


@bp.route("/<account_code>/<period>/variance", methods=["POST"])
def write_variance_note(account_code, period):
    account, period, plan = _plan_or_404(account_code, period)
    today = _today()
    form = VarianceForm()
    if not form.validate():
        return _plan_page(account, period, today=today, variance=form, status=422)
    begin_write()
    try:
        services.set_variance_note(plan, form.variance_note.data or "", by=current_user)
    except PlanError as err:
        return _refused(account, period, today, err, variance=form)
    db.session.commit()
    flash(_("Variance note saved."), "success")
    return redirect(url_for(".show_plan", account_code=account.code, period=str(period)) + "#variance")


# --- approvals --------------------------------------------------------------------------------

def _waiting(period=None, region_id=None, ids=None):
    """Submitted plans in the user's scope, by period and account."""
    stmt = (select(Plan).join(Account, Plan.account_id == Account.id).where(Plan.status == "submitted")
            .options(contains_eager(Plan.account), selectinload(Plan.lines), selectinload(Plan.drafted_by)))
    stmt = scope_accounts(stmt, current_user)
    if period is not None:
        stmt = stmt.where(Plan.period == str(period))
    if region_id is not None:
        stmt = stmt.where(Account.region_id.in_(region_tree_ids([region_id])))
    if ids is not None:
        stmt = stmt.where(Plan.id.in_(ids))
    return list(db.session.execute(stmt.order_by(Plan.period_start, Account.code)).scalars())


@bp.route("/approvals")
def approvals():
    require("approve_plans")
    period = _period_arg(None)
    regions = _scoped_regions()
    region_id = request.args.get("region", type=int)
    if region_id is not None and not any(r.id == region_id for r in regions):
        abort(400)
    plans = _waiting(period, region_id)
    periods = sorted({p.period for p in _waiting()} | ({str(period)} if period else set()), reverse=True)
    return render_template("plans/approvals.html", plans=plans, period=period, region_id=region_id,
                           regions=regions, periods=periods, form=FlaskForm(formdata=None),
                           total=sum(p.shipment_fen for p in plans), paid=sum(p.payment_fen for p in plans))


@bp.route("/approvals", methods=["POST"])
def approve_selected():
    require("approve_plans")
    if not FlaskForm().validate():
        abort(400)
    ids = {int(v) for v in request.form.getlist("plan") if v.isdigit()}
    if not ids:
        flash(_("Select the plans to approve."), "error")
        return redirect(url_for(".approvals"))
    today = _today()
    begin_write()
    done, refused = [], []
    for plan in _waiting(ids=ids):
        try:
            services.approve(plan, by=current_user, today=today)
        except PlanError as err:  # refused before anything changed: the others go on
            refused.append((plan, err))
        else:
            done.append(plan)
    db.session.commit()
    if done:
        flash(ngettext("%(num)s plan approved.", "%(num)s plans approved.", len(done)), "success")
    missed = len(ids) - len(done) - len(refused)
    if refused or missed:
        flash(ngettext("%(num)s plan was not approved:", "%(num)s plans were not approved:", len(refused) + missed)
              + " " + "; ".join(f"{p.account.code} {p.period}: {plan_message(err)}" for p, err in refused)
              + (" " + _("(no longer waiting for approval)") if missed else ""), "error")
    return redirect(url_for(".approvals"))


def period_name(period) -> str:
    """"2026-03 second ten days" / "2026-03 中旬" (a TenDay or its text)."""
    period = TenDay.parse(period) if isinstance(period, str) else period
    return f"{period.month} {label(period.index, 'tenday')}"


bp.add_app_template_filter(period_name, "period_name")
