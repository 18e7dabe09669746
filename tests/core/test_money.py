from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channel.core.money import MoneyError, allocate, fen_to_decimal, format_fen, parse_amount, to_api


@pytest.mark.parametrize(
    "text, fen",
    [("0", 0), ("1", 100), ("1.5", 150), ("1.50", 150), ("1234.56", 123456), (" 7.01 ", 701),
     ("1.000", 100), ("+3", 300), ("0.01", 1), ("99999999999.99", 9999999999999)],
)
def test_parse_amount_exact(text, fen):
    assert parse_amount(text) == fen


@pytest.mark.parametrize(
    "text, code",
    [("1.005", "precision"), ("0.001", "precision"), ("NaN", "format"), ("sNaN", "format"),
     ("Infinity", "format"), ("-Infinity", "format"), ("1e309", "format"), ("1E3", "format"),
     ("1,000.00", "format"), ("", "format"), ("abc", "format"), ("１２", "format"),
     ("12345678901234567890", "range"), ("-1", "negative"), ("1.2.3", "format"), ("--1", "format")],
)
def test_parse_amount_refuses(text, code):
    with pytest.raises(MoneyError) as err:
        parse_amount(text)
    assert err.value.code == code


def test_parse_amount_refuses_float_and_bool():
    with pytest.raises(MoneyError):
        parse_amount(1.5)
    with pytest.raises(MoneyError):
        parse_amount(True)


def test_parse_amount_negative_and_zero_flags():
    assert parse_amount("-12.30", allow_negative=True) == -1230
    with pytest.raises(MoneyError) as err:
        parse_amount("0", allow_zero=False)
    assert err.value.code == "zero"
    assert parse_amount(Decimal("2.10")) == 210
    assert parse_amount(3) == 300


@pytest.mark.parametrize(
    "fen, shown",
    [(0, "¥0.00"), (1, "¥0.01"), (123456, "¥1,234.56"), (-123456, "-¥1,234.56"),
     (100000000, "¥1,000,000.00"), (None, "")],
)
def test_format_fen(fen, shown):
    assert format_fen(fen) == shown


def test_api_form_has_two_decimals():
    assert to_api(123450) == "1234.50"
    assert to_api(-5) == "-0.05"
    assert fen_to_decimal(7) == Decimal("0.07")


@given(st.integers(min_value=-10**15, max_value=10**15))
def test_text_round_trip(fen):
    assert parse_amount(str(fen_to_decimal(fen)), allow_negative=True) == fen


@given(st.integers(min_value=0, max_value=10**12),
       st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30))
def test_allocate_sums_to_total_and_is_fair(total, weights):
    shares = allocate(total, weights)
    assert len(shares) == len(weights)
    if sum(weights) == 0:
        assert shares == [0] * len(weights)
        return
    assert sum(shares) == total
    whole = sum(weights)
    for share, weight in zip(shares, weights):
        exact = Decimal(total) * weight / whole
        assert abs(Decimal(share) - exact) < 1  # never more than one fen from the exact share


def test_allocate_worked_example():
    # ¥100.00 split 1:1:1 -> 33.34, 33.33, 33.33: the first (largest remainder, earliest) gets the fen.
    assert allocate(10000, [1, 1, 1]) == [3334, 3333, 3333]
    assert allocate(10, [0, 5, 5]) == [0, 5, 5]
    assert allocate(0, [1, 2]) == [0, 0]
