"""Ten-day plan rules on plain values: who moves a plan where and when it locks, what the
ledger's documents add up to, achievement, variance notes, the furthest below first."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channel.core import plans as pl
from channel.core.periods import TenDay

PERIOD = TenDay.parse("2026-03-2")  # 11-20 March
BEFORE, FIRST_DAY, LAST_DAY, AFTER = date(2026, 3, 9), date(2026, 3, 11), date(2026, 3, 20), date(2026, 3, 21)
DRAFTER = pl.PlanActor(drafts=True)
SUPERVISOR = pl.PlanActor(supervises=True)
BOTH = pl.PlanActor(drafts=True, supervises=True)
NOBODY = pl.PlanActor()


def move(status, action, actor, today=BEFORE, reason=None):
    return pl.next_status(status, action, actor=actor, period=PERIOD, today=today, reason=reason)


def refused(code, *args, **kw):
    with pytest.raises(pl.PlanError) as caught:
        move(*args, **kw)
    assert caught.value.code == code
    return caught.value


# --- transitions -------------------------------------------------------------------------------

def test_the_ordinary_path():
    assert move("draft", "submit", DRAFTER) == "submitted"
    assert move("submitted", "approve", SUPERVISOR) == "approved"


def test_submit_by_a_drafter_only_from_a_draft_and_not_after_the_period():
    refused("not_your_plan", "draft", "submit", SUPERVISOR)
    refused("not_your_plan", "draft", "submit", NOBODY)
    for status in ("submitted", "approved"):
        err = refused("not_a_draft", status, "submit", DRAFTER)
        assert err.info == {"status": status}
    # Late plans are still submitted during the period, not once it is over.
    assert move("draft", "submit", DRAFTER, today=FIRST_DAY) == "submitted"
    assert move("draft", "submit", DRAFTER, today=LAST_DAY) == "submitted"
    err = refused("period_over", "draft", "submit", DRAFTER, today=AFTER)
    assert err.info == {"period": "2026-03-2"}


def test_approve_and_send_back_by_a_supervisor():
    for action in ("approve", "send_back", "change"):
        refused("needs_supervisor", "submitted", action, DRAFTER)
        refused("needs_supervisor", "submitted", action, NOBODY)
    assert move("submitted", "approve", BOTH) == "approved"
    refused("not_submitted", "draft", "approve", SUPERVISOR)
    refused("not_submitted", "approved", "approve", SUPERVISOR)
    assert move("submitted", "send_back", SUPERVISOR) == "draft"
    refused("not_submitted", "draft", "send_back", SUPERVISOR)
    # An approved plan is sent back before its period starts, not after.
    assert move("approved", "send_back", SUPERVISOR, today=FIRST_DAY - timedelta(days=1)) == "draft"
    refused("locked", "approved", "send_back", SUPERVISOR, today=FIRST_DAY)
    # A submitted plan is never locked: it may be sent back during the period.
    assert move("submitted", "send_back", SUPERVISOR, today=LAST_DAY) == "draft"


def test_a_plan_locks_when_its_period_starts():
    assert not pl.is_locked("approved", PERIOD, FIRST_DAY - timedelta(days=1))
    assert pl.is_locked("approved", PERIOD, FIRST_DAY)
    assert pl.is_locked("approved", PERIOD, AFTER)
    for status in ("draft", "submitted"):
        assert not pl.is_locked(status, PERIOD, AFTER)


def test_change_needs_a_locked_plan_and_a_reason():
    assert move("approved", "change", SUPERVISOR, today=FIRST_DAY, reason="库存偏高") == "approved"
    assert move("approved", "change", SUPERVISOR, today=AFTER, reason="补记") == "approved"
    refused("not_locked", "approved", "change", SUPERVISOR, today=BEFORE, reason="x")
    refused("not_locked", "submitted", "change", SUPERVISOR, today=FIRST_DAY, reason="x")
    refused("not_locked", "draft", "change", SUPERVISOR, today=FIRST_DAY, reason="x")
    for reason in (None, "", "   "):
        err = refused("reason_required", "approved", "change", SUPERVISOR, today=FIRST_DAY, reason=reason)
        assert err.field == "reason"


def test_unknown_statuses_and_actions_are_programming_errors():
    with pytest.raises(ValueError):
        move("paid", "submit", DRAFTER)
    with pytest.raises(ValueError):
        move("draft", "delete", DRAFTER)


@pytest.mark.parametrize("status,today,actor,expected", [
    ("draft", BEFORE, DRAFTER, True),
    ("draft", BEFORE, SUPERVISOR, True),
    ("draft", BEFORE, NOBODY, False),
    ("draft", LAST_DAY, DRAFTER, True),  # a late plan is still written during its period
    ("draft", AFTER, DRAFTER, False),
    ("draft", AFTER, SUPERVISOR, False),
    ("submitted", BEFORE, DRAFTER, False),  # sent back first
    ("submitted", BEFORE, SUPERVISOR, True),
    ("submitted", AFTER, SUPERVISOR, False),
    ("approved", BEFORE, SUPERVISOR, False),  # sent back first, or changed once locked
    ("approved", FIRST_DAY, BOTH, False),
])
def test_may_edit(status, today, actor, expected):
    assert pl.may_edit(status, PERIOD, today, actor=actor) is expected


# --- actual figures ------------------------------------------------------------------------------

W, T = 1, 2  # product ids


def mv(kind, direction=None, amount=0, product=None, qty=0):
    return pl.Movement(kind, direction or pl.USUAL_DIRECTION.get(kind, "debit"), amount, product, qty)


def test_shipments_less_returns_by_product_and_amount():
    a = pl.actual([mv("shipment", amount=28_800, product=W, qty=10), mv("shipment", amount=9_000, product=T, qty=2),
                   mv("return", amount=5_760, product=W, qty=2)])
    assert (a.shipped_qty, a.shipped_fen, a.paid_fen) == ({W: 8, T: 2}, 28_800 + 9_000 - 5_760, 0)


def test_a_reversal_undoes_what_it_reverses():
    ship = mv("shipment", amount=28_800, product=W, qty=10)
    ship_back = mv("shipment", "credit", 28_800, W, 10)  # 红冲 of the shipment
    ret = mv("return", amount=2_880, product=W, qty=1)
    ret_back = mv("return", "debit", 2_880, W, 1)  # 红冲 of the return
    pay = mv("payment", amount=50_000)
    pay_back = mv("payment", "debit", 50_000)
    assert pl.actual([ship, ship_back]) == pl.Actual({W: 0}, 0, 0)
    assert pl.actual([ship, ret, ret_back]) == pl.Actual({W: 10}, 28_800, 0)
    assert pl.actual([ret_back]) == pl.Actual({W: 1}, 2_880, 0)  # undoing a return ships again
    assert pl.actual([pay, pay_back, pay]) == pl.Actual({}, 0, 50_000)
    assert pl.actual([pay_back]).paid_fen == -50_000


def test_other_kinds_do_not_count():
    others = [mv(kind, direction, 100_000) for kind in ("rebate", "adjustment", "opening", "payout")
              for direction in ("debit", "credit")]
    assert pl.actual(others) == pl.Actual({}, 0, 0)
    assert pl.actual([]) == pl.Actual({}, 0, 0)


def test_a_line_without_a_product_counts_in_amount_only():
    assert pl.actual([mv("shipment", amount=1_000)]) == pl.Actual({}, 1_000, 0)


movement = st.builds(
    pl.Movement,
    kind=st.sampled_from(("shipment", "return", "payment", "rebate", "adjustment")),
    direction=st.sampled_from(("debit", "credit")),
    amount_fen=st.integers(0, 10**10),
    product_id=st.sampled_from((None, W, T, 3)),
    quantity=st.integers(0, 10_000),
)


def _opposite(m):
    return pl.Movement(m.kind, "credit" if m.direction == "debit" else "debit", m.amount_fen, m.product_id,
                       m.quantity)


def _clean(a):
    return ({p: q for p, q in a.shipped_qty.items() if q}, a.shipped_fen, a.paid_fen)


@given(st.lists(movement, max_size=12))
def test_every_movement_and_its_reversal_net_to_nothing(moves):
    assert _clean(pl.actual(moves + [_opposite(m) for m in moves])) == ({}, 0, 0)


@given(st.lists(movement, max_size=12), st.lists(movement, max_size=12))
def test_actual_is_additive_over_a_split(first, second):
    a, b, both = pl.actual(first), pl.actual(second), pl.actual(first + second)
    assert both.shipped_fen == a.shipped_fen + b.shipped_fen
    assert both.paid_fen == a.paid_fen + b.paid_fen
    for p in set(a.shipped_qty) | set(b.shipped_qty):
        assert both.shipped_qty[p] == a.shipped_qty.get(p, 0) + b.shipped_qty.get(p, 0)
    assert set(both.shipped_qty) == set(a.shipped_qty) | set(b.shipped_qty)


@given(st.lists(movement, max_size=12), st.randoms())
def test_actual_does_not_depend_on_order(moves, rnd):
    shuffled = list(moves)
    rnd.shuffle(shuffled)
    assert pl.actual(shuffled) == pl.actual(moves)


# --- achievement -----------------------------------------------------------------------------------

@pytest.mark.parametrize("actual,plan,expected", [
    (0, 100, "0.0"), (100, 100, "100.0"), (1, 3, "33.3"), (2, 3, "66.7"),
    (1, 8, "12.5"),  # 12.5 exactly
    (1, 16, "6.3"),  # 6.25: half up, not half even
    (5, 16, "31.3"),  # 31.25
    (1, 2000, "0.1"),  # 0.05 -> 0.1
    (1, 2001, "0.0"),
    (150, 100, "150.0"), (-10, 100, "-10.0"),
])
def test_percent_to_one_decimal_half_up(actual, plan, expected):
    got = pl.percent(actual, plan)
    assert isinstance(got, Decimal) and str(got) == expected


def test_percent_of_nothing_planned_is_none():
    assert pl.percent(100, 0) is None
    assert pl.percent(0, 0) is None


def test_achievement_percentages_and_gap():
    a = pl.Achievement(plan_qty=100, actual_qty=90, plan_fen=288_000, actual_fen=259_200, plan_paid_fen=0,
                       actual_paid_fen=5_000)
    assert (str(a.qty_pct), str(a.shipped_pct), a.paid_pct) == ("90.0", "90.0", None)
    assert a.gap_fen == 28_800
    over = pl.Achievement(10, 12, 1_000, 1_200, 500, 500)
    assert over.gap_fen == -200 and str(over.paid_pct) == "100.0"


def test_achievements_add_and_total():
    a = pl.Achievement(1, 2, 3, 4, 5, 6)
    b = pl.Achievement(10, 20, 30, 40, 50, 60)
    assert a + b == pl.Achievement(11, 22, 33, 44, 55, 66)
    assert pl.total([a, b, a]) == pl.Achievement(12, 24, 36, 48, 60, 72)
    assert pl.total([]) == pl.ZERO == pl.Achievement(0, 0, 0, 0, 0, 0)
    # The total's percentage is of the sums, not an average of percentages.
    t = pl.total([pl.Achievement(0, 0, 100, 100, 0, 0), pl.Achievement(0, 0, 900, 0, 0, 0)])
    assert str(t.shipped_pct) == "10.0"


achievement = st.builds(pl.Achievement, *(st.integers(0, 10**9) for _ in range(6)))


@given(st.lists(achievement, max_size=6), st.lists(achievement, max_size=6))
def test_total_is_additive(first, second):
    assert pl.total(first + second) == pl.total(first) + pl.total(second)


def test_needs_variance_note_below_the_threshold_on_what_was_planned():
    def a(plan_fen, actual_fen, plan_paid=0, paid=0):
        return pl.Achievement(0, 0, plan_fen, actual_fen, plan_paid, paid)

    assert pl.needs_variance_note(a(1000, 799), 80)
    assert not pl.needs_variance_note(a(1000, 800), 80)  # at the threshold: no note
    assert pl.needs_variance_note(a(1000, 1000, 1000, 500), 80)  # payment short
    assert not pl.needs_variance_note(a(0, 0, 0, 0), 80)  # nothing planned, nothing asked
    assert not pl.needs_variance_note(a(0, 0, 1000, 900), 80)
    assert pl.needs_variance_note(a(0, 500, 1000, 0), 80)
    assert not pl.needs_variance_note(a(1000, 700), 70)
    # 79.96% rounds to 80.0: not below.
    assert not pl.needs_variance_note(a(10_000, 7_996), 80)


def test_furthest_below_first():
    rows = [
        ("over", pl.Achievement(0, 0, 1000, 1500, 0, 0)),
        ("short_500", pl.Achievement(0, 0, 1000, 500, 0, 0)),
        ("short_500_of_more", pl.Achievement(0, 0, 5000, 4500, 0, 0)),
        ("no_plan", pl.Achievement(0, 0, 0, 0, 0, 0)),
        ("short_900", pl.Achievement(0, 0, 1000, 100, 0, 0)),
    ]
    order = [key for key, _ in pl.furthest_below_first(rows)]
    # The largest shortfall first; equal shortfalls, the lower percentage first; above plan last.
    assert order == ["short_900", "short_500", "short_500_of_more", "no_plan", "over"]
