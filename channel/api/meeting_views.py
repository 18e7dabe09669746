"""JSON API for monthly distributor meetings (月度经销商会议) and their action items: list and read
meetings (attendees, agenda, targets, action items, the open items carried over), schedule one,
change it, mark it held (who attended), publish the minutes, add agenda items, set the month's
targets, raise action items; list action items (open, overdue, mine), change their owner or due
date, resolve and reopen them.

The same rules, in the same order, as the pages: load, check (404 for a meeting or item the token's
user may not see, 403 for what their role never does), begin_write(), the service, one commit; a
refusal rolls back and says why with its `code` (a rule about who acts, not_your_region, answers
403; any other rule 422). Every writing call takes an optional `version` (of the meeting, or of
the action item, the client saw): one that moved since answers 409 with the current version.

Accounts are named by their codes, staff by their usernames, regions by their codes, amounts are
strings with two decimals (yuan), dates ISO, times "HH:MM" (the business time zone). "Today" is the
business day of the services."""
import re
from datetime import time

from flask import abort, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..auth.models import User
from ..auth.permissions import can, region_tree_ids
from ..core import meetings as core
from ..core.money import to_api
from ..core.periods import Month
from ..extensions import db
from ..masterdata.models import Account, Region
from ..meetings import services as ms
from ..meetings.messages import meeting_message
from ..meetings.minutes import account_filter, carried_for
from ..meetings.models import AGENDA_KINDS, ActionItem, Meeting
from ..promotions.models import Promotion
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
    bp,
)

CREATE_FIELDS = {"region", "date", "time", "place", "title", "accounts", "staff"}
PUT_FIELDS = {"version", "date", "time", "place", "title", "summary", "accounts", "staff"}
HOLD_FIELDS = {"version", "attended_accounts", "attended_staff"}
PUBLISH_FIELDS = {"version"}
AGENDA_FIELDS = {"version", "kind", "title", "body", "promotion"}
TARGETS_FIELDS = {"version", "targets"}
TARGET_FIELDS = {"account", "shipment", "payment"}
ITEM_FIELDS = {"version", "title", "detail", "owner", "due_on", "account"}
ITEM_PUT_FIELDS = {"version", "owner", "due_on"}
RESOLVE_FIELDS = {"version", "resolution"}
REOPEN_FIELDS = {"version", "reason"}
ITEM_STATUSES = ("open", "done", "overdue")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_ROWS = 500
MAX_TEXT = ms.MAX_TEXT
# Refusals about who acts: 403 (the others are 422).
WHO = ("not_your_region",)
# The services' names for inputs -> the API's.
FIELD_NAMES = {"meeting_date": "date", "meeting_time": "time"}


class Refused(api.Refused):
    """A meeting rule refused the request."""

    def __init__(self, err: core.MeetingError, field=None, status=None):
        if status is None:
            status = 403 if err.code in WHO else 422
        name = field if field is not None else FIELD_NAMES.get(err.field, err.field)
        super().__init__(meeting_message(err), err.code, name, status)
        self.info = err.info


class Stale(api.Stale):
    """The meeting (or action item) moved since the version the client saw."""

    def __init__(self, err: core.MeetingError, current):
        super().__init__(meeting_message(err), current.version, current.status)




# --- serialisation ------------------------------------------------------------------------------

def _time(value):
    return value.strftime("%H:%M") if value is not None else None


def meeting_json(m: Meeting) -> dict:
    return {
        "id": m.id, "region": m.region.code, "region_name": m.region.name, "month": m.month,
        "date": m.meeting_date.isoformat(), "time": _time(m.meeting_time), "place": m.place, "title": m.title,
        "status": m.status, "version": m.version,
        "held_by": _person(m.held_by), "held_at": _at(m.held_at),
        "published_by": _person(m.published_by), "published_at": _at(m.published_at),
        "url": url_for("api.show_meeting", meeting_id=m.id),
    }


def item_json(item: ActionItem, today) -> dict:
    return {
        "id": item.id, "number": item.number, "meeting": item.meeting_id, "title": item.title,
        "detail": item.detail, "account": item.account.code if item.account is not None else None,
        "owner": _person(item.owner), "due_on": _at(item.due_on), "status": item.status,
        "overdue": core.ActionItem(item.id, item.due_on, item.status).overdue(today), "version": item.version,
        "resolution": item.resolution, "resolved_by": _person(item.resolved_by), "resolved_at": _at(item.resolved_at),
        "created_at": _at(item.created_at), "url": url_for("api.show_action_item", item_id=item.id),
    }


def _actions(m: Meeting, user) -> list[str]:
    """What the user may do to the meeting now: "edit" (PUT), or the action paths to POST."""
    if m.status == "published" or not can("manage_meeting", m, user=user):
        return []
    out = ["edit", "agenda", "targets", "items"]
    out.append("hold" if m.status == "planned" else "publish")
    return out


def meeting_detail_json(m: Meeting, user) -> dict:
    today = ms.business_today()
    body = meeting_json(m)
    sees = account_filter(user)  # a distributor: its own accounts' targets and items, as on its page
    targets = sorted((t for t in m.targets if sees(t.account)), key=lambda t: t.account.code)
    body.update({
        "summary": m.summary,
        "accounts": sorted(({"code": a.account.code, "name": a.account.name, "attended": a.attended}
                            for a in m.attendees if a.account_id is not None), key=lambda a: a["code"]),
        "staff": [{**_person(a.user), "attended": a.attended} for a in m.attendees if a.user_id is not None],
        "agenda": [{"seq": i.seq, "kind": i.kind, "title": i.title, "body": i.body,
                    "promotion": i.promotion.code if i.promotion is not None else None} for i in m.agenda],
        "targets": [{"account": t.account.code, "shipment": to_api(t.shipment_fen), "payment": to_api(t.payment_fen)}
                    for t in targets],
        "targets_total": {"shipment": to_api(sum(t.shipment_fen for t in targets)),
                          "payment": to_api(sum(t.payment_fen for t in targets))},
        "action_items": [item_json(i, today) for i in m.action_items if sees(i.account)],
        "carried_over": [{"id": c["id"], "number": c["number"], "title": c["title"], "owner": c["owner"],
                          "due_on": c["due_on"], "raised_on": c["raised_on"], "status": c["status"],
                          "overdue": c["overdue"]} for c in carried_for(m, user)],
        "actions": _actions(m, user),
    })
    return body


# --- input and loading --------------------------------------------------------------------------

def _load(meeting_id) -> Meeting:
    """The meeting named by the path; 404 when there is none or the user may not see it."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not can("view_meeting", meeting, user=_user()):
        abort(404)
    return meeting


def _load_item(item_id) -> ActionItem:
    """The action item named by the path: its owner sees it, and whoever sees its meeting (a
    distributor: an item of its own accounts, or of none)."""
    item = db.session.get(ActionItem, item_id)
    user = _user()
    if item is None or not (item.owner_id == user.id or (
            can("view_meeting", item.meeting, user=user) and account_filter(user)(item.account))):
        abort(404)
    return item


def _manage(meeting: Meeting):
    if not can("manage_meeting", meeting, user=_user()):
        abort(403)


def _region(code, field="region") -> Region:
    region = db.session.execute(select(Region).where(Region.code == code)).scalar_one_or_none() \
        if isinstance(code, str) else None
    if region is None:
        raise Invalid(_("Unknown region %(code)s.", code=str(code)[:40]), field)
    return region


def _time_of(value, field="time"):
    if value is None:
        return None
    if not isinstance(value, str) or not TIME_RE.match(value):
        raise Invalid(_("Times are written HH:MM (24 hours)."), field)
    return time(int(value[:2]), int(value[3:]))


def _codes(body, name) -> list:
    raw = body.get(name)
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_ROWS:
        raise Invalid(_("%(name)s is a list of codes.", name=name), name)
    return raw


def _account_id(code, field) -> int:
    """An account code -> its id (any account: the services refuse one outside the meeting's
    region, or not invited)."""
    account = db.session.execute(select(Account).where(Account.code == code)).scalar_one_or_none() \
        if isinstance(code, str) else None
    if account is None:
        raise Invalid(_("Unknown account %(code)s.", code=str(code)[:40]), field)
    return account.id


def _account_ids(body, name) -> list[int]:
    return [_account_id(code, f"{name}[{n}]") for n, code in enumerate(_codes(body, name))]


def _staff_user(username, field) -> User:
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none() \
        if isinstance(username, str) else None
    if user is None:
        raise Invalid(_("Unknown user %(name)s.", name=str(username)[:40]), field)
    return user


def _user_ids(body, name) -> list[int]:
    return [_staff_user(u, f"{name}[{n}]").id for n, u in enumerate(_codes(body, name))]


def _long_text(body, name, *, required=False):
    return _text(body, name, required=required, max_length=MAX_TEXT)


def _reloaded(meeting_id) -> dict:
    db.session.expire_all()
    return meeting_detail_json(db.session.get(Meeting, meeting_id), _user())


def _write(model, obj_id, fn, *args, **kw):
    """fn(current object, *args, by=..., **kw) in one write transaction; a refusal rolls back and
    says why (a stale version with the current one)."""
    begin_write()
    current = db.session.get(model, obj_id)
    try:
        result = fn(current, *args, by=_user(), **kw)
    except core.MeetingError as err:
        db.session.rollback()
        if err.code == "stale":
            raise Stale(err, db.session.get(model, obj_id)) from None
        raise Refused(err) from None
    db.session.commit()
    return result


# --- meetings -----------------------------------------------------------------------------------

@bp.get("/meetings")
def list_meetings():
    args, user = request.args, _user()
    page, per_page = api._page()
    stmt = ms.meetings_query(user)
    if args.get("month") is not None:
        try:
            stmt = stmt.where(Meeting.month == str(Month.parse(args["month"])))
        except ValueError:
            raise Invalid(_("Months are written YYYY-MM."), "month") from None
    if args.get("region") is not None:
        stmt = stmt.where(Meeting.region_id.in_(region_tree_ids([_region(args["region"]).id])))
    status = args.get("status")
    if status is not None:
        if status not in core.STATUSES:
            raise Invalid(_("status is one of: %(statuses)s.", statuses=", ".join(core.STATUSES)), "status")
        stmt = stmt.where(Meeting.status == status)
    stmt = stmt.options(joinedload(Meeting.region), selectinload(Meeting.held_by),
                        selectinload(Meeting.published_by)).order_by(Meeting.meeting_date.desc(), Meeting.id.desc())
    rows = db.session.execute(stmt.limit(per_page + 1).offset((page - 1) * per_page)).scalars().unique().all()
    more = len(rows) > per_page
    query = {k: v for k, v in args.items() if k in ("month", "region", "status")}
    return jsonify({
        "items": [meeting_json(m) for m in rows[:per_page]],
        "next": url_for(".list_meetings", page=page + 1, per_page=per_page, **query) if more else None,
    })


@bp.post("/meetings")
def create_meeting():
    user = _user()
    if not can("schedule_meetings", user=user):
        abort(403)
    body = _json_object()
    _only(body, CREATE_FIELDS)
    region = _region(body.get("region"))
    on = _date(body.get("date"))
    at = _time_of(body.get("time"))
    place = _text(body, "place", required=True, max_length=200)
    title = _text(body, "title", required=True, max_length=200)
    account_ids, user_ids = _account_ids(body, "accounts"), _user_ids(body, "staff")
    region_id = region.id
    begin_write()
    try:
        meeting = ms.create_meeting(db.session.get(Region, region_id), on=on, at=at, place=place, title=title,
                                    by=user, account_ids=account_ids, user_ids=user_ids)
    except core.MeetingError as err:
        db.session.rollback()
        raise Refused(err, "region" if err.code == "not_your_region" else None) from None
    meeting_id = meeting.id
    db.session.commit()
    return jsonify(_reloaded(meeting_id)), 201


@bp.get("/meetings/<int:meeting_id>")
def show_meeting(meeting_id):
    return jsonify(meeting_detail_json(_load(meeting_id), _user()))


@bp.put("/meetings/<int:meeting_id>")
def put_meeting(meeting_id):
    meeting = _load(meeting_id)
    _manage(meeting)
    body = _json_object()
    _only(body, PUT_FIELDS)
    version = _version(body)
    # Absent fields keep their value (the date, place and title are always given).
    on = _date(body.get("date"))
    at = _time_of(body.get("time")) if "time" in body else meeting.meeting_time
    place = _text(body, "place", required=True, max_length=200)
    title = _text(body, "title", required=True, max_length=200)
    summary = _long_text(body, "summary") if "summary" in body else meeting.summary
    account_ids = _account_ids(body, "accounts") if "accounts" in body else \
        [a.account_id for a in meeting.attendees if a.account_id is not None]
    user_ids = _user_ids(body, "staff") if "staff" in body else \
        [a.user_id for a in meeting.attendees if a.user_id is not None]
    _write(Meeting, meeting.id, ms.update_meeting, version=version, on=on, at=at, place=place, title=title,
           summary=summary, account_ids=account_ids, user_ids=user_ids)
    return jsonify(_reloaded(meeting.id))


@bp.post("/meetings/<int:meeting_id>/hold")
def hold_meeting(meeting_id):
    meeting = _load(meeting_id)
    _manage(meeting)
    body = _json_object()
    _only(body, HOLD_FIELDS)
    version = _version(body)
    account_ids, user_ids = _account_ids(body, "attended_accounts"), _user_ids(body, "attended_staff")
    invited_accounts = {a.account_id for a in meeting.attendees if a.account_id is not None}
    invited_users = {a.user_id for a in meeting.attendees if a.user_id is not None}
    for name, ids, invited in (("attended_accounts", account_ids, invited_accounts),
                               ("attended_staff", user_ids, invited_users)):
        for n, one in enumerate(ids):
            if one not in invited:
                raise Refused(core.MeetingError("attendee_not_invited", name), f"{name}[{n}]")
    _write(Meeting, meeting.id, ms.hold, version=version, attended_account_ids=account_ids,
           attended_user_ids=user_ids)
    return jsonify(_reloaded(meeting.id))


@bp.post("/meetings/<int:meeting_id>/publish")
def publish_meeting(meeting_id):
    meeting = _load(meeting_id)
    _manage(meeting)
    body = _json_object()
    _only(body, PUBLISH_FIELDS)
    _write(Meeting, meeting.id, ms.publish, version=_version(body))
    return jsonify(_reloaded(meeting.id))


@bp.post("/meetings/<int:meeting_id>/agenda")
def add_agenda_item(meeting_id):
    meeting = _load(meeting_id)
    _manage(meeting)
    body = _json_object()
    _only(body, AGENDA_FIELDS)
    version = _version(body)
    kind = body.get("kind")
    if kind not in AGENDA_KINDS:
        raise Invalid(_("kind is one of: %(kinds)s.", kinds=", ".join(AGENDA_KINDS)), "kind")
    title = _text(body, "title", required=True, max_length=200)
    text = _long_text(body, "body")
    promotion_id = None
    if body.get("promotion") is not None:
        code = body["promotion"]
        promotion = db.session.execute(select(Promotion).where(Promotion.code == code)).scalar_one_or_none() \
            if isinstance(code, str) else None
        if promotion is None or not can("view_promotion", promotion, user=_user()):
            raise Invalid(_("Unknown promotion %(code)s.", code=str(code)[:40]), "promotion")
        promotion_id = promotion.id
    promotion = db.session.get(Promotion, promotion_id) if promotion_id is not None else None
    _write(Meeting, meeting.id, ms.add_agenda_item, kind=kind, title=title, body=text, promotion=promotion,
           version=version)
    return jsonify(_reloaded(meeting.id)), 201


@bp.post("/meetings/<int:meeting_id>/targets")
def set_targets(meeting_id):
    """The month's targets of invited accounts; an account given with neither amount loses its
    target. Accounts not given keep theirs."""
    meeting = _load(meeting_id)
    _manage(meeting)
    body = _json_object()
    _only(body, TARGETS_FIELDS)
    version = _version(body)
    raw = body.get("targets")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_ROWS:
        raise Invalid(_("targets is a list of objects: account, shipment, payment."), "targets")
    invited = {a.account_id for a in meeting.attendees if a.account_id is not None}
    wanted, where_of = {}, {}
    for n, item in enumerate(raw):
        where = f"targets[{n}]"
        if not isinstance(item, dict):
            raise Invalid(_("targets is a list of objects: account, shipment, payment."), where)
        _only(item, TARGET_FIELDS, where + ".")
        account_id = _account_id(item.get("account"), where + ".account")
        if account_id in wanted:
            raise Invalid(_("Each account is given once."), where + ".account")
        if account_id not in invited:
            raise Refused(core.MeetingError("target_not_invited", "targets"), where + ".account")
        where_of[item["account"]] = where
        shipment, payment = item.get("shipment"), item.get("payment")
        if shipment is None and payment is None:
            wanted[account_id] = None  # removes the account's target
            continue
        figures = []
        for name, value in (("shipment", shipment), ("payment", payment)):
            fen = _amount(value, f"{where}.{name}", allow_zero=True)
            if fen > ms.MAX_TARGET_FEN:
                raise Invalid(_("The amount is too large."), f"{where}.{name}")
            figures.append(fen)
        wanted[account_id] = tuple(figures)
    try:
        _write(Meeting, meeting.id, ms.set_targets, wanted, version=version)
    except Refused as err:
        if err.code == "target_set_elsewhere":  # names the account: point at its row
            where = where_of.get(err.info.get("account"))
            err.field = f"{where}.account" if where else err.field
        raise
    return jsonify(_reloaded(meeting.id))


@bp.post("/meetings/<int:meeting_id>/items")
def raise_item(meeting_id):
    meeting = _load(meeting_id)
    _manage(meeting)
    body = _json_object()
    _only(body, ITEM_FIELDS)
    version = _version(body)
    title = _text(body, "title", required=True, max_length=200)
    detail = _long_text(body, "detail")
    if body.get("owner") is None:
        raise Invalid(_("This field is required."), "owner")
    owner_id = _staff_user(body["owner"], "owner").id
    due_on = _date(body["due_on"], "due_on") if body.get("due_on") is not None else None
    account_id = _account_id(body["account"], "account") if body.get("account") is not None else None
    item = _write(Meeting, meeting.id, ms.raise_item, title=title, owner=db.session.get(User, owner_id),
                  due_on=due_on, detail=detail, version=version,
                  account=db.session.get(Account, account_id) if account_id is not None else None)
    db.session.expire_all()
    return jsonify(item_json(db.session.get(ActionItem, item.id), ms.business_today())), 201


# --- action items -------------------------------------------------------------------------------

@bp.get("/action-items")
def list_action_items():
    args, user = request.args, _user()
    page, per_page = api._page()
    today = ms.business_today()
    stmt = ms.visible_items_query(user)
    if user.role == "distributor":  # its own accounts' items and those raised for no account
        own = select(Account.id).where(or_(Account.id == user.account_id, Account.supplier_id == user.account_id))
        stmt = stmt.where(or_(ActionItem.account_id.is_(None), ActionItem.account_id.in_(own)))
    status = args.get("status")
    if status is not None:
        if status not in ITEM_STATUSES:
            raise Invalid(_("status is one of: %(statuses)s.", statuses=", ".join(ITEM_STATUSES)), "status")
        if status == "overdue":
            stmt = stmt.where(ActionItem.status == "open", ActionItem.due_on < today)
        else:
            stmt = stmt.where(ActionItem.status == status)
    mine = args.get("mine")
    if mine is not None:
        if mine not in ("true", "false"):
            raise Invalid(_("mine is true or false."), "mine")
        if mine == "true":
            stmt = stmt.where(ActionItem.owner_id == user.id)
    if args.get("meeting") is not None:
        try:
            stmt = stmt.where(ActionItem.meeting_id == int(args["meeting"]))
        except ValueError:
            raise Invalid(_("meeting is a meeting's id."), "meeting") from None
    stmt = stmt.options(selectinload(ActionItem.owner), selectinload(ActionItem.account),
                        selectinload(ActionItem.resolved_by)).order_by(
        ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id)
    rows = db.session.execute(stmt.limit(per_page + 1).offset((page - 1) * per_page)).scalars().unique().all()
    more = len(rows) > per_page
    query = {k: v for k, v in args.items() if k in ("status", "mine", "meeting")}
    return jsonify({
        "items": [item_json(i, today) for i in rows[:per_page]],
        "next": url_for(".list_action_items", page=page + 1, per_page=per_page, **query) if more else None,
    })


def _item_action(item_id, fields, fn, **fixed):
    item = _load_item(item_id)
    if not can("follow_up_item", item, user=_user()):
        abort(403)
    body = _json_object()
    _only(body, fields)
    version = _version(body)
    kw = {name: reader(body) for name, reader in fixed.items()}
    _write(ActionItem, item.id, fn, version=version, **kw)
    db.session.expire_all()
    return jsonify(item_json(db.session.get(ActionItem, item.id), ms.business_today()))


@bp.get("/action-items/<int:item_id>")
def show_action_item(item_id):
    return jsonify(item_json(_load_item(item_id), ms.business_today()))


@bp.put("/action-items/<int:item_id>")
def put_action_item(item_id):
    def owner(body):
        if body.get("owner") is None:
            raise Invalid(_("This field is required."), "owner")
        return _staff_user(body["owner"], "owner")

    def due_on(body):
        return _date(body["due_on"], "due_on") if body.get("due_on") is not None else None

    return _item_action(item_id, ITEM_PUT_FIELDS, ms.update_item, owner=owner, due_on=due_on)


@bp.post("/action-items/<int:item_id>/resolve")
def resolve_action_item(item_id):
    return _item_action(item_id, RESOLVE_FIELDS, ms.resolve_item,
                        resolution=lambda body: _long_text(body, "resolution", required=True))


@bp.post("/action-items/<int:item_id>/reopen")
def reopen_action_item(item_id):
    return _item_action(item_id, REOPEN_FIELDS, ms.reopen_item,
                        reason=lambda body: _long_text(body, "reason", required=True))
