"""Meeting pages: the list (with the regions that have no meeting this month), scheduling and
editing a meeting, the meeting page (invitees and who attended, the agenda that starts with the
open items of earlier meetings, market and policy items, the problems raised as action items,
the month's targets as a grid; held, then the minutes published), and the action items to
follow up.

Views load, check (404 for a meeting the user may not see, 403 for what they may not do), act
through channel.meetings.services and commit once. A refused step changes nothing and says why in
the user's language: 422 for what the user typed, 409 when the meeting (or action item) moved on
meanwhile (a stale version, or held or published since), 403 when the rules say this user may not.
Field staff read their regions' meetings and follow up the items they own; the supervisors of the
region (and admin) run the meeting. A distributor reads the published minutes it was invited to.
"""
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.permissions import can, require
from ..core.meetings import MeetingError
from ..core.money import MoneyError, parse_amount
from ..core.periods import Month
from ..extensions import db
from ..masterdata.forms import money_field_value
from ..masterdata.models import Account
from ..transactions import begin_write
from . import services
from .blueprint import bp
from .forms import (
    AgendaForm,
    HoldForm,
    ItemForm,
    ItemUpdateForm,
    MeetingForm,
    ReopenForm,
    ResolveForm,
    VersionForm,
)
from .messages import meeting_message
from .models import AGENDA_KINDS, ActionItem, Meeting, MeetingAttendee

PER_PAGE = 50
# The meeting (or item) moved on while the user looked at it: 409, shown as it is now.
CONFLICTS = frozenset({"stale", "already_published", "not_planned", "not_held", "item_done", "item_open"})
# The rules say this user may not: 403.
FORBIDDEN = frozenset({"not_your_region"})
# MeetingError.field -> the form field that shows the message, per form.
MEETING_FIELDS = {"place": "place", "title": "title", "meeting_date": "meeting_date", "meeting_time": "meeting_time",
                  "summary": "summary", "accounts": "accounts", "staff": "staff"}
AGENDA_FIELDS = {"title": "agenda_title", "kind": "kind", "body": "body", "promotion": "promotion_id"}
ITEM_FIELDS = {"title": "item_title", "detail": "detail", "account": "account_id", "owner": "owner_id",
               "due_on": "due_on"}
HOLD_FIELDS = {"attended": "present_accounts"}
EXPIRED = _l("The form has expired. Reload the page and try again.")


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


def _today():
    return services.business_today()


def _meeting_or_404(meeting_id) -> Meeting:
    meeting = db.session.execute(
        select(Meeting).where(Meeting.id == meeting_id).options(
            selectinload(Meeting.attendees).selectinload(MeetingAttendee.account),
            selectinload(Meeting.attendees).selectinload(MeetingAttendee.user),
            selectinload(Meeting.agenda), selectinload(Meeting.targets),
            selectinload(Meeting.action_items).selectinload(ActionItem.owner),
            selectinload(Meeting.region))).scalar_one_or_none()
    if meeting is None:
        abort(404)
    require("view_meeting", meeting)
    return meeting


def _manage(meeting):
    """Reads the meeting, may not run it: 403."""
    if not can("manage_meeting", meeting):
        abort(403)


def _error_on(form, err, fields) -> bool:
    """The message of a refused step on the form field it concerns; False when the form has none
    (the caller shows it above the form)."""
    name = fields.get(err.field) if err.field else None
    field = getattr(form, name, None) if (form is not None and name) else None
    if field is None or not hasattr(field, "errors"):
        return False
    field.errors = list(field.errors) + [meeting_message(err)]
    return True


def _sees_account(account) -> bool:
    return can("view_account", account)


def _invited_accounts(meeting) -> list[Account]:
    """The invited accounts, distributors first, by code."""
    return sorted(meeting.accounts, key=lambda a: (a.kind != "distributor", a.code))


def _region_offered(regions, value):
    """The region chosen (an id among `regions`), or 404 for any other."""
    if value in (None, ""):
        return None
    region = next((r for r in regions if str(r.id) == str(value)), None)
    if region is None:
        abort(404)
    return region


# --- the list ---------------------------------------------------------------------------------

def _month_arg():
    text = request.args.get("month", "").strip()
    if not text:
        return None
    try:
        return Month.parse(text)
    except ValueError:
        abort(400)


@bp.route("/")
def index():
    require("view_meetings")
    user = current_user
    today = _today()
    month = _month_arg()
    scoped = services.meetings_query(user)
    regions = services.meeting_regions(user) if user.role != "distributor" else []
    region = _region_offered(regions, request.args.get("region", "").strip()) if regions else None
    stmt = scoped
    if month is not None:
        stmt = stmt.where(Meeting.month == str(month))
    if region is not None:
        stmt = stmt.where(Meeting.region_id == region.id)
    stmt = stmt.options(selectinload(Meeting.region), selectinload(Meeting.action_items)).order_by(
        Meeting.meeting_date.desc(), Meeting.id.desc())
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    sub = scoped.order_by(None).subquery()
    months = list(db.session.execute(select(sub.c.month).distinct().order_by(sub.c.month.desc())).scalars())
    this_month = Month.of(today)
    if str(this_month) not in months:
        months.insert(0, str(this_month))
    schedules = can("schedule_meetings")
    missing = services.regions_without_meeting(user, this_month) if schedules else []
    return render_template("meetings/index.html", page=page, month=str(month) if month else None,
                           months=months, regions=regions, region=region, schedules=schedules,
                           missing=missing, this_month=this_month, today=today)


# --- scheduling and editing -------------------------------------------------------------------

def _staff_choices(region, meeting=None):
    staff = services.invitable_staff(region)
    if meeting is not None:
        staff += [u for u in meeting.staff if all(s.id != u.id for s in staff)]
    return staff


def _account_choices(region, meeting=None):
    accounts = services.invitable_accounts(region)
    if meeting is not None:
        accounts += [a for a in meeting.accounts if all(x.id != a.id for x in accounts)]
    return sorted(accounts, key=lambda a: (a.kind != "distributor", a.code))


def _form_page(template_args, form, *, status=200, alert=None):
    meeting = template_args.get("meeting")
    if form is not None and meeting is not None and meeting.status != "planned":
        form.meeting_date.render_kw = {"readonly": True}  # held that day: the services keep the date
    return render_template("meetings/form.html", form=form, alert=alert, **template_args), status


@bp.route("/new", methods=["GET", "POST"])
def new_meeting():
    require("schedule_meetings")
    user = current_user
    today = _today()
    regions = services.meeting_regions(user)
    chosen = request.form.get("region") if request.method == "POST" else request.args.get("region")
    region = _region_offered(regions, (chosen or "").strip())
    if region is None and regions:
        missing = services.regions_without_meeting(user, Month.of(today))
        region = missing[0] if missing else regions[0]
    args = {"meeting": None, "regions": regions, "region": region}
    if region is None:  # no region of the user's has accounts of its own
        return _form_page(args, None, alert=_("None of your regions has accounts to meet."),
                          status=422 if request.method == "POST" else 200)
    args.update(accounts=_account_choices(region), staff=_staff_choices(region))
    if request.method == "GET":
        form = MeetingForm(formdata=None, new=True, data={
            "meeting_date": today, "title": _("%(region)s distributor meeting, %(month)s", region=region.name,
                                                 month=str(Month.of(today))),
            "accounts": [a.id for a in args["accounts"] if a.kind == "distributor"],
            "staff": [u.id for u in args["staff"] if u.id == user.id]})
        return _form_page(args, form)
    form = MeetingForm(new=True)
    if not form.validate():
        return _form_page(args, form, status=422)
    begin_write()
    try:
        meeting = services.create_meeting(
            region, on=form.meeting_date.data, at=form.meeting_time.data,
            place=form.place.data, title=form.title.data, by=current_user,
            account_ids=form.accounts.data, user_ids=form.staff.data)
    except MeetingError as err:
        db.session.rollback()
        if err.code in FORBIDDEN:
            abort(403)
        placed = _error_on(form, err, MEETING_FIELDS)
        return _form_page(args, form, status=_status_code(err), alert=None if placed else meeting_message(err))
    db.session.commit()
    flash(_("Meeting scheduled for %(date)s: now prepare its agenda.", date=meeting.meeting_date.isoformat()),
          "success")
    return redirect(url_for(".show", meeting_id=meeting.id))


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
def edit_meeting(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    _manage(meeting)
    if meeting.status == "published":
        return _meeting_page(meeting, alert=meeting_message(MeetingError("already_published")), status=409)
    region = meeting.region
    args = {"meeting": meeting, "regions": [region], "region": region,
            "accounts": _account_choices(region, meeting), "staff": _staff_choices(region, meeting)}
    if request.method == "GET":
        form = MeetingForm(formdata=None, data={
            "version": meeting.version, "meeting_date": meeting.meeting_date, "meeting_time": meeting.meeting_time,
            "place": meeting.place, "title": meeting.title, "summary": meeting.summary or "",
            "accounts": [a.id for a in meeting.accounts], "staff": [u.id for u in meeting.staff]})
        return _form_page(args, form)
    form = MeetingForm()
    if not form.validate():
        return _form_page(args, form, status=422)
    begin_write()
    try:
        meeting = services.update_meeting(
            meeting, version=form.version_number, on=form.meeting_date.data, at=form.meeting_time.data,
            place=form.place.data, title=form.title.data,
            summary=form.summary.data if meeting.status == "held" else meeting.summary,
            account_ids=form.accounts.data, user_ids=form.staff.data, by=current_user)
    except MeetingError as err:
        return _refused(meeting_id, err, fields=MEETING_FIELDS, form=form, form_args=args)
    db.session.commit()
    flash(_("Meeting saved."), "success")
    return redirect(url_for(".show", meeting_id=meeting_id))


@bp.route("/<int:meeting_id>/delete", methods=["POST"])
def delete_meeting(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    _manage(meeting)
    form = VersionForm()
    if not form.validate():
        return _meeting_page(meeting, alert=EXPIRED, status=422)
    label = str(meeting)
    begin_write()
    try:
        services.delete_meeting(meeting, version=form.version_number, by=current_user)
    except MeetingError as err:
        return _refused(meeting_id, err)
    db.session.commit()
    flash(_("Meeting %(meeting)s cancelled.", meeting=label), "success")
    return redirect(url_for(".index"))


# --- the meeting page -------------------------------------------------------------------------

def _carried(meeting, user):
    """The items the agenda starts with; a distributor sees those of its own accounts and those
    raised for no account."""
    rows = services.carried_over(meeting)
    if user.role != "distributor" or not rows:
        return rows
    accounts = dict(db.session.execute(select(ActionItem.id, ActionItem.account_id).where(
        ActionItem.id.in_([r["id"] for r in rows]))).all())
    shown = {a.id for a in db.session.execute(select(Account).where(
        Account.id.in_([a for a in accounts.values() if a is not None] or [-1]))).scalars() if _sees_account(a)}
    return [r for r in rows if accounts.get(r["id"]) is None or accounts.get(r["id"]) in shown]


def _target_rows(meeting, entered, editable):
    """A row per invited account: its target for the month set here, or set at another meeting
    of the month (then not editable here), and what the user typed (after a refusal)."""
    accounts = _invited_accounts(meeting)
    month_targets = services.account_targets([a.id for a in accounts], Month.parse(meeting.month))
    rows = []
    for a in accounts:
        t = month_targets.get(a.id)
        here = t if t is not None and t.meeting_id == meeting.id else None
        elsewhere = t if t is not None and t.meeting_id != meeting.id else None
        if not editable and here is None:
            continue
        if current_user.role == "distributor" and not _sees_account(a):
            continue
        ship, pay = entered.get(a.id, (money_field_value(here.shipment_fen) if here else "",
                                       money_field_value(here.payment_fen) if here else ""))
        rows.append({"account": a, "target": here, "elsewhere": elsewhere, "ship": ship, "pay": pay})
    return rows


def _meeting_page(meeting, *, status=200, alert=None, agenda_form=None, item_form=None, hold_form=None,
                  entered=None, target_errors=None):
    user = current_user
    today = _today()
    manages = can("manage_meeting", meeting)
    editable = manages and meeting.status != "published"
    region = meeting.region
    invited_accounts = _invited_accounts(meeting)
    if editable:
        agenda_form = agenda_form or AgendaForm(
            formdata=None, promotions=services.announceable_promotions(region, user),
            data={"version": meeting.version, "kind": "market"})
        item_form = item_form or ItemForm(formdata=None, accounts=invited_accounts,
                                          owners=services.owners_for(region, user),
                                          data={"version": meeting.version})
    else:
        agenda_form = item_form = None
    if editable and meeting.status == "planned":
        hold_form = hold_form or HoldForm(formdata=None, data={
            "version": meeting.version, "present_accounts": [a.id for a in invited_accounts],
            "present_staff": [u.id for u in meeting.staff]})
    else:
        hold_form = None
    items = list(meeting.action_items)
    if user.role == "distributor":
        items = [i for i in items if i.account is None or _sees_account(i.account)]
    agenda = [(kind, [i for i in meeting.agenda if i.kind == kind]) for kind in AGENDA_KINDS]
    targets = _target_rows(meeting, entered or {}, editable)
    account_rows = sorted((a for a in meeting.attendees if a.account_id is not None),
                          key=lambda a: (a.account.kind != "distributor", a.account.code))
    staff_rows = sorted((a for a in meeting.attendees if a.user_id is not None), key=lambda a: a.user.full_name)
    return render_template(
        "meetings/show.html", meeting=meeting, today=today, alert=alert, manages=manages, editable=editable,
        staff_view=user.role != "distributor", account_rows=account_rows, staff_rows=staff_rows,
        carried=_carried(meeting, user), agenda=agenda, items=items, targets=targets,
        target_errors=target_errors or {}, agenda_form=agenda_form, item_form=item_form, hold_form=hold_form,
        version_form=VersionForm(formdata=None, data={"version": meeting.version}),
        may_delete=editable and meeting.status == "planned",
        may_publish=editable and meeting.status == "held",
        hold_ready=meeting.meeting_date <= today,
        is_overdue=lambda i: services.is_overdue(i, today),
        follows_up=lambda i: can("follow_up_item", i),
        minutes="meetings.minutes" in current_app.view_functions,
        target_totals=(sum(r["target"].shipment_fen for r in targets if r["target"]),
                       sum(r["target"].payment_fen for r in targets if r["target"]))), status


def _refused(meeting_id, err, *, fields=None, form=None, form_args=None, **forms):
    """After a refused step (the transaction rolled back): a conflict shows the meeting as it is
    now with fresh forms; the rules saying no, 403; any other refusal the user's input again with
    the message on its field (or above the form)."""
    db.session.rollback()
    if err.code in FORBIDDEN:
        abort(403)
    meeting = _meeting_or_404(meeting_id)
    message = meeting_message(err)
    if err.code in CONFLICTS:
        return _meeting_page(meeting, alert=message, status=409)
    if form_args is not None:  # the meeting's own form
        placed = _error_on(form, err, fields or {})
        return _form_page(form_args, form, status=_status_code(err), alert=None if placed else message)
    placed = any(_error_on(f, err, fields or {}) for f in forms.values() if f is not None)
    return _meeting_page(meeting, alert=None if placed else message, status=_status_code(err), **forms)


@bp.route("/<int:meeting_id>")
def show(meeting_id):
    return _meeting_page(_meeting_or_404(meeting_id))


@bp.route("/<int:meeting_id>/agenda", methods=["POST"])
def add_agenda_item(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    _manage(meeting)
    form = AgendaForm(promotions=services.announceable_promotions(meeting.region, current_user))
    if not form.validate():
        return _meeting_page(meeting, agenda_form=form, status=422)
    promotion = form.promotion
    begin_write()
    try:
        services.add_agenda_item(meeting, kind=form.kind.data, title=form.agenda_title.data, body=form.body.data,
                                 promotion=promotion, version=form.version_number, by=current_user)
    except MeetingError as err:
        return _refused(meeting_id, err, fields=AGENDA_FIELDS, agenda_form=form)
    db.session.commit()
    flash(_("Agenda item added."), "success")
    return redirect(url_for(".show", meeting_id=meeting_id, _anchor="agenda"))


@bp.route("/<int:meeting_id>/agenda/<int:item_id>/delete", methods=["POST"])
def delete_agenda_item(meeting_id, item_id):
    meeting = _meeting_or_404(meeting_id)
    _manage(meeting)
    item = next((i for i in meeting.agenda if i.id == item_id), None)
    if item is None:
        abort(404)
    form = VersionForm()
    if not form.validate():
        return _meeting_page(meeting, alert=EXPIRED, status=422)
    begin_write()
    try:
        services.delete_agenda_item(item, version=form.version_number, by=current_user)
    except MeetingError as err:
        return _refused(meeting_id, err)
    db.session.commit()
    flash(_("Agenda item removed."), "success")
    return redirect(url_for(".show", meeting_id=meeting_id, _anchor="agenda"))


def _money_message(err: MoneyError) -> str:
    return {"negative": _("The amount must not be negative."), "precision": _("At most two decimals (fen)."),
            "range": _("The amount is too large.")}.get(err.code, _("Enter an amount such as 12345.60 (no commas)."))


@bp.route("/<int:meeting_id>/targets", methods=["POST"])
def set_targets(meeting_id):
    """The grid of the month's targets: amounts in yuan; both left blank: no target."""
    meeting = _meeting_or_404(meeting_id)
    _manage(meeting)
    form = VersionForm()
    if not form.validate():
        return _meeting_page(meeting, alert=EXPIRED, status=422)
    entered, errors, wanted = {}, {}, {}
    for account in _invited_accounts(meeting):
        ship, pay = request.form.get(f"ship-{account.id}"), request.form.get(f"pay-{account.id}")
        if ship is None and pay is None:
            continue  # not offered (set at another meeting of the month)
        ship, pay = (ship or "").strip(), (pay or "").strip()
        entered[account.id] = (ship, pay)
        if not ship and not pay:
            wanted[account.id] = None
            continue
        try:
            wanted[account.id] = (parse_amount(ship) if ship else 0, parse_amount(pay) if pay else 0)
        except MoneyError as err:
            errors[account.id] = _money_message(err)
    if errors:
        return _meeting_page(meeting, entered=entered, target_errors=errors, status=422,
                             alert=_("Please correct the marked targets. Nothing was saved."))
    begin_write()
    try:
        services.set_targets(meeting, wanted, version=form.version_number, by=current_user)
    except MeetingError as err:
        db.session.rollback()
        if err.code in FORBIDDEN:
            abort(403)
        meeting = _meeting_or_404(meeting_id)
        if err.code in CONFLICTS:
            return _meeting_page(meeting, alert=meeting_message(err), status=409)
        return _meeting_page(meeting, entered=entered, alert=meeting_message(err), status=_status_code(err))
    db.session.commit()
    flash(_("Targets for %(month)s saved.", month=meeting.month), "success")
    return redirect(url_for(".show", meeting_id=meeting_id, _anchor="targets"))


@bp.route("/<int:meeting_id>/items", methods=["POST"])
def raise_item(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    _manage(meeting)
    form = ItemForm(accounts=_invited_accounts(meeting), owners=services.owners_for(meeting.region, current_user))
    if not form.validate():
        return _meeting_page(meeting, item_form=form, status=422)
    begin_write()
    try:
        item = services.raise_item(meeting, title=form.item_title.data, owner=form.owner, due_on=form.due_on.data,
                                   detail=form.detail.data, account=form.account, version=form.version_number,
                                   by=current_user)
    except MeetingError as err:
        return _refused(meeting_id, err, fields=ITEM_FIELDS, item_form=form)
    db.session.commit()
    flash(_("Action item %(number)s raised.", number=item.number), "success")
    return redirect(url_for(".show", meeting_id=meeting_id, _anchor="items"))


@bp.route("/<int:meeting_id>/hold", methods=["POST"])
def hold_meeting(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    _manage(meeting)
    form = HoldForm()
    if not form.validate():
        return _meeting_page(meeting, hold_form=form, status=422)
    begin_write()
    try:
        services.hold(meeting, version=form.version_number, attended_account_ids=form.present_accounts.data,
                      attended_user_ids=form.present_staff.data, by=current_user, today=_today())
    except MeetingError as err:
        return _refused(meeting_id, err, fields=HOLD_FIELDS, hold_form=form)
    db.session.commit()
    flash(_("The meeting is marked as held. Publish the minutes when they are complete."), "success")
    return redirect(url_for(".show", meeting_id=meeting_id))


@bp.route("/<int:meeting_id>/publish", methods=["POST"])
def publish_meeting(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    _manage(meeting)
    form = VersionForm()
    if not form.validate():
        return _meeting_page(meeting, alert=EXPIRED, status=422)
    begin_write()
    try:
        services.publish(meeting, version=form.version_number, by=current_user, today=_today())
    except MeetingError as err:
        return _refused(meeting_id, err)
    db.session.commit()
    flash(_("The minutes are published: the invited accounts can read them."), "success")
    return redirect(url_for(".show", meeting_id=meeting_id))


# --- action items -----------------------------------------------------------------------------

STATUS_FILTERS = ("open", "done", "all")


def _item_or_404(item_id) -> ActionItem:
    item = db.session.get(ActionItem, item_id)
    if item is None or not (item.owner_id == current_user.id or can("view_meeting", item.meeting)):
        abort(404)
    if current_user.role == "distributor" and item.account is not None and not _sees_account(item.account):
        abort(404)
    return item


def _follow_up(item):
    if not can("follow_up_item", item):
        abort(403)


def _owners(items):
    """{item id: the owners offered}: the staff of each item's region (one query per region),
    the acting user and the item's owner."""
    by_region, out = {}, {}
    for item in items:
        region = item.meeting.region
        if region.id not in by_region:
            by_region[region.id] = services.owners_for(region, current_user)
        owners = list(by_region[region.id])
        if all(u.id != item.owner_id for u in owners):
            owners.append(item.owner)
        out[item.id] = owners
    return out


def _items_page(items, *, page=None, status="open", mine=False, single=False, errors=None, entered=None,
                code=200):
    """The items list, or (single) one item again after its follow-up was refused."""
    today = _today()
    followed = [i for i in items if can("follow_up_item", i)]
    return render_template(
        "meetings/items.html", items=items, page=page, status=status, mine=mine, single=single,
        statuses=STATUS_FILTERS, today=today, errors=errors or {}, entered=entered or {},
        owners=_owners(followed), follows_up={i.id for i in followed},
        is_overdue=lambda i: services.is_overdue(i, today),
        back=_next_url() if single else request.full_path.rstrip("?"),
        version_form=VersionForm(formdata=None)), code


@bp.route("/items")
def items():
    require("view_meetings")
    status = request.args.get("status", "open")
    if status not in STATUS_FILTERS:
        abort(400)
    mine = request.args.get("mine") == "1"
    page = db.paginate(services.items_query(current_user, status=status, mine=mine, today=_today()),
                       per_page=PER_PAGE, error_out=False)
    return _items_page(page.items, page=page, status=status, mine=mine)


def _next_url() -> str:
    """The page a follow-up was taken on (a local meetings page), else the items list."""
    target = request.form.get("next", "")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/meetings/") or "\\" in target:
        return url_for(".items")
    return target.split("#")[0]


def _back(item):
    return redirect(f"{_next_url()}#item-{item.id}")


def _item_refused(item_id, err):
    db.session.rollback()
    if err.code in FORBIDDEN:
        abort(403)
    item = _item_or_404(item_id)
    message = meeting_message(err)
    code = _status_code(err)
    if err.code in CONFLICTS:  # as it is now
        return _items_page([item], single=True, errors={item.id: [message]}, code=code)
    return _items_page([item], single=True, errors={item.id: [message]}, code=code,
                       entered={item.id: dict(request.form.items())})


def _invalid(item, form):
    messages = [e for f in form for e in f.errors]
    return _items_page([item], single=True, errors={item.id: [str(m) for m in messages] or [EXPIRED]},
                       entered={item.id: dict(request.form.items())}, code=422)


@bp.route("/items/<int:item_id>/resolve", methods=["POST"])
def resolve_item(item_id):
    item = _item_or_404(item_id)
    _follow_up(item)
    form = ResolveForm()
    if not form.validate():
        return _invalid(item, form)
    begin_write()
    try:
        services.resolve_item(item, version=form.version_number, resolution=form.resolution.data,
                              by=current_user)
    except MeetingError as err:
        return _item_refused(item_id, err)
    db.session.commit()
    flash(_("Action item %(number)s resolved.", number=item.number), "success")
    return _back(item)


@bp.route("/items/<int:item_id>/reopen", methods=["POST"])
def reopen_item(item_id):
    item = _item_or_404(item_id)
    _follow_up(item)
    form = ReopenForm()
    if not form.validate():
        return _invalid(item, form)
    begin_write()
    try:
        services.reopen_item(item, version=form.version_number, reason=form.reason.data, by=current_user)
    except MeetingError as err:
        return _item_refused(item_id, err)
    db.session.commit()
    flash(_("Action item %(number)s reopened.", number=item.number), "success")
    return _back(item)


@bp.route("/items/<int:item_id>", methods=["POST"])
def update_item(item_id):
    item = _item_or_404(item_id)
    _follow_up(item)
    form = ItemUpdateForm(owners=_owners([item])[item.id])
    if not form.validate():
        return _invalid(item, form)
    begin_write()
    try:
        services.update_item(item, version=form.version_number, owner=form.owner, due_on=form.due_on.data,
                             by=current_user)
    except MeetingError as err:
        return _item_refused(item_id, err)
    db.session.commit()
    flash(_("Action item %(number)s saved.", number=item.number), "success")
    return _back(item)
