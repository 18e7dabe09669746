"""Reconciliation tests and their helpers: a small ledger for one distributor and its dealers
in March and April 2026, closed through March (which issues the company's statements)."""
from datetime import date

from channel.extensions import db
from channel.reconciliation import services as rs
from channel.reconciliation.models import Reconciliation
from tests.ledger import LineInput, Month, account, close, post, product, user, written, yuan

MARCH, APRIL = Month(2026, 3), Month(2026, 4)
CLOSED_ON = date(2026, 4, 2)  # the business day finance closes March


def march_ledger():
    """GD-BJ01: opening 1,000.00, a shipment of 2,000.00, a payment of 1,500.00 (closing
    1,500.00); its dealer DL-BJ001: a shipment of 300.00 from GD-BJ01; GD-SH01 one shipment.
    March closed on 2 April: the company's statements are issued."""
    bj, sh = account("GD-BJ01"), account("GD-SH01")
    p = product("P-W550")
    post(kind="opening", account=bj, on=date(2026, 3, 1), amount_fen=yuan("1000.00"), direction="debit")
    ship = post(kind="shipment", account=bj, on=date(2026, 3, 5),
                lines=[LineInput(p, 100, yuan("20.00"))]).document
    post(kind="payment", account=bj, on=date(2026, 3, 20), amount_fen=yuan("1500.00"),
         payment_method="bank_transfer")
    post(kind="shipment", account=sh, on=date(2026, 3, 8), lines=[LineInput(p, 10, yuan("20.00"))])
    post(kind="shipment", account="DL-BJ001", on=date(2026, 3, 9), lines=[LineInput(p, 15, yuan("20.00"))],
         by=user("dist.bj"))
    close(MARCH, today=CLOSED_ON)
    return ship


def rec_of(code, month=MARCH) -> Reconciliation:
    db.session.expire_all()
    return rs.find(account(code), month)


def confirm(code, *, by="dist.bj", shown=None, **kw):
    rec = rec_of(code)
    return written(lambda: rs.confirm(rec, shown_hash=shown or rec.content_hash, by=user(by), **kw))


def dispute(code, lines, *, by="dist.bj", shown=None, **kw):
    rec = rec_of(code)
    return written(lambda: rs.dispute(rec, shown_hash=shown or rec.content_hash, lines=lines, by=user(by), **kw))
