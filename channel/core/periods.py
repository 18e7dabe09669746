"""Months and ten-day periods (旬): the calendar the ledger, plans and reports are cut by.

Plain values: immutable, hashable, ordered. Only business dates (`datetime.date`) go in; a
`datetime` is refused, because a UTC timestamp's date is not the business day in China.
"""
import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# One domain for every Month, so that each one round-trips through its text form.
MIN_YEAR = 2000
MAX_YEAR = 2999

_MONTH_RE = re.compile(r"([0-9]{4})-([0-9]{2})")
_TENDAY_RE = re.compile(r"([0-9]{4}-[0-9]{2})-([0-9])")

TENDAY_NAMES_ZH = {1: "上旬", 2: "中旬", 3: "下旬"}


def _business_date(value) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"expected a business date (datetime.date), got {value!r}")
    return value


def _plain_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _inclusive(start, end):
    """start, start.next(), ... end: the one walk over months and ten-day periods alike."""
    current = start
    while current <= end:
        yield current
        if current == end:
            return
        current = current.next()


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month, ordered by (year, month); `str` is "2026-03", `key` is 202603."""

    year: int
    month: int

    def __post_init__(self):
        if not (_plain_int(self.year) and _plain_int(self.month)):
            raise TypeError("year and month must be integers")
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise ValueError(f"year {self.year} outside {MIN_YEAR}-{MAX_YEAR}")
        if not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} outside 1-12")

    @classmethod
    def parse(cls, text: str) -> "Month":
        """Strictly "YYYY-MM": it comes from URLs and forms, so anything else is refused."""
        if not isinstance(text, str):
            raise ValueError(f"not a month (expected text YYYY-MM): {text!r}")
        match = _MONTH_RE.fullmatch(text)
        if match is None:
            raise ValueError(f"not a month (expected YYYY-MM, e.g. 2026-03): {text!r}")
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(f"not a month (month must be 01-12): {text!r}")
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValueError(f"not a month (year must be {MIN_YEAR}-{MAX_YEAR}): {text!r}")
        return cls(year, month)

    @classmethod
    def of(cls, day: date) -> "Month":
        day = _business_date(day)
        return cls(day.year, day.month)

    @classmethod
    def from_key(cls, key: int) -> "Month":
        """The inverse of `key`, for values read back from storage."""
        if not _plain_int(key):
            raise TypeError(f"not a month key: {key!r}")
        year, month = divmod(key, 100)
        return cls(year, month)

    @classmethod
    def range(cls, start: "Month", end: "Month") -> Iterator["Month"]:
        """start..end inclusive; empty when end is before start."""
        return _inclusive(start, end)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def key(self) -> int:
        return self.year * 100 + self.month

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def days(self) -> int:
        return self.last_day.day

    def _index(self) -> int:
        return self.year * 12 + self.month - 1

    @classmethod
    def _from_index(cls, index: int) -> "Month":
        year, month0 = divmod(index, 12)
        return cls(year, month0 + 1)

    def next(self) -> "Month":
        return self + 1

    def prev(self) -> "Month":
        return self - 1

    def __add__(self, months):
        if not _plain_int(months):
            return NotImplemented
        return Month._from_index(self._index() + months)

    __radd__ = __add__

    def __sub__(self, other):
        """Month - int -> Month; Month - Month -> months between (2026-03 - 2025-12 == 3)."""
        if isinstance(other, Month):
            return self._index() - other._index()
        if _plain_int(other):
            return Month._from_index(self._index() - other)
        return NotImplemented

    def contains(self, day: date) -> bool:
        day = _business_date(day)
        return day.year == self.year and day.month == self.month

    def tendays(self) -> tuple["TenDay", "TenDay", "TenDay"]:
        return (TenDay(self, 1), TenDay(self, 2), TenDay(self, 3))


@dataclass(frozen=True, order=True, slots=True)
class TenDay:
    """A ten-day period (旬): index 1 = days 1-10 (上旬), 2 = 11-20 (中旬), 3 = 21-end (下旬).

    `str` is "2026-03-2". Ordered by (month, index).
    """

    month: Month
    index: int

    def __post_init__(self):
        if not isinstance(self.month, Month):
            raise TypeError(f"month must be a Month, got {self.month!r}")
        if not _plain_int(self.index) or self.index not in (1, 2, 3):
            raise ValueError(f"ten-day index must be 1, 2 or 3, got {self.index!r}")

    @classmethod
    def parse(cls, text: str) -> "TenDay":
        """Strictly "YYYY-MM-N" with N in 1..3."""
        if not isinstance(text, str):
            raise ValueError(f"not a ten-day period (expected text YYYY-MM-N): {text!r}")
        match = _TENDAY_RE.fullmatch(text)
        if match is None or match[2] not in "123":
            raise ValueError(f"not a ten-day period (expected YYYY-MM-N, N 1-3, e.g. 2026-03-2): "
                             f"{text!r}")
        return cls(Month.parse(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> "TenDay":
        day = _business_date(day)
        index = 1 if day.day <= 10 else 2 if day.day <= 20 else 3
        return cls(Month.of(day), index)

    @classmethod
    def range(cls, start: "TenDay", end: "TenDay") -> Iterator["TenDay"]:
        """start..end inclusive; empty when end is before start."""
        return _inclusive(start, end)

    def __str__(self) -> str:
        return f"{self.month}-{self.index}"

    @property
    def name_zh(self) -> str:
        return TENDAY_NAMES_ZH[self.index]

    @property
    def start(self) -> date:
        return date(self.month.year, self.month.month, 10 * (self.index - 1) + 1)

    @property
    def end(self) -> date:
        if self.index == 3:
            return self.month.last_day
        return date(self.month.year, self.month.month, 10 * self.index)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def next(self) -> "TenDay":
        if self.index == 3:
            return TenDay(self.month.next(), 1)
        return TenDay(self.month, self.index + 1)

    def prev(self) -> "TenDay":
        if self.index == 1:
            return TenDay(self.month.prev(), 3)
        return TenDay(self.month, self.index - 1)

    def contains(self, day: date) -> bool:
        day = _business_date(day)
        return self.start <= day <= self.end


def plan_reminder_date(tenday: TenDay, days_before: int = 2) -> date:
    """The day to remind rep and dealer to agree the plan: `days_before` days before it starts.

    The 8th and 18th for 中旬 and 下旬; for 上旬 it falls in the previous month: the 30th after a
    31-day month, the 29th after a 30-day one, 27 (28 in a leap year) February for March.
    """
    if not isinstance(tenday, TenDay):
        raise TypeError(f"expected a TenDay, got {tenday!r}")
    if not _plain_int(days_before) or days_before < 0:
        raise ValueError(f"days_before must be a whole number >= 0, got {days_before!r}")
    return tenday.start - timedelta(days=days_before)
