"""JSON API for monthly reconciliation (对账): list and read statements, issue them, confirm or
dispute them, answer disputed lines. The same rules, in the same order, as the pages
(channel/reconciliation/views.py): load, check (404 for what the token's user may not see, 403 for
what they may not do), begin_write(), the service, one commit; a refusal rolls back and says why.
Disputes carry no attachments here: those are uploaded on the page."""
from flask import abort, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..auth.permissions import can, scope_accounts
from ..core import reconciliation as core
from ..core.money import to_api
from ..core.periods import Month
from ..extensions import db
from ..ledger.messages import ledger_message
from ..ledger.models import Document
from ..ledger.services import LedgerError
from ..masterdata.models import Account
from ..reconciliation import services
from ..reconciliation.messages import reconciliation_message
from ..reconciliation.models import DisputeItem, Reconciliation
from ..transactions import begin_write
from .views import Invalid, _amount, _date, _json_object, _only, _text, _user, _visible_account, bp

LIST_STATUSES = (*core.STATUSES, "overdue")
ISSUE_FIELDS = {"period", "accounts"}
CONFIRM_FIELDS = {"hash", "signed_by"}
DISPUTE_FIELDS = {"hash", "lines", "note", "signed_by"}
DISPUTE_LINE_FIELDS = {"document", "missing", "reason"}
MISSING_FIELDS = {"date", "amount", "ref"}
ANSWER_FIELDS = {"message", "reverse", "adjustment", "date"}
ADJUSTMENT_FIELDS = {"amount", "direction"}
# A refusal of an answer to a statement that moved under the client: 409 with the hash of now.
CONFLICTS = ("stale", "changed_since_issue")


# --- serialisation ------------------------------------------------------------------------------

def reconciliation_json(rec, today):
    body = {
        "account": rec.account.code, "supplier": rec.supplier.code if rec.supplier else None,
        "period": rec.month, "status": core.display_status(rec.status, rec.due_on, today),
        "version": rec.version, "content_hash": rec.content_hash,
        "opening": to_api(rec.opening_fen), "closing": to_api(rec.closing_fen),
        "agreed": to_api(rec.agreed_fen),
        "issued_on": rec.issued_on.isoformat(), "due_on": rec.due_on.isoformat(),
        "url": url_for("api.show_reconciliation", code=rec.account.code, period=rec.month),
    }
    if rec.status == "confirmed":
        body["confirmed_at"] = rec.confirmed_at.isoformat()
        # Who signed: the dealer's representative recorded by its supplier, else the login.
        body["confirmed_by"] = rec.confirmed_by_name or (rec.confirmed_by.full_name if rec.confirmed_by else None)
        body["confirmed_hash"] = rec.confirmed_hash
    return body


def dispute_json(item):
    missing = None
    if item.document_id is None:
        missing = {"date": item.missing_date.isoformat() if item.missing_date else None,
                   "amount": to_api(item.missing_amount_fen) if item.missing_amount_fen is not None else None,
                   "ref": item.missing_ref}
    return {
        "id": item.id, "version": item.version,
        "document": item.document.number if item.document is not None else None, "missing": missing,
        "reason": item.reason, "status": item.status, "raised_at": item.raised_at.isoformat(),
        "answer": item.answer, "answered_at": item.answered_at.isoformat() if item.answered_at else None,
        "corrections": [c.document.number for c in item.corrections],
    }


def _debit_credit(signed_fen):
    return {"debit": to_api(max(signed_fen, 0)), "credit": to_api(max(-signed_fen, 0))}


def reconciliation_detail_json(rec, today):
    now = services.content(rec.account, Month.parse(rec.month), rec)
    body = reconciliation_json(rec, today)
    # The lines are the ledger now; when it moved after the issue (a reopened month), the
    # statement must be re-issued before it can be answered.
    body["changed_since_issue"] = rec.status == "issued" and now.hash != rec.content_hash
    body["lines"] = [{"date": ln.on.isoformat(), "number": ln.number, "kind": ln.kind,
                      "debit": to_api(ln.debit_fen), "credit": to_api(ln.credit_fen),
                      "balance": to_api(ln.balance_fen)} for ln in now.statement.lines]
    body["corrections"] = [{"date": c.on.isoformat(), "number": c.number, "kind": c.kind, **_debit_credit(c.amount_fen)}
                           for c in sorted(now.corrections)]
    body["disputes"] = [dispute_json(item) for item in rec.items]
    return body


# --- input and loading --------------------------------------------------------------------------

def _text_in(obj, name, where, **kw):
    """_text for a field of a nested object, the error naming it by its path."""
    try:
        return _text(obj, name, **kw)
    except Invalid as err:
        raise Invalid(err.message, where + (err.field or name), err.status) from None


def _month(value, field="period"):
    try:
        return Month.parse(value)
    except ValueError:
        raise Invalid(_("period is a month: YYYY-MM."), field) from None


def _load(code, period) -> Reconciliation:
    """The reconciliation named by the path; 404 when there is none or the user may not see it."""
    try:
        month = Month.parse(period)
    except ValueError:
        abort(404)
    account = db.session.execute(select(Account).where(Account.code == code)).scalar_one_or_none()
    if account is None or not can("view_account", account, user=_user()):
        abort(404)
    rec = services.find(account, month)
    if rec is None or not can("view_reconciliation", rec, user=_user()):
        abort(404)
    return rec


def _refused(err, fields=None):
    """A refused action as a 422 naming the input it concerns (`fields` maps the service's field
    names to the request's)."""
    message = ledger_message(err) if isinstance(err, LedgerError) else reconciliation_message(err)
    field = (fields or {}).get(err.field, err.field) if err.field else None
    return Invalid(message, field)


def _conflict(err, rec_id):
    """The statement moved under the client: say so, with the hash of what it says now."""
    rec = db.session.get(Reconciliation, rec_id)
    now = services.content(rec.account, Month.parse(rec.month), rec)
    return jsonify({"message": reconciliation_message(err), "field": "hash", "current_hash": now.hash}), 409


# --- endpoints ----------------------------------------------------------------------------------

@bp.get("/reconciliations")
def list_reconciliations():
    if not can("view_reconciliations", user=_user()):
        abort(403)
    today = services.business_today()
    stmt = scope_accounts(select(Reconciliation).join(Account, Reconciliation.account_id == Account.id), _user())
    if request.args.get("period") is not None:
        stmt = stmt.where(Reconciliation.month == str(_month(request.args["period"])))
    status = request.args.get("status")
    if status is not None:
        if status not in LIST_STATUSES:
            raise Invalid(_("status is one of: %(statuses)s.", statuses=", ".join(LIST_STATUSES)), "status")
        # As shown: an overdue statement is "overdue", not "issued".
        if status == "overdue":
            stmt = stmt.where(Reconciliation.status == "issued", Reconciliation.due_on < today)
        elif status == "issued":
            stmt = stmt.where(Reconciliation.status == "issued", Reconciliation.due_on >= today)
        else:
            stmt = stmt.where(Reconciliation.status == status)
    if request.args.get("account") is not None:
        stmt = stmt.where(Reconciliation.account_id == _visible_account(request.args["account"]).id)
    stmt = stmt.options(joinedload(Reconciliation.account), joinedload(Reconciliation.supplier),
                        joinedload(Reconciliation.confirmed_by)).order_by(Reconciliation.month.desc(), Account.code)
    return jsonify({"reconciliations": [reconciliation_json(rec, today)
                                        for rec in db.session.execute(stmt).scalars()]})


@bp.get("/reconciliations/<code>/<period>")
def show_reconciliation(code, period):
    rec = _load(code, period)
    return jsonify(reconciliation_detail_json(rec, services.business_today()))


@bp.post("/reconciliations/issue")
def issue_statements():
    user = _user()
    if not can("issue_statements", user=user):
        abort(403)
    body = _json_object()
    _only(body, ISSUE_FIELDS)
    month = _month(body.get("period"))
    named = None
    if body.get("accounts") is not None:
        raw = body["accounts"]
        if not isinstance(raw, list) or not raw or len(raw) > 5000:
            raise Invalid(_("accounts is a list of account codes (leave it out for all)."), "accounts")
        named = []
        for n, code in enumerate(raw):
            field = f"accounts[{n}]"
            if not isinstance(code, str):
                raise Invalid(_("Give the account's code."), field)
            account = db.session.execute(select(Account).where(Account.code == code)).scalar_one_or_none()
            if account is None or not can("view_account", account, user=user):
                raise Invalid(_("Unknown account %(code)s.", code=code[:40]), field, status=404)
            if not can("issue_statements", account, user=user):
                raise Invalid(_("You do not issue the statements of %(code)s.", code=account.code), field, status=403)
            if account not in named:
                named.append(account)
    begin_write()
    if named is None:
        # Finance issues the company's accounts; a distributor its own dealers.
        accounts = services.issuable_accounts(month, user.account if user.role == "distributor" else None)
    else:
        accounts = [db.session.get(Account, a.id) for a in named]
    try:
        result = services.issue(accounts, month, by=user)
    except services.ReconciliationError as err:
        db.session.rollback()
        raise _refused(err, {"month": "period"}) from None
    codes = {a.id: a.code for a in accounts}
    out = {name: [codes[rec.account_id] for rec in getattr(result, name)]
           for name in ("issued", "reissued", "unchanged", "confirmed")}
    db.session.commit()
    return jsonify(out)


@bp.post("/reconciliations/<code>/<period>/confirm")
def confirm_statement(code, period):
    rec = _load(code, period)
    if not can("answer_statement", rec, user=_user()):
        abort(403)
    body = _json_object()
    _only(body, CONFIRM_FIELDS)
    shown = _text(body, "hash", required=True, max_length=64)
    signed_by = _text(body, "signed_by", max_length=100)
    begin_write()
    rec = db.session.get(Reconciliation, rec.id)
    try:
        services.confirm(rec, shown_hash=shown, by=_user(), ip=request.remote_addr, signed_by=signed_by)
    except services.ReconciliationError as err:
        db.session.rollback()
        if err.code in CONFLICTS:
            return _conflict(err, rec.id)
        raise _refused(err) from None
    db.session.commit()  # services.confirm queued the settlement PDF that prints the confirmation
    return jsonify(reconciliation_json(db.session.get(Reconciliation, rec.id), services.business_today()))


def _dispute_lines(raw, account_id):
    if not isinstance(raw, list) or not raw or len(raw) > 500:
        raise Invalid(_("lines is a list of disputed lines: a document of the statement or a missing one, "
                        "each with a reason."), "lines")
    inputs = []
    for n, line in enumerate(raw):
        where = f"lines[{n}]"
        if not isinstance(line, dict):
            raise Invalid(_("lines is a list of disputed lines: a document of the statement or a missing one, "
                            "each with a reason."), where)
        _only(line, DISPUTE_LINE_FIELDS, where + ".")
        reason = _text_in(line, "reason", where + ".", required=True, max_length=1000)
        if not reason:
            raise Invalid(reconciliation_message(services.ReconciliationError("dispute_reason_required")),
                          where + ".reason")
        if (line.get("document") is None) == (line.get("missing") is None):
            raise Invalid(_("Give either document (a number on the statement) or missing."), where)
        if line.get("document") is not None:
            number = line["document"]
            document = db.session.execute(select(Document).where(
                Document.number == number, Document.account_id == account_id)).scalar_one_or_none() \
                if isinstance(number, str) else None
            if document is None:
                # Only the account's own documents are looked up: another's is as unknown as none.
                raise Invalid(reconciliation_message(services.ReconciliationError(
                    "not_on_statement", number=str(number)[:40])), where + ".document")
            inputs.append(services.DisputeInput(reason=reason, document=document))
            continue
        missing = line["missing"]
        if not isinstance(missing, dict):
            raise Invalid(_("missing is an object: date, amount, ref (each optional)."), where + ".missing")
        _only(missing, MISSING_FIELDS, where + ".missing.")
        inputs.append(services.DisputeInput(
            reason=reason,
            missing_date=_date(missing["date"], where + ".missing.date") if missing.get("date") is not None else None,
            missing_amount_fen=_amount(missing["amount"], where + ".missing.amount")
            if missing.get("amount") is not None else None,
            missing_ref=_text_in(missing, "ref", where + ".missing.", max_length=64)))
    return inputs


def _line_field(err, inputs):
    """The input a line-level refusal concerns (the last line naming its document)."""
    number = err.info.get("number")
    if err.code == "dispute_reason_required":
        return f"lines[{err.info['line'] - 1}].reason"
    for n in range(len(inputs) - 1, -1, -1):
        if number and inputs[n].document is not None and inputs[n].document.number == number:
            return f"lines[{n}].document"
    return "lines"


@bp.post("/reconciliations/<code>/<period>/dispute")
def dispute_statement(code, period):
    rec = _load(code, period)
    if not can("answer_statement", rec, user=_user()):
        abort(403)
    body = _json_object()
    _only(body, DISPUTE_FIELDS)
    shown = _text(body, "hash", required=True, max_length=64)
    note = _text(body, "note", max_length=2000)
    signed_by = _text(body, "signed_by", max_length=100)
    inputs = _dispute_lines(body.get("lines"), rec.account_id)
    begin_write()
    rec = db.session.get(Reconciliation, rec.id)
    try:
        items = services.dispute(rec, shown_hash=shown, lines=inputs, by=_user(), ip=request.remote_addr,
                                 signed_by=signed_by, note=note)
    except services.ReconciliationError as err:
        db.session.rollback()
        if err.code in CONFLICTS:
            return _conflict(err, rec.id)
        if err.code in ("not_on_statement", "disputed_twice", "dispute_reason_required"):
            raise Invalid(reconciliation_message(err), _line_field(err, inputs)) from None
        raise _refused(err) from None
    ids = [item.id for item in items]
    db.session.commit()
    return jsonify({
        "reconciliation": reconciliation_json(db.session.get(Reconciliation, rec.id), services.business_today()),
        "disputes": [dispute_json(db.session.get(DisputeItem, i)) for i in ids],
    }), 201


def _adjustment(raw):
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise Invalid(_("adjustment is an object: amount and direction."), "adjustment")
    _only(raw, ADJUSTMENT_FIELDS, "adjustment.")
    amount = _amount(raw.get("amount"), "adjustment.amount")
    if raw.get("direction") not in ("debit", "credit"):
        raise Invalid(_("Choose debit or credit."), "adjustment.direction")
    return services.Adjustment(amount, raw["direction"])


@bp.post("/disputes/<int:dispute_id>/answer")
def answer_dispute(dispute_id):
    item = db.session.get(DisputeItem, dispute_id)
    if item is None or not can("view_reconciliation", item.reconciliation, user=_user()):
        abort(404)
    rec = item.reconciliation
    if not can("answer_dispute", rec, user=_user()):
        abort(403)
    body = _json_object()
    _only(body, ANSWER_FIELDS)
    # Explaining is the answerer's; correcting through the ledger needs its keeper.
    if (body.get("reverse") is True or body.get("adjustment") is not None) and not can(
            "correct_dispute", rec, user=_user()):
        abort(403)
    message = _text(body, "message", required=True, max_length=2000)
    if not message:
        raise Invalid(reconciliation_message(services.ReconciliationError("answer_required")), "message")
    reverse = body.get("reverse", False)
    if not isinstance(reverse, bool):
        raise Invalid(_("Must be true or false."), "reverse")
    adjustment = _adjustment(body.get("adjustment"))
    on = _date(body["date"]) if body.get("date") is not None else services.business_today()
    begin_write()
    item = db.session.get(DisputeItem, item.id)
    try:
        services.answer(item, message=message, by=_user(), reverse=reverse, adjustment=adjustment, on=on)
    except services.ReconciliationError as err:
        db.session.rollback()
        raise _refused(err) from None
    except LedgerError as err:
        db.session.rollback()
        raise _refused(err, {"amount": "adjustment.amount", "direction": "adjustment.direction",
                             "reason": "message"}) from None
    rec_id = item.reconciliation_id
    db.session.commit()
    return jsonify({"dispute": dispute_json(db.session.get(DisputeItem, dispute_id)),
                    "reconciliation": reconciliation_json(db.session.get(Reconciliation, rec_id),
                                                          services.business_today())})
