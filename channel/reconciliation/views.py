"""Reconciliation pages: statements to confirm or dispute (the distributor portal), the dispute
inbox and the board (supervisors, finance), issuing statements, holds, settings, and passing
policy payouts on to dealers.

Views load, check (404 for what the user may not see, 403 for what they may not do), act, and
commit once; a refused action changes nothing and says why in the user's language.
"""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from ..auth.permissions import can, region_tree_ids, require, scope_accounts, scope_regions
from ..core import reconciliation as core
from ..core.periods import Month
from ..extensions import db
from ..files import services as files
from ..ledger import views as ledger_views
from ..ledger.messages import ledger_message
from ..ledger.models import Document, Period
from ..ledger.services import LedgerError
from ..masterdata.models import Account, Region, in_tree_order
from ..transactions import begin_write
from . import services
from .forms import (
    AnswerForm,
    ConfirmForm,
    DisputeForm,
    IssueForm,
    PassOnForm,
    ReleaseForm,
    SettingsForm,
)
from .messages import reconciliation_message
from .models import DisputeItem, Reconciliation

bp = Blueprint("reconciliation", __name__, url_prefix="/reconciliation")

PER_PAGE = 50
MONTHS_OFFERED = 24
FILTER_STATUSES = ("issued", "disputed", "confirmed", "overdue")


@bp.before_request
@login_required
def _login_first():
    pass


def _closed_months() -> list[Month]:
    return [Month.parse(m) for m in db.session.execute(
        select(Period.month).where(Period.status == "closed").order_by(Period.month.desc())
        .limit(MONTHS_OFFERED)).scalars()]


def _month_arg(default=None):
    return ledger_views._month_arg("month", default)


def _rec_or_404(rec_id) -> Reconciliation:
    rec = db.session.execute(select(Reconciliation).options(joinedload(Reconciliation.account))
                             .where(Reconciliation.id == rec_id)).scalar_one_or_none()
    if rec is None:
        abort(404)
    require("view_reconciliation", rec)
    return rec


def _error(form, err):
    """A refused action's message on the field it concerns, or above the form."""
    message = ledger_message(err) if isinstance(err, LedgerError) else reconciliation_message(err)
    field = getattr(form, err.field, None) if err.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [message]
    else:
        form.form_errors.append(message)
    return message


# --- lists ----------------------------------------------------------------------------------

def _scoped_recs():
    stmt = select(Reconciliation).join(Account, Reconciliation.account_id == Account.id)
    return scope_accounts(stmt, current_user)


@bp.route("/")
def index():
    require("view_reconciliations")
    month = _month_arg()
    status = request.args.get("status", "")
    tier = request.args.get("tier", "")
    q = request.args.get("q", "").strip()[:100]
    stmt = _scoped_recs().options(joinedload(Reconciliation.account))
    if month is not None:
        stmt = stmt.where(Reconciliation.month == str(month))
    today = services.business_today()
    if status == "overdue":
        stmt = stmt.where(Reconciliation.status == "issued", Reconciliation.due_on < today)
    elif status in core.STATUSES:
        stmt = stmt.where(Reconciliation.status == status)
    if tier == "company":
        stmt = stmt.where(Reconciliation.supplier_id.is_(None))
    elif tier == "dealers":
        stmt = stmt.where(Reconciliation.supplier_id.is_not(None))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Account.code.ilike(like), Account.name.ilike(like)))
    stmt = stmt.order_by(Reconciliation.month.desc(), Account.code)
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    return render_template("reconciliation/list.html", page=page, month=month, status=status, tier=tier, q=q,
                           months=_closed_months(), statuses=FILTER_STATUSES, today=today)


# --- one statement --------------------------------------------------------------------------

def _statement_page(rec, *, confirm_form=None, answer_forms=None, release_form=None, status=200):
    month = Month.parse(rec.month)
    now = services.content(rec.account, month, rec)
    today = services.business_today()
    answerable = can("answer_statement", rec) and rec.status == "issued"
    changed = now.hash != rec.content_hash
    if confirm_form is None and answerable:
        confirm_form = ConfirmForm(formdata=None, content_hash=now.hash)
    can_answer = can("answer_dispute", rec)
    forms = dict(answer_forms or {})
    if can_answer:
        for item in rec.items:
            if item.status == "open" and item.id not in forms:
                forms[item.id] = AnswerForm(formdata=None, prefix=f"a{item.id}", date=today)
    settings = services.get_settings()
    overdue = core.is_overdue(rec.status, rec.due_on, today)
    release = services.released(rec) if overdue else None
    if release_form is None and overdue and settings.overdue_action == "hold" and release is None \
            and can("release_hold"):
        release_form = ReleaseForm(formdata=None)
    disputed = {item.document_id: item for item in rec.items if item.document_id and item.status == "open"}
    numbers = {ln.number for ln in now.statement.lines}
    documents = {d.number: d for d in db.session.execute(
        select(Document).where(Document.number.in_(numbers or {""}))).scalars()}
    return render_template(
        "reconciliation/show.html", rec=rec, content=now, changed=changed, today=today, overdue=overdue,
        display_status=core.display_status(rec.status, rec.due_on, today), confirm_form=confirm_form,
        answerable=answerable and not changed, recorded=rec.account.kind == "dealer" and current_user.account_id != rec.account_id,
        answer_forms=forms, can_correct=can("correct_dispute", rec), release_form=release_form,
        release=release, settings=settings, documents=documents, disputed=disputed,
        can_reissue=can("issue_statements", rec.account) and rec.status != "confirmed" and changed,
    ), status


@bp.route("/<int:rec_id>")
def show(rec_id):
    rec = _rec_or_404(rec_id)
    return _statement_page(rec)


@bp.route("/<int:rec_id>/confirm", methods=["POST"])
def confirm(rec_id):
    rec = _rec_or_404(rec_id)
    require("answer_statement", rec)
    form = ConfirmForm()
    if not form.validate():
        return _statement_page(rec, confirm_form=form, status=422)
    begin_write()
    try:
        services.confirm(rec, shown_hash=form.content_hash.data, by=current_user, ip=request.remote_addr,
                         signed_by=form.signed_by.data)
    except services.ReconciliationError as err:
        db.session.rollback()
        rec = _rec_or_404(rec_id)
        _error(form, err)
        return _statement_page(rec, confirm_form=form, status=409 if err.code == "stale" else 422)
    db.session.commit()
    flash(_("Statement %(month)s confirmed.", month=rec.month), "success")
    return redirect(url_for(".show", rec_id=rec.id))


def _blank_dispute_form(now):
    """One row per statement line, none disputed yet, carrying the hash of what is shown."""
    form = DisputeForm(formdata=None, content_hash=now.hash)
    for line in now.statement.lines:
        form.lines.append_entry({"number": line.number})
    return form


@bp.route("/<int:rec_id>/dispute", methods=["GET", "POST"])
def dispute(rec_id):
    rec = _rec_or_404(rec_id)
    require("answer_statement", rec)
    month = Month.parse(rec.month)
    now = services.content(rec.account, month, rec)
    if rec.status != "issued":
        flash(reconciliation_message(services.ReconciliationError(
            "already_confirmed" if rec.status == "confirmed" else "dispute_pending")), "error")
        return redirect(url_for(".show", rec_id=rec.id))
    if request.method == "GET":
        return _dispute_page(rec, now, _blank_dispute_form(now))
    form = DisputeForm()
    lines = {ln.number: ln for ln in now.statement.lines}
    if len(form.lines) > len(lines) or any(r.form.number.data not in lines for r in form.lines):
        abort(400)
    if not form.validate():
        return _dispute_page(rec, now, form, status=422)
    documents = {d.number: d for d in db.session.execute(
        select(Document).where(Document.number.in_(list(lines) or [""]))).scalars()}
    begin_write()
    inputs = []
    try:
        for row in form.lines:
            if row.form.reason.data:
                stored, name = _attachment(row.form.attachment)
                inputs.append(services.DisputeInput(reason=row.form.reason.data,
                                                    document=documents[row.form.number.data],
                                                    attachment=stored, attachment_name=name))
        for row in form.missing:
            if not row.form.is_blank():
                stored, name = _attachment(row.form.attachment)
                inputs.append(services.DisputeInput(
                    reason=row.form.reason.data, missing_date=row.form.date.data,
                    missing_amount_fen=row.form.amount.fen, missing_ref=row.form.ref.data,
                    attachment=stored, attachment_name=name))
        services.dispute(rec, shown_hash=form.content_hash.data, lines=inputs, by=current_user,
                         ip=request.remote_addr, signed_by=form.signed_by.data, note=form.note.data)
    except _Refused:
        db.session.rollback()
        return _dispute_page(_rec_or_404(rec_id), now, form, status=422)
    except services.ReconciliationError as err:
        db.session.rollback()
        _error(form, err)
        return _dispute_page(_rec_or_404(rec_id), now, form, status=409 if err.code == "stale" else 422)
    db.session.commit()
    flash(_("Your dispute of %(month)s was sent. You will be told when it is answered.", month=rec.month),
          "success")
    return redirect(url_for(".show", rec_id=rec.id))


class _Refused(Exception):
    pass


def _attachment(field):
    """The uploaded file stored (content checked), or (None, None); a refusal goes on the field."""
    upload = field.data
    if upload is None or not getattr(upload, "filename", ""):
        return None, None
    try:
        return files.store(upload), upload.filename[:200]
    except files.FileRefused as err:
        field.errors = list(field.errors) + [files.message(err)]
        raise _Refused from None


def _dispute_page(rec, now, form, status=200):
    rows = list(zip(now.statement.lines, form.lines, strict=False))
    return render_template("reconciliation/dispute.html", rec=rec, content=now, form=form, rows=rows,
                           recorded=rec.account.kind == "dealer" and current_user.account_id != rec.account_id), status


@bp.route("/items/<int:item_id>/answer", methods=["POST"])
def answer(item_id):
    item = db.get_or_404(DisputeItem, item_id)
    rec = _rec_or_404(item.reconciliation_id)
    require("answer_dispute", rec)
    form = AnswerForm(prefix=f"a{item.id}")
    correcting = form.reverse.data or form.amount.data
    if correcting and not can("correct_dispute", rec):
        abort(403)
    if not form.validate():
        return _statement_page(rec, answer_forms={item.id: form}, status=422)
    begin_write()
    adjustment = services.Adjustment(form.amount.fen, form.direction.data) if form.amount.fen else None
    try:
        services.answer(item, message=form.message.data, by=current_user, reverse=form.reverse.data,
                        adjustment=adjustment, on=form.date.data or services.business_today())
    except (services.ReconciliationError, LedgerError) as err:
        db.session.rollback()
        rec = _rec_or_404(item.reconciliation_id)
        _error(form, err)
        return _statement_page(rec, answer_forms={item.id: form}, status=422)
    db.session.commit()
    flash(_("Answer recorded."), "success")
    return redirect(url_for(".show", rec_id=rec.id) + f"#item-{item.id}")


@bp.route("/items/<int:item_id>/attachment")
def attachment(item_id):
    item = db.get_or_404(DisputeItem, item_id)
    _rec_or_404(item.reconciliation_id)
    if item.attachment_sha256 is None:
        abort(404)
    from ..files.models import StoredFile

    stored = db.session.get(StoredFile, item.attachment_sha256)
    # A PDF is downloaded: browsers refuse to show a sandboxed PDF inline (the sandbox keeps any
    # script in an uploaded file out of our origin); images are shown inline.
    return files.send(stored, item.attachment_name or "attachment", download=stored.mime == "application/pdf")


@bp.route("/<int:rec_id>/release", methods=["POST"])
def release(rec_id):
    rec = _rec_or_404(rec_id)
    require("release_hold")
    form = ReleaseForm()
    if not form.validate():
        return _statement_page(rec, release_form=form, status=422)
    begin_write()
    try:
        services.release_hold(rec, reason=form.reason.data, by=current_user)
    except services.ReconciliationError as err:
        db.session.rollback()
        _error(form, err)
        return _statement_page(_rec_or_404(rec_id), release_form=form, status=422)
    db.session.commit()
    flash(_("Shipments to %(account)s are released.", account=rec.account.code), "success")
    return redirect(url_for(".show", rec_id=rec.id))


@bp.route("/<int:rec_id>/reissue", methods=["POST"])
def reissue(rec_id):
    rec = _rec_or_404(rec_id)
    require("issue_statements", rec.account)
    from flask_wtf import FlaskForm

    if not FlaskForm().validate():
        abort(400)
    begin_write()
    try:
        services.issue([rec.account], Month.parse(rec.month), by=current_user)
    except services.ReconciliationError as err:
        db.session.rollback()
        flash(reconciliation_message(err), "error")
        return redirect(url_for(".show", rec_id=rec.id))
    db.session.commit()
    flash(_("Statement re-issued."), "success")
    return redirect(url_for(".show", rec_id=rec.id))


# --- issuing --------------------------------------------------------------------------------

def _issuable(user):
    """Who the user issues statements to: finance the company's accounts, a distributor its dealers."""
    if user.role == "distributor":
        stmt = select(Account).where(Account.supplier_id == user.account_id)
    else:
        stmt = select(Account).where(Account.supplier_id.is_(None))
    return list(db.session.execute(stmt.order_by(Account.code)).scalars())


@bp.route("/issue", methods=["GET", "POST"])
def issue():
    require("issue_statements")
    accounts = _issuable(current_user)
    months = _closed_months()
    all_label = _("All my dealers") if current_user.role == "distributor" else _("All the company's accounts")
    form = IssueForm(months, accounts, all_label=all_label)
    if request.method == "GET" or not form.validate():
        return render_template("reconciliation/issue.html", form=form, months=months), (
            200 if request.method == "GET" else 422)
    month = Month.parse(form.month.data)
    if form.account_id.data:
        chosen = [a for a in accounts if str(a.id) == form.account_id.data]
        if not chosen:
            abort(400)
    else:
        supplier = current_user.account if current_user.role == "distributor" else None
        chosen = services.issuable_accounts(month, supplier)
    for account in chosen:
        require("issue_statements", account)
    begin_write()
    try:
        result = services.issue(chosen, month, by=current_user)
    except services.ReconciliationError as err:
        db.session.rollback()
        _error(form, err)
        return render_template("reconciliation/issue.html", form=form, months=months), 422
    db.session.commit()
    flash(_("%(month)s: %(new)s issued, %(again)s re-issued, %(same)s unchanged, %(done)s already confirmed.",
            month=str(month), new=len(result.issued), again=len(result.reissued), same=len(result.unchanged),
            done=len(result.confirmed)), "success")
    return redirect(url_for(".index", month=str(month)))


# --- the board, the inbox, the dealers --------------------------------------------------------

@bp.route("/board")
def board():
    require("view_reconciliation_board")
    months = _closed_months()
    month = _month_arg(months[0] if months else Month.of(services.business_today()).prev())
    regions = in_tree_order(db.session.execute(scope_regions(select(Region), current_user)).scalars())
    region_id = request.args.get("region", type=int)
    stmt = scope_accounts(select(Account).where(Account.kind == "distributor"), current_user)
    if region_id:
        stmt = stmt.where(Account.region_id.in_(region_tree_ids([region_id])))
    distributors = list(db.session.execute(stmt.order_by(Account.code)).scalars())
    rows = services.board(month, distributors)
    direct = list(db.session.execute(
        _scoped_recs().options(joinedload(Reconciliation.account))
        .where(Reconciliation.month == str(month), Reconciliation.supplier_id.is_(None),
               Account.kind == "dealer").order_by(Account.code)).scalars())
    today = services.business_today()
    return render_template("reconciliation/board.html", rows=rows, month=month, months=months, regions=regions,
                           region_id=region_id, direct=direct, today=today,
                           display_status=core.display_status)


@bp.route("/disputes")
def inbox():
    require("view_reconciliations")
    state = request.args.get("state", "open")
    stmt = (select(DisputeItem).join(Reconciliation, DisputeItem.reconciliation_id == Reconciliation.id)
            .join(Account, Reconciliation.account_id == Account.id)
            .options(joinedload(DisputeItem.reconciliation).joinedload(Reconciliation.account),
                     joinedload(DisputeItem.document)))
    stmt = scope_accounts(stmt, current_user)
    if state == "open":
        stmt = stmt.where(DisputeItem.status == "open")
    page = db.paginate(stmt.order_by(DisputeItem.raised_at.desc(), DisputeItem.id.desc()),
                       per_page=PER_PAGE, error_out=False)
    return render_template("reconciliation/inbox.html", page=page, state=state)


@bp.route("/dealers")
def dealers():
    """A distributor's dealers for a month: statement status, balance, policy pass-through."""
    require("view_reconciliations")
    own = current_user.account_id if current_user.role == "distributor" else None
    distributor = db.get_or_404(Account, request.args.get("distributor", type=int) or own or 0)
    require("view_account", distributor)
    if not distributor.is_distributor or (own is not None and distributor.id != own):
        abort(404)
    months = _closed_months()
    month = _month_arg(months[0] if months else Month.of(services.business_today()).prev())
    dealers = list(db.session.execute(select(Account).where(Account.supplier_id == distributor.id)
                                      .order_by(Account.code)).scalars())
    recs = {r.account_id: r for r in db.session.execute(select(Reconciliation).where(
        Reconciliation.month == str(month), Reconciliation.account_id.in_([d.id for d in dealers] or [-1]))).scalars()}
    gaps = {row.dealer_id: row for row in services.pass_through(distributor, month.last_day)}
    today = services.business_today()
    return render_template("reconciliation/dealers.html", distributor=distributor, dealers=dealers, recs=recs,
                           gaps=gaps, month=month, months=months, today=today,
                           display_status=core.display_status,
                           company_rec=services.find(distributor, month))


# --- settings ---------------------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
def settings():
    require("manage_reconciliation_settings")
    current = services.get_settings()
    form = SettingsForm(data={"answer_days": current.answer_days, "overdue_action": current.overdue_action}
                        if request.method == "GET" else None)
    if request.method == "POST" and form.validate():
        services.save_settings(answer_days=form.answer_days.data, overdue_action=form.overdue_action.data,
                               by=current_user)
        db.session.commit()
        flash(_("Reconciliation settings saved."), "success")
        return redirect(url_for(".settings"))
    overdue = services.overdue(services.business_today())
    return render_template("reconciliation/settings.html", form=form, overdue=overdue), (
        422 if request.method == "POST" else 200)


# --- policy payouts (兑现政策) ------------------------------------------------------------------

@bp.route("/payouts")
def payouts():
    require("pass_on_payouts")
    distributor = current_user.account
    rows = services.payouts(distributor)
    totals = services.pass_through(distributor, date.max)
    return render_template("reconciliation/payouts.html", rows=rows, distributor=distributor,
                           totals=totals, dealers={d.id: d for d in distributor.dealers},
                           form=PassOnForm(formdata=None, date=services.business_today()))


@bp.route("/payouts/<int:document_id>/pass-on", methods=["GET", "POST"])
def pass_on(document_id):
    payout = db.get_or_404(Document, document_id)
    require("pass_on_payouts")
    if payout.account_id != current_user.account_id or payout.for_account_id is None:
        abort(404)
    row = next((p for p in services.payouts(current_user.account, dealer=payout.for_account)
                if p.document.id == payout.id), None)
    if row is None:
        abort(404)
    form = PassOnForm() if request.method == "POST" else PassOnForm(
        formdata=None, date=services.business_today(), amount=f"{row.outstanding_fen / 100:.2f}"
        if row.outstanding_fen > 0 else "")
    if request.method == "POST" and form.validate():
        begin_write()
        try:
            document = services.pass_on(payout, amount_fen=form.amount.fen, on=form.date.data, by=current_user,
                                        memo=form.memo.data)
        except LedgerError as err:
            db.session.rollback()
            _error(form, err)
        else:
            db.session.commit()
            flash(_("%(number)s posted to %(dealer)s.", number=document.number, dealer=payout.for_account.code),
                  "success")
            return redirect(url_for(".payouts"))
    return render_template("reconciliation/pass_on.html", form=form, payout=payout, row=row), (
        422 if request.method == "POST" else 200)
