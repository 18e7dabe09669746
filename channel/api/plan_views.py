"""JSON API for ten-day plans (旬计划): list them, read one (lines, stock notes, payment, history,
earlier versions and the actual figures so far), create or replace a plan's content, submit,
approve, send back, change a locked plan with a reason, write the variance note; and the
plan-versus-actual figures per account (with the totals) for a period and scope.

The same rules, in the same order, as the pages: load, check (404 for an account or plan the
token's user may not see, 403 for what their role never does), begin_write(), the service, one
commit; a refusal rolls back and says why with its `code`. A plan rule about who acts
(not_your_plan, needs_supervisor) answers 403; any other rule 422. Every writing call takes an
optional `version` (the plan's version the client saw): a plan that moved since answers 409.

A plan is named by its account's code and its period, "2026-03-2" (YYYY-MM-N: N = 1 for days
1-10, 2 for 11-20, 3 for 21 to the month's end). "Today" is the business day (services)."""
from flask import abort, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ..auth.permissions import can, region_tree_ids, scope_accounts
from ..core import plans as core
from ..core.money import MoneyError, parse_amount, to_api
from ..core.periods import TenDay
from ..extensions import db
from ..masterdata.models import Account, Product, Region
from ..plans import rollup, services
from ..plans.messages import plan_message
from ..plans.models import Plan
from ..transactions import begin_write, lock_rows
from . import views as api
from .views import (
    Invalid,
    _at,
    _date,
    _json_object,
    _only,
    _person,
    _user,
    _version,
    _visible_account,
    _whole,
    bp,
)

CONTENT_FIELDS = {"lines", "stock", "payment", "payment_on", "competitor_notes", "problems"}
PUT_FIELDS = CONTENT_FIELDS | {"version"}
CHANGE_FIELDS = CONTENT_FIELDS | {"reason", "version"}
SUBMIT_FIELDS = {"version"}
APPROVE_FIELDS = {"version", "comment"}
SEND_BACK_FIELDS = {"version", "comment"}
NOTE_FIELDS = {"note"}
LINE_FIELDS = {"product", "quantity", "unit_price"}
STOCK_FIELDS = {"product", "stock", "sellout"}
LIST_STATUSES = (*core.STATUSES, "locked")
MAX_ROWS = 200
MAX_TEXT = services.MAX_TEXT
# Roles that draft plans or supervise them; finance reads them only.
WRITERS = ("field_staff", "distributor", "supervisor", "admin")
DRAFTERS = ("field_staff", "distributor")
# Refusals about who acts: 403 (the others are 422).
WHO = ("not_your_plan", "needs_supervisor")
# The services' names for inputs -> the API's ("lines-0" -> "lines[0]").
FIELD_NAMES = {"variance_note": "note"}


class Refused(api.Refused):
    """A plan rule refused the request."""

    def __init__(self, err: core.PlanError, field=None, status=None):
        if status is None:
            status = 403 if err.code in WHO else 422
        super().__init__(plan_message(err), err.code, field if field is not None else _api_field(err.field), status)


class Stale(api.Stale):
    def __init__(self, plan, seen):
        super().__init__(_("The plan changed since version %(seen)s (it is version %(now)s now): nothing was "
                           "recorded.", seen=seen, now=plan.version), plan.version, plan.status)




def _api_field(name):
    if not name:
        return None
    for prefix in ("lines-", "stock-"):
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            return f"{prefix[:-1]}[{name[len(prefix):]}]"
    return FIELD_NAMES.get(name, name)


def _period(value, field="period"):
    try:
        return TenDay.parse(value)
    except ValueError:
        raise Invalid(_("period is a ten-day period: YYYY-MM-N with N 1, 2 or 3 (such as 2026-03-2)."),
                      field) from None


def _money(value, field):
    """An amount the client gives ("1234.50"; 0.00 allowed): fen."""
    if not isinstance(value, str):
        raise Invalid(_('Amounts are strings with two decimals, such as "1234.50".'), field)
    try:
        return parse_amount(value)
    except MoneyError as err:
        raise Invalid({
            "negative": _("The amount must not be negative."),
            "precision": _("At most two decimals (fen)."),
            "range": _("The amount is too large."),
        }.get(err.code, _('Not an amount: use a string such as "1234.50" (no commas).')), field) from None


def _plain_text(body, name, max_length=MAX_TEXT):
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid(_("Must be text."), name)
    if len(value) > max_length:
        raise Invalid(_("At most %(n)s characters.", n=max_length), name)
    return value.strip()


# --- serialisation ------------------------------------------------------------------------------

def _pct(value):
    """A percentage as a decimal string ("87.5"), or None when nothing was planned."""
    return str(value) if value is not None else None


def _product_codes(ids=None) -> dict:
    stmt = select(Product.id, Product.code)
    if ids is not None:
        stmt = stmt.where(Product.id.in_(list(ids) or [-1]))
    return dict(db.session.execute(stmt).all())


def plan_json(plan: Plan, today) -> dict:
    period = TenDay.parse(plan.period)
    return {
        "account": plan.account.code, "account_name": plan.account.name, "region": plan.account.region.code,
        "period": plan.period, "start": period.start.isoformat(), "end": period.end.isoformat(),
        "status": plan.status, "locked": core.is_locked(plan.status, period, today), "version": plan.version,
        "quantity": plan.quantity, "shipment": to_api(plan.shipment_fen), "payment": to_api(plan.payment_fen),
        "payment_on": _at(plan.payment_on),
        "drafted_by": _person(plan.drafted_by), "submitted_at": _at(plan.submitted_at),
        "approved_by": _person(plan.approved_by), "approved_at": _at(plan.approved_at),
        "updated_at": _at(plan.updated_at),
        "url": url_for("api.show_plan", code=plan.account.code, period=plan.period),
    }


def figures_json(a: core.Achievement, needs_note=None) -> dict:
    """Plan and actual figures, the percentages (decimal strings) and the gap; for an account,
    whether its variance note is asked for (below the threshold once the period is over)."""
    body = {
        "plan": {"quantity": a.plan_qty, "shipment": to_api(a.plan_fen), "payment": to_api(a.plan_paid_fen)},
        "actual": {"quantity": a.actual_qty, "shipment": to_api(a.actual_fen), "payment": to_api(a.actual_paid_fen)},
        "quantity_pct": _pct(a.qty_pct), "shipment_pct": _pct(a.shipped_pct), "payment_pct": _pct(a.paid_pct),
        "gap": to_api(a.gap_fen),
    }
    if needs_note is not None:
        body["needs_variance_note"] = needs_note
    return body


def _content_json(data: dict, codes: dict) -> dict:
    """A version's figures (services.content) with product codes for ids."""
    return {
        "lines": [{"product": codes.get(pid), "quantity": qty, "unit_price": to_api(price),
                   "amount": to_api(qty * price)} for pid, qty, price in data.get("lines", [])],
        "stock": [{"product": codes.get(pid), "stock": s, "sellout": so} for pid, s, so in data.get("stock", [])],
        "payment": to_api(data.get("payment_fen", 0)), "payment_on": data.get("payment_on"),
        "competitor_notes": data.get("competitor_notes") or "", "problems": data.get("problems") or "",
    }


def _actions(plan: Plan, user, today) -> list[str]:
    """What the user may do to the plan now: "edit" (PUT), or the action paths to POST."""
    period = TenDay.parse(plan.period)
    who = services.actor(user, plan.account)
    out = []
    if core.may_edit(plan.status, period, today, actor=who):
        out.append("edit")
    for action, path in (("submit", "submit"), ("approve", "approve"), ("send_back", "send-back"),
                         ("change", "change")):
        try:
            core.next_status(plan.status, action, actor=who, period=period, today=today, reason="-")
        except core.PlanError:
            continue
        out.append(path)
    if (who.drafts or who.supervises) and today >= period.start:
        out.append("variance-note")
    return out


def plan_detail_json(plan: Plan, user) -> dict:
    today = services.business_today()
    period = TenDay.parse(plan.period)
    body = plan_json(plan, today)
    ids = {ln.product_id for ln in plan.lines} | {s.product_id for s in plan.stock}
    actual = services.actuals([plan.account_id], [period]).get((plan.account_id, plan.period))
    if actual is not None:
        ids |= set(actual.shipped_qty)
    for version in plan.versions:
        ids |= {row[0] for row in version.content.get("lines", [])} | {row[0] for row in version.content.get("stock", [])}
    codes = _product_codes(ids)
    body.update({
        "lines": [{"product": codes[ln.product_id], "quantity": ln.quantity, "unit_price": to_api(ln.unit_price_fen),
                   "amount": to_api(ln.amount_fen)} for ln in plan.lines],
        "stock": [{"product": codes[s.product_id], "stock": s.stock_qty, "sellout": s.sellout_qty} for s in plan.stock],
        "competitor_notes": plan.competitor_notes or "", "problems": plan.problems or "",
        "variance_note": plan.variance_note, "variance_by": _person(plan.variance_by),
        "history": [{"seq": e.seq, "action": e.action, "from": e.from_status, "to": e.to_status, "by": _person(e.by),
                     "at": _at(e.at), "comment": e.comment} for e in plan.events],
        "versions": [{"version": v.version, "reason": v.reason, "by": _person(v.by), "at": _at(v.at),
                      "replaced": _content_json(v.content, codes)} for v in plan.versions],
    })
    achieved = services.achievement(plan, actual)
    body["actual"] = {
        "quantity": achieved.actual_qty, "shipment": to_api(achieved.actual_fen),
        "payment": to_api(achieved.actual_paid_fen),
        "lines": sorted(({"product": codes[pid], "quantity": qty}
                         for pid, qty in (actual.shipped_qty.items() if actual else ()) if qty),
                        key=lambda row: row["product"]),
    }
    # The note is asked for as on the pages: below the threshold once the period is over.
    asked = today > period.end and core.needs_variance_note(achieved, services.variance_threshold())
    figures = figures_json(achieved, asked)
    body["achievement"] = {k: figures[k] for k in ("quantity_pct", "shipment_pct", "payment_pct", "gap",
                                                   "needs_variance_note")}
    body["actions"] = _actions(plan, user, today)
    return body


# --- input and loading --------------------------------------------------------------------------

def _account(code) -> Account:
    """The account named by the path; 404 when there is none or the user may not see it."""
    account = db.session.execute(select(Account).where(Account.code == code)).scalar_one_or_none()
    if account is None or not can("view_account", account, user=_user()):
        abort(404)
    return account


def _path_period(period) -> TenDay:
    try:
        return TenDay.parse(period)
    except ValueError:
        abort(404)


def _load(code, period) -> Plan:
    """The plan named by the path; 404 when there is none or the user may not see it."""
    account, tenday = _account(code), _path_period(period)
    plan = services.find(account, tenday)
    if plan is None or not can("view_plan", plan, user=_user()):
        abort(404)
    return plan


def _rows(raw, name, fields, where_row):
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_ROWS:
        raise Invalid(_("%(name)s is a list of objects.", name=name), name)
    out = []
    for n, item in enumerate(raw):
        where = f"{name}[{n}]"
        if not isinstance(item, dict):
            raise Invalid(_("%(name)s is a list of objects.", name=name), where)
        _only(item, fields, where + ".")
        out.append(where_row(item, where))
    return out


def _product(item, where, products):
    code = item.get("product")
    product = products.get(code) if isinstance(code, str) else None
    if product is None:
        raise Invalid(_("Unknown product %(code)s.", code=str(code)[:40]), where + ".product")
    return product.id


def _content(body) -> services.PlanInput:
    """The plan's content from the request: every field optional (an absent list is empty, an
    absent payment 0.00); unit_price absent or null = the product's list price."""
    products = {p.code: p for p in db.session.execute(select(Product)).scalars()}

    def line(item, where):
        product_id = _product(item, where, products)
        quantity = _whole(item.get("quantity"), where + ".quantity", minimum=1)
        price = None if item.get("unit_price") is None else _money(item["unit_price"], where + ".unit_price")
        return (product_id, quantity, price)

    def stock(item, where):
        product_id = _product(item, where, products)
        return (product_id, _whole(item.get("stock", 0), where + ".stock", minimum=0),
                _whole(item.get("sellout", 0), where + ".sellout", minimum=0))

    payment = 0 if body.get("payment") is None else _money(body["payment"], "payment")
    payment_on = None if body.get("payment_on") is None else _date(body["payment_on"], "payment_on")
    return services.PlanInput(
        lines=_rows(body.get("lines"), "lines", LINE_FIELDS, line),
        stock=_rows(body.get("stock"), "stock", STOCK_FIELDS, stock),
        payment_fen=payment, payment_on=payment_on,
        competitor_notes=_plain_text(body, "competitor_notes"), problems=_plain_text(body, "problems"))


def _locked_plan(plan_id, seen_version) -> Plan:
    """The plan, its row locked for this transaction; Stale when it moved past `seen_version`."""
    plan = db.session.execute(lock_rows(select(Plan).where(Plan.id == plan_id))
                              .execution_options(populate_existing=True)).scalar_one()
    if seen_version is not None and plan.version != seen_version:
        raise Stale(plan, seen_version)
    return plan


def _reloaded(plan_id) -> dict:
    db.session.expire_all()
    return plan_detail_json(db.session.get(Plan, plan_id), _user())


def _act(plan_id, seen_version, fn, **kw):
    """fn(plan, by=..., **kw) in one write transaction; a refusal rolls back and says why."""
    begin_write()
    try:
        plan = _locked_plan(plan_id, seen_version)
        fn(plan, by=_user(), **kw)
    except core.PlanError as err:
        db.session.rollback()
        raise Refused(err) from None
    except Stale:
        db.session.rollback()
        raise
    db.session.commit()
    return jsonify(_reloaded(plan_id))


def _role_may(roles):
    if _user().role not in roles:
        abort(403)


def _region_ids(code):
    region = db.session.execute(select(Region).where(Region.code == code)).scalar_one_or_none()
    if region is None:
        raise Invalid(_("Unknown region %(code)s.", code=code[:40]), "region")
    return region_tree_ids([region.id])


# --- endpoints ----------------------------------------------------------------------------------

@bp.get("/plans")
def list_plans():
    args, user = request.args, _user()
    page, per_page = api._page()
    today = services.business_today()
    stmt = scope_accounts(select(Plan).join(Account, Plan.account_id == Account.id), user)
    if args.get("period") is not None:
        stmt = stmt.where(Plan.period == str(_period(args["period"])))
    status = args.get("status")
    if status is not None:
        if status not in LIST_STATUSES:
            raise Invalid(_("status is one of: %(statuses)s.", statuses=", ".join(LIST_STATUSES)), "status")
        if status == "locked":  # approved, and its period has started
            stmt = stmt.where(Plan.status == "approved", Plan.period_start <= today)
        else:
            stmt = stmt.where(Plan.status == status)
    if args.get("region") is not None:
        stmt = stmt.where(Account.region_id.in_(_region_ids(args["region"])))
    if args.get("account") is not None:
        stmt = stmt.where(Plan.account_id == _visible_account(args["account"]).id)
    stmt = stmt.options(joinedload(Plan.account).joinedload(Account.region), selectinload(Plan.lines),
                        selectinload(Plan.drafted_by), selectinload(Plan.approved_by)
                        ).order_by(Plan.period_start.desc(), Account.code)
    rows = db.session.execute(stmt.limit(per_page + 1).offset((page - 1) * per_page)).scalars().unique().all()
    more = len(rows) > per_page
    query = {k: v for k, v in args.items() if k in ("period", "region", "account", "status")}
    return jsonify({
        "items": [plan_json(p, today) for p in rows[:per_page]],
        "next": url_for(".list_plans", page=page + 1, per_page=per_page, **query) if more else None,
    })


@bp.get("/plans/actual")
def plan_actual():
    """Plan versus actual for one period: per account of the user's scope (within a region, when
    given), the accounts furthest below plan first; per region and rep of the scope; the totals.
    The figures the pages and the PDF show (channel.plans.rollup)."""
    args, user = request.args, _user()
    if args.get("period") is None:
        raise Invalid(_("This field is required."), "period")
    period = _period(args["period"])
    region = None
    if args.get("region") is not None:
        region = db.session.execute(select(Region).where(Region.code == args["region"])).scalar_one_or_none()
        if region is None:
            raise Invalid(_("Unknown region %(code)s.", code=args["region"][:40]), "region")
    figures = rollup.for_user(user, period, region=region, today=services.business_today())
    key = str(period)
    return jsonify({
        "period": key, "start": period.start.isoformat(), "end": period.end.isoformat(),
        "finished": figures.finished, "threshold_pct": figures.threshold,
        "accounts": [{
            "account": row.account.code, "account_name": row.account.name, "region": row.account.region.code,
            "status": row.status, **figures_json(row.achievement, row.needs_note),
            "variance_note": row.variance_note,
            "url": url_for(".show_plan", code=row.account.code, period=key) if row.plan is not None else None,
        } for row in figures.accounts],
        "regions": [{"region": g.key.code, "name": g.key.name, "depth": g.depth, "accounts": g.accounts,
                     "planned": g.planned, **figures_json(g.achievement)} for g in figures.regions],
        "reps": [{"rep": _person(g.key), "accounts": g.accounts, "planned": g.planned,
                  **figures_json(g.achievement)} for g in figures.reps],
        "total": {"accounts": figures.total.accounts, "planned": figures.total.planned,
                  **figures_json(figures.total.achievement)},
    })


@bp.get("/plans/<code>/<period>")
def show_plan(code, period):
    return jsonify(plan_detail_json(_load(code, period), _user()))


@bp.put("/plans/<code>/<period>")
def put_plan(code, period):
    account, tenday = _account(code), _path_period(period)
    _role_may(WRITERS)
    body = _json_object()
    _only(body, PUT_FIELDS)
    seen = _version(body)
    data = _content(body)
    begin_write()
    existing = services.find(db.session.get(Account, account.id), tenday)
    try:
        if existing is not None:
            _locked_plan(existing.id, seen)
        plan = services.save(db.session.get(Account, account.id), tenday, data, by=_user())
        plan_id = plan.id
        db.session.commit()
    except core.PlanError as err:
        db.session.rollback()
        raise Refused(err) from None
    except Stale:
        db.session.rollback()
        raise
    except IntegrityError:
        # Another request created the account's plan for the period meanwhile.
        db.session.rollback()
        return jsonify({"code": "stale", "field": "version", "message": _(
            "The plan was created meanwhile by someone else: read it, then send your changes again.")}), 409
    return jsonify(_reloaded(plan_id)), (200 if existing is not None else 201)


@bp.post("/plans/<code>/<period>/submit")
def submit_plan(code, period):
    plan = _load(code, period)
    _role_may(DRAFTERS)
    body = _json_object()
    _only(body, SUBMIT_FIELDS)
    return _act(plan.id, _version(body), services.submit)


@bp.post("/plans/<code>/<period>/approve")
def approve_plan(code, period):
    plan = _load(code, period)
    if not can("approve_plans", user=_user()):
        abort(403)
    body = _json_object()
    _only(body, APPROVE_FIELDS)
    seen = _version(body)
    comment = _plain_text(body, "comment")
    return _act(plan.id, seen, services.approve, comment=comment or None)


@bp.post("/plans/<code>/<period>/send-back")
def send_back_plan(code, period):
    plan = _load(code, period)
    if not can("approve_plans", user=_user()):
        abort(403)
    body = _json_object()
    _only(body, SEND_BACK_FIELDS)
    seen = _version(body)
    comment = _plain_text(body, "comment")
    return _act(plan.id, seen, services.send_back, comment=comment)


@bp.post("/plans/<code>/<period>/change")
def change_plan(code, period):
    plan = _load(code, period)
    if not can("approve_plans", user=_user()):
        abort(403)
    body = _json_object()
    _only(body, CHANGE_FIELDS)
    seen = _version(body)
    reason = _plain_text(body, "reason")
    data = _content(body)
    return _act(plan.id, seen, services.change, data=data, reason=reason)


@bp.post("/plans/<code>/<period>/variance-note")
def variance_note(code, period):
    plan = _load(code, period)
    _role_may(WRITERS)
    body = _json_object()
    _only(body, NOTE_FIELDS)
    if "note" not in body:
        raise Invalid(_("This field is required."), "note")
    note = _plain_text(body, "note")
    return _act(plan.id, None, services.set_variance_note, note=note)
