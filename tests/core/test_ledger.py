"""Ledger math: worked examples a finance person can check by hand, then properties.

Amounts are fen: 500_000 is ¥5,000.00. Positive is a debit (the account owes more).
"""
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channel.core.ledger import (
    KINDS, Ageing, CreditCheck, Entry, StatementLine, age, balance_from_snapshot, build_statement,
    credit_check, overdue_fen, running, sort_key,
)
from channel.core.periods import Month

MARCH = Month(2026, 3)


def d(day, month=3, year=2026):
    return date(year, month, day)


# --- Statement: a month by hand ----------------------------------------------------------------

def test_statement_worked_example():
    # opening                                       ¥1,000.00
    # 03-03  FH001  shipment  ¥5,000.00 debit   ->  ¥6,000.00
    # 03-10  HK001  payment   ¥3,000.00 credit  ->  ¥3,000.00
    # 03-15  TH001  return      ¥200.00 credit  ->  ¥2,800.00
    # closing                                       ¥2,800.00
    entries = [
        Entry(d(15), "TH001", "return", -20_000, "退货 returned goods"),
        Entry(d(3), "FH001", "shipment", 500_000, "发货 shipment"),
        Entry(d(10), "HK001", "payment", -300_000, "回款 bank transfer"),
    ]
    st_ = build_statement(MARCH, 100_000, entries)
    assert st_.period == MARCH
    assert st_.opening_fen == 100_000
    assert st_.lines == (
        StatementLine(d(3), "FH001", "shipment", "发货 shipment", 500_000, 0, 600_000),
        StatementLine(d(10), "HK001", "payment", "回款 bank transfer", 0, 300_000, 300_000),
        StatementLine(d(15), "TH001", "return", "退货 returned goods", 0, 20_000, 280_000),
    )
    assert st_.debit_total_fen == 500_000    # ¥5,000.00
    assert st_.credit_total_fen == 320_000   # ¥3,200.00
    assert st_.closing_fen == 280_000        # ¥2,800.00 = 1,000 + 5,000 - 3,200
    assert st_.totals == {"opening": 0, "shipment": 500_000, "payment": -300_000,
                          "return": -20_000, "rebate": 0, "adjustment": 0}
    assert list(st_.totals) == list(KINDS)


def test_statement_orders_by_date_then_seq_then_number():
    # Same day: seq decides, then the document number; the input order does not matter.
    entries = [
        Entry(d(5), "B", "payment", -100, seq=2),
        Entry(d(5), "C", "shipment", 300, seq=1),
        Entry(d(5), "A", "shipment", 200, seq=1),
        Entry(d(1), "Z", "opening", 1_000),
    ]
    lines = build_statement(MARCH, 0, entries).lines
    assert [line.number for line in lines] == ["Z", "A", "C", "B"]
    assert [line.balance_fen for line in lines] == [1_000, 1_200, 1_500, 1_400]


def test_statement_reversal_shows_as_credit():
    # 红冲: the wrong shipment (¥1,000.00) is reversed by a negative shipment and reposted right.
    entries = [
        Entry(d(3), "FH001", "shipment", 100_000),
        Entry(d(4), "FH001-R", "shipment", -100_000, "红冲 FH001"),
        Entry(d(4), "FH002", "shipment", 90_000),
    ]
    st_ = build_statement(MARCH, 0, entries)
    assert [(line.debit_fen, line.credit_fen) for line in st_.lines] == [
        (100_000, 0), (0, 100_000), (90_000, 0)]
    assert st_.totals["shipment"] == 90_000
    assert st_.closing_fen == 90_000


def test_empty_month_closes_at_opening():
    st_ = build_statement(MARCH, -5_000, [])
    assert st_.lines == () and st_.closing_fen == -5_000
    assert st_.debit_total_fen == st_.credit_total_fen == 0


@pytest.mark.parametrize("day", [date(2026, 2, 28), date(2026, 4, 1), date(2025, 3, 15)])
def test_statement_refuses_entries_outside_the_month(day):
    with pytest.raises(ValueError, match="outside 2026-03"):
        build_statement(MARCH, 0, [Entry(d(31), "OK", "payment", -1),
                                   Entry(day, "X1", "payment", -1)])


@pytest.mark.parametrize("entry, error", [
    (Entry(d(3), "F", "shipment", 1.5), TypeError),
    (Entry(d(3), "F", "shipment", True), TypeError),
    (Entry(d(3), "F", "invoice", 100), ValueError),
    (Entry(datetime(2026, 3, 3, 9), "F", "shipment", 100), TypeError),
    (Entry(d(3), "F", "shipment", 100, seq=1.0), TypeError),
    (("2026-03-03", "F", "shipment", 100), TypeError),
])
def test_bad_entries_are_refused_everywhere(entry, error):
    with pytest.raises(error):
        build_statement(MARCH, 0, [entry])
    with pytest.raises(error):
        running([entry], 0)
    with pytest.raises(error):
        age([entry], d(31))
    with pytest.raises(error):
        balance_from_snapshot(0, [entry])


def test_statement_refuses_float_opening_and_bad_period():
    with pytest.raises(TypeError):
        build_statement(MARCH, 100.0, [])
    with pytest.raises(TypeError):
        build_statement("2026-03", 0, [])


# --- running balance and snapshots -------------------------------------------------------------

def test_running_keeps_the_given_order():
    a = Entry(d(9), "HK1", "payment", -300)
    b = Entry(d(1), "FH1", "shipment", 1_000)
    assert running([a, b], 500) == [(a, 200), (b, 1_200)]
    assert running([], 500) == []


def test_balance_from_snapshot():
    # February closed at ¥2,800.00; in March: shipment ¥1,500.00, rebate ¥300.00 -> ¥4,000.00
    march = [Entry(d(2), "FH9", "shipment", 150_000), Entry(d(20), "FL1", "rebate", -30_000)]
    assert balance_from_snapshot(280_000, march) == 400_000
    assert balance_from_snapshot(280_000, []) == 280_000
    with pytest.raises(TypeError):
        balance_from_snapshot(2800.0, [])


# --- credit check ------------------------------------------------------------------------------

def test_credit_check_worked_example():
    # limit ¥80,000.00, balance ¥75,000.00, shipment ¥6,000.00 -> ¥1,000.00 over: held.
    check = credit_check(7_500_000, 8_000_000, 600_000)
    assert check == CreditCheck(False, 100_000, 7_500_000, 8_000_000, 600_000)
    assert check.available_fen == 500_000   # ¥5,000.00 could still go now


@pytest.mark.parametrize("balance, limit, amount, allowed, shortfall", [
    (7_500_000, 8_000_000, 500_000, True, 0),   # exactly up to the limit is allowed
    (7_500_000, 8_000_000, 500_001, False, 1),  # one fen over is not
    (-200_000, 0, 200_000, True, 0),            # no credit: a ¥2,000.00 prepayment covers ¥2,000.00
    (-200_000, 0, 200_001, False, 1),
    (9_000_000, 8_000_000, 1, False, 1_000_001),  # already over the limit
])
def test_credit_check_edges(balance, limit, amount, allowed, shortfall):
    check = credit_check(balance, limit, amount)
    assert (check.allowed, check.shortfall_fen) == (allowed, shortfall)
    assert check.available_fen == max(0, limit - balance)


@pytest.mark.parametrize("args, error", [
    ((0, 100, 0), ValueError), ((0, 100, -5), ValueError), ((0, -1, 5), ValueError),
    ((0, 100, 5.0), TypeError), ((0.0, 100, 5), TypeError), ((0, None, 5), TypeError),
])
def test_credit_check_refuses(args, error):
    with pytest.raises(error):
        credit_check(*args)


# --- ageing (账龄) -----------------------------------------------------------------------------

AS_OF = date(2026, 6, 30)
HISTORY = [
    # date        number   kind         amount         days old on 2026-06-30
    Entry(date(2026, 2, 10), "FH01", "shipment", 1_000_000),  # ¥10,000.00  140
    Entry(date(2026, 3, 20), "FH02", "shipment", 800_000),    # ¥8,000.00   102
    Entry(date(2026, 4, 15), "HK01", "payment", -1_200_000),  # ¥12,000.00 credit
    Entry(date(2026, 4, 20), "FH03", "shipment", 600_000),    # ¥6,000.00    71
    Entry(date(2026, 5, 20), "FH04", "shipment", 300_000),    # ¥3,000.00    41
    Entry(date(2026, 5, 25), "TH01", "return", -100_000),     # ¥1,000.00 credit
    Entry(date(2026, 6, 10), "FH05", "shipment", 400_000),    # ¥4,000.00    20
    Entry(date(2026, 7, 2), "FH06", "shipment", 999_900),     # after as_of: ignored
]


def test_ageing_worked_example():
    # Credits up to 06-30: ¥12,000.00 + ¥1,000.00 = ¥13,000.00, applied oldest debit first:
    #   FH01 ¥10,000.00 -> fully paid, ¥3,000.00 of credit left
    #   FH02  ¥8,000.00 -> ¥3,000.00 applied, ¥5,000.00 left (102 days: over 90)
    #   FH03  ¥6,000.00 -> nothing left to apply       (71 days: 61-90)
    #   FH04  ¥3,000.00                                  (41 days: 31-60)
    #   FH05  ¥4,000.00                                  (20 days: 0-30)
    # Balance ¥18,000.00 = ¥31,000.00 debits - ¥13,000.00 credits.
    ageing = age(HISTORY, AS_OF)
    assert ageing == Ageing(AS_OF, (30, 60, 90), (400_000, 300_000, 600_000, 500_000), 1_800_000, 0)
    assert ageing.labels == ("0-30", "31-60", "61-90", ">90")


@pytest.mark.parametrize("terms_days, overdue", [
    (0, 1_800_000),    # everything dated before today is past 0-day terms
    (30, 1_400_000),   # FH02 ¥5,000.00 + FH03 ¥6,000.00 + FH04 ¥3,000.00
    (60, 1_100_000),   # FH02 + FH03
    (90, 500_000),     # FH02 only
    (140, 0),          # FH01 is paid; FH02 is 102 days old
])
def test_overdue_worked_example(terms_days, overdue):
    assert overdue_fen(HISTORY, AS_OF, terms_days) == overdue


def test_ageing_bucket_boundaries():
    # One fen per age so each bucket's content reads off the total: 30 is still 0-30, 31 is not.
    ages = {0: 1, 30: 10, 31: 100, 60: 1_000, 61: 10_000, 90: 100_000, 91: 1_000_000}
    entries = [Entry(AS_OF - timedelta(days=n), f"FH{n}", "shipment", fen)
               for n, fen in ages.items()]
    assert age(entries, AS_OF).buckets_fen == (11, 1_100, 110_000, 1_000_000)
    assert age(entries, AS_OF, buckets=(7,)).buckets_fen == (1, 1_111_110)
    assert age(entries, AS_OF, buckets=()).buckets_fen == (1_111_111,)


def test_overdue_boundary_is_strict():
    # Shipped 06-01 on 29-day terms: due 06-30, so not overdue on 06-30, overdue on 07-01.
    entries = [Entry(date(2026, 6, 1), "FH1", "shipment", 50_000)]
    assert overdue_fen(entries, date(2026, 6, 30), 29) == 0
    assert overdue_fen(entries, date(2026, 7, 1), 29) == 50_000


def test_prepayment_is_unapplied_credit():
    # Paid ¥5,000.00 in advance, shipped ¥3,000.00: nothing owed, ¥2,000.00 unapplied.
    entries = [Entry(d(1), "HK1", "payment", -500_000), Entry(d(5), "FH1", "shipment", 300_000)]
    ageing = age(entries, d(31))
    assert ageing.buckets_fen == (0, 0, 0, 0)
    assert (ageing.total_fen, ageing.unapplied_credit_fen) == (0, 200_000)
    assert overdue_fen(entries, d(31), 0) == 0


def test_ageing_ignores_entries_after_as_of():
    # The payment of 04-01 is not known on 03-31: the shipment is still owed then.
    entries = [Entry(d(1), "FH1", "shipment", 100), Entry(d(1, 4), "HK1", "payment", -100)]
    assert age(entries, d(31)).total_fen == 100
    assert age(entries, d(1, 4)).total_fen == 0


@pytest.mark.parametrize("buckets", [(60, 30), (30, 30), (-1, 30), (30.0,), (True,)])
def test_ageing_refuses_bad_buckets(buckets):
    with pytest.raises(ValueError):
        age([], AS_OF, buckets)


def test_ageing_refuses_timestamps_and_bad_terms():
    with pytest.raises(TypeError):
        age([], datetime(2026, 6, 30, 12))
    with pytest.raises(ValueError):
        overdue_fen([], AS_OF, -1)


# --- properties --------------------------------------------------------------------------------

amounts = st.integers(min_value=-10**10, max_value=10**10)  # up to ¥100,000,000.00 per document


def entries_between(first: date, last: date, max_size=30):
    return st.lists(st.builds(
        Entry,
        on=st.dates(min_value=first, max_value=last),
        number=st.text(alphabet="FHKT0123456789", min_size=1, max_size=6),
        kind=st.sampled_from(KINDS),
        amount_fen=amounts,
        description=st.just(""),
        seq=st.integers(0, 3),
    ), max_size=max_size)


march_entries = entries_between(date(2026, 3, 1), date(2026, 3, 31))
year_entries = entries_between(date(2025, 1, 1), date(2026, 6, 30), max_size=40)


@given(march_entries, amounts)
def test_closing_is_opening_plus_sum(entries, opening):
    st_ = build_statement(MARCH, opening, entries)
    assert st_.closing_fen == opening + sum(e.amount_fen for e in entries)
    assert st_.closing_fen == opening + st_.debit_total_fen - st_.credit_total_fen
    assert sum(st_.totals.values()) == st_.closing_fen - opening
    if st_.lines:
        assert st_.lines[-1].balance_fen == st_.closing_fen
    assert [(x.on, x.number) for x in st_.lines] == [
        (e.on, e.number) for e in sorted(entries, key=sort_key)]
    for line in st_.lines:  # one column or the other, never both, never negative
        assert min(line.debit_fen, line.credit_fen) == 0
        assert line.debit_fen >= 0 and line.credit_fen >= 0


@given(march_entries, amounts)
def test_running_last_is_closing(entries, opening):
    rows = running(entries, opening)
    assert [e for e, _ in rows] == entries
    closing = build_statement(MARCH, opening, entries).closing_fen
    if rows:
        assert rows[-1][1] == closing
    assert balance_from_snapshot(opening, entries) == closing


@given(year_entries)
def test_ageing_sums_to_the_balance(entries):
    as_of = date(2026, 6, 30)  # after every entry
    balance = sum(e.amount_fen for e in entries)
    ageing = age(entries, as_of)
    assert sum(ageing.buckets_fen) == ageing.total_fen == max(0, balance)
    assert ageing.unapplied_credit_fen == max(0, -balance)
    assert all(b >= 0 for b in ageing.buckets_fen)
    # overdue on N-day terms is exactly what ages past N days
    assert overdue_fen(entries, as_of, 90) == ageing.buckets_fen[3]
    assert overdue_fen(entries, as_of, 60) == sum(ageing.buckets_fen[2:])
    assert overdue_fen(entries, as_of, 30) == sum(ageing.buckets_fen[1:])


@given(year_entries, st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 6, 30)))
def test_ageing_as_of_counts_only_known_entries(entries, as_of):
    known = [e for e in entries if e.on <= as_of]
    assert age(entries, as_of) == age(known, as_of)
    assert age(entries, as_of).total_fen == max(0, sum(e.amount_fen for e in known))


@given(year_entries, st.data())
def test_ageing_does_not_depend_on_input_order(entries, data):
    shuffled = data.draw(st.permutations(entries))
    assert age(shuffled, date(2026, 6, 30)) == age(entries, date(2026, 6, 30))


@given(year_entries, st.integers(1, 10**10),
       st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 6, 30)),
       st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 6, 30)),
       st.sampled_from(KINDS))
def test_reversal_pair_changes_no_total(entries, x, wrong_on, reversed_on, kind):
    # 红冲: a wrong document and its reversal together change no balance and no ageing total.
    pair = [Entry(wrong_on, "WRONG", kind, x), Entry(reversed_on, "WRONG-R", kind, -x)]
    as_of = date(2026, 6, 30)
    before, after = age(entries, as_of), age(entries + pair, as_of)
    assert balance_from_snapshot(0, entries + pair) == balance_from_snapshot(0, entries)
    assert after.total_fen == before.total_fen
    assert after.unapplied_credit_fen == before.unapplied_credit_fen
    assert sum(after.buckets_fen) == sum(before.buckets_fen)


@given(year_entries, amounts)
def test_monthly_statements_chain(entries, opening):
    # Each month opens at the previous month's closing; the last closing is the plain sum.
    by_month = defaultdict(list)
    for e in entries:
        by_month[Month.of(e.on)].append(e)
    balance = opening
    for month in Month.range(Month(2025, 1), Month(2026, 6)):
        st_ = build_statement(month, balance, by_month[month])
        assert st_.opening_fen == balance
        balance = st_.closing_fen
        so_far = [e for e in entries if e.on <= month.last_day]
        assert balance == balance_from_snapshot(opening, so_far)
    assert balance == opening + sum(e.amount_fen for e in entries)


def test_reversal_cancels_its_own_document_in_ageing():
    # An old unpaid invoice (¥1,000.00, 100 days) and a recent wrong one (¥500.00, 5 days) reversed
    # the same day: the reversal takes out the wrong invoice, the old one stays over 90 days.
    from datetime import date as _date

    from channel.core.ledger import Entry, age, overdue_fen

    as_of = _date(2026, 6, 30)
    entries = [
        Entry(_date(2026, 3, 22), "FH-1", "shipment", 100000),
        Entry(_date(2026, 6, 25), "FH-2", "shipment", 50000),
        Entry(_date(2026, 6, 25), "FH-3", "shipment", -50000, reverses="FH-2"),
    ]
    result = age(entries, as_of)
    assert result.buckets_fen == (0, 0, 0, 100000)
    assert result.total_fen == 100000
    assert overdue_fen(entries, as_of, 30) == 100000


def test_a_zero_entry_never_reverses_itself():
    # Found by Hypothesis in CI: an entry of 0.00 that names its own number as the document it
    # reverses (or shares its number with another) must not cancel anything but itself.
    from datetime import date as _date

    from channel.core.ledger import Entry, age

    entries = [
        Entry(_date(2025, 1, 1), "0", "opening", 1),
        Entry(_date(2025, 1, 1), "0", "opening", 0, reverses="0"),
    ]
    result = age(entries, _date(2026, 6, 30))
    assert result.total_fen == 1 and sum(result.buckets_fen) == 1


def test_each_document_is_cancelled_once_by_reversals():
    # Two reversals naming the same document: only one pair cancels, the other stays a credit.
    from datetime import date as _date

    from channel.core.ledger import Entry, age

    entries = [
        Entry(_date(2026, 6, 1), "FH-1", "shipment", 100000),
        Entry(_date(2026, 6, 2), "FH-2", "shipment", 30000),
        Entry(_date(2026, 6, 3), "HC-1", "shipment", -30000, reverses="FH-2"),
        Entry(_date(2026, 6, 4), "HC-2", "shipment", -30000, reverses="FH-2"),
    ]
    result = age(entries, _date(2026, 6, 30))
    assert result.total_fen == 70000
