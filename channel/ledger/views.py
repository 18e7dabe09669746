"""The ledger's pages: an account's ledger and monthly statement, documents (post, show, reverse),
month close, and receivables ageing (账龄).

Every view loads, then checks (404 for what the user may not see, 403 for what they may see but
not do), then acts. A request that posts money calls begin_write() after its checks and before
the services, and commits once at the end (rolls back on a refused posting).
"""
import math
from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..auth.models import User
from ..auth.permissions import can, region_tree_ids, require, scope_accounts, scope_regions
from ..core import ledger as core
from ..core.money import fen_to_decimal
from ..core.periods import Month
from ..exports import export_response
from ..extensions import db
from ..i18n import label
from ..masterdata.models import Account, Product, Region, in_tree_order
from ..transactions import begin_write
from . import services
from .forms import FIRST_DAY, FORMS, LAST_DAY, ReopenForm, ReverseForm
from .messages import ledger_message
from .models import DOCUMENT_KINDS, Document, DocumentLine, LedgerEntry, Period

bp = Blueprint("ledger", __name__)

PER_PAGE = 50
PERIODS_SHOWN = 18


@bp.before_request
@login_required
def _login_first():
    pass


def business_today() -> date:
    """Today in the company's time zone (China), not the server's UTC date."""
    return datetime.now(get_timezone()).date()


# --- messages: every LedgerError code has its text in .messages (shared with the API) ---------

ROW_FIELDS = {"quantity_positive": "quantity", "quantity_too_large": "quantity",
              "price_not_negative": "unit_price"}


def _show_error(form, err, rows=()):
    """Put the message on the field it concerns, or above the form."""
    message = ledger_message(err)
    field = None
    line = err.info.get("line")
    if err.field == "lines" and isinstance(line, int) and 0 < line <= len(rows):
        field = getattr(rows[line - 1], ROW_FIELDS.get(err.code, "product_id"))
    elif err.field not in (None, "lines", "account", "kind", "month"):
        field = getattr(form, err.field, None)
    if field is not None:
        field.errors = list(field.errors) + [message]
    else:
        form.form_errors.append(message)


# --- small helpers -------------------------------------------------------------------------------

class ListPage:
    """A page of an already computed list, shaped like Flask-SQLAlchemy's for the macro."""

    def __init__(self, items, page, per_page):
        self.total = len(items)
        self.pages = max(1, math.ceil(self.total / per_page))
        self.page = min(max(page, 1), self.pages)
        self.items = items[(self.page - 1) * per_page:self.page * per_page]
        self.has_prev, self.prev_num = self.page > 1, self.page - 1
        self.has_next, self.next_num = self.page < self.pages, self.page + 1


def _date_arg(name):
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        abort(400)
    if not FIRST_DAY <= value <= LAST_DAY:
        abort(400)
    return value


def _month_arg(name, default):
    text = request.args.get(name, "").strip()
    if not text:
        return default
    try:
        return Month.parse(text)
    except ValueError:
        abort(400)


def _month_or_404(text):
    try:
        return Month.parse(text)
    except ValueError:
        abort(404)


def _load_document(number):
    if len(number) > 32:  # the column's width: no such document
        abort(404)
    document = db.session.execute(
        select(Document).where(Document.number == number)
        .options(selectinload(Document.lines).joinedload(DocumentLine.product),
                 joinedload(Document.account), joinedload(Document.created_by))
    ).scalar_one_or_none()
    if document is None:
        abort(404)
    return document


def _numbers(ids):
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Document.id, Document.number).where(Document.id.in_(ids))).all())


def _reversed_by(ids):
    """{document id: the number of the document reversing it}."""
    if not ids:
        return {}
    return dict(db.session.execute(
        select(Document.reversal_of_id, Document.number).where(Document.reversal_of_id.in_(ids))
    ).all())


def describe(document, reversal_of_number=None):
    """The description column as plain text (exports); the page shows the same with links."""
    parts = []
    if document.reversal_of_id is not None:
        parts.append(_("Reversal of %(number)s", number=reversal_of_number or ""))
    if document.payment_method:
        parts.append(str(label(document.payment_method, "payment_method")))
    if document.bank_ref:
        parts.append(document.bank_ref)
    for text in (document.reason, document.memo):
        if text:
            parts.append(text)
    return " · ".join(parts)


def _yuan(fen):
    return fen_to_decimal(fen) if fen else None


def _account_figures(account):
    balance = services.current_balance(account)
    return {"balance": balance, "limit": account.credit_limit_fen,
            "available": max(0, account.credit_limit_fen - balance)}


def _postable_kinds(account):
    return DOCUMENT_KINDS if can("post_documents", account) else ()


# --- the account's ledger ------------------------------------------------------------------------

def _ledger_range():
    """The month (default: this one), or a date range that overrides it."""
    month = _month_arg("month", Month.of(business_today()))
    start, end = _date_arg("start"), _date_arg("end")
    if start is None and end is None:
        return month, month.first_day, month.last_day
    start = start or Month.of(end).first_day
    end = end or Month.of(start).last_day
    if start > end:
        start, end = end, start
    return None, start, end


LEDGER_COLUMNS = [
    (_l("Date"), lambda r: r["on"]),
    (_l("Number"), lambda r: r["number"]),
    (_l("Kind"), lambda r: str(label(r["kind"], "document_kind")) if r["kind"] else ""),
    (_l("Description"), lambda r: r["description"]),
    (_l("Debit (¥)"), lambda r: _yuan(r["debit"])),
    (_l("Credit (¥)"), lambda r: _yuan(r["credit"])),
    (_l("Balance (¥)"), lambda r: fen_to_decimal(r["balance"])),
]


def _edge_row(on, text, balance):
    return {"on": on, "number": "", "kind": "", "description": text, "debit": 0, "credit": 0,
            "balance": balance}


@bp.route("/accounts/<int:account_id>/ledger")
def show_ledger(account_id):
    account = db.get_or_404(Account, account_id)
    require("view_ledger", account)
    month, start, end = _ledger_range()
    kind = request.args.get("kind") if request.args.get("kind") in DOCUMENT_KINDS else ""
    opening = services.balance_at(account, start - timedelta(days=1))
    pairs = services.entries_between(account, start, end)
    numbers = _numbers(d.reversal_of_id for _e, d in pairs)
    reversed_by = _reversed_by([d.id for _e, d in pairs])
    entries = [core.Entry(on=e.entry_date, number=d.number, kind=d.kind, amount_fen=e.amount_fen, seq=e.id)
               for e, d in pairs]
    rows = []
    for (entry, document), (_core, balance) in zip(pairs, core.running(entries, opening), strict=True):
        if kind and document.kind != kind:
            continue
        rows.append({
            "on": entry.entry_date, "number": document.number, "kind": document.kind,
            "document": document, "description": describe(document, numbers.get(document.reversal_of_id)),
            "reversal_of": numbers.get(document.reversal_of_id), "reversed_by": reversed_by.get(document.id),
            "debit": max(entry.amount_fen, 0), "credit": max(-entry.amount_fen, 0), "balance": balance,
        })
    closing = opening + sum(e.amount_fen for e, _d in pairs)
    fmt = request.args.get("format")
    if fmt:
        out = ([_edge_row(start, _("Opening balance"), opening)] + rows
               + [_edge_row(end, _("Closing balance"), closing)])
        return export_response(fmt, f"ledger-{account.code}-{start.isoformat()}-{end.isoformat()}",
                               LEDGER_COLUMNS, out, sheet_title=account.code)
    page = ListPage(rows, request.args.get("page", 1, type=int), PER_PAGE)
    return render_template(
        "ledger/ledger.html", account=account, figures=_account_figures(account), page=page,
        month=month, start=start, end=end, kind=kind, kinds=DOCUMENT_KINDS, opening=opening,
        closing=closing, debit_total=sum(r["debit"] for r in rows),
        credit_total=sum(r["credit"] for r in rows), postable=_postable_kinds(account),
        shown_month=month or Month.of(start),
    )


# --- the monthly statement -----------------------------------------------------------------------

@bp.route("/accounts/<int:account_id>/statement")
def show_statement(account_id):
    account = db.get_or_404(Account, account_id)
    require("view_ledger", account)
    month = _month_arg("period", Month.of(business_today()))
    statement = services.statement(account, month)
    details = _statement_details(statement)
    fmt = request.args.get("format")
    if fmt:
        lines = [{"on": ln.on, "number": ln.number, "kind": ln.kind, "description": details[ln.number],
                  "debit": ln.debit_fen, "credit": ln.credit_fen, "balance": ln.balance_fen}
                 for ln in statement.lines]
        total = _edge_row(month.last_day, _("Total"), statement.closing_fen)
        total.update(debit=statement.debit_total_fen, credit=statement.credit_total_fen)
        out = ([_edge_row(month.first_day, _("Opening balance"), statement.opening_fen)] + lines
               + [total, _edge_row(month.last_day, _("Closing balance"), statement.closing_fen)])
        return export_response(fmt, f"statement-{account.code}-{month}", LEDGER_COLUMNS, out,
                               sheet_title=f"{account.code} {month}")
    return render_template("ledger/statement.html", account=account, statement=statement, month=month,
                           closed=services.is_closed(month), kinds=core.KINDS, details=details)


def _statement_details(statement):
    """{number: description}: the ledger's wording (payment method, bank reference, reason, memo)
    rather than the memo alone, so that the account can match every line with its own books."""
    numbers = [ln.number for ln in statement.lines]
    if not numbers:
        return {}
    docs = db.session.execute(select(Document).where(Document.number.in_(numbers))).scalars().all()
    originals = _numbers(d.reversal_of_id for d in docs)
    return {d.number: describe(d, originals.get(d.reversal_of_id)) for d in docs}


# --- documents -----------------------------------------------------------------------------------

def _products(kind):
    stmt = select(Product).order_by(Product.active.desc(), Product.code)
    if kind == "shipment":
        stmt = stmt.where(Product.active.is_(True))  # returns may bring back discontinued goods
    return db.session.execute(stmt).scalars().all()


def _document_values(form, kind):
    values = {"external_ref": form.external_ref.data, "memo": form.memo.data}
    if form.has_lines:
        values["lines"] = [services.LineInput(row.product, row.quantity_value, row.price_fen)
                           for row in form.filled_rows()]
    else:
        values["amount_fen"] = form.amount.fen
    if kind == "payment":
        values.update(payment_method=form.payment_method.data, bank_ref=form.bank_ref.data)
    if kind in ("adjustment", "opening"):
        values["direction"] = form.direction.data
    if kind == "adjustment":
        values["reason"] = form.reason.data
    return values


@bp.route("/accounts/<int:account_id>/documents/new/<kind>", methods=["GET", "POST"])
def new_document(account_id, kind):
    account = db.get_or_404(Account, account_id)
    require("view_ledger", account)
    if kind not in FORMS:
        abort(404)
    if not can("post_documents", account):
        abort(403)  # the ledger is visible to this user, posting to it is not theirs
    form_class = FORMS[kind]
    form = form_class(products=_products(kind)) if form_class.has_lines else form_class()
    may_override = kind == "shipment" and can("override_credit", account)
    if request.method == "GET":
        form.date.data = business_today()
        if kind == "payment":
            form.payment_method.data = "bank_transfer"
    status = 422 if request.method == "POST" else 200
    refused = None
    if form.validate_on_submit():
        values = _document_values(form, kind)
        override = form.override_reason.data if may_override else None
        begin_write()
        try:
            result = services.post_document(kind=kind, account=account, on=form.date.data,
                                            by=current_user, override_reason=override, **values)
        except services.LedgerError as err:
            db.session.rollback()
            _show_error(form, err, form.filled_rows() if form.has_lines else ())
            refused = err.code
        else:
            db.session.commit()
            document = result.document
            if result.created:
                flash(_("Posted %(number)s", number=document.number), "success")
            else:
                flash(_("This external reference was posted before as %(number)s: nothing new was posted.",
                        number=document.number), "info")
            return redirect(url_for(".show_document", number=document.number))
    show_override = may_override and (refused == "credit_limit" or bool(form.override_reason.data))
    return render_template("ledger/document_form.html", form=form, account=account, kind=kind,
                           figures=_account_figures(account), show_override=show_override,
                           credit_refused=refused == "credit_limit"), status


def _document_page(document, form, status=200):
    account = document.account
    reversal = document.reversed_by
    can_reverse = (can("reverse_documents", account) and reversal is None
                   and document.reversal_of_id is None)
    return render_template("ledger/document.html", document=document, account=account,
                           reversal=reversal, original=document.reversal_of, form=form,
                           can_reverse=can_reverse, entry=document.entry), status


@bp.route("/documents/<number>")
def show_document(number):
    document = _load_document(number)
    require("view_ledger", document.account)
    form = ReverseForm(formdata=None)
    form.date.data = business_today()
    return _document_page(document, form)


@bp.route("/documents/<number>/reverse", methods=["POST"])
def reverse_document(number):
    document = _load_document(number)
    require("view_ledger", document.account)
    if not can("reverse_documents", document.account):
        abort(403)
    form = ReverseForm()
    if not form.validate_on_submit():
        return _document_page(document, form, 422)
    begin_write()
    try:
        reversal = services.reverse_document(document, reason=form.reason.data, on=form.date.data,
                                             by=current_user)
    except services.LedgerError as err:
        db.session.rollback()
        _show_error(form, err)
        return _document_page(_load_document(number), form, 422)
    db.session.commit()
    flash(_("Posted %(reversal)s, reversing %(number)s", reversal=reversal.number, number=number), "success")
    return redirect(url_for(".show_document", number=reversal.number))


# --- month close ---------------------------------------------------------------------------------

def _next_to_close(latest, today):
    """The oldest open month that has ended: the one after the latest closed month, or the month
    of the first entry when nothing is closed yet (the previous month when there is none)."""
    if latest is not None:
        candidate = latest.next()
    else:
        first = db.session.execute(select(LedgerEntry.entry_date).order_by(LedgerEntry.entry_date).limit(1)).scalar()
        candidate = Month.of(first) if first is not None else Month.of(today).prev()
    return candidate if candidate.last_day < today else None


def _periods_page(reopen_form, error=None, status=200):
    today = business_today()
    current = Month.of(today)
    latest = services.last_closed_month()
    to_close = _next_to_close(latest, today)
    first = current - (PERIODS_SHOWN - 1)
    if to_close is not None and to_close < first:
        first = to_close
    months = list(Month.range(first, current))[::-1]
    rows = {p.month: p for p in db.session.execute(
        select(Period).where(Period.month.in_([str(m) for m in months]))).scalars()}
    user_ids = {uid for p in rows.values() for uid in (p.closed_by_id, p.reopened_by_id) if uid}
    users = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(user_ids))).scalars()} if user_ids else {}
    periods = []
    for m in months:
        row = rows.get(str(m))
        status_ = row.status if row is not None else "open"
        periods.append({
            "month": m, "row": row, "status": status_,
            # open, but before a closed month: nothing can be posted into it either
            "locked": status_ == "open" and latest is not None and m < latest,
            "closed_by": users.get(row.closed_by_id) if row else None,
            "reopened_by": users.get(row.reopened_by_id) if row else None,
        })
    return render_template("ledger/periods.html", periods=periods, to_close=to_close, latest=latest,
                           reopen_form=reopen_form, error=error, today=today), status


@bp.route("/periods")
def list_periods():
    require("close_periods")
    return _periods_page(ReopenForm(formdata=None))


@bp.route("/periods/<month>/close", methods=["POST"])
def close_period(month):
    require("close_periods")
    month = _month_or_404(month)
    begin_write()
    try:
        services.close_period(month, by=current_user, today=business_today())
    except services.LedgerError as err:
        db.session.rollback()
        return _periods_page(ReopenForm(formdata=None), error=ledger_message(err), status=422)
    db.session.commit()
    flash(_("%(month)s closed.", month=str(month)), "success")
    return redirect(url_for(".list_periods"))


@bp.route("/periods/<month>/reopen", methods=["POST"])
def reopen_period(month):
    require("reopen_periods")
    month = _month_or_404(month)
    form = ReopenForm()
    if not form.validate_on_submit():
        return _periods_page(form, status=422)
    begin_write()
    try:
        services.reopen_period(month, reason=form.reason.data, by=current_user)
    except services.LedgerError as err:
        db.session.rollback()
        _show_error(form, err)
        return _periods_page(form, status=422)
    db.session.commit()
    flash(_("%(month)s reopened.", month=str(month)), "success")
    return redirect(url_for(".list_periods"))


# --- ageing --------------------------------------------------------------------------------------

BUCKETS = core.DEFAULT_BUCKETS


def _bucket_headers():
    return [_("%(range)s days", range=text) for text in core.age([], business_today(), BUCKETS).labels]


def _ageing_columns():
    headers = _bucket_headers()
    cols = [(_l("Region"), lambda r: r["region"]), (_l("Code"), lambda r: r["code"]),
            (_l("Name"), lambda r: r["name"])]
    cols += [(f"{h} (¥)", lambda r, i=i: fen_to_decimal(r["buckets"][i])) for i, h in enumerate(headers)]
    cols += [(_l("Total (¥)"), lambda r: fen_to_decimal(r["total"])),
             (_l("Overdue (¥)"), lambda r: fen_to_decimal(r["overdue"])),
             (_l("Prepaid (¥)"), lambda r: fen_to_decimal(r["prepaid"])),
             (_l("Payment terms (days)"), lambda r: r["terms"])]
    return cols


def _sum_rows(rows, **extra):
    width = len(BUCKETS) + 1
    out = {"buckets": [sum(r["buckets"][i] for r in rows) for i in range(width)],
           "total": sum(r["total"] for r in rows), "overdue": sum(r["overdue"] for r in rows),
           "prepaid": sum(r["prepaid"] for r in rows), "code": "", "name": "", "terms": None,
           "account": None}
    out.update(extra)
    return out


@bp.route("/ageing")
def show_ageing():
    require("view_ageing")
    as_of = _date_arg("as_of") or business_today()
    regions = in_tree_order(db.session.execute(scope_regions(select(Region), current_user)).scalars())
    region_id = request.args.get("region", type=int)
    stmt = (scope_accounts(select(Account), current_user)
            .options(joinedload(Account.region).joinedload(Region.parent))
            .where(Account.id.in_(select(LedgerEntry.account_id).where(LedgerEntry.entry_date <= as_of))))
    if region_id:
        stmt = stmt.where(Account.region_id.in_(region_tree_ids([region_id])))
    accounts = db.session.execute(stmt).scalars().all()
    accounts.sort(key=lambda a: (a.region.tree_key, a.code))
    rows = []
    for account in accounts:
        ageing = services.ageing(account, as_of)  # the default buckets: 0-30, 31-60, 61-90, >90
        if not ageing.total_fen and not ageing.unapplied_credit_fen:
            continue
        rows.append({"account": account, "region": account.region.path, "code": account.code,
                     "name": account.name, "buckets": list(ageing.buckets_fen), "total": ageing.total_fen,
                     "overdue": services.overdue(account, as_of), "prepaid": ageing.unapplied_credit_fen,
                     "terms": account.payment_terms_days})
    groups = []
    for row in rows:
        if not groups or groups[-1]["region"] != row["region"]:
            groups.append({"region": row["region"], "rows": []})
        groups[-1]["rows"].append(row)
    for group in groups:
        group["total"] = _sum_rows(group["rows"], region=group["region"])
    total = _sum_rows(rows, region="")
    fmt = request.args.get("format")
    if fmt:
        out = rows + [_sum_rows(g["rows"], region=g["region"], name=_("Total")) for g in groups]
        out.append(_sum_rows(rows, region=_("All regions"), name=_("Total")))
        return export_response(fmt, f"ageing-{as_of.isoformat()}", _ageing_columns(), out,
                               sheet_title=f"ageing {as_of.isoformat()}")
    return render_template("ledger/ageing.html", groups=groups, total=total, as_of=as_of,
                           regions=regions, region_id=region_id, headers=_bucket_headers())
