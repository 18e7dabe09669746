"""JSON API for promotions (促销活动 / 铺货): list and read them, set one up and change it, publish
it; enrol accounts with their targets (and change or withdraw them); field staff's execution
reports and the supervisor's verdict on each; the settlement as it stands (per region and account:
earned, paid, short, budget) and, for finance, settling it: the rebates posted to the ledger.

The same rules, in the same order, as the pages: load, check (404 for a promotion, enrolment or
report the token's user may not see, 403 for what their role never does), begin_write(), the
service, one commit; a refusal rolls back and says why with its `code` (a rule about who acts —
not_allowed, not_your_region, own_report — answers 403, any other rule 422). Writing calls on a
promotion or a report take an optional `version` (the one the client saw): one that moved since
answers 409 with the current version. Settling is idempotent: once settled, settling again answers
409 (already_settled) and posts nothing.

A promotion is named by its code, an account by its code. Amounts are strings with two decimals
(yuan); a percentage rebate's rate is a percentage with two decimals ("1.50" = 1.5 % of the net
shipment amount). Photos of execution are uploaded on the promotion's pages, not here."""
from flask import abort, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from ..auth.permissions import can, region_tree_ids, regions_above
from ..core import promotions as core
from ..core.money import to_api
from ..core.periods import Month
from ..extensions import db
from ..ledger.services import LedgerError
from ..masterdata.models import Account, Product, Region
from ..promotions import services as ps
from ..promotions.messages import promotion_message
from ..promotions.models import (
    Enrolment,
    ExecutionReport,
    Promotion,
    PromotionProduct,
    PromotionRegion,
)
from ..transactions import begin_write
from . import views as api
from .views import (
    Invalid,
    _amount,
    _at,
    _date,
    _json_object,
    _only,
    _person,
    _text,
    _user,
    _version,
    _visible_account,
    _whole,
    bp,
)

PROMOTION_FIELDS = {"code", "name", "description", "kind", "rate", "min_quantity", "cap", "starts_on", "ends_on",
                    "products", "regions"}
PUT_FIELDS = PROMOTION_FIELDS | {"version"}
REGION_FIELDS = {"region", "budget"}
PUBLISH_FIELDS = {"version"}
ENROL_FIELDS = {"account", "target_qty", "target_outlets"}
TARGET_FIELDS = {"target_qty", "target_outlets"}
REPORT_FIELDS = {"account", "executed_on", "outlets", "note"}
VERIFY_FIELDS = {"version"}
REJECT_FIELDS = {"version", "reason"}
SETTLE_FIELDS = {"version", "on"}
REPORT_STATUSES = ("submitted", "verified", "rejected")
MAX_ROWS = 200
MAX_TEXT = ps.MAX_TEXT
# Refusals about who acts: 403; a settled promotion settled again: 409 (the others are 422).
WHO = ("not_allowed", "not_your_region", "own_report")
# The services' names for inputs -> the API's.
FIELD_NAMES = {"cap_fen": "cap"}


class Refused(api.Refused):
    """A promotion rule (or, while settling, a ledger rule) refused the request."""

    def __init__(self, err, field=None, status=None):
        if status is None:
            status = 403 if err.code in WHO else 422
        name = field if field is not None else FIELD_NAMES.get(err.field, err.field)
        super().__init__(promotion_message(err), err.code, name, status)


class Stale(api.Stale):
    """The promotion (or report) moved since the version the client saw."""

    def __init__(self, err, current, status_now):
        super().__init__(promotion_message(err), current.version, status_now)




# --- serialisation ------------------------------------------------------------------------------

def _pct(value):
    return str(value) if value is not None else None


def promotion_json(p: Promotion, today) -> dict:
    return {
        "code": p.code, "name": p.name, "description": p.description, "kind": p.kind,
        "rate": to_api(p.rate), "min_quantity": p.min_quantity,
        "cap": to_api(p.cap_fen) if p.cap_fen is not None else None,
        "starts_on": p.starts_on.isoformat(), "ends_on": p.ends_on.isoformat(),
        "status": ps.shown_status(p, today), "version": p.version,
        "products": sorted(pp.product.code for pp in p.products),
        "regions": [{"region": r.region.code, "name": r.region.name, "budget": to_api(r.budget_fen)}
                    for r in sorted(p.regions, key=lambda r: r.region.code)],
        "budget": to_api(p.budget_fen),
        "published_by": _person(p.published_by), "published_at": _at(p.published_at),
        "settled_by": _person(p.settled_by), "settled_at": _at(p.settled_at),
        "url": url_for("api.show_promotion", code=p.code),
    }


def _actions(p: Promotion, user, today) -> list[str]:
    """What the user may do now: "edit" (PUT), or the action paths to POST."""
    shown = ps.shown_status(p, today)
    out = []
    if can("manage_promotions", user=user) and shown != "settled":
        out.append("edit")
        if shown == "draft":
            out.append("publish")
    if can("enrol_accounts", user=user) and shown in ("published", "running"):
        out.append("enrolments")
    if can("report_execution", user=user) and shown in ("running", "ended"):
        out.append("reports")
    if can("settle_promotions", user=user) and shown == "ended":
        out.append("settle")
    return out


def promotion_detail_json(p: Promotion, user) -> dict:
    today = ps.business_today()
    body = promotion_json(p, today)
    enrolments = ps.visible_enrolments(user, p)
    body["enrolments"] = len(enrolments)
    body["reports_pending"] = sum(1 for e in enrolments for r in e.reports if r.status == "submitted")
    body["actions"] = _actions(p, user, today)
    return body


def enrolment_json(row: ps.ProgressRow) -> dict:
    e = row.enrolment
    return {
        "account": e.account.code, "account_name": e.account.name, "region": e.region.code,
        "target_qty": e.target_qty, "target_outlets": e.target_outlets,
        "enrolled_by": _person(e.enrolled_by), "enrolled_at": _at(e.enrolled_at),
        "reports": row.reports, "pending": row.pending, "reported_outlets": row.reported_outlets,
        "verified_outlets": row.verified_outlets, "net_qty": row.net_qty, "net_shipment": to_api(row.net_fen),
        "qty_pct": _pct(row.qty_pct), "outlets_pct": _pct(row.outlets_pct),
    }


def report_json(r: ExecutionReport) -> dict:
    return {
        "id": r.id, "promotion": r.enrolment.promotion.code, "account": r.enrolment.account.code,
        "executed_on": r.executed_on.isoformat(), "outlets": r.outlets, "note": r.note, "status": r.status,
        "version": r.version, "reported_by": _person(r.reported_by), "reported_at": _at(r.reported_at),
        "checked_by": _person(r.checked_by), "checked_at": _at(r.checked_at), "reject_reason": r.reject_reason,
        "photos": [{"filename": ph.filename, "sha256": ph.sha256} for ph in r.photos],
    }


def settlement_json(p: Promotion, user) -> dict:
    """Per region the user sees and per account of it the user sees: what was earned (the reward
    by the rules and the cap), what is (or was) paid within the budget, and whether the budget
    ran short; once settled, as finance approved it, with the rebate documents. A distributor sees
    its own accounts, not the region's budget or totals."""
    today = ps.business_today()
    seen = {e.id for e in ps.visible_enrolments(user, p)}
    whole_region = user.role != "distributor"
    regions, totals = [], {"budget": 0, "earned": 0, "paid": 0}
    for rf in ps.figures(p, {r.region_id for r in ps.visible_regions(user, p)}):
        accounts = []
        for e in rf.enrolments:
            if e.id not in seen:
                continue
            part, line = rf.participations[e.id], rf.lines.get(e.id)
            accounts.append({
                "account": e.account.code, "account_name": e.account.name,
                "paid_through": e.account.supplier.code if e.account.supplier_id is not None else None,
                "net_qty": part.net_qty, "net_shipment": to_api(part.net_fen),
                "verified_outlets": part.verified_outlets, "verified": part.verified,
                "earned": to_api(rf.settlement.earned[e.id]), "paid": to_api(rf.settlement.paid[e.id]),
                "document": line.document.number if line is not None and line.document is not None else None,
            })
        settled = rf.settled
        region = {
            "region": rf.region.region.code, "name": rf.region.region.name, "short": rf.short,
            "budget": to_api(rf.budget_fen) if whole_region else None,
            "earned": to_api(rf.earned_fen) if whole_region else None,
            "paid": to_api(rf.paid_fen) if whole_region else None,
            "left": to_api(rf.left_fen) if whole_region else None,
            "settled": settled is not None,
            "posted_on": _at(settled.posted_on) if settled is not None else None,
            "approved_by": _person(settled.approved_by) if settled is not None else None,
            "approved_at": _at(settled.approved_at) if settled is not None else None,
            "accounts": accounts,
        }
        regions.append(region)
        totals["budget"] += rf.budget_fen
        totals["earned"] += rf.earned_fen
        totals["paid"] += rf.paid_fen
    return {
        "promotion": p.code, "status": ps.shown_status(p, today), "version": p.version,
        "kind": p.kind, "rate": to_api(p.rate), "min_quantity": p.min_quantity,
        "cap": to_api(p.cap_fen) if p.cap_fen is not None else None,
        "regions": regions,
        "total": {k: to_api(v) for k, v in totals.items()} if whole_region else None,
    }


# --- input and loading --------------------------------------------------------------------------

def _load(code) -> Promotion:
    """The promotion named by the path; 404 when there is none or the user may not see it."""
    promotion = db.session.execute(select(Promotion).where(Promotion.code == code)).scalar_one_or_none()
    if promotion is None or not can("view_promotion", promotion, user=_user()):
        abort(404)
    return promotion


def _enrolment(promotion: Promotion, account_code) -> Enrolment:
    """The enrolment of the account named by the path; 404 when there is none the user sees."""
    for e in ps.visible_enrolments(_user(), promotion):
        if e.account.code == account_code:
            return e
    abort(404)


def _load_report(report_id) -> ExecutionReport:
    report = db.session.get(ExecutionReport, report_id)
    user = _user()
    if report is None or not can("view_promotion", report.enrolment.promotion, user=user) or \
            report.enrolment not in ps.visible_enrolments(user, report.enrolment.promotion):
        abort(404)
    return report


def _role_may(rule):
    if not can(rule, user=_user()):
        abort(403)


def _count(body, name, default=0):
    return _whole(body[name], name, minimum=0) if body.get(name) is not None else default


def _input(body) -> ps.PromotionInput:
    """The promotion from the request (every field but description, min_quantity and cap required)."""
    kind = body.get("kind")
    if kind not in core.TYPES:
        raise Invalid(_("kind is one of: %(kinds)s.", kinds=", ".join(core.TYPES)), "kind")
    if body.get("rate") is None:
        raise Invalid(_("This field is required."), "rate")
    rate = _amount(body["rate"], "rate", allow_zero=True)  # fen, or basis points for a percentage
    cap = _amount(body["cap"], "cap", allow_zero=True) if body.get("cap") is not None else None
    products = body.get("products")
    if not isinstance(products, list) or not products or len(products) > MAX_ROWS:
        raise Invalid(_("products is a list of product codes."), "products")
    known = {c: i for c, i in db.session.execute(select(Product.code, Product.id)).all()}
    product_ids = []
    for n, code in enumerate(products):
        if not isinstance(code, str) or code not in known:
            raise Invalid(_("Unknown product %(code)s.", code=str(code)[:40]), f"products[{n}]")
        product_ids.append(known[code])
    regions = body.get("regions")
    if not isinstance(regions, list) or not regions or len(regions) > MAX_ROWS:
        raise Invalid(_("regions is a list of objects: region, budget."), "regions")
    budgets = {}
    for n, item in enumerate(regions):
        where = f"regions[{n}]"
        if not isinstance(item, dict):
            raise Invalid(_("regions is a list of objects: region, budget."), where)
        _only(item, REGION_FIELDS, where + ".")
        code = item.get("region")
        region = db.session.execute(select(Region).where(Region.code == code)).scalar_one_or_none() \
            if isinstance(code, str) else None
        if region is None:
            raise Invalid(_("Unknown region %(code)s.", code=str(code)[:40]), where + ".region")
        if region.id in budgets:
            raise Invalid(_("Each region is given once."), where + ".region")
        if item.get("budget") is None:
            raise Invalid(_("This field is required."), where + ".budget")
        budgets[region.id] = _amount(item["budget"], where + ".budget", allow_zero=True)
    return ps.PromotionInput(
        code=_text(body, "code", required=True, max_length=32) or "",
        name=_text(body, "name", required=True, max_length=200) or "",
        description=_text(body, "description", max_length=MAX_TEXT),
        kind=kind, rate=rate, min_quantity=_count(body, "min_quantity"), cap_fen=cap,
        starts_on=_date(body.get("starts_on"), "starts_on"), ends_on=_date(body.get("ends_on"), "ends_on"),
        product_ids=product_ids, budgets=budgets)


def _write(model, obj_id, fn, *args, status_of=None, **kw):
    """fn(current object, *args, by=..., **kw) in one write transaction; a refusal rolls back and
    says why (a stale version with the current one)."""
    begin_write()
    current = db.session.get(model, obj_id)
    try:
        result = fn(current, *args, by=_user(), **kw)
    except (core.PromotionError, LedgerError) as err:
        db.session.rollback()
        if err.code == "stale":
            now = db.session.get(model, obj_id)
            raise Stale(err, now, status_of(now) if status_of else now.status) from None
        raise Refused(err) from None
    db.session.commit()
    return result


def _reloaded(promotion_id) -> dict:
    db.session.expire_all()
    return promotion_detail_json(db.session.get(Promotion, promotion_id), _user())


# --- promotions ---------------------------------------------------------------------------------

@bp.get("/promotions")
def list_promotions():
    args, user = request.args, _user()
    page, per_page = api._page()
    today = ps.business_today()
    stmt = ps.promotions_query(user)
    status = args.get("status")
    if status is not None:
        if status not in core.STATUSES:
            raise Invalid(_("status is one of: %(statuses)s.", statuses=", ".join(core.STATUSES)), "status")
        published = Promotion.status == "published"
        stmt = stmt.where({
            "draft": Promotion.status == "draft",
            "published": and_(published, Promotion.starts_on > today),
            "running": and_(published, Promotion.starts_on <= today, Promotion.ends_on >= today),
            "ended": and_(published, Promotion.ends_on < today),
            "settled": Promotion.status == "settled",
        }[status])
    if args.get("kind") is not None:
        if args["kind"] not in core.TYPES:
            raise Invalid(_("kind is one of: %(kinds)s.", kinds=", ".join(core.TYPES)), "kind")
        stmt = stmt.where(Promotion.kind == args["kind"])
    if args.get("region") is not None:
        region = db.session.execute(select(Region).where(Region.code == args["region"])).scalar_one_or_none()
        if region is None:
            raise Invalid(_("Unknown region %(code)s.", code=args["region"][:40]), "region")
        # Running in the region: a promotion of the region, of one above it, or of one below it.
        ids = regions_above([region.id]) | region_tree_ids([region.id])
        stmt = stmt.where(Promotion.id.in_(select(PromotionRegion.promotion_id)
                                           .where(PromotionRegion.region_id.in_(ids))))
    if args.get("month") is not None:  # overlapping the month
        try:
            month = Month.parse(args["month"])
        except ValueError:
            raise Invalid(_("Months are written YYYY-MM."), "month") from None
        stmt = stmt.where(Promotion.starts_on <= month.last_day, Promotion.ends_on >= month.first_day)
    stmt = stmt.options(selectinload(Promotion.products).selectinload(PromotionProduct.product),
                        selectinload(Promotion.regions).selectinload(PromotionRegion.region),
                        selectinload(Promotion.published_by), selectinload(Promotion.settled_by)
                        ).order_by(Promotion.starts_on.desc(), Promotion.code)
    rows = db.session.execute(stmt.limit(per_page + 1).offset((page - 1) * per_page)).scalars().unique().all()
    more = len(rows) > per_page
    query = {k: v for k, v in args.items() if k in ("status", "kind", "region", "month")}
    return jsonify({
        "items": [promotion_json(p, today) for p in rows[:per_page]],
        "next": url_for(".list_promotions", page=page + 1, per_page=per_page, **query) if more else None,
    })


@bp.post("/promotions")
def create_promotion():
    _role_may("manage_promotions")
    body = _json_object()
    _only(body, PROMOTION_FIELDS)
    data = _input(body)
    begin_write()
    try:
        promotion = ps.create_promotion(data, by=_user())
    except core.PromotionError as err:
        db.session.rollback()
        raise Refused(err) from None
    promotion_id = promotion.id
    db.session.commit()
    return jsonify(_reloaded(promotion_id)), 201


@bp.get("/promotions/<code>")
def show_promotion(code):
    return jsonify(promotion_detail_json(_load(code), _user()))


@bp.put("/promotions/<code>")
def put_promotion(code):
    promotion = _load(code)
    _role_may("manage_promotions")
    body = _json_object()
    _only(body, PUT_FIELDS)
    version = _version(body)
    data = _input(body)
    _write(Promotion, promotion.id, ps.update_promotion, data, version=version, status_of=ps.shown_status)
    return jsonify(_reloaded(promotion.id))


@bp.post("/promotions/<code>/publish")
def publish_promotion(code):
    promotion = _load(code)
    _role_may("manage_promotions")
    body = _json_object()
    _only(body, PUBLISH_FIELDS)
    _write(Promotion, promotion.id, ps.publish, version=_version(body), status_of=ps.shown_status)
    return jsonify(_reloaded(promotion.id))


# --- enrolments ---------------------------------------------------------------------------------

def _progress_of(promotion: Promotion, enrolment: Enrolment) -> dict:
    return enrolment_json(ps.progress(promotion, [enrolment])[0])


@bp.get("/promotions/<code>/enrolments")
def list_enrolments(code):
    promotion = _load(code)
    rows = ps.progress(promotion, ps.visible_enrolments(_user(), promotion))
    return jsonify({"promotion": promotion.code, "items": [enrolment_json(r) for r in rows]})


@bp.post("/promotions/<code>/enrolments")
def enrol_account(code):
    promotion = _load(code)
    _role_may("enrol_accounts")
    body = _json_object()
    _only(body, ENROL_FIELDS)
    if body.get("account") is None:
        raise Invalid(_("This field is required."), "account")
    account = _visible_account(body["account"])
    qty, outlets = _count(body, "target_qty"), _count(body, "target_outlets")
    account_id = account.id
    enrolment = _write(Promotion, promotion.id, lambda p, by: ps.enrol(
        p, db.session.get(Account, account_id), target_qty=qty, target_outlets=outlets, by=by),
        status_of=ps.shown_status)
    db.session.expire_all()
    enrolment = db.session.get(Enrolment, enrolment.id)
    return jsonify(_progress_of(enrolment.promotion, enrolment)), 201


@bp.put("/promotions/<code>/enrolments/<account_code>")
def put_enrolment(code, account_code):
    promotion = _load(code)
    enrolment = _enrolment(promotion, account_code)
    _role_may("enrol_accounts")
    body = _json_object()
    _only(body, TARGET_FIELDS)
    qty = _count(body, "target_qty", enrolment.target_qty)
    outlets = _count(body, "target_outlets", enrolment.target_outlets)
    _write(Enrolment, enrolment.id, ps.update_enrolment, target_qty=qty, target_outlets=outlets)
    db.session.expire_all()
    enrolment = db.session.get(Enrolment, enrolment.id)
    return jsonify(_progress_of(enrolment.promotion, enrolment))


@bp.delete("/promotions/<code>/enrolments/<account_code>")
def withdraw_enrolment(code, account_code):
    promotion = _load(code)
    enrolment = _enrolment(promotion, account_code)
    _role_may("enrol_accounts")
    _write(Enrolment, enrolment.id, ps.withdraw)
    return "", 204


# --- execution reports --------------------------------------------------------------------------

@bp.get("/promotions/<code>/reports")
def list_reports(code):
    promotion = _load(code)
    status = request.args.get("status")
    if status is not None and status not in REPORT_STATUSES:
        raise Invalid(_("status is one of: %(statuses)s.", statuses=", ".join(REPORT_STATUSES)), "status")
    account = request.args.get("account")
    rows = [r for e in ps.visible_enrolments(_user(), promotion) if account is None or e.account.code == account
            for r in e.reports if status is None or r.status == status]
    rows.sort(key=lambda r: (r.executed_on, r.id))
    return jsonify({"promotion": promotion.code, "items": [report_json(r) for r in rows]})


@bp.post("/promotions/<code>/reports")
def report_execution(code):
    promotion = _load(code)
    _role_may("report_execution")
    body = _json_object()
    _only(body, REPORT_FIELDS)
    account = body.get("account")
    enrolment = next((e for e in ps.visible_enrolments(_user(), promotion)
                      if isinstance(account, str) and e.account.code == account), None)
    if enrolment is None:
        raise Invalid(_("%(code)s is not enrolled in this promotion.", code=str(account)[:40]), "account")
    executed_on = _date(body.get("executed_on"), "executed_on")
    if body.get("outlets") is None:
        raise Invalid(_("This field is required."), "outlets")
    outlets = _whole(body["outlets"], "outlets", minimum=0)
    note = _text(body, "note", max_length=MAX_TEXT)
    report = _write(Enrolment, enrolment.id, ps.report_execution, executed_on=executed_on, outlets=outlets,
                    note=note)
    db.session.expire_all()
    return jsonify(report_json(db.session.get(ExecutionReport, report.id))), 201


def _check(report_id, fields, verdict):
    report = _load_report(report_id)
    _role_may("enrol_accounts")  # the supervisors of the account's region (and admin)
    body = _json_object()
    _only(body, fields)
    version = _version(body)
    reason = _text(body, "reason", required=True, max_length=MAX_TEXT) if verdict == "rejected" else None
    _write(ExecutionReport, report.id, ps.check_report, verdict=verdict, reason=reason, version=version)
    db.session.expire_all()
    return jsonify(report_json(db.session.get(ExecutionReport, report.id)))


@bp.post("/execution-reports/<int:report_id>/verify")
def verify_report(report_id):
    return _check(report_id, VERIFY_FIELDS, "verified")


@bp.post("/execution-reports/<int:report_id>/reject")
def reject_report(report_id):
    return _check(report_id, REJECT_FIELDS, "rejected")


# --- settlement ---------------------------------------------------------------------------------

@bp.get("/promotions/<code>/settlement")
def show_settlement(code):
    promotion = _load(code)
    return jsonify(settlement_json(promotion, _user()))


@bp.post("/promotions/<code>/settle")
def settle_promotion(code):
    promotion = _load(code)
    _role_may("settle_promotions")
    body = _json_object()
    _only(body, SETTLE_FIELDS)
    version = _version(body)
    on = _date(body["on"], "on") if body.get("on") is not None else None
    if promotion.status == "settled":  # whatever version the client saw: settling again posts nothing
        raise Refused(core.PromotionError("already_settled"), status=409)
    try:
        result = _write(Promotion, promotion.id, ps.settle, version=version, on=on, status_of=ps.shown_status)
    except Refused as err:
        if err.code == "already_settled":
            err.status = 409  # settling again posts nothing
        raise
    db.session.expire_all()
    promotion = db.session.get(Promotion, promotion.id)
    numbers = sorted(line.document.number for s in promotion.settlements for line in s.lines
                     if line.document is not None)
    return jsonify({"promotion": promotion.code, "status": promotion.status, "version": promotion.version,
                    "documents": numbers, "posted": result.documents,
                    "settlement": settlement_json(promotion, _user())})
