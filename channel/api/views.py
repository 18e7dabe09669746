"""JSON API /api/v1: bearer tokens only (never the browser session, so no CSRF exposure),
scoped exactly like the token's user. Amounts are strings with two decimals, dates ISO."""
import re
from datetime import date

from flask import Blueprint, abort, g, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..auth.permissions import can, scope_accounts
from ..core.money import MoneyError, parse_amount, to_api
from ..core.periods import Month
from ..db_types import utcnow
from ..extensions import db
from ..ledger import services as ledger
from ..ledger.messages import ledger_message
from ..ledger.models import DOCUMENT_KINDS, LINE_KINDS, Document
from ..masterdata.models import Account, Product
from ..transactions import begin_write
from .openapi import spec
from .services import user_for_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DOCUMENT_FIELDS = {"kind", "account", "date", "external_ref", "lines", "amount", "memo", "direction",
                   "payment_method", "bank_ref", "reason", "override_reason", "for_account", "passes_on"}
LINE_FIELDS = {"product", "quantity", "unit_price"}


class Invalid(Exception):
    def __init__(self, message, field=None, status=422):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


class Refused(Invalid):
    """A rule of an area refused the request: the body carries the rule's code besides the
    message. Each area's module subclasses it to turn its error into its own message."""

    def __init__(self, message, code, field=None, status=422):
        super().__init__(message, field, status)
        self.code = code


class Stale(Refused):
    """The object moved since the version the client saw (nothing was recorded): 409 with its
    current version and status."""

    def __init__(self, message, current_version, status_now):
        super().__init__(message, "stale", "version", 409)
        self.current_version, self.status_now = current_version, status_now


@bp.errorhandler(Invalid)
def _invalid(err):
    body = {"message": err.message}
    if isinstance(err, Refused):
        body["code"] = err.code
    if err.field:
        body["field"] = err.field
    if isinstance(err, Stale):
        body.update(current_version=err.current_version, status=err.status_now)
    return jsonify(body), err.status


@bp.before_request
def _authenticate():
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    row = user_for_token(token)
    if row is None:
        return jsonify({"message": _("A valid API token is required (Authorization: Bearer ...).")}), 401
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        row.last_used_at = now  # at most once a minute: a write per request would queue on SQLite
        db.session.commit()
    g.api_user = row.user
    return None


def _user():
    return g.api_user


# --- serialisation ------------------------------------------------------------------------------

def account_json(account, balance_fen=None):
    body = {
        "code": account.code, "name": account.name, "kind": account.kind,
        "region": account.region.code, "supplier": account.supplier.code if account.supplier else None,
        "credit_limit": to_api(account.credit_limit_fen), "payment_terms_days": account.payment_terms_days,
        "status": account.status,
    }
    if balance_fen is not None:
        body["balance"] = to_api(balance_fen)
    return body


def document_json(doc):
    body = {
        "number": doc.number, "kind": doc.kind, "direction": doc.direction, "account": doc.account.code,
        "date": doc.document_date.isoformat(), "external_ref": doc.external_ref,
        "amount": to_api(doc.amount_fen),
        "lines": [{"product": ln.product.code, "quantity": ln.quantity,
                   "unit_price": to_api(ln.unit_price_fen), "amount": to_api(ln.amount_fen)} for ln in doc.lines],
        "memo": doc.memo, "reason": doc.reason, "payment_method": doc.payment_method, "bank_ref": doc.bank_ref,
        "reversal_of": doc.reversal_of.number if doc.reversal_of else None,
        "reversed_by": doc.reversed_by.number if doc.reversed_by else None,
        "created_at": doc.created_at.isoformat(),
    }
    # Policy payouts (兑现政策): only on the rebates that carry them.
    if doc.for_account_id is not None:
        body["for_account"] = doc.for_account.code
    if doc.passes_on_id is not None:
        body["passes_on"] = doc.passes_on.number
    return body


def _person(user):
    return {"username": user.username, "name": user.full_name} if user is not None else None


def _at(value):
    return value.isoformat() if value is not None else None


# --- input --------------------------------------------------------------------------------------

def _json_object():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid(_("The request body must be a JSON object."), status=400)
    return body


def _only(body, allowed, where=""):
    """Refuse a field the client may not set (the first one, by name)."""
    extra = set(body) - allowed
    if extra:
        name = sorted(extra)[0]
        raise Invalid(_("Not a field a client may set: %(name)s.", name=name), where + name)


def _whole(value, field, *, minimum=1):
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise Invalid(_("Must be a whole number of at least %(n)s.", n=minimum), field)
    return value


def _version(body):
    """The version of an object the client saw (optional): a write to a later one is 409."""
    return _whole(body["version"], "version") if body.get("version") is not None else None


def _text(body, name, *, required=False, max_length=500):
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise Invalid(_("This field is required."), name)
        return None
    if not isinstance(value, str):
        raise Invalid(_("Must be text."), name)
    if len(value) > max_length:
        raise Invalid(_("At most %(n)s characters.", n=max_length), name)
    return value.strip()


def _amount(value, field, *, allow_zero=False):
    """An amount the client gives ("1234.50"): fen; 0.00 only where allow_zero (a target, a budget)."""
    if not isinstance(value, str):
        raise Invalid(_('Amounts are strings with two decimals, such as "1234.50".'), field)
    try:
        return parse_amount(value, allow_zero=allow_zero)
    except MoneyError as err:
        raise Invalid({
            "negative": _("The amount must not be negative."),
            "zero": _("The amount must be above zero."),
            "precision": _("At most two decimals (fen)."),
            "range": _("The amount is too large."),
        }.get(err.code, _('Not an amount: use a string such as "1234.50" (no commas).')), field) from None


def _date(value, field="date"):
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise Invalid(_("Dates are ISO dates: YYYY-MM-DD."), field)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(_("Not a valid date."), field) from None


def _visible_account(code, field="account"):
    if not isinstance(code, str):
        raise Invalid(_("Give the account's code."), field)
    account = db.session.execute(
        scope_accounts(select(Account).where(Account.code == code), _user())
    ).scalar_one_or_none()
    if account is None:
        raise Invalid(_("Unknown account %(code)s.", code=code[:40]), field)
    return account


def _visible_document(number, field):
    doc = db.session.execute(select(Document).where(Document.number == number)).scalar_one_or_none() \
        if isinstance(number, str) else None
    if doc is None or not can("view_ledger", doc.account, user=_user()):
        raise Invalid(_("Unknown document %(number)s.", number=str(number)[:40]), field)
    return doc


def _lines(raw):
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > 500:
        raise Invalid(_("Lines are a list of objects."), "lines")
    out = []
    for n, item in enumerate(raw, start=1):
        where = f"lines[{n - 1}]"
        if not isinstance(item, dict):
            raise Invalid(_("Lines are a list of objects."), where)
        extra = set(item) - LINE_FIELDS
        if extra:
            raise Invalid(_("Not a field a client may set: %(name)s.", name=sorted(extra)[0]), f"{where}.{sorted(extra)[0]}")
        code = item.get("product")
        product = db.session.execute(select(Product).where(Product.code == code)).scalar_one_or_none() if isinstance(code, str) else None
        if product is None:
            raise Invalid(_("Unknown product %(code)s.", code=str(code)[:40]), f"{where}.product")
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise Invalid(_("The quantity must be a whole number above zero."), f"{where}.quantity")
        price = product.list_price_fen if item.get("unit_price") is None else _amount_or_zero(item["unit_price"], f"{where}.unit_price")
        out.append(ledger.LineInput(product, quantity, price))
    return out


def _amount_or_zero(value, field):
    if value == "0" or value == "0.00":
        return 0
    return _amount(value, field)


def _ledger_error(err):
    if isinstance(err, ledger.DuplicateConflict):
        body = {"message": ledger_message(err), "field": "external_ref", "existing": err.document.number,
                "differences": err.differences}
        return jsonify(body), 409
    body = {"message": ledger_message(err)}
    if err.field:
        body["field"] = err.field
    return jsonify(body), 422


# --- endpoints ----------------------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi():
    return jsonify(spec(request.host_url.rstrip("/")))


def _page() -> tuple[int, int]:
    """The page asked for and its size (?page=, ?per_page=: 100 by default, at most 500)."""
    try:
        per_page = min(max(int(request.args.get("per_page", 100)), 1), 500)
        page = max(int(request.args.get("page", 1)), 1)
    except ValueError:
        raise Invalid(_("page and per_page are whole numbers."), "page") from None
    return page, per_page


@bp.get("/accounts")
def list_accounts():
    page, per_page = _page()
    stmt = scope_accounts(select(Account), _user()).options(
        joinedload(Account.region), joinedload(Account.supplier)).order_by(Account.code)
    rows = db.session.execute(stmt.limit(per_page + 1).offset((page - 1) * per_page)).scalars().all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    balances = ledger.balances_at(None, [a.id for a in rows])
    return jsonify({
        "items": [account_json(a, balances.get(a.id, 0)) for a in rows],
        "next": url_for(".list_accounts", page=page + 1, per_page=per_page) if more else None,
    })


@bp.get("/accounts/<code>")
def show_account(code):
    account = db.session.execute(select(Account).where(Account.code == code)).scalar_one_or_none()
    if account is None or not can("view_account", account, user=_user()):
        abort(404)
    return jsonify(account_json(account, ledger.current_balance(account)))


@bp.get("/accounts/<code>/statement")
def statement(code):
    account = db.session.execute(select(Account).where(Account.code == code)).scalar_one_or_none()
    if account is None or not can("view_ledger", account, user=_user()):
        abort(404)
    try:
        month = Month.parse(request.args.get("period", ""))
    except ValueError:
        raise Invalid(_("period is a month: YYYY-MM."), "period") from None
    st = ledger.statement(account, month)
    return jsonify({
        "account": account.code, "period": str(st.period), "opening": to_api(st.opening_fen),
        "closing": to_api(st.closing_fen), "closed": ledger.is_closed(month),
        "totals": {kind: to_api(v) for kind, v in st.totals.items()},
        "entries": [{"date": ln.on.isoformat(), "number": ln.number, "kind": ln.kind,
                     "description": ln.description, "debit": to_api(ln.debit_fen),
                     "credit": to_api(ln.credit_fen), "balance": to_api(ln.balance_fen)} for ln in st.lines],
    })


@bp.get("/documents/<number>")
def show_document(number):
    doc = db.session.execute(select(Document).where(Document.number == number)).scalar_one_or_none()
    if doc is None or not can("view_ledger", doc.account, user=_user()):
        abort(404)
    return jsonify(document_json(doc))


@bp.post("/documents")
def post_document():
    body = _json_object()
    extra = set(body) - DOCUMENT_FIELDS
    if extra:
        name = sorted(extra)[0]
        raise Invalid(_("Not a field a client may set: %(name)s.", name=name), name)
    kind = body.get("kind")
    if kind not in DOCUMENT_KINDS:
        raise Invalid(_("kind is one of: %(kinds)s.", kinds=", ".join(DOCUMENT_KINDS)), "kind")
    account = _visible_account(body.get("account"))
    if not can("post_documents", account, user=_user()):
        abort(403)
    on = _date(body.get("date"))
    if kind not in LINE_KINDS and body.get("lines"):
        raise Invalid(_("This kind of document has no product lines."), "lines")
    lines = _lines(body.get("lines"))
    amount = None if lines or body.get("amount") is None else _amount(body["amount"], "amount")
    if lines and body.get("amount") is not None:
        # The amount of a document with lines is the sum of its lines; a stated one must agree.
        if _amount(body["amount"], "amount") != sum(ln.quantity * ln.unit_price_fen for ln in lines):
            raise Invalid(_("amount differs from the sum of the lines."), "amount")
    # A company rebate meant for one of the distributor's dealers, or the distributor's rebate
    # passing such a payout on: the service refuses them on anything but a rebate.
    for_account = passes_on = None
    if body.get("for_account") is not None:
        for_account = _visible_account(body["for_account"], "for_account")
    if body.get("passes_on") is not None:
        passes_on = _visible_document(body["passes_on"], "passes_on")
    override = _text(body, "override_reason")
    if override and not can("override_credit", account, user=_user()):
        raise Invalid(_("You may not override the credit limit."), "override_reason", status=403)
    values = dict(kind=kind, on=on, by=_user(), amount_fen=amount, lines=lines,
                  direction=body.get("direction") if body.get("direction") in ("debit", "credit") else None,
                  external_ref=_text(body, "external_ref", max_length=64), memo=_text(body, "memo"),
                  payment_method=body.get("payment_method") if isinstance(body.get("payment_method"), str) else None,
                  bank_ref=_text(body, "bank_ref", max_length=64), reason=_text(body, "reason"),
                  override_reason=override)
    begin_write()
    account = db.session.get(Account, account.id)
    values["for_account"] = db.session.get(Account, for_account.id) if for_account else None
    values["passes_on"] = db.session.get(Document, passes_on.id) if passes_on else None
    try:
        result = ledger.post_document(account=account, **values)
    except ledger.LedgerError as err:
        db.session.rollback()
        return _ledger_error(err)
    db.session.commit()
    doc = db.session.get(Document, result.document.id)
    return jsonify(document_json(doc)), (201 if result.created else 200)


@bp.post("/documents/<number>/reverse")
def reverse_document(number):
    doc = db.session.execute(select(Document).where(Document.number == number)).scalar_one_or_none()
    if doc is None or not can("view_ledger", doc.account, user=_user()):
        abort(404)
    if not can("reverse_documents", doc.account, user=_user()):
        abort(403)
    body = _json_object()
    extra = set(body) - {"reason", "date"}
    if extra:
        raise Invalid(_("Not a field a client may set: %(name)s.", name=sorted(extra)[0]), sorted(extra)[0])
    reason = _text(body, "reason", required=True)
    on = _date(body["date"]) if body.get("date") is not None else date.today()
    begin_write()
    doc = db.session.get(Document, doc.id)
    try:
        reversal = ledger.reverse_document(doc, reason=reason, on=on, by=_user())
    except ledger.LedgerError as err:
        db.session.rollback()
        return _ledger_error(err)
    db.session.commit()
    return jsonify(document_json(db.session.get(Document, reversal.id))), 201


@bp.post("/periods/<period>/close")
def close_period(period):
    if not can("close_periods", user=_user()):
        abort(403)
    try:
        month = Month.parse(period)
    except ValueError:
        raise Invalid(_("period is a month: YYYY-MM."), "period") from None
    begin_write()
    try:
        ledger.close_period(month, by=_user(), today=date.today())
    except ledger.LedgerError as err:
        db.session.rollback()
        return _ledger_error(err)
    db.session.commit()
    return jsonify({"period": str(month), "status": "closed"})


# The reconciliation (对账), expense claim (报销), ten-day plan (旬计划), meeting (月度会议) and
# promotion (促销) endpoints live in their own modules on this blueprint; importing them here
# registers them whenever the blueprint is.
from . import expense_views, meeting_views, plan_views, promotion_views, reconciliation_views  # noqa: E402, F401
