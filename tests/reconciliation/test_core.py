"""The reconciliation rules on plain values: content hash, states, overdue, pass-through."""
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channel.core import ledger
from channel.core import reconciliation as rc
from channel.core.periods import Month

MARCH = Month(2026, 3)


def _statement(*amounts, opening=0):
    entries = [ledger.Entry(date(2026, 3, 1 + i), f"FH-2026-{i:06d}", "shipment" if a > 0 else "payment", a, seq=i)
               for i, a in enumerate(amounts)]
    return ledger.build_statement(MARCH, opening, entries)


def _content(*amounts, corrections=(), opening=0):
    return rc.Content("GD-BJ01", "2026-03", _statement(*amounts, opening=opening), tuple(corrections))


def test_the_hash_covers_amounts_dates_numbers_and_corrections():
    base = _content(100_00, -40_00)
    assert base.hash == _content(100_00, -40_00).hash
    assert len(base.hash) == 64
    assert _content(100_01, -40_00).hash != base.hash  # one fen
    assert _content(100_00, -40_00, opening=1).hash != base.hash
    corrected = _content(100_00, -40_00, corrections=[rc.Correction("TZ-2026-000001", date(2026, 4, 2),
                                                                    "adjustment", -5_00)])
    assert corrected.hash != base.hash
    assert rc.Content("GD-TJ01", "2026-03", base.statement).hash != base.hash


def test_descriptions_do_not_change_the_hash():
    plain = _statement(100_00)
    described = ledger.build_statement(MARCH, 0, [ledger.Entry(date(2026, 3, 1), "FH-2026-000000", "shipment",
                                                               100_00, description="月度补货", seq=0)])
    assert rc.Content("A", "2026-03", plain).hash == rc.Content("A", "2026-03", described).hash


def test_agreed_balance_is_closing_plus_corrections():
    """Worked example: opening 1,000.00, shipped 2,500.00, paid 1,800.00: closing 1,700.00. The
    account disputes a missing 86.00 credit; finance posts it in April: they agree on 1,614.00."""
    content = _content(2_500_00, -1_800_00, opening=1_000_00,
                       corrections=[rc.Correction("TZ-2026-000007", date(2026, 4, 3), "adjustment", -86_00)])
    assert content.statement.closing_fen == 1_700_00
    assert content.agreed_fen == 1_614_00


def test_corrections_in_any_order_give_one_hash():
    a = rc.Correction("TZ-1", date(2026, 4, 1), "adjustment", 1)
    b = rc.Correction("TZ-2", date(2026, 4, 2), "adjustment", 2)
    assert _content(1, corrections=[a, b]).hash == _content(1, corrections=[b, a]).hash


def test_due_date_and_overdue():
    due = rc.due_on(date(2026, 4, 2), 10)
    assert due == date(2026, 4, 12)
    assert not rc.is_overdue("issued", due, date(2026, 4, 12))  # the last day is still in time
    assert rc.is_overdue("issued", due, date(2026, 4, 13))
    assert not rc.is_overdue("disputed", due, date(2026, 5, 1))  # waiting for the supplier
    assert not rc.is_overdue("confirmed", due, date(2026, 5, 1))
    assert rc.display_status("issued", due, date(2026, 4, 13)) == "overdue"
    for bad in (0, -1, 91, 1.5, True, "10"):
        with pytest.raises(ValueError):
            rc.due_on(date(2026, 4, 2), bad)


def _refused(code, fn, *args):
    with pytest.raises(rc.ReconciliationError) as caught:
        fn(*args)
    assert caught.value.code == code
    return caught.value


def test_confirm_needs_the_content_shown_to_be_the_content_issued_and_now():
    assert rc.check_confirm("issued", "h1", "h1", "h1") == "confirmed"
    _refused("stale", rc.check_confirm, "issued", "h0", "h1", "h1")
    _refused("changed_since_issue", rc.check_confirm, "issued", "h1", "h2", "h1")
    _refused("already_confirmed", rc.check_confirm, "confirmed", "h1", "h1", "h1")
    _refused("dispute_pending", rc.check_confirm, "disputed", "h1", "h1", "h1")


def test_dispute_rules():
    line = rc.DisputedLine
    assert rc.check_dispute("issued", "h", "h", "h", [line("FH-1", "short 10 cases")], ["FH-1"]) == "disputed"
    assert rc.check_dispute("issued", "h", "h", "h", [line("", "a credit note is missing")], []) == "disputed"
    _refused("nothing_disputed", rc.check_dispute, "issued", "h", "h", "h", [], ["FH-1"])
    _refused("dispute_reason_required", rc.check_dispute, "issued", "h", "h", "h", [line("FH-1", "  ")], ["FH-1"])
    _refused("not_on_statement", rc.check_dispute, "issued", "h", "h", "h", [line("FH-9", "x")], ["FH-1"])
    _refused("disputed_twice", rc.check_dispute, "issued", "h", "h", "h",
             [line("FH-1", "x"), line("FH-1", "y")], ["FH-1"])
    _refused("stale", rc.check_dispute, "issued", "old", "h", "h", [line("FH-1", "x")], ["FH-1"])
    _refused("already_confirmed", rc.check_dispute, "confirmed", "h", "h", "h", [line("FH-1", "x")], ["FH-1"])


def test_answering_the_last_open_line_reissues():
    assert rc.status_after_answer(2) == "disputed"
    assert rc.status_after_answer(0) == "issued"
    with pytest.raises(ValueError):
        rc.status_after_answer(-1)
    _refused("already_confirmed", rc.check_reissue, "confirmed")
    rc.check_reissue("issued")
    rc.check_reissue("disputed")


def test_pass_through_gap():
    """Worked example: 北京 received 3,000.00 for DL-BJ002 and 1,500.00 for DL-BJ001; it passed
    on 1,800.00 and 1,500.00: it still owes DL-BJ002 1,200.00."""
    rows = rc.pass_through({2: 3_000_00, 1: 1_500_00}, {2: 1_800_00, 1: 1_500_00})
    assert rows[0] == rc.PassThrough(2, 3_000_00, 1_800_00)
    assert rows[0].gap_fen == 1_200_00 and rows[0].flagged
    assert rows[1].gap_fen == 0 and not rows[1].flagged
    over = rc.pass_through({}, {5: 100})[0]
    assert over.gap_fen == -100 and not over.flagged  # passed on more than received: no gap


@given(st.dictionaries(st.integers(1, 20), st.integers(0, 10**9)),
       st.dictionaries(st.integers(1, 20), st.integers(0, 10**9)))
def test_pass_through_totals(received, passed):
    rows = rc.pass_through(received, passed)
    assert sum(r.received_fen for r in rows) == sum(received.values())
    assert sum(r.passed_fen for r in rows) == sum(passed.values())
    assert [r.gap_fen for r in rows] == sorted((r.gap_fen for r in rows), reverse=True)
