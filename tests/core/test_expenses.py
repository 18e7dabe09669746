"""Expense claim rules on plain values: who moves a claim where, cuts, budgets, policy caps."""
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channel.core import expenses as ex

REP, SUP, OTHER_SUP, MANAGER, FIN = 1, 2, 3, 4, 5
sup = ex.Actor(SUP, "supervisor", supervises_region=True)
other_sup = ex.Actor(OTHER_SUP, "supervisor", supervises_region=False)
manager = ex.Actor(MANAGER, "admin", second_approver=True)
finance = ex.Actor(FIN, "finance")
rep = ex.Actor(REP, "field_staff")
THRESHOLD = 5_000_00


def move(status, action, actor, *, claimant=REP, role="field_staff", total=1_000_00, first=None):
    return ex.next_status(status, action, actor=actor, claimant_id=claimant, claimant_role=role,
                          total_fen=total, second_approval_over_fen=THRESHOLD, first_approver_id=first)


def refused(code, *args, **kw):
    with pytest.raises(ex.ExpenseError) as caught:
        move(*args, **kw)
    assert caught.value.code == code


def test_the_ordinary_path():
    assert move("draft", "submit", rep) == "submitted"
    assert move("submitted", "approve", sup) == "approved"
    assert move("approved", "pay", finance) == "paid"


def test_rejection_returns_the_claim_to_its_owner():
    assert move("submitted", "reject", sup) == "draft"
    assert move("draft", "submit", rep) == "submitted"


def test_nobody_approves_their_own_claim_or_outside_their_regions():
    refused("own_claim", "submitted", "approve", sup, claimant=SUP, role="supervisor")
    refused("not_your_region", "submitted", "approve", other_sup)
    refused("not_your_region", "submitted", "approve", finance)
    refused("not_your_claim", "draft", "submit", sup)


def test_a_supervisors_own_claim_goes_to_the_next_level():
    refused("needs_next_level", "submitted", "approve", ex.Actor(9, "supervisor", supervises_region=True),
            claimant=SUP, role="supervisor")
    assert move("submitted", "approve", manager, claimant=SUP, role="supervisor", total=9_000_00) == "approved"


def test_a_large_claim_needs_a_second_approval_by_someone_else():
    assert move("submitted", "approve", sup, total=THRESHOLD) == "approved"  # up to the amount: one
    assert move("submitted", "approve", sup, total=THRESHOLD + 1) == "second_approval"
    refused("needs_second_approver", "second_approval", "approve", sup, total=THRESHOLD + 1)
    refused("same_approver_twice", "second_approval", "approve", manager, total=THRESHOLD + 1, first=MANAGER)
    assert move("second_approval", "approve", manager, total=THRESHOLD + 1, first=SUP) == "approved"
    assert move("second_approval", "reject", manager, total=THRESHOLD + 1, first=SUP) == "draft"


def test_no_double_approval_or_payment_and_a_paid_claim_is_final():
    refused("not_waiting_for_approval", "approved", "approve", sup)
    refused("already_paid", "paid", "pay", finance)
    refused("not_approved", "submitted", "pay", finance)
    refused("not_finance", "approved", "pay", sup)
    for action, actor in (("approve", sup), ("reject", sup), ("submit", rep)):
        with pytest.raises(ex.ExpenseError):
            move("paid", action, actor)
    refused("nothing_claimed", "draft", "submit", rep, total=0)


def test_cuts_pay_less_never_more():
    line = ex.check_line(ex.Line(date(2026, 3, 2), "meal", 120_00))
    cut = ex.cut(line, 100_00, "超出餐补标准")
    assert cut.payable_fen == 100_00 and ex.payable([cut]) == 100_00
    with pytest.raises(ex.ExpenseError, match="cut_reason_required"):
        ex.cut(line, 100_00, " ")
    with pytest.raises(ex.ExpenseError, match="cut_above_claim"):
        ex.cut(line, 120_01, "x")
    assert ex.cut(line, 120_00, "").payable_fen == 120_00  # approved as claimed: no reason needed
    for bad in (ex.Line(date(2026, 3, 2), "meal", 0), ex.Line(date(2026, 3, 2), "yacht", 1),
                ex.Line(date(2026, 3, 2), "accommodation", 1, nights=0)):
        with pytest.raises(ex.ExpenseError):
            ex.check_line(bad)
    with pytest.raises(TypeError):
        ex.check_line(ex.Line(date(2026, 3, 2), "meal", 12.5))


def test_budget_worked_example():
    """华北区, March, travel: budget 20,000.00; approved so far 14,500.00; pending 3,000.00; this
    claim 4,800.00 would leave 700.00 (and -2,300.00 once the pending claims are approved too).
    A claim of 6,000.00 would take it 500.00 over: approving needs a reason."""
    use = ex.BudgetUse(20_000_00, 14_500_00, 3_000_00, 4_800_00)
    assert use.left_after_fen == 700_00 and not use.over and use.over_with_pending
    ex.check_override(use, None)
    over = ex.BudgetUse(20_000_00, 14_500_00, 0, 6_000_00)
    assert over.left_after_fen == -500_00 and over.over
    with pytest.raises(ex.ExpenseError) as caught:
        ex.check_override(over, "")
    assert caught.value.info == {"over": 500_00}
    ex.check_override(over, "展会差旅，经理批准")
    assert ex.BudgetUse(None, 1, 1, 1).left_after_fen is None and not ex.BudgetUse(None, 1, 1, 1).over


def test_policy_caps_flag_lines():
    caps = ex.Caps(per_day_fen={"meal": 100_00}, per_night_fen={1: 500_00, 2: 350_00, 3: 250_00})
    d1, d2 = date(2026, 3, 2), date(2026, 3, 3)
    lines = [ex.Line(d1, "meal", 60_00), ex.Line(d1, "meal", 50_00),  # together 110.00 > 100.00
             ex.Line(d2, "meal", 100_00),  # exactly the cap
             ex.Line(d1, "accommodation", 700_00, nights=2, city_tier=2),  # 350.00 x 2: fine
             ex.Line(d2, "accommodation", 300_00, city_tier=3),  # over 250.00
             ex.Line(d2, "travel", 9_000_00)]  # no cap
    assert ex.flag_lines(lines, caps) == {0: "over_day_cap", 1: "over_day_cap", 4: "over_night_cap"}


@given(st.lists(st.tuples(st.integers(1, 10**8), st.integers(0, 10**8)), max_size=20))
def test_payable_never_exceeds_claimed(pairs):
    lines = [ex.Line(date(2026, 3, 1), "other", claimed, min(approved, claimed)) for claimed, approved in pairs]
    assert ex.payable(lines) <= sum(ln.claimed_fen for ln in lines)
