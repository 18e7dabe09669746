"""Helpers for the ten-day plan tests."""
from datetime import date

from channel.core.periods import TenDay
from channel.plans import services as ps
from tests.ledger import LineInput, account, post, product, user, written

# A past period, so that the plans of the tests are for a period that has begun (locked when
# approved) unless a test says "today" otherwise.
PERIOD = TenDay.parse("2026-03-2")  # 11-20 March 2026
BEFORE = date(2026, 3, 9)  # planning day: the period has not started
DURING = date(2026, 3, 15)


def plan_input(*lines, payment="0", on=None, stock=()):
    """lines: (product code, quantity[, unit price fen]); payment in fen as int or text yuan."""
    from tests.ledger import yuan
    return ps.PlanInput(
        lines=[(product(code).id, qty, rest[0] if rest else None) for code, qty, *rest in lines],
        stock=[(product(code).id, s, so) for code, s, so in stock],
        payment_fen=yuan(payment) if isinstance(payment, str) else payment, payment_on=on)


def ship(code, on, *lines, kind="shipment"):
    return post(kind=kind, account=account(code), on=on,
                lines=[LineInput(product(p), qty, price) for p, qty, price in lines])


def pay(code, on, amount_fen):
    return post(kind="payment", account=account(code), on=on, amount_fen=amount_fen, payment_method="bank_transfer")


def saved(code, data, username="rep.beijing", period=PERIOD, today=BEFORE):
    return written(ps.save, account(code), period, data, by=user(username), today=today)
