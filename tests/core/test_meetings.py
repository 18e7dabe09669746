from datetime import date

import pytest

from channel.core.meetings import ActionItem, MeetingError, carry_over, next_status, regions_without_meeting
from channel.core.periods import Month

MARCH = Month(2026, 3)


def test_a_meeting_is_held_on_its_day_and_its_minutes_published_once():
    assert next_status("planned", "hold", on=date(2026, 3, 5), today=date(2026, 3, 5)) == "held"
    with pytest.raises(MeetingError) as err:
        next_status("planned", "hold", on=date(2026, 3, 6), today=date(2026, 3, 5))
    assert err.value.code == "not_yet"
    assert next_status("held", "publish", on=date(2026, 3, 5), today=date(2026, 3, 6)) == "published"
    for status, code in (("published", "already_published"), ("planned", "not_held")):
        with pytest.raises(MeetingError) as err:
            next_status(status, "publish", on=date(2026, 3, 5), today=date(2026, 3, 6))
        assert err.value.code == code


def test_regions_without_a_meeting_in_the_month_are_flagged():
    meetings = [(1, date(2026, 3, 5)), (2, date(2026, 2, 27)), (3, date(2026, 3, 31))]
    assert regions_without_meeting([1, 2, 3, 4], meetings, MARCH) == [2, 4]


def test_open_action_items_carry_over_the_overdue_first():
    items = [ActionItem("a", date(2026, 3, 20)), ActionItem("b", None), ActionItem("c", date(2026, 3, 1)),
             ActionItem("d", date(2026, 2, 1), status="done")]
    assert [i.key for i in carry_over(items)] == ["c", "a", "b"]
    today = date(2026, 3, 10)
    assert [i.key for i in items if i.overdue(today)] == ["c"]
