"""Expense claim pages: my claims, all claims in one's scope, a claim (its lines, receipts,
flags, budget, history, and the one action the viewer may take on it), the approval queue with
bulk approval of unflagged claims, and finance's payment queue.

Views load, check (404 for a claim the user may not see, 403 for what they may not do), act
through channel.expenses.services and commit once. A refused action changes nothing and says why
in the user's language: 422 for what the user typed, 409 when the claim moved on meanwhile (a
stale version: someone else acted first), 403 when the rules say this user may not.
"""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..auth.permissions import can, require, scope_accounts, scope_claims, scope_regions
from ..core import expenses as core
from ..core.money import format_fen
from ..core.periods import Month
from ..extensions import db
from ..files import services as files
from ..files.models import StoredFile
from ..i18n import label
from ..ledger import views as ledger_views
from ..masterdata.forms import money_field_value
from ..masterdata.models import Account, Region, in_tree_order
from ..transactions import begin_write
from . import services
from .blueprint import bp
from .forms import ClaimForm, DecisionForm, LineForm, PayForm, ReceiptForm, VersionForm
from .messages import expense_message
from .models import ExpenseClaim, ExpenseEvent, ExpenseLine, ExpenseReceipt

ExpenseError = core.ExpenseError

PER_PAGE = 50
MONTHS_OFFERED = 12
# The claim moved on while the user looked at it: answered 409 with the claim as it is now.
CONFLICTS = frozenset({"stale", "not_a_draft", "already_paid", "not_approved", "not_waiting_for_approval"})
# The rules say this user may not (the claim is theirs, or another level approves it): 403.
FORBIDDEN = frozenset({"not_your_claim", "own_claim", "needs_next_level", "not_your_region",
                       "needs_second_approver", "same_approver_twice", "not_finance", "cannot_claim"})
# ExpenseError.field -> the form field that shows the message.
FIELDS = {"region": "region_id", "account": "account_id"}


@bp.before_request
@login_required
def _login_first():
    pass


# --- helpers ----------------------------------------------------------------------------------

def _status_code(err) -> int:
    if err.code in CONFLICTS:
        return 409
    if err.code in FORBIDDEN:
        return 403
    return 422


def _claim_or_404(claim_id) -> ExpenseClaim:
    claim = db.session.execute(
        select(ExpenseClaim).where(ExpenseClaim.id == claim_id).options(
            selectinload(ExpenseClaim.lines).selectinload(ExpenseLine.receipts),
            selectinload(ExpenseClaim.lines).selectinload(ExpenseLine.account),
            selectinload(ExpenseClaim.events).selectinload(ExpenseEvent.by))
    ).scalar_one_or_none()
    if claim is None:
        abort(404)
    require("view_claim", claim)
    return claim


def _line_or_404(claim, line_id) -> ExpenseLine:
    line = next((ln for ln in claim.lines if ln.id == line_id), None)
    if line is None:
        abort(404)
    return line


def _own(claim):
    """Only the claimant changes a claim (others who see it get 403)."""
    if claim.claimant_id != current_user.id:
        abort(403)


def _sees_all() -> bool:
    """Approvers and finance list every claim in their scope, not only their own."""
    return can("approve_claims") or can("pay_claims")


def _recent_months() -> list[Month]:
    this = Month.of(services.business_today())
    return [this - i for i in range(MONTHS_OFFERED)]


def _month_arg():
    month = ledger_views._month_arg("month", None)
    return str(month) if month is not None else None


def _claimed_months(stmt) -> list[str]:
    """The months the claims of a (scoped) query fall in, newest first, for a month filter."""
    sub = stmt.order_by(None).subquery()
    return list(db.session.execute(select(sub.c.month).distinct().order_by(sub.c.month.desc())).scalars())


def _scope_months() -> list[str]:
    return _claimed_months(scope_claims(select(ExpenseClaim), current_user))


def _accounts(user) -> list[Account]:
    """The accounts a claimant may name as visited: those in their scope."""
    return list(db.session.execute(scope_accounts(select(Account), user).order_by(Account.code)).scalars())


def _error_on(form, err) -> bool:
    """The message of a refused action on the form field it concerns; False if the form has no
    such field (the caller shows the message above the form)."""
    name = FIELDS.get(err.field, err.field) if err.field else None
    field = getattr(form, name, None) if (form is not None and name) else None
    if field is None or not hasattr(field, "errors"):
        return False
    field.errors = list(field.errors) + [expense_message(err)]
    return True


def _returned(claim_ids) -> set:
    """Of these claims, the ones that a rejection sent back to their owner (drafts with history)."""
    if not claim_ids:
        return set()
    return set(db.session.execute(select(ExpenseEvent.claim_id).distinct().where(
        ExpenseEvent.claim_id.in_(claim_ids), ExpenseEvent.action == "reject")).scalars())


def _line_input(form: LineForm) -> services.LineInput:
    tier = form.city_tier.data
    return services.LineInput(
        spent_on=form.spent_on.data, category=form.category.data, amount_fen=form.amount.fen,
        description=form.description.data or "",
        account_id=int(form.account_id.data) if (form.account_id.data or "").isdigit() else None,
        nights=form.nights.data or 1, city_tier=int(tier) if (tier or "").isdigit() else None)


def _region_choice(form: ClaimForm, regions):
    """The region chosen on a claim form (None: the claimant's only region)."""
    value = form.region_id.data
    if not form.several_regions or not (value or "").isdigit():
        return None
    return db.session.get(Region, int(value)) or abort(400)


def _stale(claim, version):
    """ExpenseError("stale") if the user saw another version of the claim, else None."""
    if version == claim.version:
        return None
    last = claim.events[-1] if claim.events else None
    return ExpenseError("stale", who=last.by.full_name if last and last.by else "", status=claim.status)


# --- the claim page ---------------------------------------------------------------------------

def _default_line_date(claim):
    month = Month.parse(claim.month)
    return min(services.business_today(), month.last_day)


def _header_form(claim):
    regions = services.claim_regions(current_user)
    return ClaimForm(formdata=None, months=_header_months(claim), regions=regions,
                     data={"month": claim.month, "title": claim.title, "region_id": str(claim.region_id)})


def _header_months(claim):
    months = _recent_months()
    if Month.parse(claim.month) not in months:
        months.append(Month.parse(claim.month))
    return months


def _blank_decision(claim) -> DecisionForm:
    form = DecisionForm(formdata=None, data={"version": claim.version})
    for line in claim.lines:
        form.cuts.append_entry({"line_id": str(line.id), "approved": money_field_value(line.payable_fen),
                                "reason": line.cut_reason or ""})
    return form


def _claim_page(claim, *, status=200, alert=None, header_form=None, line_form=None, decision_form=None,
                pay_form=None, upload_errors=None):
    user = current_user
    settings = services.get_settings()
    flags = services.claim_flags(claim, settings)
    owner_draft = claim.status == "draft" and claim.claimant_id == user.id
    may_approve, may_reject, may_pay = (can("approve_claim", claim), can("reject_claim", claim),
                                        can("pay_claim", claim))
    uses = services.budget_uses(claim) if (owner_draft or may_approve) else []
    submit_form = None
    if owner_draft:
        header_form = header_form or _header_form(claim)
        line_form = line_form or LineForm(formdata=None, accounts=_accounts(user),
                                          data={"spent_on": _default_line_date(claim), "nights": 1})
        submit_form = VersionForm(formdata=None, data={"version": claim.version})
    if may_approve or may_reject:
        decision_form = decision_form or _blank_decision(claim)
    else:
        decision_form = None
    if may_pay:
        pay_form = pay_form or PayForm(formdata=None, data={"version": claim.version,
                                                           "paid_on": services.business_today()})
    else:
        pay_form = None
    cut_rows = {}
    if decision_form is not None:
        for row in decision_form.cuts:
            if (row.form.line_id.data or "").isdigit():
                cut_rows[int(row.form.line_id.data)] = row.form
    mimes = dict(db.session.execute(
        select(ExpenseReceipt.id, StoredFile.mime).join(StoredFile, ExpenseReceipt.sha256 == StoredFile.sha256)
        .where(ExpenseReceipt.claim_id == claim.id)).all())
    last = claim.events[-1] if claim.events else None
    rejection = last if claim.status == "draft" and last is not None and last.action == "reject" else None
    return render_template(
        "expenses/show.html", claim=claim, flags=flags, settings=settings, uses=uses, owner_draft=owner_draft,
        may_approve=may_approve, may_reject=may_reject, header_form=header_form, line_form=line_form,
        submit_form=submit_form, decision_form=decision_form, cut_rows=cut_rows, pay_form=pay_form,
        upload_errors=upload_errors or {}, receipt_form=ReceiptForm(formdata=None) if owner_draft else None,
        alert=alert, rejection=rejection, over_budget=any(u.over for _, u in uses),
        deletable=owner_draft and not claim.events,
        voucher="expenses.voucher" in current_app.view_functions,
        receipt_count=sum(len(ln.receipts) for ln in claim.lines), mimes=mimes,
    ), status


def _refused(claim_id, err, **forms):
    """The claim page again after a refused action (the transaction rolled back): a conflict
    shows the claim as it is now with fresh forms, any other refusal the user's input with the
    message on its field."""
    db.session.rollback()
    claim = _claim_or_404(claim_id)
    message = expense_message(err)
    if err.code in CONFLICTS:
        return _claim_page(claim, alert=message, status=409)
    placed = False
    for form in forms.values():
        placed = _error_on(form, err) or placed
    return _claim_page(claim, alert=None if placed else message, status=_status_code(err), **forms)


@bp.route("/<int:claim_id>")
def show(claim_id):
    return _claim_page(_claim_or_404(claim_id))


@bp.route("/<int:claim_id>/receipts/<int:receipt_id>")
def receipt(claim_id, receipt_id):
    claim = _claim_or_404(claim_id)
    found = db.session.get(ExpenseReceipt, receipt_id)
    if found is None or found.claim_id != claim.id:
        abort(404)
    stored = found.file
    # Images open inline (a thumbnail on the claim page opens the full picture). A PDF is
    # downloaded: browsers refuse to show a sandboxed PDF inline, and the sandbox stays (it keeps
    # any script in an uploaded file out of our origin).
    return files.send(stored, found.filename, download=stored.mime == files.PDF)


# --- creating and editing a draft ---------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
def new_claim():
    require("create_claims")
    regions = services.claim_regions(current_user)
    months = _recent_months()
    form = ClaimForm(months=months, regions=regions,
                     data={"month": str(months[0]), "region_id": str(regions[0].id) if regions else ""})
    if request.method == "POST" and form.validate():
        begin_write()
        try:
            claim = services.create_claim(current_user, month=Month.parse(form.month.data), title=form.title.data,
                                          region=_region_choice(form, regions))
        except ExpenseError as err:
            db.session.rollback()
            if not _error_on(form, err):
                form.form_errors.append(expense_message(err))
            return render_template("expenses/new.html", form=form, regions=regions), _status_code(err)
        db.session.commit()
        flash(_("Claim %(number)s created: now add its lines and receipts.", number=claim.number), "success")
        return redirect(url_for(".show", claim_id=claim.id))
    if not regions:
        form.form_errors.append(expense_message(ExpenseError("cannot_claim")))
    return render_template("expenses/new.html", form=form, regions=regions), (
        422 if request.method == "POST" else 200)


@bp.route("/<int:claim_id>/edit", methods=["POST"])
def edit_claim(claim_id):
    claim = _claim_or_404(claim_id)
    _own(claim)
    regions = services.claim_regions(current_user)
    form = ClaimForm(months=_header_months(claim), regions=regions)
    if not form.validate():
        return _claim_page(claim, header_form=form, status=422)
    begin_write()
    try:
        services.update_claim(claim, title=form.title.data, month=Month.parse(form.month.data),
                              region=_region_choice(form, regions), by=current_user)
    except ExpenseError as err:
        return _refused(claim_id, err, header_form=form)
    db.session.commit()
    flash(_("Claim %(number)s saved.", number=claim.number), "success")
    return redirect(url_for(".show", claim_id=claim.id))


@bp.route("/<int:claim_id>/delete", methods=["POST"])
def delete_claim(claim_id):
    claim = _claim_or_404(claim_id)
    _own(claim)
    form = VersionForm()
    if not form.validate():
        return _claim_page(claim, alert=_("The form has expired. Reload the page and try again."), status=422)
    number = claim.number
    begin_write()
    try:
        stale = _stale(claim, form.version_number)
        if stale:
            raise stale
        services.delete_claim(claim, by=current_user)
    except ExpenseError as err:
        return _refused(claim_id, err)
    db.session.commit()
    flash(_("Draft %(number)s deleted.", number=number), "success")
    return redirect(url_for(".index"))


@bp.route("/<int:claim_id>/lines", methods=["POST"])
def add_line(claim_id):
    claim = _claim_or_404(claim_id)
    _own(claim)
    form = LineForm(accounts=_accounts(current_user))
    if not form.validate():
        return _claim_page(claim, line_form=form, status=422)
    begin_write()
    try:
        line = services.add_line(claim, _line_input(form), by=current_user)
    except ExpenseError as err:
        return _refused(claim_id, err, line_form=form)
    db.session.commit()
    flash(_("Line added: %(category)s %(amount)s.", category=label(line.category, "expense_category"),
            amount=format_fen(line.amount_fen)), "success")
    return redirect(url_for(".show", claim_id=claim.id) + f"#line-{line.id}")


@bp.route("/<int:claim_id>/lines/<int:line_id>/edit", methods=["GET", "POST"])
def edit_line(claim_id, line_id):
    claim = _claim_or_404(claim_id)
    _own(claim)
    line = _line_or_404(claim, line_id)
    if claim.status != "draft":
        return _claim_page(claim, alert=expense_message(ExpenseError("not_a_draft", status=claim.status)),
                           status=409)
    accounts = _accounts(current_user)
    form = LineForm(accounts=accounts, data={
        "spent_on": line.spent_on, "category": line.category, "amount": money_field_value(line.amount_fen),
        "description": line.description, "account_id": str(line.account_id or ""), "nights": line.nights,
        "city_tier": str(line.city_tier or "")})
    if request.method == "POST" and form.validate():
        begin_write()
        try:
            services.update_line(line, _line_input(form), by=current_user)
        except ExpenseError as err:
            if err.code in CONFLICTS:
                return _refused(claim_id, err)
            db.session.rollback()
            if not _error_on(form, err):
                form.form_errors.append(expense_message(err))
            claim = _claim_or_404(claim_id)
            return render_template("expenses/line_form.html", claim=claim, line=_line_or_404(claim, line_id),
                                   form=form), _status_code(err)
        db.session.commit()
        flash(_("Line saved."), "success")
        return redirect(url_for(".show", claim_id=claim.id) + f"#line-{line_id}")
    return render_template("expenses/line_form.html", claim=claim, line=line, form=form), (
        422 if request.method == "POST" else 200)


@bp.route("/<int:claim_id>/lines/<int:line_id>/delete", methods=["POST"])
def delete_line(claim_id, line_id):
    claim = _claim_or_404(claim_id)
    _own(claim)
    line = _line_or_404(claim, line_id)
    if not FlaskForm().validate():
        abort(400)
    begin_write()
    try:
        services.delete_line(line, by=current_user)
    except ExpenseError as err:
        return _refused(claim_id, err)
    db.session.commit()
    flash(_("Line deleted."), "success")
    return redirect(url_for(".show", claim_id=claim.id) + "#lines")


@bp.route("/<int:claim_id>/lines/<int:line_id>/receipts", methods=["POST"])
def add_receipts(claim_id, line_id):
    claim = _claim_or_404(claim_id)
    _own(claim)
    line = _line_or_404(claim, line_id)
    form = ReceiptForm()
    if not form.validate():
        errors = list(form.receipts.errors) or [_("The form has expired. Reload the page and try again.")]
        return _claim_page(claim, upload_errors={line.id: errors}, status=422)
    uploads = [f for f in request.files.getlist(form.receipts.name) if f and f.filename]
    begin_write()
    upload = None
    try:
        for upload in uploads:
            services.add_receipt(line, upload, by=current_user)
    except files.FileRefused as err:
        db.session.rollback()  # none of the files of this upload is kept
        claim = _claim_or_404(claim_id)
        name = services.safe_filename(upload.filename)
        return _claim_page(claim, upload_errors={line_id: [f"{name}: {files.message(err)}"]}, status=422)
    except ExpenseError as err:
        return _refused(claim_id, err)
    db.session.commit()
    flash(ngettext("%(num)s receipt added.", "%(num)s receipts added.", len(uploads)), "success")
    return redirect(url_for(".show", claim_id=claim_id) + f"#line-{line_id}")


@bp.route("/<int:claim_id>/receipts/<int:receipt_id>/delete", methods=["POST"])
def remove_receipt(claim_id, receipt_id):
    claim = _claim_or_404(claim_id)
    _own(claim)
    found = db.session.get(ExpenseReceipt, receipt_id)
    if found is None or found.claim_id != claim.id:
        abort(404)
    if not FlaskForm().validate():
        abort(400)
    line_id = found.line_id
    begin_write()
    try:
        services.remove_receipt(found, by=current_user)
    except ExpenseError as err:
        return _refused(claim_id, err)
    db.session.commit()
    flash(_("Receipt removed."), "success")
    return redirect(url_for(".show", claim_id=claim_id) + f"#line-{line_id}")


# --- transitions ------------------------------------------------------------------------------

@bp.route("/<int:claim_id>/submit", methods=["POST"])
def submit_claim(claim_id):
    claim = _claim_or_404(claim_id)
    _own(claim)
    form = VersionForm()
    if not form.validate():
        return _claim_page(claim, alert=_("The form has expired. Reload the page and try again."), status=422)
    begin_write()
    try:
        services.submit(claim, by=current_user, version=form.version_number, ip=request.remote_addr)
    except ExpenseError as err:
        return _refused(claim_id, err)
    db.session.commit()
    flash(_("Claim %(number)s submitted for approval.", number=claim.number), "success")
    return redirect(url_for(".show", claim_id=claim_id))


def _cuts(claim, form: DecisionForm):
    """{line id: (approved fen, reason)} from the decision form, each row checked against its
    line (the message on the row's field); None when a row is refused. A blank amount leaves the
    line as it stands."""
    lines = {ln.id: ln for ln in claim.lines}
    if len(form.cuts) > len(lines):
        abort(400)
    cuts, ok = {}, True
    for row in form.cuts:
        line_id = row.form.line_id.data or ""
        if not line_id.isdigit():
            abort(400)
        fen = row.form.approved.fen
        if fen is None:
            continue
        line = lines.get(int(line_id))
        if line is not None:
            try:
                core.cut(core.Line(line.spent_on, line.category, line.amount_fen), fen, row.form.reason.data)
            except ExpenseError as err:
                field = row.form.reason if err.field == "cut_reason" else row.form.approved
                field.errors = list(field.errors) + [expense_message(err)]
                ok = False
                continue
        cuts[int(line_id)] = (fen, row.form.reason.data or "")
    return cuts if ok else None


@bp.route("/<int:claim_id>/approve", methods=["POST"])
def approve_claim(claim_id):
    claim = _claim_or_404(claim_id)
    form = DecisionForm()
    if not form.validate():
        return _claim_page(claim, decision_form=form, status=422)
    stale = _stale(claim, form.version_number)
    if stale:
        return _claim_page(claim, alert=expense_message(stale), status=409)
    cuts = _cuts(claim, form)
    if cuts is None:
        return _claim_page(claim, decision_form=form, alert=_("Please correct the marked fields. Nothing was saved."),
                           status=422)
    begin_write()
    try:
        claim = services.approve(claim, by=current_user, version=form.version_number, cuts=cuts,
                                 override_reason=form.override_reason.data, comment=form.comment.data,
                                 ip=request.remote_addr)
    except ExpenseError as err:
        return _refused(claim_id, err, decision_form=form)
    db.session.commit()
    if claim.status == "second_approval":
        flash(_("Claim %(number)s approved; above the second-approval amount it now waits for a second approval.",
                number=claim.number), "success")
    else:
        flash(_("Claim %(number)s approved for %(amount)s.", number=claim.number, amount=format_fen(claim.approved_fen)),
              "success")
    return redirect(url_for(".show", claim_id=claim_id))


@bp.route("/<int:claim_id>/reject", methods=["POST"])
def reject_claim(claim_id):
    claim = _claim_or_404(claim_id)
    form = DecisionForm()
    if not form.validate():
        return _claim_page(claim, decision_form=form, status=422)
    begin_write()
    try:
        services.reject(claim, by=current_user, comment=form.comment.data, version=form.version_number,
                        ip=request.remote_addr)
    except ExpenseError as err:
        return _refused(claim_id, err, decision_form=form)
    db.session.commit()
    flash(_("Claim %(number)s returned to %(name)s.", number=claim.number, name=claim.claimant.full_name),
          "success")
    return redirect(url_for(".show", claim_id=claim_id))


@bp.route("/<int:claim_id>/pay", methods=["POST"])
def pay_claim(claim_id):
    claim = _claim_or_404(claim_id)
    form = PayForm()
    if not form.validate():
        return _claim_page(claim, pay_form=form, status=422)
    begin_write()
    try:
        services.pay(claim, by=current_user, paid_on=form.paid_on.data, reference=form.reference.data,
                     version=form.version_number, ip=request.remote_addr)
    except ExpenseError as err:
        return _refused(claim_id, err, pay_form=form)
    db.session.commit()
    flash(_("Claim %(number)s paid: %(amount)s.", number=claim.number, amount=format_fen(claim.paid_fen)), "success")
    if form.back.data == "payments":
        return redirect(url_for(".payments"))
    return redirect(url_for(".show", claim_id=claim_id))


# --- lists ------------------------------------------------------------------------------------

def _status_arg(allowed=core.STATUSES):
    status = request.args.get("status", "")
    return status if status in allowed else ""


@bp.route("/")
def index():
    """My claims (field staff and supervisors); approvers and finance go to all claims."""
    if not can("create_claims"):
        if _sees_all():
            return redirect(url_for(".claims"))
        abort(403)
    status, month = _status_arg(), _month_arg()
    own = scope_claims(select(ExpenseClaim), current_user).where(ExpenseClaim.claimant_id == current_user.id)
    stmt = services.claims_query(current_user, status=status or None, month=month, claimant_id=current_user.id)
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    counts = dict(db.session.execute(select(ExpenseClaim.status, func.count()).where(
        ExpenseClaim.claimant_id == current_user.id).group_by(ExpenseClaim.status)).all())
    return render_template("expenses/index.html", page=page, status=status, month=month, counts=counts,
                           months=_claimed_months(own), statuses=core.STATUSES,
                           returned=_returned([c.id for c in page.items]))


def _scoped_regions():
    return in_tree_order(db.session.execute(scope_regions(select(Region), current_user)).scalars())


@bp.route("/claims")
def claims():
    """Every claim in the user's scope (approvers, finance), filtered."""
    if not _sees_all():
        abort(403)
    status, month = _status_arg(), _month_arg()
    region_id = request.args.get("region", type=int)
    q = request.args.get("q", "").strip()[:100]
    stmt = services.claims_query(current_user, status=status or None, month=month, region_id=region_id,
                                 search=q or None)
    page = db.paginate(stmt.options(selectinload(ExpenseClaim.claimant), selectinload(ExpenseClaim.region)),
                       per_page=PER_PAGE, error_out=False)
    return render_template("expenses/claims.html", page=page, status=status, month=month, region_id=region_id,
                           q=q, statuses=core.STATUSES, regions=_scoped_regions(),
                           months=_scope_months(),
                           returned=_returned([c.id for c in page.items]))


@bp.route("/approvals")
def approvals():
    """The claims waiting for this user's approval, with their flags; bulk approval of the
    unflagged ones."""
    require("approve_claims")
    status = _status_arg(services.WAITING)
    month = _month_arg()
    region_id = request.args.get("region", type=int)
    q = request.args.get("q", "").strip()[:100]
    queue = services.approval_queue(current_user, status=status or None, month=month, region_id=region_id,
                                    search=q or None)
    settings = services.get_settings()
    flags = services.flags_for(queue, settings)
    rows = [(claim, flags[claim.id]) for claim in queue]
    return render_template("expenses/approvals.html", rows=rows, status=status, month=month, region_id=region_id,
                           q=q, statuses=services.WAITING, regions=_scoped_regions(),
                           months=_scope_months(),
                           form=FlaskForm(formdata=None),
                           total=sum(c.claimed_fen for c in queue))


@bp.route("/approvals/bulk", methods=["POST"])
def approve_selected():
    require("approve_claims")
    if not FlaskForm().validate():
        abort(400)
    # Each box names the claim and the version shown: a claim that changed since is not approved unseen.
    seen = {}
    for value in request.form.getlist("claim"):
        claim_id, _sep, version = value.partition(":")
        if claim_id.isdigit() and version.isdigit():
            seen[int(claim_id)] = int(version)
    if not seen:
        flash(_("Select the claims to approve."), "error")
        return redirect(url_for(".approvals"))
    begin_write()
    chosen = list(db.session.execute(services.claims_query(current_user).where(ExpenseClaim.id.in_(seen)))
                  .scalars())
    done, refused = services.approve_many(chosen, by=current_user, versions=seen, ip=request.remote_addr)
    db.session.commit()
    if done:
        flash(ngettext("%(num)s claim approved.", "%(num)s claims approved.", len(done)), "success")
    if refused:
        flash(ngettext("%(num)s claim was not approved:", "%(num)s claims were not approved:", len(refused)) + " "
              + "; ".join(f"{claim.number}: {expense_message(err)}" for claim, err in refused), "error")
    return redirect(url_for(".approvals"))


@bp.route("/payments")
def payments():
    """Finance's queue: approved claims to pay, oldest approval first."""
    require("pay_claims")
    month = _month_arg()
    region_id = request.args.get("region", type=int)
    q = request.args.get("q", "").strip()[:100]
    queue = services.payment_queue(current_user, month=month, region_id=region_id, search=q or None)
    return render_template("expenses/payments.html", queue=queue, month=month, region_id=region_id, q=q,
                           regions=_scoped_regions(), months=_scope_months(),
                           total=sum(c.approved_fen or 0 for c in queue), today=services.business_today())
