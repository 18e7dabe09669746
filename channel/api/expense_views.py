"""JSON API for expense claims (报销): list, create a draft with its lines, read one (lines,
receipts without their bytes, flags, history, and the budget use for whoever may approve it),
submit, approve (with cuts), reject, pay. The same rules, in the same order, as the pages: load,
check (404 for a claim the token's user may not see, 403 for a feature their role lacks),
begin_write(), the service, one commit. A rule of the claim's state machine or of the services
refuses with 422 and its `code`; a stale `version` with 409. Receipts are uploaded on the
claim's page, not here.

Creating is not idempotent: a claim has no client reference to replay on (unlike a ledger
document's external_ref), so a client that retries after a lost answer looks at the list first."""
from flask import abort, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..auth.models import User
from ..auth.permissions import can
from ..core import expenses as core
from ..core.money import MoneyError, parse_amount, to_api
from ..core.periods import Month
from ..expenses import services
from ..expenses.messages import expense_message
from ..expenses.models import ExpenseClaim, ExpenseLine
from ..extensions import db
from ..masterdata.models import Account, Region
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
    _whole,
    bp,
)

CREATE_FIELDS = {"month", "title", "region", "lines"}
LINE_FIELDS = {"date", "category", "amount", "description", "account", "nights", "city_tier"}
SUBMIT_FIELDS = {"version"}
APPROVE_FIELDS = {"version", "cuts", "override_reason", "comment"}
CUT_FIELDS = {"line", "approved_amount", "reason"}
REJECT_FIELDS = {"version", "comment"}
PAY_FIELDS = {"version", "paid_on", "reference"}
# The services' names for a line's inputs -> the API's.
LINE_FIELD_NAMES = {"spent_on": "date"}
MAX_LINES = 200


class Refused(api.Refused):
    """An expense rule refused the request."""

    def __init__(self, err: core.ExpenseError, field=None, status=422):
        super().__init__(expense_message(err), err.code, field if field is not None else err.field, status)



def _month(value, field="month"):
    try:
        return Month.parse(value) if isinstance(value, str) else Month.parse("")
    except ValueError:
        raise Invalid(_("Months are written YYYY-MM."), field) from None


def _in_field(where, err: core.ExpenseError) -> str:
    name = LINE_FIELD_NAMES.get(err.field, err.field) if err.field else ""
    return f"{where}.{name}" if name else where


# --- serialisation ------------------------------------------------------------------------------

def _money(fen):
    return to_api(fen) if fen is not None else None


def claim_json(claim: ExpenseClaim) -> dict:
    return {
        "id": claim.id, "number": claim.number, "status": claim.status, "version": claim.version,
        "month": claim.month, "title": claim.title, "claimant": _person(claim.claimant),
        "region": claim.region.code, "budget_region": claim.budget_region.code,
        "claimed": to_api(claim.claimed_fen), "approved": _money(claim.approved_fen),
        "paid": _money(claim.paid_fen),
        "submitted_at": _at(claim.submitted_at),
        "first_approver": _person(claim.first_approver), "second_approver": _person(claim.second_approver),
        "approver": _person(claim.approver), "approved_at": _at(claim.approved_at),
        "paid_on": _at(claim.paid_on), "payment_ref": claim.payment_ref, "paid_by": _person(claim.paid_by),
        "created_at": _at(claim.created_at),
        "url": url_for("api.show_expense", claim_id=claim.id),
    }


def _budget_json(uses):
    return [{"category": category, "budget": _money(use.budget_fen), "approved": to_api(use.approved_fen),
             "pending": to_api(use.pending_fen), "this_claim": to_api(use.this_claim_fen),
             "left_after": _money(use.left_after_fen), "over": use.over,
             "over_with_pending": use.over_with_pending} for category, use in uses]


def claim_detail_json(claim: ExpenseClaim, user) -> dict:
    flags = services.claim_flags(claim)
    body = claim_json(claim)
    body["lines"] = [{
        "id": line.id, "date": line.spent_on.isoformat(), "category": line.category,
        "description": line.description or "", "account": line.account.code if line.account else None,
        "amount": to_api(line.amount_fen), "approved_amount": _money(line.approved_fen),
        "cut_reason": line.cut_reason, "nights": line.nights, "city_tier": line.city_tier,
        "flag": flags.lines.get(line.id),
        "receipts": [{"id": r.id, "filename": r.filename, "mime": r.file.mime, "size": r.file.size,
                      "sha256": r.sha256, "uploaded_at": _at(r.uploaded_at),
                      "duplicate_of": flags.duplicates.get(r.id, [])} for r in line.receipts],
    } for line in claim.lines]
    body["flags"] = {"lines": len(flags.lines), "duplicate_receipts": len(flags.duplicates),
                     "over_budget": flags.over_budget}
    body["history"] = [{
        "seq": e.seq, "action": e.action, "from": e.from_status, "to": e.to_status, "by": _person(e.by),
        "at": _at(e.at), "comment": e.comment, "override_reason": e.override_reason,
        "amount": _money(e.amount_fen)} for e in claim.events]
    body["actions"] = [action for action in core.ACTIONS if services.may(claim, action, user)]
    # What the approval screen shows: only to whoever may approve the claim now.
    if "approve" in body["actions"]:
        body["budget"] = _budget_json(services.budget_uses(claim))
    return body


# --- input and loading --------------------------------------------------------------------------

def _load(claim_id) -> ExpenseClaim:
    """The claim named by the path; 404 when there is none or the user may not see it."""
    claim = db.session.get(ExpenseClaim, claim_id)
    if claim is None or not can("view_claim", claim, user=_user()):
        abort(404)
    return claim


def _reloaded(claim_id) -> dict:
    db.session.expire_all()
    return claim_detail_json(db.session.get(ExpenseClaim, claim_id), _user())


def _line_input(item, where) -> services.LineInput:
    if not isinstance(item, dict):
        raise Invalid(_("Lines are a list of objects."), where)
    _only(item, LINE_FIELDS, where + ".")
    on = _date(item.get("date"), where + ".date")
    category = item.get("category")
    if not isinstance(category, str):
        raise Refused(core.ExpenseError("category_unknown"), where + ".category")
    amount = _amount(item.get("amount"), where + ".amount")
    description = item.get("description")
    if description is not None and not isinstance(description, str):
        raise Invalid(_("Must be text."), where + ".description")
    account_id = None
    if item.get("account") is not None:
        code = item["account"]
        account = db.session.execute(select(Account).where(Account.code == code)).scalar_one_or_none() \
            if isinstance(code, str) else None
        if account is None:
            raise Refused(core.ExpenseError("account_unknown"), where + ".account")
        account_id = account.id  # the service refuses an account the claimant may not see, alike
    nights = _whole(item["nights"], where + ".nights") if item.get("nights") is not None else 1
    tier = item.get("city_tier")
    if tier is not None and (not isinstance(tier, int) or isinstance(tier, bool)):
        raise Refused(core.ExpenseError("city_tier_unknown"), where + ".city_tier")
    return services.LineInput(on, category, amount, (description or "").strip(), account_id, nights, tier)


def _cuts(raw, claim) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, list) or len(raw) > MAX_LINES:
        raise Invalid(_("cuts is a list of objects: line, approved_amount, reason."), "cuts")
    ids = {line.id for line in claim.lines}
    out = {}
    for n, item in enumerate(raw):
        where = f"cuts[{n}]"
        if not isinstance(item, dict):
            raise Invalid(_("cuts is a list of objects: line, approved_amount, reason."), where)
        _only(item, CUT_FIELDS, where + ".")
        line_id = item.get("line")
        if not isinstance(line_id, int) or isinstance(line_id, bool) or line_id not in ids:
            raise Refused(core.ExpenseError("line_unknown"), where + ".line")
        if line_id in out:
            raise Invalid(_("Each line is cut once."), where + ".line")
        value = item.get("approved_amount")
        if not isinstance(value, str):
            raise Invalid(_('Amounts are strings with two decimals, such as "1234.50".'), where + ".approved_amount")
        try:
            fen = parse_amount(value)
        except MoneyError as err:
            raise Invalid(_("At most two decimals (fen).") if err.code == "precision"
                          else _("The amount must not be negative.") if err.code == "negative"
                          else _('Not an amount: use a string such as "1234.50" (no commas).'),
                          where + ".approved_amount") from None
        reason = item.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise Invalid(_("Must be text."), where + ".reason")
        if reason is not None and len(reason) > 200:
            raise Invalid(_("At most %(n)s characters.", n=200), where + ".reason")
        out[line_id] = (fen, reason or "")
    return out


def _cut_field(err, cuts) -> str | None:
    """The input a refused cut concerns: the approval checks the cuts in the order given."""
    if err.code not in ("cut_above_claim", "amount_negative", "cut_reason_required") or not cuts:
        return None
    for n, (line_id, (fen, reason)) in enumerate(cuts.items()):
        line = db.session.get(ExpenseLine, line_id)
        try:
            core.cut(core.Line(line.spent_on, line.category, line.amount_fen), fen, reason)
        except core.ExpenseError:
            return f"cuts[{n}]." + ("reason" if err.code == "cut_reason_required" else "approved_amount")
    return None


def _act(claim_id, fn, **kw):
    """fn(claim, by=..., ip=..., **kw) in one write transaction; a refusal rolls back and says why."""
    begin_write()
    claim = db.session.get(ExpenseClaim, claim_id)
    try:
        fn(claim, by=_user(), ip=request.remote_addr, **kw)
    except core.ExpenseError as err:
        db.session.rollback()
        if err.code == "stale":
            current = db.session.get(ExpenseClaim, claim_id)
            raise _Stale(err, current) from None
        raise Refused(err) from None
    db.session.commit()
    return jsonify(_reloaded(claim_id))


class _Stale(api.Stale):
    def __init__(self, err, claim):
        super().__init__(expense_message(err), claim.version, claim.status)



# --- endpoints ----------------------------------------------------------------------------------

def _may_list(user) -> bool:
    return any(can(rule, user=user) for rule in ("create_claims", "approve_claims", "pay_claims"))


@bp.get("/expenses")
def list_expenses():
    user = _user()
    if not _may_list(user):
        abort(403)
    args = request.args
    page, per_page = api._page()
    filters = {}
    status = args.get("status")
    if status is not None:
        if status not in core.STATUSES:
            raise Invalid(_("status is one of: %(statuses)s.", statuses=", ".join(core.STATUSES)), "status")
        filters["status"] = status
    if args.get("month") is not None:
        filters["month"] = str(_month(args["month"]))
    if args.get("region") is not None:
        region = db.session.execute(select(Region).where(Region.code == args["region"])).scalar_one_or_none()
        if region is None:
            raise Invalid(_("Unknown region %(code)s.", code=args["region"][:40]), "region")
        filters["region_id"] = region.id
    if args.get("claimant") is not None:
        # An unknown username is as empty as one whose claims the user may not see.
        found = db.session.execute(select(User.id).where(User.username == args["claimant"])).scalar_one_or_none()
        filters["claimant_id"] = found if found is not None else -1
    stmt = services.claims_query(user, **filters).options(
        joinedload(ExpenseClaim.claimant), joinedload(ExpenseClaim.region), joinedload(ExpenseClaim.budget_region),
        selectinload(ExpenseClaim.first_approver), selectinload(ExpenseClaim.second_approver),
        selectinload(ExpenseClaim.approver), selectinload(ExpenseClaim.paid_by))
    rows = db.session.execute(stmt.limit(per_page + 1).offset((page - 1) * per_page)).scalars().unique().all()
    more = len(rows) > per_page
    query = {k: v for k, v in args.items() if k in ("status", "month", "region", "claimant")}
    return jsonify({
        "items": [claim_json(c) for c in rows[:per_page]],
        "next": url_for(".list_expenses", page=page + 1, per_page=per_page, **query) if more else None,
    })


@bp.post("/expenses")
def create_expense():
    user = _user()
    if not can("create_claims", user=user):
        abort(403)
    body = _json_object()
    _only(body, CREATE_FIELDS)
    month = _month(body.get("month"))
    title = _text(body, "title", max_length=500)
    region = None
    if body.get("region") is not None:
        code = body["region"]
        region = db.session.execute(select(Region).where(Region.code == code)).scalar_one_or_none() \
            if isinstance(code, str) else None
        if region is None:
            raise Refused(core.ExpenseError("region_not_yours"), "region")
    raw = body.get("lines", [])
    if not isinstance(raw, list) or len(raw) > MAX_LINES:
        raise Invalid(_("Lines are a list of objects."), "lines")
    lines = [_line_input(item, f"lines[{n}]") for n, item in enumerate(raw)]
    region_id = region.id if region is not None else None
    begin_write()
    try:
        claim = services.create_claim(user, month=month, title=title or "",
                                      region=db.session.get(Region, region_id) if region_id else None)
    except core.ExpenseError as err:
        db.session.rollback()
        raise Refused(err) from None
    for n, line in enumerate(lines):
        try:
            services.add_line(claim, line, by=user)
        except core.ExpenseError as err:
            db.session.rollback()
            raise Refused(err, _in_field(f"lines[{n}]", err)) from None
    claim_id = claim.id
    db.session.commit()
    return jsonify(_reloaded(claim_id)), 201


@bp.get("/expenses/<int:claim_id>")
def show_expense(claim_id):
    return jsonify(claim_detail_json(_load(claim_id), _user()))


@bp.post("/expenses/<int:claim_id>/submit")
def submit_expense(claim_id):
    claim = _load(claim_id)
    if not can("create_claims", user=_user()):
        abort(403)
    body = _json_object()
    _only(body, SUBMIT_FIELDS)
    return _act(claim.id, services.submit, version=_version(body))


@bp.post("/expenses/<int:claim_id>/approve")
def approve_expense(claim_id):
    claim = _load(claim_id)
    user = _user()
    if not can("approve_claims", user=user):
        abort(403)
    body = _json_object()
    _only(body, APPROVE_FIELDS)
    version = _version(body)
    cuts = _cuts(body.get("cuts"), claim)
    override = _text(body, "override_reason", max_length=2000)
    comment = _text(body, "comment", max_length=2000)
    begin_write()
    current = db.session.get(ExpenseClaim, claim.id)
    try:
        services.approve(current, by=_user(), version=version, cuts=cuts, override_reason=override,
                         comment=comment, ip=request.remote_addr)
    except core.ExpenseError as err:
        db.session.rollback()
        if err.code == "stale":
            raise _Stale(err, db.session.get(ExpenseClaim, claim.id)) from None
        raise Refused(err, _cut_field(err, cuts)) from None
    db.session.commit()
    return jsonify(_reloaded(claim.id))


@bp.post("/expenses/<int:claim_id>/reject")
def reject_expense(claim_id):
    claim = _load(claim_id)
    user = _user()
    if not can("approve_claims", user=user):
        abort(403)
    body = _json_object()
    _only(body, REJECT_FIELDS)
    version = _version(body)
    comment = _text(body, "comment", max_length=2000)
    return _act(claim.id, services.reject, version=version, comment=comment or "")


@bp.post("/expenses/<int:claim_id>/pay")
def pay_expense(claim_id):
    claim = _load(claim_id)
    if not can("pay_claims", user=_user()):
        abort(403)
    body = _json_object()
    _only(body, PAY_FIELDS)
    version = _version(body)
    paid_on = _date(body.get("paid_on"), "paid_on")
    reference = _text(body, "reference", max_length=500)
    return _act(claim.id, services.pay, version=version, paid_on=paid_on, reference=reference or "")
