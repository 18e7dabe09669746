from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channel.core.periods import Month, TenDay, plan_reminder_date

# Every Month lives in 2000-2999; leave the last month out where a test steps forward.
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2999, 11, 30))
months = st.builds(Month, st.integers(2000, 2999), st.integers(1, 12))
tendays = st.builds(TenDay, months, st.integers(1, 3))


# --- Month -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, year, month", [
    ("2026-03", 2026, 3), ("2000-01", 2000, 1), ("2999-12", 2999, 12), ("2024-02", 2024, 2),
])
def test_month_parse(text, year, month):
    m = Month.parse(text)
    assert (m.year, m.month) == (year, month)
    assert str(m) == text


@pytest.mark.parametrize("text", [
    "2026-3", "2026-13", "2026-00", "26-03", "2026/03", "202603", "2026-03-01", " 2026-03",
    "2026-03 ", "2026-03\n", "1999-12", "3000-01", "", "２０２６-03", "2026-0３", "+2026-03",
])
def test_month_parse_refuses(text):
    with pytest.raises(ValueError, match="not a month"):
        Month.parse(text)


def test_month_parse_refuses_non_text():
    with pytest.raises(ValueError):
        Month.parse(202603)
    with pytest.raises(ValueError):
        Month.parse(None)


def test_month_constructor_checks():
    with pytest.raises(ValueError):
        Month(2026, 13)
    with pytest.raises(ValueError):
        Month(2026, 0)
    with pytest.raises(ValueError):
        Month(1999, 12)
    with pytest.raises(TypeError):
        Month(2026, True)
    with pytest.raises(TypeError):
        Month("2026", 3)


@pytest.mark.parametrize("year, month, last", [
    (2026, 1, 31), (2026, 2, 28), (2024, 2, 29), (2000, 2, 29), (2100, 2, 28), (2026, 4, 30),
    (2026, 12, 31), (2026, 7, 31), (2026, 8, 31), (2026, 9, 30),
])
def test_month_first_and_last_day(year, month, last):
    m = Month(year, month)
    assert m.first_day == date(year, month, 1)
    assert m.last_day == date(year, month, last)
    assert m.days == last


def test_month_of_and_contains():
    m = Month.of(date(2026, 3, 31))
    assert m == Month(2026, 3)
    assert m.contains(date(2026, 3, 1)) and m.contains(date(2026, 3, 31))
    assert not m.contains(date(2026, 2, 28)) and not m.contains(date(2026, 4, 1))
    assert not m.contains(date(2025, 3, 15))


def test_month_refuses_timestamps():
    # A UTC timestamp's date is not always the business day in China (UTC+8).
    with pytest.raises(TypeError):
        Month.of(datetime(2026, 3, 31, 20, 0))
    with pytest.raises(TypeError):
        Month(2026, 3).contains(datetime(2026, 3, 31, 20, 0))


def test_month_steps_across_years():
    assert Month(2026, 12).next() == Month(2027, 1)
    assert Month(2027, 1).prev() == Month(2026, 12)
    assert Month(2026, 1) + 11 == Month(2026, 12)
    assert Month(2026, 1) + 12 == Month(2027, 1)
    assert 2 + Month(2026, 11) == Month(2027, 1)
    assert Month(2026, 3) - 3 == Month(2025, 12)
    assert Month(2026, 3) - 27 == Month(2023, 12)
    assert Month(2026, 3) + -3 == Month(2025, 12)
    assert Month(2026, 3) - Month(2025, 12) == 3
    assert Month(2025, 12) - Month(2026, 3) == -3
    assert Month(2026, 3) - Month(2026, 3) == 0


def test_month_arithmetic_stays_in_range():
    with pytest.raises(ValueError):
        Month(2999, 12).next()
    with pytest.raises(ValueError):
        Month(2000, 1).prev()


def test_month_arithmetic_refuses_other_types():
    with pytest.raises(TypeError):
        Month(2026, 3) + 1.0
    with pytest.raises(TypeError):
        Month(2026, 3) + True
    with pytest.raises(TypeError):
        Month(2026, 3) - "1"


def test_month_order_hash_key():
    assert Month(2025, 12) < Month(2026, 1) < Month(2026, 2)
    assert sorted([Month(2026, 2), Month(2025, 12), Month(2026, 1)]) == [
        Month(2025, 12), Month(2026, 1), Month(2026, 2)]
    assert len({Month(2026, 3), Month.parse("2026-03"), Month.of(date(2026, 3, 9))}) == 1
    assert Month(2026, 3).key == 202603
    assert Month.from_key(202603) == Month(2026, 3)
    for bad in (202600, 202613, 99912):
        with pytest.raises(ValueError):
            Month.from_key(bad)


def test_month_is_immutable():
    m = Month(2026, 3)
    with pytest.raises(AttributeError):
        m.month = 4


def test_month_range_inclusive():
    assert list(Month.range(Month(2025, 11), Month(2026, 2))) == [
        Month(2025, 11), Month(2025, 12), Month(2026, 1), Month(2026, 2)]
    assert list(Month.range(Month(2026, 3), Month(2026, 3))) == [Month(2026, 3)]
    assert list(Month.range(Month(2026, 3), Month(2026, 2))) == []
    assert list(Month.range(Month(2999, 11), Month(2999, 12))) == [Month(2999, 11), Month(2999, 12)]


@given(months)
def test_month_round_trips(m):
    assert Month.parse(str(m)) == m
    assert Month.from_key(m.key) == m
    assert Month.of(m.first_day) == m == Month.of(m.last_day)


@given(days)
def test_next_month_is_one_later(d):
    m = Month.of(d)
    assert m.next() - m == 1
    assert m.next().prev() == m
    assert m.next().first_day == m.last_day + timedelta(days=1)


@given(months, st.integers(-200, 200))
def test_month_add_then_subtract(m, n):
    try:
        later = m + n
    except ValueError:
        return  # stepped outside 2000-2999
    assert later - m == n
    assert later - n == m


# --- TenDay ------------------------------------------------------------------------------------

@pytest.mark.parametrize("day, index", [
    (date(2026, 3, 1), 1), (date(2026, 3, 10), 1), (date(2026, 3, 11), 2), (date(2026, 3, 20), 2),
    (date(2026, 3, 21), 3), (date(2026, 3, 31), 3), (date(2026, 2, 28), 3), (date(2024, 2, 29), 3),
])
def test_tenday_of(day, index):
    assert TenDay.of(day) == TenDay(Month.of(day), index)


@pytest.mark.parametrize("tenday, start, end, count", [
    (TenDay(Month(2026, 3), 1), date(2026, 3, 1), date(2026, 3, 10), 10),
    (TenDay(Month(2026, 3), 2), date(2026, 3, 11), date(2026, 3, 20), 10),
    (TenDay(Month(2026, 3), 3), date(2026, 3, 21), date(2026, 3, 31), 11),
    (TenDay(Month(2026, 4), 3), date(2026, 4, 21), date(2026, 4, 30), 10),
    (TenDay(Month(2026, 2), 3), date(2026, 2, 21), date(2026, 2, 28), 8),
    (TenDay(Month(2024, 2), 3), date(2024, 2, 21), date(2024, 2, 29), 9),
    (TenDay(Month(2000, 2), 3), date(2000, 2, 21), date(2000, 2, 29), 9),
    (TenDay(Month(2100, 2), 3), date(2100, 2, 21), date(2100, 2, 28), 8),
])
def test_tenday_bounds(tenday, start, end, count):
    assert (tenday.start, tenday.end, tenday.days) == (start, end, count)
    assert tenday.contains(start) and tenday.contains(end)
    assert not tenday.contains(start - timedelta(days=1))
    assert not tenday.contains(end + timedelta(days=1))


def test_tenday_steps():
    assert TenDay(Month(2026, 3), 1).next() == TenDay(Month(2026, 3), 2)
    assert TenDay(Month(2026, 3), 3).next() == TenDay(Month(2026, 4), 1)
    assert TenDay(Month(2026, 12), 3).next() == TenDay(Month(2027, 1), 1)
    assert TenDay(Month(2027, 1), 1).prev() == TenDay(Month(2026, 12), 3)
    assert TenDay(Month(2026, 3), 2).prev() == TenDay(Month(2026, 3), 1)


def test_tenday_parse_and_str():
    t = TenDay.parse("2026-03-2")
    assert t == TenDay(Month(2026, 3), 2)
    assert str(t) == "2026-03-2"
    assert t.name_zh == "中旬"
    assert TenDay.parse("2026-12-3").name_zh == "下旬"


@pytest.mark.parametrize("text", [
    "2026-03-0", "2026-03-4", "2026-03-02", "2026-3-2", "2026-03", "2026-13-1", "2026-03-2 ",
    "1999-12-3", "2026-03-１", "", "2026-03-21",
])
def test_tenday_parse_refuses(text):
    with pytest.raises(ValueError):
        TenDay.parse(text)


def test_tenday_constructor_checks():
    with pytest.raises(ValueError):
        TenDay(Month(2026, 3), 0)
    with pytest.raises(ValueError):
        TenDay(Month(2026, 3), 4)
    with pytest.raises(TypeError):
        TenDay("2026-03", 1)
    with pytest.raises(TypeError):
        TenDay.of(datetime(2026, 3, 1, 9))


def test_tenday_order_and_range():
    a, b = TenDay(Month(2025, 12), 3), TenDay(Month(2026, 1), 1)
    assert a < b and a != b and hash(TenDay.parse(str(a))) == hash(a)
    assert list(TenDay.range(TenDay(Month(2025, 12), 2), TenDay(Month(2026, 1), 2))) == [
        TenDay(Month(2025, 12), 2), TenDay(Month(2025, 12), 3),
        TenDay(Month(2026, 1), 1), TenDay(Month(2026, 1), 2)]
    assert list(TenDay.range(b, a)) == []
    assert Month(2026, 2).tendays() == (
        TenDay(Month(2026, 2), 1), TenDay(Month(2026, 2), 2), TenDay(Month(2026, 2), 3))


@pytest.mark.parametrize("tenday, reminder", [
    ("2026-03-2", date(2026, 3, 9)),   # 中旬 starts the 11th
    ("2026-03-3", date(2026, 3, 19)),  # 下旬 starts the 21st
    ("2026-04-1", date(2026, 3, 30)),  # after a 31-day month
    ("2026-05-1", date(2026, 4, 29)),  # after a 30-day month
    ("2026-03-1", date(2026, 2, 27)),  # after February of a common year
    ("2024-03-1", date(2024, 2, 28)),  # after February of a leap year
    ("2100-03-1", date(2100, 2, 27)),  # 2100 is not a leap year
    ("2000-03-1", date(2000, 2, 28)),  # 2000 is
    ("2027-01-1", date(2026, 12, 30)),  # across the year end
])
def test_plan_reminder_date(tenday, reminder):
    assert plan_reminder_date(TenDay.parse(tenday)) == reminder


def test_plan_reminder_date_other_lead_times():
    t = TenDay.parse("2026-03-2")
    assert plan_reminder_date(t, days_before=0) == date(2026, 3, 11)
    assert plan_reminder_date(t, 5) == date(2026, 3, 6)
    with pytest.raises(ValueError):
        plan_reminder_date(t, -1)
    with pytest.raises(ValueError):
        plan_reminder_date(t, 1.5)


@given(days)
def test_exactly_one_tenday_contains_each_day(d):
    t = TenDay.of(d)
    assert t.start <= d <= t.end and t.contains(d)
    neighbours = [t.next()] if t == TenDay.parse("2000-01-1") else [t.prev(), t.next()]
    assert all(not n.contains(d) for n in neighbours)
    assert sum(x.contains(d) for x in Month.of(d).tendays()) == 1
    assert Month.of(d).contains(d)


@given(months)
def test_tendays_tile_the_month(m):
    first, second, third = m.tendays()
    assert first.start == m.first_day and third.end == m.last_day
    assert second.start == first.end + timedelta(days=1)
    assert third.start == second.end + timedelta(days=1)
    assert first.days + second.days + third.days == m.days


@given(days)
def test_consecutive_tendays_have_no_gap(d):
    t = TenDay.of(d)
    assert t.next().start == t.end + timedelta(days=1)
    assert t.next().prev() == t


@given(tendays)
def test_tenday_round_trips(t):
    assert TenDay.parse(str(t)) == t
    assert TenDay.of(t.start) == t == TenDay.of(t.end)
    assert plan_reminder_date(t) == t.start - timedelta(days=2)
