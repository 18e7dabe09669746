"""SVG-ready chart data for plan versus actual: plain values, no Flask, no database.

Two charts, drawn by templates/plans/chart_bars.html and chart_trend.html as inline <svg> (no
script, no style attribute: it renders the same in the browser and in WeasyPrint's PDFs):

- `bars`: plan against actual shipments by account (or region, or rep): one group per item, its
  label on a line of its own above two horizontal bars, so that long names fit a phone's width.
- `trend`: achievement % by period: a column per period for shipments, a line for payments, the
  100 % line and the variance threshold marked.

Geometry is in whole SVG units (the viewBox scales it); amounts are integer fen, percentages
Decimal; no float anywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from ..core.plans import percent

# The bars chart: a group per item.
BARS_WIDTH = 360  # about 1:1 on a phone: the labels stay legible
BAR_HEIGHT = 11
BAR_GAP = 2
LABEL_HEIGHT = 16  # the label line above a group's bars
GROUP_GAP = 10
BARS_TOP = 24  # below the legend line
LEGEND_Y = 12  # baseline of the legend
VALUE_SPACE = 110  # right of the bars: the amounts
MAX_BAR_GROUPS = 20  # beyond this the page says how many more there are

# The trend chart.
TREND_WIDTH = 400
TREND_HEIGHT = 220
TREND_LEFT = 38  # the % axis labels
TREND_RIGHT = 6
TREND_TOP = 10
TREND_BOTTOM = 34  # the period and month labels
PCT_STEP = 50  # gridline every 50 %
PCT_FLOOR = 150  # the axis runs to at least 150 %
PCT_CEILING = 300  # and at most 300 %: a column above is drawn to the top and marked


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    value: int  # fen (what the bar stands for; may be negative: more returned than shipped)


@dataclass(frozen=True)
class BarGroup:
    key: object  # what the caller identifies the item by (account code, region code...)
    label: str
    label_y: int  # baseline of the label text
    plan: Bar
    actual: Bar
    pct: Decimal | None  # actual as % of plan (None: nothing planned)
    below: bool  # below the threshold


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    groups: tuple
    threshold: int
    more: int = 0  # items left out (beyond MAX_BAR_GROUPS)
    legend_y: int = LEGEND_Y

    @property
    def empty(self) -> bool:
        return not self.groups


def _length(value: int, top: int, span: int) -> int:
    """value scaled to span (top = the largest value), rounded half up; at least 1 when above 0."""
    if value <= 0 or top <= 0:
        return 0
    return max(1, (value * span * 2 + top) // (top * 2))


def bars(items, *, threshold: int = 80, width: int = BARS_WIDTH, limit: int = MAX_BAR_GROUPS) -> BarChart:
    """items: (key, label, plan fen, actual fen), in the order to show (e.g. furthest below plan
    first). Both bars of every group share one scale: the largest plan or actual amount."""
    items = list(items)
    shown, more = items[:limit], max(0, len(items) - limit)
    top = max([max(plan, actual) for _k, _l, plan, actual in shown] or [0])
    groups, y = [], BARS_TOP
    for key, label, plan, actual in shown:
        label_y = y + LABEL_HEIGHT - 4
        plan_y = y + LABEL_HEIGHT
        actual_y = plan_y + BAR_HEIGHT + BAR_GAP
        pct = percent(actual, plan)
        groups.append(BarGroup(
            key, label, label_y,
            Bar(0, plan_y, _length(plan, top, width - VALUE_SPACE), BAR_HEIGHT, plan),
            Bar(0, actual_y, _length(actual, top, width - VALUE_SPACE), BAR_HEIGHT, actual),
            pct, pct is not None and pct < threshold))
        y = actual_y + BAR_HEIGHT + GROUP_GAP
    return BarChart(width, y if groups else 0, tuple(groups), threshold, more)


@dataclass(frozen=True)
class Column:
    x: int
    y: int
    width: int
    height: int
    pct: Decimal
    clipped: bool  # above the axis: drawn to the top


@dataclass(frozen=True)
class TrendSlot:
    label: str  # the period's short label (上/中/下, or 1/2/3)
    title: str  # its full name, for the tooltip
    x: int  # the slot's centre
    shipped: Column | None  # None: nothing planned
    paid_pct: Decimal | None
    paid_y: int | None  # the payment line's point


@dataclass(frozen=True)
class Tick:
    y: int
    pct: int


@dataclass(frozen=True)
class MonthMark:
    label: str
    x: int  # centre of its periods
    divider_x: int  # left edge of its first period (a divider line)


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    left: int
    right: int  # x of the plot's right edge
    top: int
    bottom: int  # y of the 0 % line
    slots: tuple
    ticks: tuple
    months: tuple
    hundred_y: int
    threshold: int
    threshold_y: int
    paid_lines: tuple  # polylines ("x,y x,y ...") of the payment line, broken where nothing was planned

    @property
    def empty(self) -> bool:
        return not any(s.shipped is not None or s.paid_pct is not None for s in self.slots)


def _axis_top(values) -> int:
    """The axis maximum: the largest %, rounded up to a gridline, between the floor and the ceiling."""
    top = max([v for v in values if v is not None] or [Decimal(0)])
    steps = -(-int(top.to_integral_value(rounding=ROUND_CEILING)) // PCT_STEP)
    return min(PCT_CEILING, max(PCT_FLOOR, steps * PCT_STEP))


def trend(points, *, threshold: int = 80, width: int = TREND_WIDTH, height: int = TREND_HEIGHT) -> TrendChart:
    """points: (label, title, month label, shipped %, paid %) per period in order; a % is None
    when nothing was planned. Months are labelled once, under their periods."""
    points = list(points)
    axis = _axis_top([p[3] for p in points] + [p[4] for p in points])
    left, right, top, bottom = TREND_LEFT, width - TREND_RIGHT, TREND_TOP, height - TREND_BOTTOM
    span = bottom - top

    def y_of(pct) -> int:
        pct = min(Decimal(axis), max(Decimal(0), Decimal(pct)))
        return bottom - int((pct * span / axis).to_integral_value(rounding=ROUND_HALF_UP))

    n = max(1, len(points))
    slot = (right - left) // n
    col_w = max(2, slot * 3 // 5)
    slots, months, lines, line = [], [], [], []
    for i, (label, title, month, shipped, paid) in enumerate(points):
        x0 = left + i * slot
        centre = x0 + slot // 2
        column = None
        if shipped is not None:
            y = y_of(shipped)
            column = Column(centre - col_w // 2, y, col_w, bottom - y, shipped, shipped > axis)
        paid_y = y_of(paid) if paid is not None else None
        if paid_y is None:
            if line:
                lines.append(" ".join(line))
            line = []
        else:
            line.append(f"{centre},{paid_y}")
        slots.append(TrendSlot(label, title, centre, column, paid, paid_y))
        if not months or months[-1][0] != month:
            months.append([month, x0, x0 + slot])
        else:
            months[-1][2] = x0 + slot
    if line:
        lines.append(" ".join(line))
    ticks = tuple(Tick(y_of(p), p) for p in range(0, axis + 1, PCT_STEP))
    marks = tuple(MonthMark(m, (a + b) // 2, a) for m, a, b in months)
    return TrendChart(width, height, left, right, top, bottom, tuple(slots), ticks, marks, y_of(100),
                      threshold, y_of(threshold), tuple(lines))
