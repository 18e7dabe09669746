"""Issuing statements for reconciliation, confirming, disputing, answering disputes, shipment
holds for overdue reconciliations, the supervisor's board and the policy pass-through.

Services validate, change, flush and audit; the caller commits once. The rules themselves (which
state may follow which, what the content hash covers) are in channel/core/reconciliation.py.
"""
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..auth.permissions import can, scope_accounts
from ..auth.models import User
from ..core import reconciliation as core
from ..core.periods import Month
from ..db_types import utcnow
from ..extensions import db
from ..ledger import services as ledger
from ..ledger.models import Document
from ..masterdata.models import Account
from ..notify.services import notify, register_kind
from ..system.models import Setting
from .models import (
    DisputeCorrection,
    DisputeItem,
    HoldRelease,
    Reconciliation,
    ReconciliationEvent,
    ReconciliationVersion,
)

ReconciliationError = core.ReconciliationError

register_kind("statement_issued", _l("Statement %(month)s of %(account)s: please confirm or dispute"),
              _l("Your statement for %(month)s is issued. Please check it and confirm the balance, or "
                 "dispute the lines that are wrong, by %(due)s."))
register_kind("statement_reissued", _l("Statement %(month)s of %(account)s re-issued"),
              _l("Every disputed line of your statement for %(month)s has been answered and the statement "
                 "re-issued. Please check the answers and confirm or dispute it by %(due)s."))
register_kind("statement_disputed", _l("Statement %(month)s of %(account)s disputed"),
              _l("%(account)s disputes lines of its statement for %(month)s. Please answer each disputed line."))

ANSWER_DAYS_KEY = "reconciliation.answer_days"
OVERDUE_ACTION_KEY = "reconciliation.overdue_action"


def business_today() -> date:
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


# --- settings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    answer_days: int
    overdue_action: str


def get_settings() -> Settings:
    rows = dict(db.session.execute(select(Setting.key, Setting.value).where(
        Setting.key.in_((ANSWER_DAYS_KEY, OVERDUE_ACTION_KEY)))).all())
    try:
        days = int(rows.get(ANSWER_DAYS_KEY, current_app.config["RECONCILIATION_ANSWER_DAYS"]))
    except ValueError:
        days = core.DEFAULT_ANSWER_DAYS
    action = rows.get(OVERDUE_ACTION_KEY, "none")
    return Settings(days, action if action in core.OVERDUE_ACTIONS else "none")


def save_settings(*, answer_days: int, overdue_action: str, by) -> Settings:
    core.due_on(date(2000, 1, 1), answer_days)  # ValueError when out of range
    if overdue_action not in core.OVERDUE_ACTIONS:
        raise ValueError(f"unknown overdue action {overdue_action!r}")
    before = get_settings()
    for key, value in ((ANSWER_DAYS_KEY, str(answer_days)), (OVERDUE_ACTION_KEY, overdue_action)):
        row = db.session.get(Setting, key)
        if row is None:
            db.session.add(Setting(key=key, value=value))
        else:
            row.value = value
    db.session.flush()
    changes = {k: [getattr(before, k), v] for k, v in
               (("answer_days", answer_days), ("overdue_action", overdue_action)) if getattr(before, k) != v}
    if changes:
        record("settings_changed", None, by=by, object_type="settings", label="reconciliation",
               changes=changes)
    return get_settings()


# --- content --------------------------------------------------------------------------------

def corrections_of(rec: Reconciliation | None) -> tuple[core.Correction, ...]:
    if rec is None or rec.id is None:
        return ()
    rows = db.session.execute(
        select(Document.number, Document.document_date, Document.kind, Document.direction, Document.amount_fen)
        .join(DisputeCorrection, DisputeCorrection.document_id == Document.id)
        .join(DisputeItem, DisputeItem.id == DisputeCorrection.item_id)
        .where(DisputeItem.reconciliation_id == rec.id)).all()
    return tuple(core.Correction(number, on, kind, amount if direction == "debit" else -amount)
                 for number, on, kind, direction, amount in rows)


def content(account: Account, month: Month, rec: Reconciliation | None = None) -> core.Content:
    """What the account is asked to agree to now (recomputed from the ledger every time)."""
    return core.Content(account.code, str(month), ledger.statement(account, month), corrections_of(rec))


def find(account, month: Month) -> Reconciliation | None:
    return db.session.execute(select(Reconciliation).where(
        Reconciliation.account_id == account.id, Reconciliation.month == str(month))).scalar_one_or_none()


def portal_users(account) -> list[User]:
    """The account's own logins (distributors today; dealers may get theirs later)."""
    return list(db.session.execute(select(User).where(
        User.account_id == account.id, User.is_active_user.is_(True))).scalars())


# --- issuing --------------------------------------------------------------------------------

def issuable_accounts(month: Month, supplier: Account | None) -> list[Account]:
    """The accounts of one tier with something to reconcile for the month: a balance at its end
    or a movement in it. supplier None: the company's accounts (general distributors and the
    dealers it supplies directly); else that distributor's dealers."""
    tier = Account.supplier_id.is_(None) if supplier is None else Account.supplier_id == supplier.id
    from ..ledger.models import BalanceSnapshot

    return list(db.session.execute(
        select(Account).join(BalanceSnapshot, and_(BalanceSnapshot.account_id == Account.id,
                                                   BalanceSnapshot.month == str(month)))
        .where(tier, or_(BalanceSnapshot.closing_fen != 0, BalanceSnapshot.debit_fen != 0,
                         BalanceSnapshot.credit_fen != 0))
        .order_by(Account.code)).scalars())


def _event(rec, kind, *, by, body=None, item=None, author_name=None, ip=None, at=None):
    db.session.add(ReconciliationEvent(reconciliation_id=rec.id, version=rec.version, kind=kind,
                                       item_id=getattr(item, "id", None), author_id=getattr(by, "id", None),
                                       author_name=author_name, body=body, ip=ip, created_at=at or utcnow()))


def _fill(rec: Reconciliation, now: core.Content, *, by, today: date, answer_days: int):
    """The reconciliation's current issue: what it shows, when, and by when to answer."""
    rec.content_hash = now.hash
    rec.opening_fen = now.statement.opening_fen
    rec.closing_fen = now.statement.closing_fen
    rec.agreed_fen = now.agreed_fen
    rec.issued_on = today
    rec.due_on = core.due_on(today, answer_days)
    rec.issued_at = _moment(today)
    rec.issued_by_id = getattr(by, "id", None)


def _version(rec: Reconciliation) -> ReconciliationVersion:
    """The kept copy of the current issue (the row must be flushed: it needs rec.id)."""
    return ReconciliationVersion(
        reconciliation_id=rec.id, version=rec.version, content_hash=rec.content_hash,
        closing_fen=rec.closing_fen, agreed_fen=rec.agreed_fen, issued_on=rec.issued_on,
        due_on=rec.due_on, issued_by_id=rec.issued_by_id, issued_at=rec.issued_at)


def _new_version(rec: Reconciliation, now: core.Content, *, by, today: date, answer_days: int):
    _fill(rec, now, by=by, today=today, answer_days=answer_days)
    db.session.flush()
    db.session.add(_version(rec))


def _moment(day: date) -> datetime:
    """Now, or for a business day in the past (history being loaded) 09:00 of that day."""
    if day >= business_today():
        return utcnow()
    return datetime.combine(day, datetime.min.time().replace(hour=9), ZoneInfo(current_app.config["TIMEZONE"]))


def tell_account(rec: Reconciliation, kind: str, users=None):
    """Tell the account's portal users about its statement (month, account, due date, link)."""
    users = portal_users(rec.account) if users is None else users
    if users:
        notify(users, kind, {"month": rec.month, "account": rec.account.code,
                             "due": rec.due_on.isoformat()}, f"/reconciliation/{rec.id}")


@dataclass
class IssueResult:
    issued: list  # new reconciliations
    reissued: list  # new versions of existing ones
    unchanged: list  # already issued with this content, or waiting for dispute answers
    confirmed: list  # already confirmed: left alone


def issue(accounts, month: Month, *, by, today: date | None = None) -> IssueResult:
    """Issue (or re-issue, where the content changed) the month's statements of `accounts`.
    The month must be closed. A confirmed reconciliation is never touched; a disputed one waits
    for its answers."""
    if not ledger.is_closed(month):
        raise ReconciliationError("month_not_closed", "month", month=str(month))
    today = today or business_today()
    settings = get_settings()
    result = IssueResult([], [], [], [])
    existing = {r.account_id: r for r in db.session.execute(select(Reconciliation).where(
        Reconciliation.month == str(month),
        Reconciliation.account_id.in_([a.id for a in accounts] or [-1]))).scalars()}
    fresh = []  # (account, content) of accounts without a statement of the month yet
    for account in accounts:
        rec = existing.get(account.id)
        if rec is not None and rec.status == "confirmed":
            result.confirmed.append(rec)
            continue
        now = content(account, month, rec)
        if rec is None:
            fresh.append((account, now))
        elif rec.status == "disputed" or rec.content_hash == now.hash:
            result.unchanged.append(rec)
        else:
            rec.version += 1
            rec.status = "issued"
            _fill(rec, now, by=by, today=today, answer_days=settings.answer_days)
            result.reissued.append(rec)

    def new_rec(account, now):
        rec = Reconciliation(account_id=account.id, supplier_id=account.supplier_id, month=str(month),
                             status="issued", version=1)
        _fill(rec, now, by=by, today=today, answer_days=settings.answer_days)
        return rec

    # One INSERT for all the new statements. The unique (account, month) decides a race: if
    # another issue of this month got in first, go one by one and leave its statements alone.
    try:
        with db.session.begin_nested():
            made = [new_rec(account, now) for account, now in fresh]
            db.session.add_all(made)
        result.issued.extend(made)
    except IntegrityError:
        for account, now in fresh:
            try:
                with db.session.begin_nested():
                    rec = new_rec(account, now)
                    db.session.add(rec)
                result.issued.append(rec)
            except IntegrityError:
                result.unchanged.append(find(account, month))
    db.session.flush()
    changed = result.issued + result.reissued
    db.session.add_all([_version(rec) for rec in changed])
    for rec in changed:
        _event(rec, "issued" if rec.version == 1 else "reissued", by=by, at=rec.issued_at)
    users = {}
    for user in db.session.execute(select(User).where(
            User.account_id.in_([rec.account_id for rec in changed] or [-1]), User.is_active_user.is_(True))).scalars():
        users.setdefault(user.account_id, []).append(user)
    for rec in changed:
        if rec.account_id in users:
            tell_account(rec, "statement_issued", users[rec.account_id])
    db.session.flush()
    if changed:
        record("statements_issued", None, by=by, object_type="reconciliations",
               label=f"{month} ×{len(changed)}")
    return result


def issue_after_close(month: Month, *, by, today: date | None = None) -> IssueResult:
    """Closing a month issues the company's statements of it (its general distributors and
    directly supplied dealers)."""
    return issue(issuable_accounts(month, None), month, by=by, today=today)


# --- answering a statement ------------------------------------------------------------------

def _lock(rec: Reconciliation) -> Reconciliation:
    """The reconciliation row, locked and re-read (PostgreSQL), so that two answers to it queue."""
    return db.session.execute(select(Reconciliation).where(Reconciliation.id == rec.id)
                              .with_for_update().execution_options(populate_existing=True)).scalar_one()


def confirm(rec: Reconciliation, *, shown_hash: str, by, ip: str | None = None,
            signed_by: str | None = None, at: datetime | None = None) -> Reconciliation:
    """The account agrees to the content it was shown (`shown_hash`); `at` only for loading
    history (the demo), else now."""
    rec = _lock(rec)
    _refuse_reopened(rec)
    now = content(rec.account, Month.parse(rec.month), rec)
    status = core.check_confirm(rec.status, shown_hash, now.hash, rec.content_hash)
    values = {"confirmed_at": at or utcnow(), "confirmed_by_id": getattr(by, "id", None),
              "confirmed_by_name": (signed_by or "").strip()[:100] or None,
              "confirmed_ip": (ip or "")[:64] or None, "confirmed_hash": now.hash, "status": status}
    with db.session.no_autoflush:  # one UPDATE: once confirmed, the row is frozen
        for name, value in values.items():
            setattr(rec, name, value)
    db.session.flush()
    _event(rec, "confirmed", by=by, author_name=rec.confirmed_by_name, ip=rec.confirmed_ip, at=rec.confirmed_at)
    record("statement_confirmed", rec, by=by, object_type="reconciliations", label=str(rec))
    if at is None:
        _request_settlement(rec, by)
    return rec


def _request_settlement(rec: Reconciliation, by):
    """The month's settlement PDF prints the confirmation: ask for it again (queued for the
    scheduler's render queue; an unchanged report is not rendered twice)."""
    from ..reports.services import request_report

    request_report("settlement", Month.parse(rec.month), rec.account, current_app.config["REPORT_LANGUAGE"],
                   by=by)


def _refuse_reopened(rec):
    """A month reopened for corrections is answered when it is closed (and re-issued) again."""
    if rec.status in ("issued", "disputed") and not ledger.is_closed(Month.parse(rec.month)):
        raise ReconciliationError("month_reopened", month=rec.month)


@dataclass(frozen=True)
class DisputeInput:
    """One disputed line: a document on the statement, or (document None) one the account misses."""

    reason: str
    document: Document | None = None
    missing_date: date | None = None
    missing_amount_fen: int | None = None
    missing_ref: str | None = None
    attachment: object | None = None  # a StoredFile
    attachment_name: str | None = None


def dispute(rec: Reconciliation, *, shown_hash: str, lines: list[DisputeInput], by,
            ip: str | None = None, signed_by: str | None = None, note: str | None = None) -> list[DisputeItem]:
    rec = _lock(rec)
    _refuse_reopened(rec)
    now = content(rec.account, Month.parse(rec.month), rec)
    numbers = [ln.number for ln in now.statement.lines] + [c.number for c in now.corrections]
    for line in lines:
        if line.document is None and line.missing_amount_fen is not None and line.missing_amount_fen <= 0:
            raise ReconciliationError("amount_positive", "missing_amount")
    rec.status = core.check_dispute(
        rec.status, shown_hash, now.hash, rec.content_hash,
        [core.DisputedLine(line.document.number if line.document else "", line.reason) for line in lines],
        numbers)
    items = []
    for line in lines:
        item = DisputeItem(reconciliation_id=rec.id, version=rec.version,
                           document_id=getattr(line.document, "id", None),
                           missing_date=line.missing_date if line.document is None else None,
                           missing_amount_fen=line.missing_amount_fen if line.document is None else None,
                           missing_ref=((line.missing_ref or "").strip()[:64] or None) if line.document is None else None,
                           reason=line.reason.strip(),
                           attachment_sha256=getattr(line.attachment, "sha256", None),
                           attachment_name=(line.attachment_name or "attachment")[:200] if line.attachment else None,
                           raised_by_id=getattr(by, "id", None))
        db.session.add(item)
        items.append(item)
    db.session.flush()
    signed = (signed_by or "").strip()[:100] or None
    _event(rec, "disputed", by=by, body=(note or "").strip() or None, author_name=signed, ip=(ip or "")[:64] or None)
    record("statement_disputed", rec, by=by, object_type="reconciliations", label=str(rec),
           reason="; ".join(i.reason for i in items)[:500])
    _tell_answerers(rec)
    return items


def _tell_answerers(rec: Reconciliation):
    """A dispute goes to whoever answers it: the distributor for its dealers' statements; for the
    company's, finance and the region's supervisors."""
    if rec.supplier_id is not None:
        users = portal_users(rec.supplier)
    else:
        users = [u for u in db.session.execute(select(User).where(
            User.role.in_(("finance", "supervisor")), User.is_active_user.is_(True))).scalars()
            if can("answer_dispute", rec, user=u)]
    if users:
        notify(users, "statement_disputed", {"month": rec.month, "account": rec.account.code},
               f"/reconciliation/{rec.id}")


# --- answering a dispute --------------------------------------------------------------------

@dataclass(frozen=True)
class Adjustment:
    amount_fen: int
    direction: str  # "debit": the account owes more; "credit": less


def answer(item: DisputeItem, *, message: str, by, reverse: bool = False,
           adjustment: Adjustment | None = None, on: date | None = None) -> DisputeItem:
    """Explain a disputed line (a message), or correct it through the ledger (reverse the
    disputed document and/or post an adjustment, in the open month `on`, linked to the dispute).
    When no line of the statement is left open it is re-issued."""
    message = (message or "").strip()
    if not message:
        raise ReconciliationError("answer_required", "message")
    rec = _lock(item.reconciliation)
    db.session.refresh(item)
    if item.status != "open":
        raise ReconciliationError("already_answered")
    if reverse and item.document is None:
        raise ReconciliationError("nothing_to_reverse", "reverse")
    on = on or business_today()
    posted = []
    if reverse:
        posted.append(ledger.reverse_document(item.document, reason=message, on=on, by=by))
    if adjustment is not None:
        posted.append(ledger.post_document(
            kind="adjustment", account=rec.account, on=on, amount_fen=adjustment.amount_fen,
            direction=adjustment.direction, reason=message, memo=f"对账 {rec.month}", by=by).document)
    for document in posted:
        db.session.add(DisputeCorrection(item_id=item.id, document_id=document.id))
    values = {"answered_by_id": getattr(by, "id", None), "status": "corrected" if posted else "explained",
              "answer": message, "answered_at": utcnow()}
    with db.session.no_autoflush:  # one UPDATE: an answered line is never changed again
        for name, value in values.items():
            setattr(item, name, value)
    db.session.flush()
    body = message if not posted else f"{message} ({', '.join(d.number for d in posted)})"
    _event(rec, item.status, by=by, body=body, item=item)
    record("dispute_answered", rec, by=by, object_type="reconciliations", label=str(rec), reason=body[:500])
    left = db.session.execute(select(func.count()).select_from(DisputeItem).where(
        DisputeItem.reconciliation_id == rec.id, DisputeItem.status == "open")).scalar_one()
    if core.status_after_answer(left) == "issued":
        now = content(rec.account, Month.parse(rec.month), rec)
        rec.version += 1
        rec.status = "issued"
        _new_version(rec, now, by=by, today=business_today(), answer_days=get_settings().answer_days)
        _event(rec, "reissued", by=by)
        tell_account(rec, "statement_reissued")
    return item


# --- holds on shipments ---------------------------------------------------------------------

def overdue(today: date, account_ids=None):
    """The company-tier reconciliations past their due date without an answer."""
    stmt = select(Reconciliation).where(Reconciliation.status == "issued", Reconciliation.due_on < today,
                                        Reconciliation.supplier_id.is_(None))
    if account_ids is not None:
        stmt = stmt.where(Reconciliation.account_id.in_(list(account_ids) or [-1]))
    return list(db.session.execute(stmt.order_by(Reconciliation.month)).scalars())


def shipment_holds(account_ids, today: date | None = None) -> dict[int, tuple[str, str]]:
    """{account id: (action, month)} for accounts whose overdue reconciliation affects new
    shipments by finance's setting: "warn" or "hold" (a released hold is no hold)."""
    action = get_settings().overdue_action
    if action == "none" or not account_ids:
        return {}
    recs = overdue(today or business_today(), account_ids)
    released = set(db.session.execute(select(HoldRelease.reconciliation_id, HoldRelease.version).where(
        HoldRelease.reconciliation_id.in_([r.id for r in recs] or [-1]))).all())
    holds = {}
    for rec in recs:
        if action == "hold" and (rec.id, rec.version) in released:
            continue
        holds.setdefault(rec.account_id, (action, rec.month))
    return holds


def release_hold(rec: Reconciliation, *, reason: str, by) -> HoldRelease:
    reason = (reason or "").strip()
    if not reason:
        raise ReconciliationError("reason_required", "reason")
    rec = _lock(rec)
    if not core.is_overdue(rec.status, rec.due_on, business_today()):
        raise ReconciliationError("not_overdue")
    exists = db.session.execute(select(HoldRelease).where(
        HoldRelease.reconciliation_id == rec.id, HoldRelease.version == rec.version)).scalar_one_or_none()
    if exists is not None:
        raise ReconciliationError("already_released")
    release = HoldRelease(reconciliation_id=rec.id, version=rec.version, reason=reason[:500],
                          released_by_id=getattr(by, "id", None))
    db.session.add(release)
    db.session.flush()
    _event(rec, "hold_released", by=by, body=reason)
    record("hold_released", rec, by=by, object_type="reconciliations", label=str(rec), reason=reason)
    return release


def released(rec: Reconciliation) -> HoldRelease | None:
    return db.session.execute(select(HoldRelease).where(
        HoldRelease.reconciliation_id == rec.id, HoldRelease.version == rec.version)).scalar_one_or_none()


# --- policy pass-through (兑现政策) ------------------------------------------------------------

def _signed_credit():
    """A credit as a positive amount, a debit (a reversed credit) as negative."""
    return func.coalesce(func.sum(case((Document.direction == "credit", Document.amount_fen),
                                       else_=-Document.amount_fen)), 0)


def received_for_dealers(distributor_ids, start: date | None, end: date) -> dict[tuple[int, int], int]:
    """{(distributor, dealer): fen} the company credited distributors for their dealers."""
    stmt = (select(Document.account_id, Document.for_account_id, _signed_credit())
            .where(Document.account_id.in_(list(distributor_ids) or [-1]), Document.for_account_id.is_not(None),
                   Document.document_date <= end)
            .group_by(Document.account_id, Document.for_account_id))
    if start is not None:
        stmt = stmt.where(Document.document_date >= start)
    return {(d, dealer): int(v) for d, dealer, v in db.session.execute(stmt).all()}


def passed_to_dealers(distributor_ids, start: date | None, end: date) -> dict[tuple[int, int], int]:
    """{(distributor, dealer): fen} distributors credited their dealers passing payouts on."""
    stmt = (select(Document.supplier_id, Document.account_id, _signed_credit())
            .where(Document.supplier_id.in_(list(distributor_ids) or [-1]), Document.passes_on_id.is_not(None),
                   Document.document_date <= end)
            .group_by(Document.supplier_id, Document.account_id))
    if start is not None:
        stmt = stmt.where(Document.document_date >= start)
    return {(d, dealer): int(v) for d, dealer, v in db.session.execute(stmt).all()}


def pass_through(distributor: Account, through: date) -> list[core.PassThrough]:
    received = {dealer: v for (_, dealer), v in received_for_dealers([distributor.id], None, through).items()}
    passed = {dealer: v for (_, dealer), v in passed_to_dealers([distributor.id], None, through).items()}
    return core.pass_through(received, passed)


@dataclass
class Payout:
    """A company rebate for one dealer and what of it is still to pass on."""

    document: Document
    passed_fen: int

    @property
    def received_fen(self) -> int:
        return 0 if self.document.reversed_by is not None else self.document.amount_fen

    @property
    def outstanding_fen(self) -> int:
        return self.received_fen - self.passed_fen


def payouts(distributor: Account, *, dealer: Account | None = None, open_only=False) -> list[Payout]:
    stmt = (select(Document).where(Document.account_id == distributor.id, Document.for_account_id.is_not(None),
                                   Document.reversal_of_id.is_(None))
            .order_by(Document.document_date.desc(), Document.id.desc()))
    if dealer is not None:
        stmt = stmt.where(Document.for_account_id == dealer.id)
    docs = list(db.session.execute(stmt).scalars())
    passed = dict(db.session.execute(
        select(Document.passes_on_id, _signed_credit())
        .where(Document.passes_on_id.in_([d.id for d in docs] or [-1])).group_by(Document.passes_on_id)).all())
    result = [Payout(d, int(passed.get(d.id, 0))) for d in docs]
    return [p for p in result if p.outstanding_fen > 0] if open_only else result


def pass_on(payout: Document, *, amount_fen: int, on: date, by, memo: str | None = None):
    """The distributor credits the dealer a company payout meant for it (all or part of what is
    still outstanding), as a rebate on the dealer's ledger linked to the payout."""
    dealer = payout.for_account
    result = ledger.post_document(kind="rebate", account=dealer, on=on, amount_fen=amount_fen, by=by,
                                  passes_on=payout, memo=memo or f"兑现 {payout.number}")
    return result.document


# --- the supervisor's board ------------------------------------------------------------------

@dataclass
class BoardRow:
    distributor: Account
    rec: Reconciliation | None
    status: str  # issued / disputed / confirmed / overdue / not_issued
    dealers: int  # dealers with something to reconcile this month
    dealers_settled: int  # of which confirmed
    received_fen: int  # payouts for dealers credited this month
    passed_fen: int  # passed on this month
    gap_fen: int  # still to pass on at the month's end (cumulative)


def board(month: Month, distributors: list[Account], today: date | None = None) -> list[BoardRow]:
    today = today or business_today()
    ids = [d.id for d in distributors]
    recs = {r.account_id: r for r in db.session.execute(select(Reconciliation).where(
        Reconciliation.month == str(month), Reconciliation.account_id.in_(ids or [-1]))).scalars()}
    from ..ledger.models import BalanceSnapshot

    dealer_rows = db.session.execute(
        select(Account.supplier_id, func.count(), func.count(Reconciliation.id).filter(
            Reconciliation.status == "confirmed"))
        .join(BalanceSnapshot, and_(BalanceSnapshot.account_id == Account.id, BalanceSnapshot.month == str(month)))
        .outerjoin(Reconciliation, and_(Reconciliation.account_id == Account.id,
                                        Reconciliation.month == str(month)))
        .where(Account.supplier_id.in_(ids or [-1]),
               or_(BalanceSnapshot.closing_fen != 0, BalanceSnapshot.debit_fen != 0, BalanceSnapshot.credit_fen != 0))
        .group_by(Account.supplier_id)).all()
    dealers = {s: (n, settled) for s, n, settled in dealer_rows}
    month_in = received_for_dealers(ids, month.first_day, month.last_day)
    month_out = passed_to_dealers(ids, month.first_day, month.last_day)
    all_in = received_for_dealers(ids, None, month.last_day)
    all_out = passed_to_dealers(ids, None, month.last_day)

    def per(d, values):
        return sum(v for (dist, _), v in values.items() if dist == d)

    rows = []
    for d in distributors:
        rec = recs.get(d.id)
        status = core.display_status(rec.status, rec.due_on, today) if rec else "not_issued"
        n, settled = dealers.get(d.id, (0, 0))
        gaps = core.pass_through({k[1]: v for k, v in all_in.items() if k[0] == d.id},
                                 {k[1]: v for k, v in all_out.items() if k[0] == d.id})
        rows.append(BoardRow(d, rec, status, n, settled, per(d.id, month_in), per(d.id, month_out),
                             sum(g.gap_fen for g in gaps if g.flagged)))
    return rows


# --- the dashboard ----------------------------------------------------------------------------

def waiting_for(user) -> dict:
    """What reconciliation asks of a user, for the dashboard: a distributor's statements to
    answer, disputes, dealers to issue and payouts to pass on; finance's and supervisors' open
    disputes and overdue statements."""
    today = business_today()
    out = {}
    if user.role == "distributor":
        own = list(db.session.execute(select(Reconciliation).where(
            Reconciliation.account_id == user.account_id, Reconciliation.status == "issued")
            .order_by(Reconciliation.month)).scalars())
        out["to_answer"] = own
        out["overdue"] = [r for r in own if core.is_overdue(r.status, r.due_on, today)]
        out["dealer_disputes"] = db.session.execute(
            select(func.count()).select_from(DisputeItem).join(Reconciliation)
            .where(Reconciliation.supplier_id == user.account_id, DisputeItem.status == "open")).scalar_one()
        out["own_disputes"] = db.session.execute(
            select(func.count()).select_from(DisputeItem).join(Reconciliation)
            .where(Reconciliation.account_id == user.account_id, DisputeItem.status == "open")).scalar_one()
        open_payouts = payouts(user.account, open_only=True)
        out["payouts"] = len(open_payouts)
        out["payouts_fen"] = sum(p.outstanding_fen for p in open_payouts)
        last = ledger.last_closed_month()
        if last is not None:
            expected = issuable_accounts(last, user.account)
            issued = db.session.execute(select(func.count()).select_from(Reconciliation).where(
                Reconciliation.month == str(last), Reconciliation.supplier_id == user.account_id)).scalar_one()
            out["dealer_month"] = last
            out["dealers_to_issue"] = max(0, len(expected) - issued)
    elif can("view_reconciliation_board", user=user):
        recs = scope_accounts(select(Reconciliation.id).join(Account, Reconciliation.account_id == Account.id)
                              .where(Reconciliation.supplier_id.is_(None)), user)
        out["open_disputes"] = db.session.execute(
            select(func.count()).select_from(DisputeItem).where(
                DisputeItem.status == "open", DisputeItem.reconciliation_id.in_(recs))).scalar_one()
        out["overdue"] = db.session.execute(select(func.count()).select_from(Reconciliation).where(
            Reconciliation.id.in_(recs), Reconciliation.status == "issued",
            Reconciliation.due_on < today)).scalar_one()
    return out
