"""What every MeetingError code says to a person, in their language (pages and API)."""
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import label

MESSAGES = {
    # the state machine (channel.core.meetings)
    "not_planned": _l("This meeting is no longer planned (it is %(status)s)."),
    "not_yet": _l("The meeting is on %(on)s: it can be marked as held from that day."),
    "not_held": _l("The minutes are published after the meeting is held (it is %(status)s)."),
    "already_published": _l("The minutes of this meeting are published: the meeting can no longer change."),
    # the services
    "stale": _l("This meeting changed while you were looking at it (it is now %(status)s). Look at it again."),
    "required": _l("This field is required."),  # see REQUIRED for the fields that say more
    "too_long": _l("The text is too long (at most %(limit)s characters)."),
    "not_your_region": _l("Only a supervisor of the region runs its meetings."),
    "date_required": _l("Enter the date of the meeting."),
    "time_invalid": _l("Enter the time as HH:MM."),
    "date_fixed_when_held": _l("The meeting was held on its date: the date can no longer change."),
    "month_has_targets": _l("Targets for %(month)s were set at this meeting: the meeting stays in that month."),
    "attendee_not_invited": _l("Only invited accounts and staff can be marked as present."),
    "account_not_in_region": _l("Invite only active accounts of the meeting's region."),
    "user_not_in_region": _l("Invite only staff of the meeting's region."),
    "kind_unknown": _l("Choose the kind of agenda item."),
    "promotion_only_policy": _l("Only a policy item links a promotion."),
    "target_not_invited": _l("Targets are set for invited accounts only."),
    "target_invalid": _l("Enter a target such as 50000.00 (not negative), or leave it blank."),
    "target_set_elsewhere": _l("%(account)s already has its target for the month from %(meeting)s."),
    "owner_invalid": _l("Choose an active member of staff as the owner."),
    "account_not_invited": _l("Choose one of the invited accounts."),
    "due_before_meeting": _l("The due date cannot be before the meeting."),
    "item_done": _l("This action item is resolved already."),
    "item_open": _l("This action item is still open."),
}

# "required" by the field it concerns.
REQUIRED = {
    "place": _l("Enter the place of the meeting."),
    "title": _l("Enter a title."),
    "resolution": _l("Say how the item was resolved."),
    "reason": _l("Say why the item is reopened."),
}


def meeting_message(err) -> str:
    template = REQUIRED.get(err.field) if err.code == "required" else None
    template = template or MESSAGES.get(err.code)
    if template is None:
        return _("The action was refused (%(code)s).", code=err.code)
    info = dict(err.info)
    if "status" in info:
        info["status"] = label(info["status"], "meeting_status")
    if isinstance(info.get("on"), str):
        try:
            info["on"] = format_date(date.fromisoformat(info["on"]))
        except ValueError:
            pass
    return str(template) % info if info else str(template)
