"""Expense claims: writing them, every step checked by channel.core.expenses; budgets, policy
caps, flags, and what waits for whom.

Writing services lock the claim row (PostgreSQL: SELECT ... FOR UPDATE, re-read; SQLite: the view
called begin_write() first), check the version the user saw, then act: of two supervisors
clicking "approve" at once, one wins and the other gets ExpenseError("stale") naming who acted.
Each transition is an ExpenseEvent with the claim's next version (unique per claim), so the
database refuses a second one too. Services flush; the caller commits.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import can, region_scope, region_tree_ids, scope_claims
from ..core import expenses as core
from ..core.money import format_fen
from ..core.periods import Month
from ..db_types import utcnow
from ..extensions import db
from ..files.services import store
from ..masterdata.models import Account, Region
from ..notify.services import notify, register_kind
from ..system.models import Setting
from .models import BUDGET_CATEGORIES, ExpenseBudget, ExpenseClaim, ExpenseEvent, ExpenseLine, ExpenseReceipt

ExpenseError = core.ExpenseError

register_kind("expense_submitted", _l("Expense claim %(number)s of %(claimant)s waits for your approval"),
              _l("%(claimant)s submitted expense claim %(number)s for %(month)s: %(amount)s."))
register_kind("expense_second_approval", _l("Expense claim %(number)s needs a second approval"),
              _l("%(approver)s approved expense claim %(number)s of %(claimant)s (%(amount)s); above the "
                 "second-approval amount it needs your approval too."))
register_kind("expense_rejected", _l("Expense claim %(number)s returned to you"),
              _l("%(by)s returned your expense claim %(number)s: %(comment)s. Revise it and submit it again."))
register_kind("expense_approved", _l("Expense claim %(number)s approved"),
              _l("Your expense claim %(number)s is approved for %(amount)s. Finance pays it."))
register_kind("expense_paid", _l("Expense claim %(number)s paid"),
              _l("%(amount)s of your expense claim %(number)s was paid on %(date)s (reference %(reference)s)."))

WAITING = ("submitted", "second_approval")
APPROVED = ("approved", "paid")
SECOND_APPROVAL_KEY = "expenses.second_approval_over_fen"
CAPS_KEY = "expenses.caps"
MAX_LINE_FEN = 10**10  # ¥100,000,000.00: anything above is a typing error


def business_today() -> date:
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


# --- settings: the second-approval amount and the policy caps --------------------------------

@dataclass(frozen=True)
class Settings:
    second_approval_over_fen: int
    caps: core.Caps


def _default_caps() -> core.Caps:
    cfg = current_app.config
    return core.Caps(per_day_fen=dict(cfg["EXPENSE_CAPS_PER_DAY_FEN"]),
                     per_night_fen={int(k): v for k, v in cfg["EXPENSE_CAPS_PER_NIGHT_FEN"].items()})


def get_settings() -> Settings:
    rows = dict(db.session.execute(select(Setting.key, Setting.value).where(
        Setting.key.in_((SECOND_APPROVAL_KEY, CAPS_KEY)))).all())
    over = current_app.config["EXPENSE_SECOND_APPROVAL_OVER_FEN"]
    if SECOND_APPROVAL_KEY in rows and rows[SECOND_APPROVAL_KEY].isdigit():
        over = int(rows[SECOND_APPROVAL_KEY])
    caps = _default_caps()
    if CAPS_KEY in rows:
        try:
            raw = json.loads(rows[CAPS_KEY])
            caps = core.Caps(per_day_fen={k: int(v) for k, v in raw["per_day"].items() if k in core.CATEGORIES},
                             per_night_fen={int(k): int(v) for k, v in raw["per_night"].items()
                                            if int(k) in core.CITY_TIERS})
        except (ValueError, KeyError, TypeError, AttributeError):
            pass  # a damaged row falls back to the configured caps
    return Settings(over, caps)


def save_settings(*, second_approval_over_fen: int, per_day_fen: dict, per_night_fen: dict, by) -> Settings:
    """per_day_fen: {category: fen} (categories without a cap left out); per_night_fen: {tier: fen}."""
    for value in (second_approval_over_fen, *per_day_fen.values(), *per_night_fen.values()):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"amounts are non-negative integer fen, got {value!r}")
    if set(per_day_fen) - set(core.CATEGORIES) or set(per_night_fen) - set(core.CITY_TIERS):
        raise ValueError("unknown category or city tier")
    before = get_settings()
    values = {SECOND_APPROVAL_KEY: str(second_approval_over_fen),
              CAPS_KEY: json.dumps({"per_day": per_day_fen, "per_night": {str(k): v for k, v in per_night_fen.items()}},
                                   sort_keys=True)}
    for key, value in values.items():
        row = db.session.get(Setting, key)
        if row is None:
            db.session.add(Setting(key=key, value=value))
        else:
            row.value = value
    db.session.flush()
    after = get_settings()
    changes = {}
    if before.second_approval_over_fen != after.second_approval_over_fen:
        changes["second_approval_over"] = [format_fen(before.second_approval_over_fen),
                                           format_fen(after.second_approval_over_fen)]
    if before.caps != after.caps:
        changes["caps"] = [_caps_text(before.caps), _caps_text(after.caps)]
    if changes:
        record("settings_changed", None, by=by, object_type="settings", label="expenses", changes=changes)
    return after


def _caps_text(caps: core.Caps) -> str:
    day = ", ".join(f"{k} {format_fen(v)}/day" for k, v in sorted(caps.per_day_fen.items()))
    night = ", ".join(f"tier {k} {format_fen(v)}/night" for k, v in sorted(caps.per_night_fen.items()))
    return "; ".join(p for p in (day, night) if p)


# --- who claims where, who approves ----------------------------------------------------------

def top_region(region: Region) -> Region:
    while region.parent is not None:
        region = region.parent
    return region


def claim_regions(user) -> list[Region]:
    """The regions a user may claim expenses in: field staff their region, a supervisor the
    regions they supervise."""
    if user.role == "field_staff" and user.region is not None:
        return [user.region]
    if user.role == "supervisor":
        return list(user.supervised_regions)
    return []


def is_second_approver(user) -> bool:
    return user.role == "admin" or (bool(user.second_approver) and user.role in ("supervisor", "finance"))


_ANY = object()


def actor(user, claim: ExpenseClaim, regions=_ANY) -> core.Actor:
    """`regions`: the user's region_scope when the caller has it already (a queue of claims)."""
    regions = region_scope(user) if regions is _ANY else regions
    in_scope = regions is None or claim.region_id in regions
    return core.Actor(user.id, user.role,
                      supervises_region=user.role == "supervisor" and in_scope,
                      second_approver=is_second_approver(user) and in_scope)


def next_status(claim: ExpenseClaim, action: str, user, settings: Settings | None = None, regions=_ANY) -> str:
    """The status `action` by `user` would give the claim, or ExpenseError."""
    settings = settings or get_settings()
    return core.next_status(claim.status, action, actor=actor(user, claim, regions), claimant_id=claim.claimant_id,
                            claimant_role=claim.claimant.role, total_fen=claim.claimed_fen,
                            second_approval_over_fen=settings.second_approval_over_fen,
                            first_approver_id=claim.first_approver_id)


def may(claim: ExpenseClaim, action: str, user) -> bool:
    try:
        next_status(claim, action, user)
    except ExpenseError:
        return False
    return True


def approvers_of(claim: ExpenseClaim, status: str) -> list[User]:
    """Who is told a claim waits for them: the supervisors of its region (or of a region above
    it), or the second approvers who see the region."""
    users = db.session.execute(select(User).where(User.is_active_user.is_(True),
                                                  User.role.in_(("admin", "supervisor", "finance")))).scalars()
    out = []
    for user in users:
        if user.id == claim.claimant_id:
            continue
        if status == "second_approval" and user.id == claim.first_approver_id:
            continue
        if may(claim, "approve", user) and (status == "second_approval" or claim.claimant.role == "supervisor"
                                            or user.role == "supervisor"):
            out.append(user)
    if status == "submitted" and claim.claimant.role != "supervisor":
        # A field staff claim goes to the region's own supervisors; a manager who may approve
        # every region (a second approver) is told only where the region has no one else.
        out = [user for user in out if not is_second_approver(user)] or out
    return out


# --- drafts: the claim, its lines and receipts ------------------------------------------------

@dataclass
class LineInput:
    spent_on: date
    category: str
    amount_fen: int
    description: str = ""
    account_id: int | None = None
    nights: int = 1
    city_tier: int | None = None


def _lock(claim: ExpenseClaim) -> ExpenseClaim:
    """The claim row, locked and re-read (PostgreSQL), so that two actions on it queue."""
    return db.session.execute(select(ExpenseClaim).where(ExpenseClaim.id == claim.id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def _check_version(claim: ExpenseClaim, version: int | None):
    if version is not None and claim.version != version:
        last = claim.events[-1] if claim.events else None
        raise ExpenseError("stale", who=last.by.full_name if last and last.by else "",
                           status=claim.status)


def _require_draft(claim: ExpenseClaim, by):
    if claim.claimant_id != by.id:
        raise ExpenseError("not_your_claim")
    if claim.status != "draft":
        raise ExpenseError("not_a_draft", status=claim.status)


def _title(title) -> str:
    title = (title or "").strip()
    if not title:
        raise ExpenseError("title_required", "title")
    if len(title) > 200:
        raise ExpenseError("title_too_long", "title")
    return title


def create_claim(claimant, *, month: Month, title: str, region: Region | None = None) -> ExpenseClaim:
    regions = claim_regions(claimant)
    if not regions or not can("create_claims", user=claimant):
        raise ExpenseError("cannot_claim")
    region = region or regions[0]
    if region.id not in {r.id for r in regions}:
        raise ExpenseError("region_not_yours", "region")
    if month > Month.of(business_today()):
        raise ExpenseError("month_in_future", "month")
    claim = ExpenseClaim(claimant_id=claimant.id, region_id=region.id, budget_region_id=top_region(region).id,
                         month=str(month), title=_title(title), status="draft", version=1, claimed_fen=0)
    db.session.add(claim)
    db.session.flush()
    record("expense_claim_created", claim, by=claimant)
    return claim


def update_claim(claim: ExpenseClaim, *, title: str, month: Month, region: Region | None = None, by) -> ExpenseClaim:
    claim = _lock(claim)
    _require_draft(claim, by)
    regions = {r.id: r for r in claim_regions(by)}
    region = region or claim.region
    if region.id not in regions:
        raise ExpenseError("region_not_yours", "region")
    if month > Month.of(business_today()):
        raise ExpenseError("month_in_future", "month")
    if any(Month.of(line.spent_on) != month for line in claim.lines):
        raise ExpenseError("lines_outside_month", "month", month=str(month))
    before = {"title": claim.title, "month": claim.month, "region": claim.region.name}
    claim.title, claim.month = _title(title), str(month)
    claim.region_id, claim.budget_region_id = region.id, top_region(region).id
    db.session.flush()
    db.session.refresh(claim, ["region"])
    after = {"title": claim.title, "month": claim.month, "region": claim.region.name}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        record("expense_claim_changed", claim, by=by, changes=changes)
    return claim


def delete_claim(claim: ExpenseClaim, *, by) -> None:
    """A draft that was never submitted (one with history is kept: it is revised instead)."""
    claim = _lock(claim)
    _require_draft(claim, by)
    if claim.events:
        raise ExpenseError("has_history")
    label = str(claim)
    for line in claim.lines:
        for receipt in line.receipts:
            db.session.delete(receipt)
        db.session.delete(line)
    db.session.flush()
    db.session.delete(claim)
    db.session.flush()
    record("expense_claim_deleted", None, by=by, object_type="expense_claims", label=label)


def _check_line(claim: ExpenseClaim, data: LineInput, by) -> None:
    if not isinstance(data.amount_fen, int) or isinstance(data.amount_fen, bool):
        raise ExpenseError("amount_invalid", "amount")
    core.check_line(core.Line(data.spent_on, data.category, data.amount_fen, nights=data.nights,
                              city_tier=data.city_tier))
    if data.amount_fen > MAX_LINE_FEN:
        raise ExpenseError("amount_too_large", "amount")
    if Month.of(data.spent_on) != Month.parse(claim.month):
        raise ExpenseError("date_outside_month", "spent_on", month=claim.month)
    if data.spent_on > business_today():
        raise ExpenseError("date_in_future", "spent_on")
    if data.category == "accommodation" and data.city_tier is None:
        raise ExpenseError("city_tier_required", "city_tier")
    if len(data.description or "") > 200:
        raise ExpenseError("description_too_long", "description")
    if data.account_id is not None:
        account = db.session.get(Account, data.account_id)
        if account is None or not can("view_account", account, user=by):
            raise ExpenseError("account_unknown", "account")


def _retotal(claim: ExpenseClaim) -> None:
    db.session.flush()
    claim.claimed_fen = db.session.execute(select(func.coalesce(func.sum(ExpenseLine.amount_fen), 0))
                                           .where(ExpenseLine.claim_id == claim.id)).scalar_one()
    db.session.flush()
    db.session.expire(claim, ["lines"])


def add_line(claim: ExpenseClaim, data: LineInput, *, by) -> ExpenseLine:
    claim = _lock(claim)
    _require_draft(claim, by)
    _check_line(claim, data, by)
    line = ExpenseLine(claim_id=claim.id, spent_on=data.spent_on, category=data.category,
                       description=(data.description or "").strip(), account_id=data.account_id,
                       amount_fen=data.amount_fen, nights=data.nights if data.category == "accommodation" else 1,
                       city_tier=data.city_tier if data.category == "accommodation" else None)
    db.session.add(line)
    _retotal(claim)
    return line


def update_line(line: ExpenseLine, data: LineInput, *, by) -> ExpenseLine:
    claim = _lock(line.claim)
    _require_draft(claim, by)
    _check_line(claim, data, by)
    line.spent_on, line.category, line.amount_fen = data.spent_on, data.category, data.amount_fen
    line.description, line.account_id = (data.description or "").strip(), data.account_id
    line.nights = data.nights if data.category == "accommodation" else 1
    line.city_tier = data.city_tier if data.category == "accommodation" else None
    _retotal(claim)
    return line


def delete_line(line: ExpenseLine, *, by) -> None:
    claim = _lock(line.claim)
    _require_draft(claim, by)
    for receipt in line.receipts:
        db.session.delete(receipt)
    db.session.flush()
    db.session.delete(line)
    _retotal(claim)


def safe_filename(name: str | None) -> str:
    """The name shown for an upload: its last path component only (a browser may send
    C:\\fakepath\\x.pdf or ../../x.pdf), without control characters, at most 200 characters."""
    name = (name or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    return name[-200:] or "receipt"


def add_receipt(line: ExpenseLine, upload, *, filename: str | None = None, by) -> ExpenseReceipt:
    """Raises FileRefused (channel.files) for a file that is not stored."""
    claim = _lock(line.claim)
    _require_draft(claim, by)
    stored = store(upload)
    name = safe_filename(filename if filename is not None else getattr(upload, "filename", None))
    existing = db.session.execute(select(ExpenseReceipt).where(
        ExpenseReceipt.line_id == line.id, ExpenseReceipt.sha256 == stored.sha256)).scalar_one_or_none()
    if existing is not None:
        return existing
    receipt = ExpenseReceipt(claim_id=claim.id, line_id=line.id, sha256=stored.sha256, filename=name,
                             uploaded_by_id=by.id)
    db.session.add(receipt)
    db.session.flush()
    return receipt


def remove_receipt(receipt: ExpenseReceipt, *, by) -> None:
    claim = _lock(db.session.get(ExpenseClaim, receipt.claim_id))
    _require_draft(claim, by)
    db.session.delete(receipt)
    db.session.flush()


# --- transitions ------------------------------------------------------------------------------

def _event(claim: ExpenseClaim, action: str, before: str, *, by, amount_fen=None, comment=None,
           override_reason=None, ip=None) -> ExpenseEvent:
    claim.version += 1
    event = ExpenseEvent(claim_id=claim.id, seq=claim.version, action=action, from_status=before,
                         to_status=claim.status, by_id=by.id, at=utcnow(), comment=comment or None,
                         override_reason=override_reason or None, amount_fen=amount_fen, ip=ip)
    db.session.add(event)
    db.session.flush()
    db.session.expire(claim, ["events"])
    return event


def _params(claim: ExpenseClaim, **extra) -> dict:
    return {"number": claim.number, "claimant": claim.claimant.full_name, "month": claim.month, **extra}


def _link(claim: ExpenseClaim) -> str:
    return f"/expenses/{claim.id}"


def submit(claim: ExpenseClaim, *, by, version: int | None = None, ip: str | None = None) -> ExpenseClaim:
    claim = _lock(claim)
    _check_version(claim, version)
    if claim.status == "draft" and claim.claimant_id == by.id:
        for line in claim.lines:  # a draft kept from last month may hold a line dated in the future no more
            _check_line(claim, LineInput(line.spent_on, line.category, line.amount_fen, line.description,
                                         line.account_id, line.nights, line.city_tier), by)
    new = next_status(claim, "submit", by)
    before = claim.status
    claim.status, claim.submitted_at = new, utcnow()
    _event(claim, "submit", before, by=by, amount_fen=claim.claimed_fen, ip=ip)
    record("expense_claim_submitted", claim, by=by, changes={"status": [before, new]})
    notify(approvers_of(claim, new), "expense_submitted", _params(claim, amount=format_fen(claim.claimed_fen)),
           _link(claim))
    return claim


def approve(claim: ExpenseClaim, *, by, version: int | None = None, cuts: dict | None = None,
            override_reason: str | None = None, comment: str | None = None, ip: str | None = None) -> ExpenseClaim:
    """cuts: {line id: (approved fen, reason)} for lines paid below their claimed amount.
    Over the budget (total or a category's) the approval needs `override_reason`."""
    claim = _lock(claim)
    _check_version(claim, version)
    settings = get_settings()
    new = next_status(claim, "approve", by, settings)
    lines = {line.id: line for line in claim.lines}
    for line_id, (approved_fen, reason) in (cuts or {}).items():
        line = lines.get(line_id)
        if line is None:
            raise ExpenseError("line_unknown")
        cut = core.cut(core.Line(line.spent_on, line.category, line.amount_fen), approved_fen, reason)
        line.approved_fen, line.cut_reason = cut.approved_fen, (cut.cut_reason or None)
        if line.approved_fen == line.amount_fen:
            line.cut_reason = None
    payable = sum(line.payable_fen for line in lines.values())
    uses = budget_uses(claim)
    override_reason = (override_reason or "").strip() or None
    for _, use in uses:
        core.check_override(use, override_reason)
    over = any(use.over for _, use in uses)
    final = new == "approved"
    if final:
        for line in lines.values():
            if line.approved_fen is None:
                line.approved_fen = line.amount_fen
    db.session.flush()  # the lines first: once the claim is approved they are final
    before, now = claim.status, utcnow()
    if before == "second_approval":
        claim.second_approver_id = by.id
    else:
        claim.first_approver_id, claim.first_approved_at = by.id, now
    claim.status = new
    if final:
        claim.approver_id, claim.approved_at, claim.approved_fen = by.id, now, payable
    _event(claim, "approve", before, by=by, amount_fen=payable, comment=(comment or "").strip(),
           override_reason=override_reason if over else None, ip=ip)
    changes = {"status": [before, new]}
    cut_lines = {str(i): [format_fen(lines[i].amount_fen), format_fen(lines[i].approved_fen)]
                 for i in (cuts or {}) if lines[i].approved_fen != lines[i].amount_fen}
    if cut_lines:
        changes["cuts"] = cut_lines
    record("expense_claim_approved", claim, by=by, changes=changes)
    if over:
        record("expense_budget_override", claim, by=by, reason=override_reason,
               changes={"left_after": [None, format_fen(min(u.left_after_fen for _, u in uses if u.over))]})
    if final:
        notify([claim.claimant], "expense_approved", _params(claim, amount=format_fen(payable)), _link(claim))
    else:
        notify(approvers_of(claim, new), "expense_second_approval",
               _params(claim, amount=format_fen(payable), approver=by.full_name), _link(claim))
    return claim


def reject(claim: ExpenseClaim, *, by, comment: str, version: int | None = None,
           ip: str | None = None) -> ExpenseClaim:
    """Back to its owner as a draft, with the comment; cuts and approvals are undone, the history kept."""
    claim = _lock(claim)
    _check_version(claim, version)
    comment = (comment or "").strip()
    new = next_status(claim, "reject", by)
    if not comment:
        raise ExpenseError("comment_required", "comment")
    before = claim.status
    claim.status = new
    claim.first_approver_id = claim.first_approved_at = claim.second_approver_id = None
    claim.submitted_at = None
    db.session.flush()
    for line in claim.lines:
        line.approved_fen = line.cut_reason = None
    _event(claim, "reject", before, by=by, amount_fen=claim.claimed_fen, comment=comment, ip=ip)
    record("expense_claim_rejected", claim, by=by, reason=comment, changes={"status": [before, new]})
    notify([claim.claimant], "expense_rejected", _params(claim, by=by.full_name, comment=comment), _link(claim))
    return claim


def pay(claim: ExpenseClaim, *, by, paid_on: date, reference: str, version: int | None = None,
        ip: str | None = None) -> ExpenseClaim:
    """Finance pays the approved amount, never more; a paid claim never changes again."""
    claim = _lock(claim)
    _check_version(claim, version)
    new = next_status(claim, "pay", by)
    reference = (reference or "").strip()
    if not reference:
        raise ExpenseError("reference_required", "reference")
    if len(reference) > 64:
        raise ExpenseError("reference_too_long", "reference")
    if not isinstance(paid_on, date) or paid_on > business_today():
        raise ExpenseError("paid_on_in_future", "paid_on")
    before = claim.status
    with db.session.no_autoflush:
        claim.paid_on, claim.payment_ref, claim.paid_by_id = paid_on, reference, by.id
        claim.paid_at, claim.paid_fen = utcnow(), claim.approved_fen
        claim.status = new
        _event(claim, "pay", before, by=by, amount_fen=claim.approved_fen, comment=reference, ip=ip)
    record("expense_claim_paid", claim, by=by, changes={"status": [before, new],
                                                        "paid": [None, format_fen(claim.paid_fen)]})
    notify([claim.claimant], "expense_paid", _params(claim, amount=format_fen(claim.paid_fen),
                                                     date=paid_on.isoformat(), reference=reference), _link(claim))
    return claim


def approve_many(claims, *, by, versions: dict | None = None,
                 ip: str | None = None) -> tuple[list[ExpenseClaim], list[tuple[ExpenseClaim, ExpenseError]]]:
    """Bulk approval of the given claims that carry no flag (caps, duplicate receipts, budget):
    each in its own savepoint; the others and the refused ones are returned with the reason.
    versions: {claim id: the version the approver saw}; a claim that changed since is refused."""
    done, refused = [], []
    claims = list(claims)
    flags = flags_for(claims)  # as the queue showed them, before any of these is approved
    for claim in claims:
        if flags[claim.id].any:
            refused.append((claim, ExpenseError("flagged")))
            continue
        try:
            with db.session.begin_nested():
                version = (versions or {}).get(claim.id, claim.version)
                done.append(approve(claim, by=by, version=version, ip=ip))
        except ExpenseError as err:
            refused.append((claim, err))
    return done, refused


# --- budgets ----------------------------------------------------------------------------------

def budget_uses(claim: ExpenseClaim) -> list[tuple[str, core.BudgetUse]]:
    """For the claim's budget region and month: ('total', use) and then one per category of the
    claim's lines. Approved so far counts approved and paid claims (their approved amounts);
    pending, the other claims waiting for an approval (their claimed amounts); this claim, what
    would be approved now (cuts applied)."""
    rows = db.session.execute(
        select(ExpenseLine.category, ExpenseClaim.status,
               func.sum(case((ExpenseClaim.status.in_(APPROVED),
                              func.coalesce(ExpenseLine.approved_fen, ExpenseLine.amount_fen)),
                             else_=ExpenseLine.amount_fen)))
        .join(ExpenseClaim, ExpenseLine.claim_id == ExpenseClaim.id)
        .where(ExpenseClaim.budget_region_id == claim.budget_region_id, ExpenseClaim.month == claim.month,
               ExpenseClaim.id != claim.id, ExpenseClaim.status.in_(APPROVED + WAITING))
        .group_by(ExpenseLine.category, ExpenseClaim.status)).all()
    approved, pending = defaultdict(int), defaultdict(int)
    for category, status, amount in rows:
        (approved if status in APPROVED else pending)[category] += int(amount or 0)
    budgets = dict(db.session.execute(select(ExpenseBudget.category, ExpenseBudget.amount_fen).where(
        ExpenseBudget.region_id == claim.budget_region_id, ExpenseBudget.month == claim.month)).all())
    this = defaultdict(int)
    for line in claim.lines:
        this[line.category] += line.payable_fen
    out = [("total", core.BudgetUse(budgets.get("total"), sum(approved.values()), sum(pending.values()),
                                    sum(this.values())))]
    for category in core.CATEGORIES:
        if category in this:
            out.append((category, core.BudgetUse(budgets.get(category), approved[category], pending[category],
                                                 this[category])))
    return out


def budgets_of(month: Month) -> dict[tuple[int, str], int]:
    """{(region id, category or 'total'): fen} for the month."""
    return {(r, c): a for r, c, a in db.session.execute(
        select(ExpenseBudget.region_id, ExpenseBudget.category, ExpenseBudget.amount_fen)
        .where(ExpenseBudget.month == str(month))).all()}


def budget_regions() -> list[Region]:
    """Budgets are set for the top regions (大区): a claim counts against its region's top."""
    return list(db.session.execute(select(Region).where(Region.parent_id.is_(None)).order_by(Region.code)).scalars())


def set_budgets(month: Month, region: Region, amounts: dict, *, by) -> int:
    """amounts: {category or 'total': fen or None}; None removes that budget. Returns how many
    changed. Audited with before and after."""
    if region.parent_id is not None:
        raise ExpenseError("budget_region_not_top", "region")
    existing = {b.category: b for b in db.session.execute(select(ExpenseBudget).where(
        ExpenseBudget.region_id == region.id, ExpenseBudget.month == str(month))).scalars()}
    changes = {}
    for category, fen in amounts.items():
        if category not in BUDGET_CATEGORIES:
            raise ExpenseError("category_unknown", "category", category=category)
        if fen is not None and (not isinstance(fen, int) or isinstance(fen, bool) or fen < 0):
            raise ExpenseError("budget_amount_invalid", category)
        row = existing.get(category)
        old = row.amount_fen if row is not None else None
        if old == fen:
            continue
        if fen is None:
            db.session.delete(row)
        elif row is None:
            db.session.add(ExpenseBudget(region_id=region.id, month=str(month), category=category,
                                         amount_fen=fen, updated_by_id=by.id))
        else:
            row.amount_fen, row.updated_by_id = fen, by.id
        changes[category] = [format_fen(old) if old is not None else None,
                             format_fen(fen) if fen is not None else None]
    db.session.flush()
    if changes:
        record("expense_budget_set", None, by=by, object_type="expense_budgets",
               label=f"{region.name} {month}", changes=changes)
    return len(changes)


def copy_budgets(source: Month, target: Month, *, by) -> int:
    """Copies the source month's budgets into the target month where the target has none for
    that region and category (what was set already stays). Returns how many were copied."""
    have = budgets_of(target)
    copied = 0
    by_region = defaultdict(dict)
    for (region_id, category), fen in budgets_of(source).items():
        if (region_id, category) not in have:
            by_region[region_id][category] = fen
    for region_id, amounts in by_region.items():
        copied += set_budgets(target, db.session.get(Region, region_id), amounts, by=by)
    return copied


# --- flags: policy caps, duplicate receipts, budget -------------------------------------------

@dataclass
class ClaimFlags:
    lines: dict = field(default_factory=dict)  # line id -> reason code (over_day_cap / over_night_cap)
    duplicates: dict = field(default_factory=dict)  # receipt id -> [numbers of the other claims]
    over_budget: bool = False

    @property
    def any(self) -> bool:
        return bool(self.lines or self.duplicates or self.over_budget)


def line_flags(lines, caps: core.Caps) -> dict:
    """{line id: reason code} for lines over a policy cap."""
    lines = list(lines)
    flagged = core.flag_lines([core.Line(ln.spent_on, ln.category, ln.amount_fen, nights=ln.nights,
                                         city_tier=ln.city_tier) for ln in lines], caps)
    return {lines[i].id: code for i, code in flagged.items()}


def duplicate_receipts(claim: ExpenseClaim) -> dict:
    """{receipt id: [numbers of other claims holding the same file]}."""
    mine = db.session.execute(select(ExpenseReceipt.id, ExpenseReceipt.sha256)
                              .where(ExpenseReceipt.claim_id == claim.id)).all()
    if not mine:
        return {}
    others = defaultdict(set)
    for sha, claim_id, month in db.session.execute(
            select(ExpenseReceipt.sha256, ExpenseClaim.id, ExpenseClaim.month)
            .join(ExpenseClaim, ExpenseReceipt.claim_id == ExpenseClaim.id)
            .where(ExpenseReceipt.sha256.in_({s for _, s in mine}), ExpenseClaim.id != claim.id)).all():
        others[sha].add(f"BX{month.replace('-', '')}-{claim_id:05d}")
    return {rid: sorted(others[sha]) for rid, sha in mine if sha in others}


def claim_flags(claim: ExpenseClaim, settings: Settings | None = None) -> ClaimFlags:
    settings = settings or get_settings()
    return ClaimFlags(lines=line_flags(claim.lines, settings.caps), duplicates=duplicate_receipts(claim),
                      over_budget=any(use.over for _, use in budget_uses(claim)))


def flags_for(claims, settings: Settings | None = None) -> dict[int, ClaimFlags]:
    """{claim id: ClaimFlags} for a list of claims (a queue page) in five queries whatever
    their number: the same flags as claim_flags() of each, from what is stored (lines,
    receipts, the budget figures of every budget region and month among them)."""
    claims = list(claims)
    if not claims:
        return {}
    settings = settings or get_settings()
    ids = [c.id for c in claims]
    lines = defaultdict(list)
    for line in db.session.execute(select(ExpenseLine).where(ExpenseLine.claim_id.in_(ids))
                                   .order_by(ExpenseLine.spent_on, ExpenseLine.id)).scalars():
        lines[line.claim_id].append(line)
    # Receipts held by another claim too.
    mine = db.session.execute(select(ExpenseReceipt.id, ExpenseReceipt.claim_id, ExpenseReceipt.sha256)
                              .where(ExpenseReceipt.claim_id.in_(ids))).all()
    holders = defaultdict(set)
    if mine:
        for sha, claim_id, month in db.session.execute(
                select(ExpenseReceipt.sha256, ExpenseClaim.id, ExpenseClaim.month)
                .join(ExpenseClaim, ExpenseReceipt.claim_id == ExpenseClaim.id)
                .where(ExpenseReceipt.sha256.in_({sha for _, _, sha in mine}))).all():
            holders[sha].add((claim_id, month))
    duplicates = defaultdict(dict)
    for receipt_id, claim_id, sha in mine:
        others = sorted(f"BX{m.replace('-', '')}-{c:05d}" for c, m in holders[sha] if c != claim_id)
        if others:
            duplicates[claim_id][receipt_id] = others
    # Every budget region and month among the claims: approved and pending by category, all claims.
    keys = {(c.budget_region_id, c.month) for c in claims}
    where = or_(*[and_(ExpenseClaim.budget_region_id == r, ExpenseClaim.month == m) for r, m in keys])
    used = defaultdict(lambda: (defaultdict(int), defaultdict(int)))  # key -> (approved, pending) by category
    for region_id, month, category, status, amount in db.session.execute(
            select(ExpenseClaim.budget_region_id, ExpenseClaim.month, ExpenseLine.category, ExpenseClaim.status,
                   func.sum(case((ExpenseClaim.status.in_(APPROVED),
                                  func.coalesce(ExpenseLine.approved_fen, ExpenseLine.amount_fen)),
                                 else_=ExpenseLine.amount_fen)))
            .join(ExpenseClaim, ExpenseLine.claim_id == ExpenseClaim.id)
            .where(where, ExpenseClaim.status.in_(APPROVED + WAITING))
            .group_by(ExpenseClaim.budget_region_id, ExpenseClaim.month, ExpenseLine.category,
                      ExpenseClaim.status)).all():
        used[(region_id, month)][0 if status in APPROVED else 1][category] += int(amount or 0)
    budgets = defaultdict(dict)
    for region_id, month, category, amount in db.session.execute(
            select(ExpenseBudget.region_id, ExpenseBudget.month, ExpenseBudget.category, ExpenseBudget.amount_fen)
            .where(or_(*[and_(ExpenseBudget.region_id == r, ExpenseBudget.month == m) for r, m in keys]))).all():
        budgets[(region_id, month)][category] = amount
    out = {}
    for claim in claims:
        key = (claim.budget_region_id, claim.month)
        approved, pending = (defaultdict(int, d) for d in used[key])
        this = defaultdict(int)
        for line in lines[claim.id]:
            this[line.category] += line.payable_fen
            # The claim itself is "this claim", not part of what is approved or pending.
            if claim.status in APPROVED:
                approved[line.category] -= line.payable_fen
            elif claim.status in WAITING:
                pending[line.category] -= line.amount_fen
        uses = [core.BudgetUse(budgets[key].get("total"), sum(approved.values()), sum(pending.values()),
                               sum(this.values()))]
        uses += [core.BudgetUse(budgets[key].get(cat), approved[cat], pending[cat], this[cat]) for cat in this]
        out[claim.id] = ClaimFlags(lines=line_flags(lines[claim.id], settings.caps),
                                   duplicates=duplicates[claim.id], over_budget=any(u.over for u in uses))
    return out


# --- lists and what waits ---------------------------------------------------------------------

def claims_query(user, *, status: str | None = None, month: str | None = None, region_id: int | None = None,
                 claimant_id: int | None = None, search: str | None = None):
    """The claims `user` may see, filtered; newest first."""
    stmt = scope_claims(select(ExpenseClaim), user)
    if status:
        stmt = stmt.where(ExpenseClaim.status == status)
    if month:
        stmt = stmt.where(ExpenseClaim.month == month)
    if region_id:
        stmt = stmt.where(ExpenseClaim.region_id.in_(region_tree_ids([region_id])))
    if claimant_id:
        stmt = stmt.where(ExpenseClaim.claimant_id == claimant_id)
    if search:
        like = f"%{search.strip()}%"
        stmt = stmt.join(User, ExpenseClaim.claimant_id == User.id).where(
            User.full_name.ilike(like) | ExpenseClaim.title.ilike(like))
    return stmt.order_by(ExpenseClaim.month.desc(), ExpenseClaim.id.desc())


def approval_queue(user, **filters) -> list[ExpenseClaim]:
    """Claims waiting for this user's approval (first or second), oldest submission first."""
    stmt = claims_query(user, **filters).where(ExpenseClaim.status.in_(WAITING), ExpenseClaim.claimant_id != user.id)
    stmt = stmt.order_by(None).order_by(ExpenseClaim.submitted_at, ExpenseClaim.id).options(
        selectinload(ExpenseClaim.claimant), selectinload(ExpenseClaim.region))
    settings, regions = get_settings(), region_scope(user)
    out = []
    for claim in db.session.execute(stmt).scalars():
        try:
            next_status(claim, "approve", user, settings, regions)
        except ExpenseError:
            continue
        out.append(claim)
    return out


def payment_queue(user, **filters) -> list[ExpenseClaim]:
    if not can("pay_claims", user=user):
        return []
    stmt = claims_query(user, status="approved", **filters).order_by(None).order_by(
        ExpenseClaim.approved_at, ExpenseClaim.id)
    return list(db.session.execute(stmt).scalars())


def waiting_for(user) -> dict:
    """For the dashboard: what expenses ask of this user."""
    out = {}
    if can("create_claims", user=user):
        own = dict(db.session.execute(select(ExpenseClaim.status, func.count()).where(
            ExpenseClaim.claimant_id == user.id).group_by(ExpenseClaim.status)).all())
        out["drafts"] = own.get("draft", 0)
        out["returned"] = db.session.execute(select(func.count(func.distinct(ExpenseClaim.id))).select_from(ExpenseClaim)
                                             .join(ExpenseEvent).where(ExpenseClaim.claimant_id == user.id,
                                                                       ExpenseClaim.status == "draft",
                                                                       ExpenseEvent.action == "reject")).scalar_one()
        out["in_approval"] = own.get("submitted", 0) + own.get("second_approval", 0)
        out["to_be_paid"] = own.get("approved", 0)
    if user.role in ("admin", "supervisor") or is_second_approver(user):
        out["to_approve"] = len(approval_queue(user))
    if can("pay_claims", user=user):
        row = db.session.execute(select(func.count(), func.coalesce(func.sum(ExpenseClaim.approved_fen), 0))
                                 .where(ExpenseClaim.status == "approved")).one()
        out["to_pay"], out["to_pay_fen"] = row[0], int(row[1])
    return out
