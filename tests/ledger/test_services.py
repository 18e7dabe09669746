"""The ledger services, rule by rule: numbering, one entry per document with its sign, idempotent
external references, credit control, suspended accounts, months and their close, reversals,
balances, the two tiers, and bad input refused with nothing posted. Every test runs on SQLite and
on PostgreSQL (the `app` fixture)."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from channel.audit.models import AuditEntry
from channel.core.money import MAX_ABS_FEN
from channel.extensions import db
from channel.ledger import services
from channel.ledger.models import BalanceSnapshot, Document, LedgerEntry, Period
from channel.ledger.services import DuplicateConflict, LedgerError

from . import (
    LineInput,
    Month,
    account,
    close,
    counts,
    entries_sum,
    new_account,
    post,
    product,
    reopen,
    reverse,
    user,
    written,
    yuan,
)

JAN, FEB, MAR = Month(2026, 1), Month(2026, 2), Month(2026, 3)


def ship(acc, on, *lines, **kw):
    """A shipment of (product code, quantity, unit price fen) lines."""
    return post(kind="shipment", account=acc, on=on,
                lines=[LineInput(product(code), qty, price) for code, qty, price in lines], **kw)


def pay(acc, on, amount_fen, method="bank_transfer", **kw):
    return post(kind="payment", account=acc, on=on, amount_fen=amount_fen, payment_method=method, **kw)


def refused(code, fn, *args, **kw) -> LedgerError:
    """fn refuses with LedgerError `code` and posts nothing."""
    before = counts()
    with pytest.raises(LedgerError) as caught:
        fn(*args, **kw)
    assert caught.value.code == code, caught.value.info
    assert counts() == before
    return caught.value


def audit(action):
    return db.session.execute(select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id)).scalars().all()


# --- numbering --------------------------------------------------------------------------------

def test_numbers_run_per_kind_and_year(app):
    with app.app_context():
        acc = new_account()
        w550 = ("P-W550", 10, yuan("28.80"))
        assert ship(acc, date(2026, 1, 5), w550).document.number == "FH-2026-000001"
        assert ship(acc, date(2026, 1, 6), w550).document.number == "FH-2026-000002"
        assert post(kind="return", account=acc, on=date(2026, 1, 7),
                    lines=[LineInput(product("P-W550"), 1, yuan("28.80"))]).document.number == "TH-2026-000001"
        assert pay(acc, date(2026, 1, 8), yuan("100.00")).document.number == "HK-2026-000001"
        assert post(kind="rebate", account=acc, on=date(2026, 1, 9),
                    amount_fen=500).document.number == "FL-2026-000001"
        assert post(kind="adjustment", account=acc, on=date(2026, 1, 9), amount_fen=500,
                    direction="debit", reason="运费").document.number == "TZ-2026-000001"
        assert post(kind="opening", account=acc, on=date(2026, 1, 1), amount_fen=500,
                    direction="credit").document.number == "QC-2026-000001"
        # A new year starts again at 000001; the old year carries on where it was.
        assert ship(acc, date(2027, 1, 2), w550).document.number == "FH-2027-000001"
        assert ship(acc, date(2026, 12, 31), w550).document.number == "FH-2026-000003"
        # The number follows the document's date, not the day it was typed in.
        assert ship(acc, date(2027, 1, 3), w550).document.number == "FH-2027-000002"
        # A reversal is a document of the same kind and takes the next number of its year.
        first = db.session.execute(select(Document).where(Document.number == "FH-2026-000001")).scalar_one()
        assert reverse(first, on=date(2027, 1, 4)).number == "FH-2027-000003"
        numbers = db.session.execute(select(Document.number)).scalars().all()
        assert len(numbers) == len(set(numbers)) == 11


def test_a_refused_posting_uses_no_number(app):
    with app.app_context():
        acc = new_account(limit_fen=yuan("100.00"))
        refused("credit_limit", ship, acc, date(2026, 1, 5), ("P-W550", 10, yuan("28.80")))
        assert ship(acc, date(2026, 1, 5), ("P-W550", 1, yuan("28.80"))).document.number == "FH-2026-000001"


# --- one entry per document, with its sign ----------------------------------------------------

SIGNS = [  # kind, extra arguments, sign of the entry
    ("shipment", {}, +1),
    ("return", {}, -1),
    ("payment", {"payment_method": "acceptance_bill", "bank_ref": "CDHP 1234"}, -1),
    ("rebate", {}, -1),
    ("adjustment", {"direction": "debit", "reason": "代垫运费"}, +1),
    ("adjustment", {"direction": "credit", "reason": "价差补偿"}, -1),
    ("opening", {"direction": "debit"}, +1),
    ("opening", {"direction": "credit"}, -1),
]


def test_each_document_posts_exactly_one_entry_with_its_sign(app):
    with app.app_context():
        for kind, extra, sign in SIGNS:
            _one_entry_with_its_sign(kind, extra, sign)


def _one_entry_with_its_sign(kind, extra, sign):
    """A fresh account, one document of `kind`: one entry, signed `sign`, with its lines."""
    acc = new_account()
    before = counts()
    kw = dict(extra)
    if kind in ("shipment", "return"):
        kw["lines"] = [LineInput(product("P-W550"), 12, yuan("28.80")),
                       LineInput(product("P-GT500"), 3, yuan("45.00"))]
        amount = 12 * 2880 + 3 * 4500
    else:
        kw["amount_fen"] = amount = yuan("1234.56")
    result = post(kind=kind, account=acc, on=date(2026, 3, 14), memo=" 备注 memo ", **kw)
    doc = result.document
    assert result.created and result.warnings == []
    assert doc.amount_fen == amount and doc.kind == kind
    assert doc.direction == ("debit" if sign > 0 else "credit")
    assert doc.memo == "备注 memo"  # trimmed
    entries = db.session.execute(select(LedgerEntry).where(LedgerEntry.document_id == doc.id)).scalars().all()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.account_id, entry.entry_date, entry.kind, entry.amount_fen) == (
        acc.id, date(2026, 3, 14), kind, sign * amount)
    assert entry.posted_by_id == user("finance").id == doc.created_by_id
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + len(kw.get("lines", [])))
    for line in doc.lines:
        assert line.amount_fen == line.quantity * line.unit_price_fen
    assert services.current_balance(acc) == sign * amount
    if kind != "payment":
        assert doc.payment_method is None and doc.bank_ref is None


# --- external references: idempotent replay, 409 on different content --------------------------

def test_replaying_an_external_ref_returns_the_document_and_posts_nothing(app):
    with app.app_context():
        acc = new_account(limit_fen=yuan("1000.00"))
        call = dict(kind="shipment", account=acc, on=date(2026, 1, 5), external_ref="ERP-1",
                    lines=[LineInput(product("P-W550"), 30, yuan("28.80"))], memo="首单")
        first = post(**call)
        assert first.created and first.document.amount_fen == yuan("864.00")
        before = counts()
        again = post(**call)
        assert not again.created and again.document.id == first.document.id
        # Whitespace around the reference is not part of it.
        assert post(**{**call, "external_ref": "  ERP-1 "}).document.id == first.document.id
        # A replay is not a new shipment: the credit limit (¥1,000, ¥864 used) does not apply ...
        assert not post(**call).created
        # ... and neither does a month closed since: the ERP may send it again any time.
        close(JAN, today=date(2026, 2, 1))
        assert post(**call).document.id == first.document.id
        assert counts() == before
        assert services.current_balance(acc) == yuan("864.00")


def test_replay_after_the_account_was_suspended_returns_the_document(app):
    """A retried call that succeeded once succeeds again: the account was active when the
    shipment was posted; the ERP's retry after suspension must not turn into an error."""
    with app.app_context():
        acc = new_account()
        call = dict(kind="shipment", account=acc, on=date(2026, 1, 5), external_ref="ERP-S",
                    lines=[LineInput(product("P-W550"), 1, yuan("28.80"))])
        first = post(**call).document

        def suspend():
            db.session.get(type(acc), acc.id).status = "suspended"
        written(suspend)
        before = counts()
        again = post(**call)
        assert not again.created and again.document.id == first.id
        assert counts() == before
        # A new shipment is still refused.
        refused("account_suspended", post, **{**call, "external_ref": "ERP-S2"})


def test_replay_after_the_product_was_discontinued_returns_the_document(app):
    with app.app_context():
        acc = new_account()
        call = dict(kind="shipment", account=acc, on=date(2026, 1, 5), external_ref="ERP-P",
                    lines=[LineInput(product("P-GT500"), 2, yuan("45.00"))])
        first = post(**call).document

        def discontinue():
            product("P-GT500").active = False
        written(discontinue)
        assert post(**call).document.id == first.id
        err = refused("product_inactive", post, **{**call, "external_ref": "ERP-P2"})
        assert err.info == {"line": 1, "product": "P-GT500"}


def test_replay_compares_references_as_they_were_stored(app):
    """Memo, reason and bank reference are stored trimmed; the very same call sent again (with
    the same stray spaces) is a replay, not a conflict."""
    with app.app_context():
        acc = new_account()
        call = dict(kind="payment", account=acc, on=date(2026, 1, 5), external_ref="BANK-9",
                    amount_fen=yuan("10.00"), payment_method="bank_transfer", bank_ref=" BT 001 ",
                    memo=" 一月回款 ")
        first = post(**call).document
        assert (first.bank_ref, first.memo) == ("BT 001", "一月回款")
        before = counts()
        again = post(**call)
        assert not again.created and again.document.id == first.id
        adj = dict(kind="adjustment", account=acc, on=date(2026, 1, 5), external_ref="ADJ-1",
                   amount_fen=5, direction="credit", reason="  尾差 ")
        assert post(**adj).created and not post(**adj).created
        assert counts() == (before[0] + 1, before[1] + 1, before[2])


def test_an_external_ref_with_different_content_is_a_conflict_naming_the_fields(app):
    with app.app_context():
        acc = new_account()
        other = new_account()
        call = dict(kind="payment", account=acc, on=date(2026, 1, 5), external_ref="BANK-7",
                    amount_fen=yuan("5000.00"), payment_method="bank_transfer", bank_ref="BT001")
        first = post(**call).document
        cases = [
            ({"amount_fen": yuan("5000.01")}, ["amount"]),
            ({"on": date(2026, 1, 6), "memo": "改了"}, ["date", "memo"]),
            ({"account": other}, ["account"]),
            ({"payment_method": "cash"}, ["payment_method"]),
            ({"bank_ref": None}, ["bank_ref"]),
            ({"kind": "rebate", "payment_method": None, "bank_ref": None},
             ["kind", "payment_method", "bank_ref"]),
        ]
        for change, fields in cases:
            err = refused("external_ref_conflict", post, **{**call, **change})
            assert isinstance(err, DuplicateConflict)
            assert err.differences == fields, change
            assert err.field == "external_ref"
            assert err.info == {"number": first.number, "fields": ", ".join(fields)}
            assert err.document.id == first.id
        # Lines are compared line by line; the amount follows from them.
        ship_call = dict(kind="shipment", account=acc, on=date(2026, 1, 5), external_ref="ERP-L",
                         lines=[LineInput(product("P-W550"), 30, yuan("28.80"))])
        post(**ship_call)
        err = refused("external_ref_conflict", post,
                      **{**ship_call, "lines": [LineInput(product("P-W550"), 31, yuan("28.80"))]})
        assert err.differences == ["amount", "lines"]
        err = refused("external_ref_conflict", post,
                      **{**ship_call, "lines": [LineInput(product("P-W1500"), 30, yuan("28.80"))]})
        assert err.differences == ["lines"]
        assert services.current_balance(acc) == yuan("864.00") - yuan("5000.00")


# --- suspended accounts, credit control -------------------------------------------------------

def test_a_suspended_account_refuses_shipments_but_accepts_payments_and_credits(app):
    with app.app_context():
        tj005 = account("DL-TJ005")  # the demo's suspended dealer
        assert tj005.status == "suspended"
        err = refused("account_suspended", ship, tj005, date(2026, 1, 5), ("P-W550", 1, yuan("28.80")))
        assert err.info == {"account": "DL-TJ005"}
        pay(tj005, date(2026, 1, 6), yuan("300.00"), method="cash")
        post(kind="rebate", account=tj005, on=date(2026, 1, 7), amount_fen=yuan("20.00"))
        post(kind="return", account=tj005, on=date(2026, 1, 7),
             lines=[LineInput(product("P-W550"), 1, yuan("28.80"))])
        assert services.current_balance(tj005) == -yuan("348.80")


def test_a_shipment_over_the_credit_limit_is_refused_with_the_figures(app):
    with app.app_context():
        bj01 = account("GD-BJ01")
        assert bj01.credit_limit_fen == yuan("800000.00")
        post(kind="opening", account=bj01, on=date(2026, 1, 1), direction="debit", amount_fen=yuan("790000.00"))
        # ¥28,800.00 more would make ¥818,800.00 owed: ¥18,800.00 over the limit.
        err = refused("credit_limit", ship, bj01, date(2026, 1, 5), ("P-W550", 1000, yuan("28.80")))
        assert err.field == "amount"
        assert err.info == {"limit": yuan("800000.00"), "balance": yuan("790000.00"),
                            "shortfall": yuan("18800.00")}
        # Up to the limit exactly is allowed: ¥10,000.00 = 500 × ¥20.00.
        ok = ship(bj01, date(2026, 1, 6), ("P-W550", 500, yuan("20.00")))
        assert ok.warnings == [] and ok.document.credit_override_reason is None
        assert services.current_balance(bj01) == bj01.credit_limit_fen
        # One fen more is not.
        err = refused("credit_limit", ship, bj01, date(2026, 1, 6), ("P-W550", 1, 1))
        assert err.info["shortfall"] == 1
        # A payment makes room again; the check looks at everything posted, whatever its date.
        pay(bj01, date(2026, 2, 10), yuan("28800.00"))
        assert ship(bj01, date(2026, 1, 7), ("P-W550", 1000, yuan("28.80"))).created
        assert audit("credit_override") == []


def test_finance_overrides_the_credit_limit_with_a_reason_and_it_is_audited(app):
    with app.app_context():
        acc = new_account(limit_fen=yuan("1000.00"))
        lines = ("P-W550", 100, yuan("28.80"))  # ¥2,880.00: ¥1,880.00 over
        refused("credit_limit", ship, acc, date(2026, 1, 5), lines, override_reason="   ")
        result = ship(acc, date(2026, 1, 5), lines, override_reason=" 总经理特批 approved by the GM ")
        assert result.created and result.warnings == ["credit_override"]
        doc = result.document
        assert doc.credit_override_reason == "总经理特批 approved by the GM"
        [entry] = audit("credit_override")
        assert entry.object_type == "documents" and entry.object_id == str(doc.id)
        assert entry.reason == "总经理特批 approved by the GM"
        assert entry.user_id == user("finance").id and entry.object_label == doc.number
        # Within the limit an override reason is not needed and not kept.
        other = new_account()
        plain = ship(other, date(2026, 1, 5), lines, override_reason="不需要")
        assert plain.warnings == [] and plain.document.credit_override_reason is None
        assert len(audit("credit_override")) == 1


# --- months: closed months refuse, close in order, reopen ---------------------------------------

def test_a_closed_month_refuses_postings_and_reversals_dated_in_it(app):
    with app.app_context():
        acc = new_account()
        jan_doc = ship(acc, date(2026, 1, 20), ("P-W550", 10, yuan("28.80"))).document
        close(JAN, today=date(2026, 2, 1))
        assert services.is_closed(JAN) and not services.is_closed(FEB)
        for on in (date(2026, 1, 1), date(2026, 1, 31)):
            err = refused("period_closed", pay, acc, on, yuan("1.00"))
            assert err.info == {"month": "2026-01"} and err.field == "date"
        refused("period_closed", reverse, jan_doc, on=date(2026, 1, 31))
        # The reversal goes into an open month instead.
        rev = reverse(jan_doc, on=date(2026, 2, 1))
        assert rev.document_date == date(2026, 2, 1) and rev.entry.amount_fen == -yuan("288.00")
        assert pay(acc, date(2026, 2, 1), yuan("1.00")).created


def test_a_month_before_the_latest_closed_one_is_closed_too(app):
    """January may be closed while December was never closed (nothing had been posted before
    January). December must not take postings then: they would change January's closing balance
    behind its snapshot, and February would open with a different figure than January closed."""
    with app.app_context():
        acc = new_account()
        ship(acc, date(2026, 1, 20), ("P-W550", 10, yuan("28.80")))
        close(JAN, today=date(2026, 2, 1))
        assert not services.is_closed(Month(2025, 12))
        err = refused("before_closed_period", pay, acc, date(2025, 12, 5), yuan("1.00"))
        assert err.info == {"month": "2025-12", "closed": "2026-01"} and err.field == "date"
        doc = pay(acc, date(2026, 2, 1), yuan("1.00")).document
        refused("before_closed_period", reverse, doc, on=date(2025, 12, 31))
        jan, feb = services.statement(acc, JAN), services.statement(acc, FEB)
        assert jan.closing_fen == feb.opening_fen == yuan("288.00")
        # Reopening January opens December again too (nothing later is closed any more).
        reopen(JAN)
        assert pay(acc, date(2025, 12, 5), yuan("1.00")).created


def test_closing_a_month_needs_the_month_before_closed_when_anything_was_posted_earlier(app):
    with app.app_context():
        acc = new_account()
        pay(acc, date(2026, 1, 31), yuan("10.00"))
        pay(acc, date(2026, 2, 1), yuan("20.00"))
        err = refused("previous_period_open", close, FEB, today=date(2026, 3, 1))
        assert err.info == {"month": "2026-02", "previous": "2026-01"}
        assert db.session.get(Period, "2026-02") is None
        close(JAN, today=date(2026, 3, 1))
        close(FEB, today=date(2026, 3, 1))
        err = refused("period_already_closed", close, FEB, today=date(2026, 3, 1))
        assert err.info == {"month": "2026-02"}
        period = db.session.get(Period, "2026-02")
        assert period.status == "closed" and period.closed_by_id == user("finance").id
        assert period.closed_at is not None
        assert [a.object_label for a in audit("period_closed")] == ["2026-01", "2026-02"]


def test_the_first_close_needs_no_earlier_month_when_nothing_was_posted_before(app):
    with app.app_context():
        acc = new_account()
        pay(acc, date(2026, 3, 10), yuan("10.00"))
        close(MAR, today=date(2026, 4, 1))  # February was never closed, and had nothing in it
        snap = db.session.get(BalanceSnapshot, (acc.id, "2026-03"))
        assert (snap.closing_fen, snap.debit_fen, snap.credit_fen) == (-1000, 0, 1000)
        close(Month(2026, 4), today=date(2026, 5, 1))
        assert db.session.get(BalanceSnapshot, (acc.id, "2026-04")).closing_fen == -1000


def test_a_month_is_closed_only_after_it_has_ended(app):
    with app.app_context():
        nov = Month(2026, 11)
        for today in (date(2026, 11, 25), date(2026, 11, 30)):
            err = refused("period_not_ended", close, nov, today=today)
            assert err.info == {"month": "2026-11"}
        assert services.period_status(nov) == "open"
        close(nov, today=date(2026, 12, 1))
        assert services.period_status(nov) == "closed"


def test_only_the_latest_closed_month_is_reopened_and_only_with_a_reason(app):
    with app.app_context():
        acc = new_account()
        pay(acc, date(2026, 1, 5), yuan("10.00"))
        close(JAN)
        close(FEB)
        err = refused("later_period_closed", reopen, JAN)
        assert err.info == {"month": "2026-01", "later": "2026-02"}
        for blank in ("", "   ", None):
            refused("reason_required", reopen, FEB, reason=blank)
        refused("period_not_closed", reopen, MAR)
        period = reopen(FEB, reason="  补录二月回款 a February payment was missed ")
        assert period.status == "open" and period.reopen_reason == "补录二月回款 a February payment was missed"
        assert period.reopened_by_id == user("admin").id and period.reopened_at is not None
        [entry] = audit("period_reopened")
        assert entry.reason == "补录二月回款 a February payment was missed" and entry.object_label == "2026-02"
        assert entry.user_id == user("admin").id
        assert services.last_closed_month() == JAN
        refused("period_not_closed", reopen, FEB)
        # Now January is the latest closed month and may be reopened in its turn.
        reopen(JAN)
        assert services.last_closed_month() is None


def test_snapshots_are_rebuilt_when_a_reopened_month_is_closed_again(app):
    with app.app_context():
        a, b = new_account(), new_account()
        ship(a, date(2026, 1, 10), ("P-W550", 100, yuan("28.80")))   # a owes ¥2,880.00
        pay(b, date(2026, 1, 12), yuan("500.00"))                   # b has ¥500.00 credit
        ship(a, date(2026, 2, 3), ("P-GT500", 10, yuan("45.00")))     # a +¥450.00
        close(JAN)
        close(FEB)
        assert db.session.get(BalanceSnapshot, (a.id, "2026-02")).closing_fen == yuan("3330.00")
        reopen(FEB)
        assert db.session.get(BalanceSnapshot, (a.id, "2026-02")) is None
        # While February is open, balances start from January's snapshot.
        assert services.balance_at(a, date(2026, 2, 28)) == yuan("3330.00")
        pay(a, date(2026, 2, 27), yuan("1000.00"), method="acceptance_bill")
        post(kind="adjustment", account=b, on=date(2026, 2, 28), direction="debit",
             amount_fen=yuan("20.00"), reason="手续费")
        close(FEB)
        snap_a = db.session.get(BalanceSnapshot, (a.id, "2026-02"))
        snap_b = db.session.get(BalanceSnapshot, (b.id, "2026-02"))
        assert (snap_a.closing_fen, snap_a.debit_fen, snap_a.credit_fen) == (
            yuan("2330.00"), yuan("450.00"), yuan("1000.00"))
        assert (snap_b.closing_fen, snap_b.debit_fen, snap_b.credit_fen) == (
            -yuan("480.00"), yuan("20.00"), 0)
        for acc in (a, b):
            assert services.balance_at(acc, date(2026, 2, 28)) == entries_sum(acc, date(2026, 2, 28))
            assert services.statement(acc, FEB).closing_fen == services.statement(acc, MAR).opening_fen
        # And the next month builds on the rebuilt snapshot.
        close(MAR)
        assert db.session.get(BalanceSnapshot, (a.id, "2026-03")).closing_fen == yuan("2330.00")


# --- reversals (红冲) ---------------------------------------------------------------------------

def test_a_document_is_reversed_once_and_a_reversal_is_not_reversed(app):
    with app.app_context():
        acc = new_account()
        doc = ship(acc, date(2026, 1, 5), ("P-W550", 10, yuan("28.80")), ("P-GT500", 2, yuan("45.00")),
                   memo="一月首单").document
        refused("reason_required", reverse, doc, on=date(2026, 1, 6), reason="  ")
        rev = reverse(doc, on=date(2026, 1, 6), reason=" 单价录错 wrong price ")
        assert rev.reversal_of_id == doc.id and doc.reversed_by.id == rev.id
        assert (rev.kind, rev.direction, rev.amount_fen) == ("shipment", "credit", doc.amount_fen)
        assert rev.reason == "单价录错 wrong price" and rev.memo == "一月首单"
        assert rev.external_ref is None and rev.account_id == doc.account_id
        assert [(ln.line_no, ln.product_id, ln.quantity, ln.unit_price_fen, ln.amount_fen) for ln in rev.lines] == \
            [(ln.line_no, ln.product_id, ln.quantity, ln.unit_price_fen, ln.amount_fen) for ln in doc.lines]
        assert rev.entry.amount_fen == -doc.entry.amount_fen and rev.entry.kind == "shipment"
        assert services.current_balance(acc) == 0
        [entry] = audit("reversed")
        assert entry.object_id == str(doc.id) and entry.reason == "单价录错 wrong price"
        assert entry.object_label == f"{doc.number} → {rev.number}"
        err = refused("already_reversed", reverse, doc, on=date(2026, 1, 7))
        assert err.info == {"number": doc.number, "reversal": rev.number}
        err = refused("reversal_not_reversible", reverse, rev, on=date(2026, 1, 7))
        assert err.info == {"number": rev.number}


def test_a_reversal_needs_a_business_date(app):
    with app.app_context():
        acc = new_account()
        doc = pay(acc, date(2026, 1, 5), yuan("10.00")).document
        for bad in (None, "2026-01-06", datetime(2026, 1, 6, 9, 30)):
            err = refused("date_required", reverse, doc, on=bad)
            assert err.field == "date"
        assert reverse(doc, on=date(2026, 1, 6)).document_date == date(2026, 1, 6)


REVERSIBLE = [
    ("payment", {"amount_fen": 12345, "payment_method": "cash"}),
    ("return", {"lines": "P-OLD01"}),
    ("rebate", {"amount_fen": 999}),
    ("adjustment", {"amount_fen": 7, "direction": "credit", "reason": "尾差"}),
    ("opening", {"amount_fen": 100_000, "direction": "debit"}),
]


def test_every_kind_reverses_to_zero(app):
    with app.app_context():
        for kind, extra in REVERSIBLE:
            acc = new_account()
            if extra.get("lines"):
                extra = {"lines": [LineInput(product(extra["lines"]), 3, yuan("40.00"))]}
            doc = post(kind=kind, account=acc, on=date(2026, 1, 5), **extra).document
            rev = reverse(doc, on=date(2026, 1, 9))
            assert rev.kind == kind and rev.payment_method == doc.payment_method
            assert doc.entry.amount_fen + rev.entry.amount_fen == 0
            assert services.current_balance(acc) == 0
            assert services.statement(acc, JAN).totals[kind] == 0


# --- balances ---------------------------------------------------------------------------------

def _history(accs):
    """Four months of mixed documents over the given accounts; January and February closed."""
    a, b, c = accs
    ship(a, date(2025, 12, 30), ("P-W550", 50, yuan("28.80")))
    post(kind="opening", account=b, on=date(2026, 1, 1), direction="credit", amount_fen=yuan("1000.00"))
    ship(a, date(2026, 1, 15), ("P-GT500", 20, yuan("45.00")))
    pay(a, date(2026, 1, 31), yuan("500.00"))
    close(Month(2025, 12))
    ship(b, date(2026, 2, 1), ("P-CL330", 30, yuan("52.80")))
    post(kind="rebate", account=a, on=date(2026, 2, 14), amount_fen=yuan("88.00"))
    close(JAN)
    doc = ship(c, date(2026, 2, 28), ("P-MT250", 5, yuan("66.00"))).document
    close(FEB)
    reverse(doc, on=date(2026, 3, 1))
    post(kind="adjustment", account=c, on=date(2026, 3, 31), direction="debit", amount_fen=1, reason="尾差")
    post(kind="return", account=a, on=date(2026, 4, 2), lines=[LineInput(product("P-W550"), 2, yuan("28.80"))])


def test_balance_at_any_date_is_the_plain_sum_of_entries_up_to_it(app):
    with app.app_context():
        accs = [new_account() for _ in range(3)]
        _history(accs)
        day = date(2025, 12, 25)
        while day <= date(2026, 4, 5):
            for acc in accs:
                assert services.balance_at(acc, day) == entries_sum(acc, day), (acc.code, day)
            day += timedelta(days=1)
        for acc in accs:
            assert services.balance_at(acc) == services.current_balance(acc) == entries_sum(acc)
            assert services.balance_at(acc.id, date(2026, 2, 28)) == entries_sum(acc, date(2026, 2, 28))


def test_balances_at_for_all_accounts_equals_balance_at_each(app):
    with app.app_context():
        accs = [new_account() for _ in range(3)]
        _history(accs)
        pay(account("GD-BJ01"), date(2026, 3, 3), yuan("1.00"))
        everyone = db.session.execute(select(type(accs[0]))).scalars().all()
        for on in (None, date(2025, 12, 29), date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 31),
                   date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 30)):
            all_balances = services.balances_at(on)
            for acc in everyone:
                assert all_balances.get(acc.id, 0) == services.balance_at(acc, on), (acc.code, on)
            some = services.balances_at(on, account_ids=[accs[0].id, accs[2].id])
            assert set(some) <= {accs[0].id, accs[2].id}
            assert {k: v for k, v in some.items()} == {k: all_balances[k] for k in some}
        assert services.balances_at(date(2025, 12, 1)) == {}


# --- tier two ---------------------------------------------------------------------------------

def test_a_dealer_of_a_distributor_has_its_own_ledger_and_its_own_external_refs(app):
    with app.app_context():
        bj01, bj001, bj002, zj003 = (account(c) for c in ("GD-BJ01", "DL-BJ001", "DL-BJ002", "DL-ZJ003"))
        by = user("dist.bj")
        company_doc = pay(bj01, date(2026, 1, 5), yuan("1000.00"), external_ref="ERP-1").document
        assert (company_doc.supplier_id, company_doc.supplier_key) == (None, 0)
        dealer_doc = ship(bj001, date(2026, 1, 5), ("P-W550", 5, yuan("30.00")), external_ref="ERP-1",
                          by=by)
        assert dealer_doc.created  # the same reference, another supplier
        doc = dealer_doc.document
        assert (doc.supplier_id, doc.supplier_key) == (bj01.id, bj01.id)
        assert doc.created_by_id == by.id
        assert services.find_by_external_ref(bj001, "ERP-1").id == doc.id
        assert services.find_by_external_ref(bj01, "ERP-1").id == company_doc.id
        # Within one supplier the reference is unique across its customers ...
        err = refused("external_ref_conflict", ship, bj002, date(2026, 1, 5),
                      ("P-W550", 5, yuan("30.00")), external_ref="ERP-1")
        assert err.differences == ["account"] and err.info["number"] == doc.number
        # ... and the company's direct dealer shares the company's references.
        err = refused("external_ref_conflict", pay, zj003, date(2026, 1, 5), yuan("1000.00"),
                      external_ref="ERP-1")
        assert err.differences == ["account"] and err.document.id == company_doc.id
        # The distributor's balance with the company is not its dealers' balance with it.
        assert services.current_balance(bj01) == -yuan("1000.00")
        assert services.current_balance(bj001) == yuan("150.00")
        assert services.current_balance(bj002) == 0


# --- bad input: refused with the right code, nothing posted -------------------------------------

def _bad_inputs():
    def w550(qty=1, price=2880):
        return [LineInput(product("P-W550"), qty, price)]

    ship_ = dict(kind="shipment", on=date(2026, 1, 5))
    pay_ = dict(kind="payment", on=date(2026, 1, 5), amount_fen=100, payment_method="cash")
    return {
        "quantity zero": ("quantity_positive", lambda: {**ship_, "lines": w550(qty=0)}),
        "quantity negative": ("quantity_positive", lambda: {**ship_, "lines": w550(qty=-3)}),
        "quantity bool": ("quantity_positive", lambda: {**ship_, "lines": w550(qty=True)}),
        "quantity str": ("quantity_positive", lambda: {**ship_, "lines": w550(qty="5")}),
        "quantity float": ("quantity_positive", lambda: {**ship_, "lines": w550(qty=2.0)}),
        "quantity huge": ("quantity_too_large", lambda: {**ship_, "lines": w550(qty=10**8)}),
        "second line bad": ("quantity_positive", lambda: {
            **ship_, "lines": w550() + [LineInput(product("P-GT500"), 0, 4500)]}),
        "price negative": ("price_not_negative", lambda: {**ship_, "lines": w550(price=-1)}),
        "price str": ("price_not_negative", lambda: {**ship_, "lines": w550(price="28.80")}),
        "price bool": ("price_not_negative", lambda: {**ship_, "lines": w550(price=True)}),
        "all lines free": ("amount_positive", lambda: {**ship_, "lines": w550(price=0)}),
        "line amount too large": ("amount_too_large", lambda: {**ship_, "lines": w550(qty=10, price=MAX_ABS_FEN)}),
        "amount zero": ("amount_positive", lambda: {**pay_, "amount_fen": 0}),
        "amount negative": ("amount_positive", lambda: {**pay_, "amount_fen": -100}),
        "amount missing": ("amount_positive", lambda: {**pay_, "amount_fen": None}),
        "amount str": ("amount_positive", lambda: {**pay_, "amount_fen": "100"}),
        "amount float": ("amount_positive", lambda: {**pay_, "amount_fen": 100.0}),
        "amount bool": ("amount_positive", lambda: {**pay_, "amount_fen": True}),
        "amount too large": ("amount_too_large", lambda: {**pay_, "amount_fen": MAX_ABS_FEN + 1}),
        "unknown kind": ("kind_unknown", lambda: {**pay_, "kind": "invoice"}),
        "kind in capitals": ("kind_unknown", lambda: {**pay_, "kind": "PAYMENT"}),
        "shipment without lines": ("lines_required", lambda: {**ship_, "amount_fen": 100}),
        "return without lines": ("lines_required", lambda: {**ship_, "kind": "return", "lines": []}),
        "lines on a payment": ("lines_not_allowed", lambda: {**pay_, "lines": w550()}),
        "lines on a rebate": ("lines_not_allowed", lambda: {**pay_, "kind": "rebate", "lines": w550()}),
        "adjustment without reason": ("reason_required", lambda: {
            "kind": "adjustment", "on": date(2026, 1, 5), "amount_fen": 100, "direction": "debit"}),
        "adjustment blank reason": ("reason_required", lambda: {
            "kind": "adjustment", "on": date(2026, 1, 5), "amount_fen": 100, "direction": "debit",
            "reason": "  "}),
        "adjustment without direction": ("direction_required", lambda: {
            "kind": "adjustment", "on": date(2026, 1, 5), "amount_fen": 100, "reason": "x"}),
        "opening sideways": ("direction_required", lambda: {
            "kind": "opening", "on": date(2026, 1, 5), "amount_fen": 100, "direction": "up"}),
        "payment without method": ("payment_method_required", lambda: {**pay_, "payment_method": None}),
        "payment by cheque": ("payment_method_required", lambda: {**pay_, "payment_method": "cheque"}),
        "inactive product shipped": ("product_inactive", lambda: {
            **ship_, "lines": w550() + [LineInput(product("P-OLD01"), 1, 4000)]}),
        "date missing": ("date_required", lambda: {**pay_, "on": None}),
        "date as text": ("date_required", lambda: {**pay_, "on": "2026-01-05"}),
        "date as timestamp": ("date_required", lambda: {**pay_, "on": datetime(2026, 1, 5, 12, 0)}),
    }


BAD = _bad_inputs()


def test_bad_input_is_refused_and_nothing_is_posted(app):
    # One database for all the cases: each refusal must leave it exactly as it was.
    with app.app_context():
        acc = new_account()
        for case, (code, make) in BAD.items():
            try:
                err = refused(code, post, account=acc, **make())
            except BaseException as failure:
                raise AssertionError(f"case {case!r}") from failure
            if code in ("quantity_positive", "price_not_negative", "product_inactive", "quantity_too_large"):
                expected_line = 2 if case in ("second line bad", "inactive product shipped") else 1
                assert err.info["line"] == expected_line and err.field == "lines", case
            if code == "product_inactive":
                assert err.info["product"] == "P-OLD01"
        assert counts() == (0, 0, 0)
        assert services.current_balance(acc) == 0


def test_bad_input_with_an_external_ref_is_refused_even_on_replay(app):
    """A reference already used does not make bad input acceptable: the input is checked first."""
    with app.app_context():
        acc = new_account()
        pay(acc, date(2026, 1, 5), 100, external_ref="R-1")
        refused("amount_positive", pay, acc, date(2026, 1, 5), 0, external_ref="R-1")
        refused("payment_method_required", pay, acc, date(2026, 1, 5), 100, method=None, external_ref="R-1")


def test_a_discontinued_product_may_come_back_in_a_return(app):
    with app.app_context():
        acc = new_account()
        old = product("P-OLD01")
        assert not old.active
        doc = post(kind="return", account=acc, on=date(2026, 1, 5),
                   lines=[LineInput(old, 4, yuan("40.00"))], memo="停产品退回").document
        assert doc.amount_fen == yuan("160.00") and doc.entry.amount_fen == -yuan("160.00")
