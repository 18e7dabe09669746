"""Promotion rewards and a region's settlement, worked by hand as finance would check them."""
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channel.core.plans import Movement, actual
from channel.core.promotions import (
    Participation,
    PromotionError,
    Rules,
    next_status,
    reward,
    settle_region,
    status_on,
)


def net(*movements):
    """Net quantity and amount of a promotion product from ledger movements (returns and
    reversals included), as the settlement reads them."""
    a = actual(movements)
    return Participation(net_qty=sum(a.shipped_qty.values()), net_fen=a.shipped_fen)


P = 7  # the promotion's product id
SHIPPED_100 = Movement("shipment", "debit", 100 * 2880, P, 100)  # 100 cases at ¥28.80
RETURNED_10 = Movement("return", "credit", 10 * 2880, P, 10)
REVERSED_20 = Movement("shipment", "credit", 20 * 2880, P, 20)  # 红冲 of a shipment of 20


def test_per_unit_counts_net_shipments_after_returns_and_reversals():
    p = net(SHIPPED_100, RETURNED_10, REVERSED_20)
    assert (p.net_qty, p.net_fen) == (70, 70 * 2880)
    assert reward(Rules("per_unit", rate=150), p) == 70 * 150  # ¥1.50 a case: ¥105.00
    assert reward(Rules("per_unit", rate=150, min_quantity=80), p) == 0  # below the minimum
    assert reward(Rules("per_unit", rate=150, cap_fen=10_000), p) == 10_000  # capped at ¥100.00


def test_percent_of_net_amount_rounds_half_up_to_the_fen():
    p = net(SHIPPED_100, RETURNED_10)  # 90 cases, ¥2,592.00
    assert reward(Rules("percent", rate=150), p) == 3888  # 1.5% of ¥2,592.00 = ¥38.88
    odd = Participation(net_qty=1, net_fen=333)  # 1.5% of ¥3.33 = 4.995 fen -> 5 fen
    assert reward(Rules("percent", rate=150), odd) == 5
    assert reward(Rules("percent", rate=150), net(SHIPPED_100, Movement("return", "credit", 120 * 2880, P, 120))) == 0


def test_per_outlet_and_display_fee_pay_verified_execution_only():
    assert reward(Rules("per_outlet", rate=5000), Participation(verified_outlets=12)) == 60_000
    assert reward(Rules("per_outlet", rate=5000, cap_fen=50_000), Participation(verified_outlets=12)) == 50_000
    assert reward(Rules("display_fee", rate=80_000), Participation(verified=True)) == 80_000
    assert reward(Rules("display_fee", rate=80_000), Participation(verified=False)) == 0


def test_a_region_within_budget_is_paid_in_full():
    rules = Rules("per_unit", rate=100)
    s = settle_region(rules, {"A": Participation(300, 0), "B": Participation(200, 0)}, budget_fen=60_000)
    assert s.earned == {"A": 30_000, "B": 20_000} and s.paid == s.earned and not s.short


def test_a_budget_that_runs_short_is_shared_pro_rata_to_the_fen():
    # Earned ¥300.00 + ¥200.00 + ¥100.00 = ¥600.00 against a budget of ¥500.00: each gets 5/6,
    # ¥250.00, ¥166.67 and ¥83.33 (largest remainder: the shares add up to the budget exactly).
    rules = Rules("per_unit", rate=100)
    parts = {"A": Participation(300, 0), "B": Participation(200, 0), "C": Participation(100, 0)}
    s = settle_region(rules, parts, budget_fen=50_000)
    assert s.short and s.paid == {"A": 25_000, "B": 16_667, "C": 8_333} and s.paid_fen == 50_000
    assert settle_region(rules, parts, budget_fen=None).paid_fen == 60_000  # no budget: no limit


@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 10**6)), max_size=30),
       st.integers(0, 10**8), st.integers(0, 500))
def test_a_settlement_never_pays_more_than_earned_or_the_budget(rows, budget, rate):
    parts = {i: Participation(q, f) for i, (q, f) in enumerate(rows)}
    s = settle_region(Rules("per_unit", rate=rate), parts, budget)
    assert s.paid_fen == min(s.earned_fen, budget)
    assert all(0 <= s.paid[k] <= s.earned[k] for k in parts)


def test_rules_refuse_what_cannot_be_paid():
    for bad in (dict(kind="lottery", rate=1), dict(kind="per_unit", rate=-1), dict(kind="percent", rate=10_001),
                dict(kind="per_unit", rate=1, cap_fen=-5), dict(kind="per_unit", rate=1.5)):
        with pytest.raises(PromotionError):
            Rules(**bad)


START, END = date(2026, 3, 1), date(2026, 3, 31)


def test_states_follow_the_dates():
    assert status_on("draft", START, END, date(2026, 3, 10)) == "draft"
    assert status_on("published", START, END, date(2026, 2, 28)) == "published"
    assert status_on("published", START, END, START) == "running"
    assert status_on("published", START, END, END) == "running"
    assert status_on("published", START, END, date(2026, 4, 1)) == "ended"
    assert status_on("settled", START, END, date(2026, 4, 1)) == "settled"


def test_settled_once_after_the_end():
    assert next_status("draft", "publish", start=START, end=END, today=date(2026, 2, 1)) == "published"
    with pytest.raises(PromotionError) as err:
        next_status("published", "settle", start=START, end=END, today=date(2026, 3, 15))
    assert err.value.code == "not_ended"
    assert next_status("published", "settle", start=START, end=END, today=date(2026, 4, 2)) == "settled"
    with pytest.raises(PromotionError) as err:
        next_status("settled", "settle", start=START, end=END, today=date(2026, 4, 2))
    assert err.value.code == "already_settled"
    with pytest.raises(PromotionError) as err:
        next_status("draft", "publish", start=END, end=START, today=date(2026, 2, 1))
    assert err.value.code == "period_backwards"
