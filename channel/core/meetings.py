"""Monthly distributor meetings (月度经销商会议) on plain values: their states, which regions have no
meeting for a month, and the action items that carry over to the next agenda.

    planned ──hold──▶ held ──publish──▶ published (the minutes, 会议纪要)
"""
from dataclasses import dataclass
from datetime import date

from .periods import Month

STATUSES = ("planned", "held", "published")
ITEM_STATUSES = ("open", "done")


class MeetingError(Exception):
    def __init__(self, code, field=None, **info):
        super().__init__(code)
        self.code = code
        self.field = field
        self.info = info


def next_status(status: str, action: str, *, on: date, today: date) -> str:
    """hold: a planned meeting whose day has come; publish: a held meeting's minutes, once."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    if action == "hold":
        if status != "planned":
            raise MeetingError("not_planned", status=status)
        if on > today:
            raise MeetingError("not_yet", on=on.isoformat())
        return "held"
    if action == "publish":
        if status == "published":
            raise MeetingError("already_published")
        if status != "held":
            raise MeetingError("not_held", status=status)
        return "published"
    raise ValueError(f"unknown action {action!r}")


def regions_without_meeting(region_ids, meetings, month: Month) -> list:
    """The regions (in the given order) with no meeting scheduled or held in the month.
    meetings: (region id, meeting date) pairs."""
    covered = {region for region, on in meetings if month.contains(on)}
    return [r for r in region_ids if r not in covered]


@dataclass(frozen=True)
class ActionItem:
    key: object
    due: date | None
    status: str = "open"

    def overdue(self, today: date) -> bool:
        return self.status == "open" and self.due is not None and self.due < today


def carry_over(previous_items) -> list:
    """The items the next agenda starts with: every item still open from earlier meetings, the
    overdue (earliest due) first, then by due date; items without a due date last."""
    open_items = [i for i in previous_items if i.status == "open"]
    return sorted(open_items, key=lambda i: (i.due is None, i.due or date.max))
