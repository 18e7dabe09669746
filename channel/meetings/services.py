"""Monthly meetings: writing them (every step checked by channel.core.meetings), the agenda, the
month's targets, action items and their follow-up, and what the boards and dashboards show.

Writing services lock the meeting (or action item) row (PostgreSQL: SELECT ... FOR UPDATE, re-read;
SQLite: the view called begin_write() first) and check the version the user saw: of two people
acting at once, one wins and the other gets MeetingError("stale"). Services flush; the caller
commits.

Which regions expect a meeting: every region with active accounts of its own (a 大区 whose
accounts all sit in its cities expects one per city, not one more for itself).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import selectinload

from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import can, region_scope, region_tree_ids
from ..core import meetings as core
from ..core.periods import Month
from ..db_types import utcnow
from ..extensions import db
from ..masterdata.models import Account, Region, in_tree_order
from ..notify.services import notify, register_kind
from ..plans.services import business_today
from .models import AGENDA_KINDS, ActionItem, AgendaItem, Meeting, MeetingAttendee, MeetingTarget

MeetingError = core.MeetingError
MAX_TEXT = 4000
MAX_TARGET_FEN = 10**12  # ¥10,000,000,000.00: anything above is a typing error

register_kind("meeting_minutes", _l("Minutes of %(title)s published"),
              _l("The minutes (会议纪要) of %(title)s on %(date)s are published: your targets for %(month)s "
                 "and the action items are in them."))
register_kind("action_item_assigned", _l("Action item %(number)s is yours"),
              _l("%(by)s gave you action item %(number)s from %(title)s: %(item)s (due %(due)s)."))

__all__ = ["MeetingError", "business_today"]


# --- reading ----------------------------------------------------------------------------------------

def meetings_query(user):
    """The meetings a user sees: admin and finance all; supervisors and field staff those of their
    regions; a distributor the published minutes of meetings its account (or a dealer of it) was
    invited to."""
    stmt = select(Meeting)
    if user.role in ("admin", "finance"):
        return stmt
    if user.role == "distributor":
        invited = (select(MeetingAttendee.meeting_id).join(Account, Account.id == MeetingAttendee.account_id)
                   .where(or_(Account.id == user.account_id, Account.supplier_id == user.account_id)))
        return stmt.where(Meeting.status == "published", Meeting.id.in_(invited))
    return stmt.where(Meeting.region_id.in_(region_scope(user) or [-1]))


def meeting_regions(user=None) -> list[Region]:
    """The regions that expect a monthly meeting (those with active accounts of their own), in
    the user's scope, in tree order."""
    with_accounts = select(Account.region_id).where(Account.status == "active").distinct()
    regions = list(db.session.execute(select(Region).where(Region.id.in_(with_accounts))).scalars())
    if user is not None:
        scope = region_scope(user)
        if scope is not None:
            regions = [r for r in regions if r.id in scope]
    return in_tree_order(regions)


def regions_without_meeting(user, month: Month) -> list[Region]:
    """The regions of the user's scope with no meeting scheduled or held in the month."""
    regions = meeting_regions(user)
    rows = db.session.execute(select(Meeting.region_id, Meeting.meeting_date).where(
        Meeting.month == str(month), Meeting.region_id.in_([r.id for r in regions] or [-1]))).all()
    missing = set(core.regions_without_meeting([r.id for r in regions], rows, month))
    return [r for r in regions if r.id in missing]


def earlier_open_items(meeting: Meeting) -> list[ActionItem]:
    """The open action items of the region's earlier meetings (the next agenda starts with them),
    the overdue first, by due date."""
    items = db.session.execute(
        select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(Meeting.region_id == meeting.region_id, ActionItem.status == "open", Meeting.id != meeting.id,
               or_(Meeting.meeting_date < meeting.meeting_date,
                   (Meeting.meeting_date == meeting.meeting_date) & (Meeting.id < meeting.id)))
        .options(selectinload(ActionItem.owner), selectinload(ActionItem.meeting))).scalars().all()
    by_key = {i.id: i for i in items}
    order = core.carry_over([core.ActionItem(i.id, i.due_on, i.status) for i in items])
    return [by_key[i.key] for i in order]


def carried_over(meeting: Meeting) -> list[dict]:
    """What the agenda starts with: the open items of earlier meetings as they stood when the
    meeting was held (kept with it), or as they stand now for a planned meeting."""
    if meeting.carried_over is not None:
        return list(meeting.carried_over)
    today = business_today()
    return [_item_snapshot(i, today) for i in earlier_open_items(meeting)]


def _item_snapshot(item: ActionItem, today: date) -> dict:
    return {"id": item.id, "number": item.number, "title": item.title, "owner": item.owner.full_name,
            "due_on": item.due_on.isoformat() if item.due_on else None,
            "raised_on": item.meeting.meeting_date.isoformat(), "status": item.status,
            "overdue": core.ActionItem(item.id, item.due_on, item.status).overdue(today)}


def overdue_items(user, today: date | None = None) -> list[ActionItem]:
    """Overdue open action items the user should chase: their own, and for a supervisor (or
    admin) every one of their regions' meetings; the earliest due first."""
    today = today or business_today()
    stmt = (select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
            .where(ActionItem.status == "open", ActionItem.due_on < today)
            .options(selectinload(ActionItem.owner), selectinload(ActionItem.meeting).selectinload(Meeting.region)))
    if user.role == "admin":
        pass
    elif user.role == "supervisor":
        stmt = stmt.where(or_(ActionItem.owner_id == user.id,
                              Meeting.region_id.in_(region_scope(user) or [-1])))
    else:
        stmt = stmt.where(ActionItem.owner_id == user.id)
    return list(db.session.execute(stmt.order_by(ActionItem.due_on, ActionItem.id)).scalars())


def visible_items_query(user):
    """Action items the user sees (owned, or of meetings they see), in any status."""
    seen = meetings_query(user).with_only_columns(Meeting.id)
    return (select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
            .where(or_(ActionItem.owner_id == user.id, ActionItem.meeting_id.in_(seen))))


@dataclass(frozen=True)
class MonthTarget:
    """Targets of a month summed over accounts, shaped like an Achievement's plan side (the
    monthly roll-up of the plan pages sets the month's actual figures against it)."""

    plan_fen: int
    plan_paid_fen: int
    accounts: int
    plan_qty: int = 0


def targets(account_ids, month: Month) -> MonthTarget | None:
    """The month's targets of these accounts together, or None when none of them has one."""
    account_ids = list(account_ids)
    if not account_ids:
        return None
    row = db.session.execute(select(func.count(), func.sum(MeetingTarget.shipment_fen),
                                    func.sum(MeetingTarget.payment_fen))
                             .where(MeetingTarget.month == str(month),
                                    MeetingTarget.account_id.in_(account_ids))).one()
    if not row[0]:
        return None
    return MonthTarget(int(row[1] or 0), int(row[2] or 0), int(row[0]))


def account_targets(account_ids, month: Month) -> dict[int, MeetingTarget]:
    """{account id: its target for the month}."""
    account_ids = list(account_ids)
    if not account_ids:
        return {}
    return {t.account_id: t for t in db.session.execute(select(MeetingTarget).where(
        MeetingTarget.month == str(month), MeetingTarget.account_id.in_(account_ids))).scalars()}


def invitable_accounts(region: Region) -> list[Account]:
    """The active accounts of the region and its sub-regions (distributors and dealers)."""
    tree = region_tree_ids([region.id])
    return list(db.session.execute(select(Account).where(Account.region_id.in_(tree), Account.status == "active")
                                   .order_by(Account.kind.desc(), Account.code)).scalars())


def invitable_staff(region: Region) -> list[User]:
    """Active supervisors of the region (or above it) and field staff of its tree."""
    tree = region_tree_ids([region.id])
    users = db.session.execute(select(User).where(User.is_active_user.is_(True),
                                                  User.role.in_(("supervisor", "field_staff", "admin")))
                               .order_by(User.full_name)).scalars()
    out = []
    for u in users:
        if u.role == "field_staff" and u.region_id in tree:
            out.append(u)
        elif u.role == "supervisor" and region.id in (region_scope(u) or set()):
            out.append(u)
    return out


def items_query(user, *, status: str = "open", mine: bool = False, today: date | None = None):
    """Action items for the items page: those the user sees (visible_items_query), in a status
    ("open", "done" or "all"), only the user's own if `mine`; the user's own first, then the
    overdue, then by due date. A distributor sees the items of its own accounts and those raised
    for no account (another account's problems are not its business)."""
    today = today or business_today()
    stmt = visible_items_query(user)
    if status in ("open", "done"):
        stmt = stmt.where(ActionItem.status == status)
    if mine:
        stmt = stmt.where(ActionItem.owner_id == user.id)
    if user.role == "distributor":
        own = select(Account.id).where(or_(Account.id == user.account_id, Account.supplier_id == user.account_id))
        stmt = stmt.where(or_(ActionItem.account_id.is_(None), ActionItem.account_id.in_(own)))
    overdue = case(((ActionItem.status == "open") & (ActionItem.due_on < today), 1), else_=0)
    return (stmt.options(selectinload(ActionItem.owner), selectinload(ActionItem.account),
                         selectinload(ActionItem.meeting).selectinload(Meeting.region))
            .order_by((ActionItem.owner_id == user.id).desc(), overdue.desc(), ActionItem.status.desc(),
                      ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id))


def is_overdue(item: ActionItem, today: date | None = None) -> bool:
    return core.ActionItem(item.id, item.due_on, item.status).overdue(today or business_today())


def owners_for(region: Region, user=None, current: User | None = None) -> list[User]:
    """Who may own an action item of the region's meeting: its staff (invitable_staff), the
    acting user (a manager from head office) and the item's current owner."""
    owners = invitable_staff(region)
    for extra in (user, current):
        if (extra is not None and extra.role != "distributor" and extra.is_active_user
                and all(u.id != extra.id for u in owners)):
            owners.append(extra)
    return owners


def announceable_promotions(region: Region, user=None) -> list:
    """Promotions a policy item of the region's meeting may link: drafts and published ones (not
    yet settled) running in the region, above it or below it, that the user may open."""
    from ..promotions.models import Promotion, PromotionRegion

    parents = dict(db.session.execute(select(Region.id, Region.parent_id)).all())
    touching, node = set(region_tree_ids([region.id])), region.id
    while node is not None:
        touching.add(node)
        node = parents.get(node)
    rows = db.session.execute(
        select(Promotion).where(Promotion.status.in_(("draft", "published")), Promotion.id.in_(
            select(PromotionRegion.promotion_id).where(PromotionRegion.region_id.in_(touching))))
        .order_by(Promotion.starts_on.desc(), Promotion.code)).scalars().all()
    return [p for p in rows if user is None or can("view_promotion", p, user=user)]


# --- writing ----------------------------------------------------------------------------------------

def _lock(meeting: Meeting) -> Meeting:
    return db.session.execute(select(Meeting).where(Meeting.id == meeting.id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def _check_version(meeting: Meeting, version: int | None):
    if version is not None and meeting.version != version:
        raise MeetingError("stale", status=meeting.status)


def _bump(meeting: Meeting):
    meeting.version += 1


def _text(value, field, *, required=False, limit=MAX_TEXT):
    value = (value or "").strip()
    if required and not value:
        raise MeetingError("required", field)
    if len(value) > limit:
        raise MeetingError("too_long", field, limit=limit)
    return value or None


def _require_unpublished(meeting: Meeting):
    if meeting.status == "published":
        raise MeetingError("already_published")


def _check_people(region: Region, account_ids, user_ids):
    accounts = {a.id for a in invitable_accounts(region)}
    bad = [a for a in account_ids if a not in accounts]
    if bad:
        raise MeetingError("account_not_in_region", "accounts")
    staff = {u.id for u in invitable_staff(region)}
    if any(u not in staff for u in user_ids):
        raise MeetingError("user_not_in_region", "staff")


def _set_invitees(meeting: Meeting, account_ids, user_ids):
    account_ids, user_ids = set(account_ids), set(user_ids)
    _check_people(meeting.region, account_ids, user_ids)
    for a in list(meeting.attendees):
        if (a.account_id is not None and a.account_id not in account_ids) or (
                a.user_id is not None and a.user_id not in user_ids):
            meeting.attendees.remove(a)
    have_accounts = {a.account_id for a in meeting.attendees if a.account_id is not None}
    have_users = {a.user_id for a in meeting.attendees if a.user_id is not None}
    for account_id in sorted(account_ids - have_accounts):
        meeting.attendees.append(MeetingAttendee(account_id=account_id, attended=False))
    for user_id in sorted(user_ids - have_users):
        meeting.attendees.append(MeetingAttendee(user_id=user_id, attended=False))


def _when(on, at):
    if not isinstance(on, date) or isinstance(on, datetime):
        raise MeetingError("date_required", "meeting_date")
    if at is not None and not isinstance(at, time):
        raise MeetingError("time_invalid", "meeting_time")
    return on, at


def create_meeting(region: Region, *, on: date, at: time | None, place: str, title: str, by,
                   account_ids=(), user_ids=()) -> Meeting:
    if not can("schedule_meetings", region, user=by):
        raise MeetingError("not_your_region")
    on, at = _when(on, at)
    meeting = Meeting(region_id=region.id, region=region, month=str(Month.of(on)), meeting_date=on,
                      meeting_time=at, place=_text(place, "place", required=True, limit=200),
                      title=_text(title, "title", required=True, limit=200), status="planned", version=1,
                      created_by_id=by.id)
    db.session.add(meeting)
    _set_invitees(meeting, account_ids, user_ids)
    db.session.flush()
    record("meeting_created", meeting, by=by, label=str(meeting))
    return meeting


def update_meeting(meeting: Meeting, *, version: int | None, on: date, at: time | None, place: str, title: str,
                   summary: str | None = None, account_ids=(), user_ids=(), by) -> Meeting:
    """Details and invitees; the date only while planned (a held meeting happened that day)."""
    meeting = _lock(meeting)
    _check_version(meeting, version)
    _require_unpublished(meeting)
    on, at = _when(on, at)
    if meeting.status != "planned" and on != meeting.meeting_date:
        raise MeetingError("date_fixed_when_held", "meeting_date")
    if str(Month.of(on)) != meeting.month and meeting.targets:
        raise MeetingError("month_has_targets", "meeting_date", month=meeting.month)
    before = {"date": meeting.meeting_date.isoformat(), "place": meeting.place, "title": meeting.title}
    meeting.meeting_date, meeting.meeting_time, meeting.month = on, at, str(Month.of(on))
    meeting.place = _text(place, "place", required=True, limit=200)
    meeting.title = _text(title, "title", required=True, limit=200)
    meeting.summary = _text(summary, "summary")
    _set_invitees(meeting, account_ids, user_ids)
    _bump(meeting)
    db.session.flush()
    after = {"date": meeting.meeting_date.isoformat(), "place": meeting.place, "title": meeting.title}
    record("meeting_changed", meeting, by=by, label=str(meeting),
           changes={k: [before[k], after[k]] for k in before if before[k] != after[k]} or None)
    return meeting


def delete_meeting(meeting: Meeting, *, version: int | None, by) -> None:
    """A planned meeting that will not take place (a held one is kept)."""
    meeting = _lock(meeting)
    _check_version(meeting, version)
    if meeting.status != "planned":
        raise MeetingError("not_planned", status=meeting.status)
    label = str(meeting)
    for item in list(meeting.action_items):
        db.session.delete(item)
    db.session.flush()
    db.session.delete(meeting)
    db.session.flush()
    record("meeting_deleted", None, by=by, object_type="meetings", label=label)


def hold(meeting: Meeting, *, version: int | None, attended_account_ids=(), attended_user_ids=(), by,
         today: date | None = None) -> Meeting:
    """The meeting took place: who attended, and the open items reviewed are kept with it."""
    meeting = _lock(meeting)
    _check_version(meeting, version)
    today = today or business_today()
    status = core.next_status(meeting.status, "hold", on=meeting.meeting_date, today=today)
    attended_accounts, attended_users = set(attended_account_ids), set(attended_user_ids)
    invited_accounts = {a.account_id for a in meeting.attendees if a.account_id is not None}
    invited_users = {a.user_id for a in meeting.attendees if a.user_id is not None}
    if not attended_accounts <= invited_accounts or not attended_users <= invited_users:
        raise MeetingError("attendee_not_invited", "attended")
    for a in meeting.attendees:
        a.attended = (a.account_id in attended_accounts) if a.account_id is not None else (a.user_id in attended_users)
    meeting.carried_over = [_item_snapshot(i, today) for i in earlier_open_items(meeting)]
    meeting.status, meeting.held_by_id, meeting.held_at = status, by.id, utcnow()
    _bump(meeting)
    db.session.flush()
    record("meeting_held", meeting, by=by, label=str(meeting))
    return meeting


def publish(meeting: Meeting, *, version: int | None, by, today: date | None = None) -> Meeting:
    """The minutes are final: the invited accounts' portal users are told."""
    meeting = _lock(meeting)
    _check_version(meeting, version)
    status = core.next_status(meeting.status, "publish", on=meeting.meeting_date, today=today or business_today())
    meeting.status, meeting.published_by_id, meeting.published_at = status, by.id, utcnow()
    _bump(meeting)
    db.session.flush()
    record("meeting_published", meeting, by=by, label=str(meeting))
    account_ids = {a.account_id for a in meeting.attendees if a.account_id is not None}
    readers = db.session.execute(select(User).where(User.role == "distributor", User.is_active_user.is_(True),
                                                    User.account_id.in_(account_ids or [-1]))).scalars().all()
    if readers:
        notify(readers, "meeting_minutes", {"title": meeting.title, "date": meeting.meeting_date.isoformat(),
                                            "month": meeting.month}, f"/meetings/{meeting.id}")
    return meeting


# --- the agenda -------------------------------------------------------------------------------------

def add_agenda_item(meeting: Meeting, *, kind: str, title: str, body: str | None = None, promotion=None,
                    version: int | None = None, by) -> AgendaItem:
    meeting = _lock(meeting)
    _check_version(meeting, version)
    _require_unpublished(meeting)
    if kind not in AGENDA_KINDS:
        raise MeetingError("kind_unknown", "kind")
    if promotion is not None and kind != "policy":
        raise MeetingError("promotion_only_policy", "promotion")
    seq = max((i.seq for i in meeting.agenda), default=0) + 1
    item = AgendaItem(seq=seq, kind=kind, title=_text(title, "title", required=True, limit=200),
                      body=_text(body, "body"), promotion_id=promotion.id if promotion is not None else None)
    meeting.agenda.append(item)
    _bump(meeting)
    db.session.flush()
    record("meeting_agenda_added", meeting, by=by, label=f"{meeting} · {item.title}")
    return item


def delete_agenda_item(item: AgendaItem, *, version: int | None = None, by) -> None:
    meeting = _lock(item.meeting)
    _check_version(meeting, version)
    _require_unpublished(meeting)
    label = f"{meeting} · {item.title}"
    meeting.agenda.remove(item)
    _bump(meeting)
    db.session.flush()
    record("meeting_agenda_removed", meeting, by=by, label=label)


def set_targets(meeting: Meeting, targets_by_account: dict, *, version: int | None = None, by) -> Meeting:
    """{account id: (shipment fen, payment fen) or None to remove}: the month's targets of invited
    accounts. An account has one target a month: one set at another meeting of the month is
    refused (naming that meeting)."""
    meeting = _lock(meeting)
    _check_version(meeting, version)
    _require_unpublished(meeting)
    invited = {a.account_id for a in meeting.attendees if a.account_id is not None}
    current = {t.account_id: t for t in meeting.targets}
    elsewhere = {t.account_id: t for t in db.session.execute(select(MeetingTarget).where(
        MeetingTarget.month == meeting.month, MeetingTarget.meeting_id != meeting.id,
        MeetingTarget.account_id.in_(list(targets_by_account) or [-1]))).scalars()}
    changes = {}
    for account_id, figures in sorted(targets_by_account.items()):
        if account_id not in invited:
            raise MeetingError("target_not_invited", "targets")
        if figures is None:
            if account_id in current:
                meeting.targets.remove(current[account_id])
                changes[account_id] = None
            continue
        shipment, payment = figures
        for value in (shipment, payment):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > MAX_TARGET_FEN:
                raise MeetingError("target_invalid", "targets")
        if account_id in elsewhere:
            other = elsewhere[account_id]
            raise MeetingError("target_set_elsewhere", "targets", account=other.account.code,
                               meeting=str(other.meeting))
        if account_id in current:
            row = current[account_id]
            if (row.shipment_fen, row.payment_fen) != (shipment, payment):
                row.shipment_fen, row.payment_fen = shipment, payment
                changes[account_id] = [shipment, payment]
        else:
            meeting.targets.append(MeetingTarget(account_id=account_id, month=meeting.month,
                                                 shipment_fen=shipment, payment_fen=payment))
            changes[account_id] = [shipment, payment]
    if changes:
        _bump(meeting)
        db.session.flush()
        record("meeting_targets_set", meeting, by=by, label=str(meeting),
               changes={str(k): v for k, v in changes.items()})
    return meeting


# --- action items -----------------------------------------------------------------------------------

def _lock_item(item: ActionItem) -> ActionItem:
    return db.session.execute(select(ActionItem).where(ActionItem.id == item.id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def _check_owner(meeting: Meeting, owner: User):
    if owner is None or not owner.is_active_user or owner.role == "distributor":
        raise MeetingError("owner_invalid", "owner")


def raise_item(meeting: Meeting, *, title: str, owner: User, due_on: date | None, detail: str | None = None,
               account: Account | None = None, version: int | None = None, by) -> ActionItem:
    """A problem raised at the meeting: an action item with an owner and a due date."""
    meeting = _lock(meeting)
    _check_version(meeting, version)
    _require_unpublished(meeting)
    _check_owner(meeting, owner)
    if account is not None and account.id not in {a.account_id for a in meeting.attendees}:
        raise MeetingError("account_not_invited", "account")
    if due_on is not None and due_on < meeting.meeting_date:
        raise MeetingError("due_before_meeting", "due_on")
    seq = (db.session.execute(select(func.max(ActionItem.seq)).where(ActionItem.meeting_id == meeting.id))
           .scalar_one() or 0) + 1
    item = ActionItem(meeting_id=meeting.id, seq=seq, title=_text(title, "title", required=True, limit=200),
                      detail=_text(detail, "detail"), account_id=account.id if account is not None else None,
                      owner_id=owner.id, due_on=due_on, status="open", version=1)
    db.session.add(item)
    _bump(meeting)
    db.session.flush()
    record("action_item_raised", item, by=by, label=f"{item.number} {item.title}")
    if owner.id != by.id:
        notify([owner], "action_item_assigned",
               {"number": item.number, "title": meeting.title, "item": item.title, "by": by.full_name,
                "due": due_on.isoformat() if due_on else "—"}, f"/meetings/{meeting.id}#item-{item.id}")
    return item


def update_item(item: ActionItem, *, version: int | None, owner: User, due_on: date | None, by) -> ActionItem:
    """Re-assign or re-schedule an open item (also after the minutes: the follow-up goes on)."""
    item = _lock_item(item)
    if version is not None and item.version != version:
        raise MeetingError("stale", status=item.status)
    if item.status != "open":
        raise MeetingError("item_done")
    _check_owner(item.meeting, owner)
    if due_on is not None and due_on < item.meeting.meeting_date:
        raise MeetingError("due_before_meeting", "due_on")
    before = {"owner": item.owner.full_name, "due_on": item.due_on.isoformat() if item.due_on else None}
    item.owner_id, item.due_on = owner.id, due_on
    item.version += 1
    db.session.flush()
    db.session.refresh(item, ["owner"])
    after = {"owner": item.owner.full_name, "due_on": item.due_on.isoformat() if item.due_on else None}
    record("action_item_changed", item, by=by, label=f"{item.number} {item.title}",
           changes={k: [before[k], after[k]] for k in before if before[k] != after[k]} or None)
    return item


def resolve_item(item: ActionItem, *, version: int | None, resolution: str, by) -> ActionItem:
    item = _lock_item(item)
    if version is not None and item.version != version:
        raise MeetingError("stale", status=item.status)
    if item.status != "open":
        raise MeetingError("item_done")
    item.status, item.resolution, item.resolved_by_id, item.resolved_at = (
        "done", _text(resolution, "resolution", required=True), by.id, utcnow())
    item.version += 1
    db.session.flush()
    record("action_item_resolved", item, by=by, label=f"{item.number} {item.title}", reason=item.resolution)
    return item


def reopen_item(item: ActionItem, *, version: int | None, reason: str, by) -> ActionItem:
    item = _lock_item(item)
    if version is not None and item.version != version:
        raise MeetingError("stale", status=item.status)
    if item.status != "done":
        raise MeetingError("item_open")
    reason = _text(reason, "reason", required=True)
    item.status, item.resolution, item.resolved_by_id, item.resolved_at = "open", None, None, None
    item.version += 1
    db.session.flush()
    record("action_item_reopened", item, by=by, label=f"{item.number} {item.title}", reason=reason)
    return item
