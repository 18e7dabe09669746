"""Simultaneous requests, as threads: each thread is one request with its own app context and
session, calls `begin_write()` before the services (the contract in channel/transactions.py),
and commits or rolls back. A barrier lines the threads up so that they really collide.

On SQLite (a file database in WAL mode: BEGIN IMMEDIATE queues the writers) and on PostgreSQL
(row locks on the number series and the account queue the postings). Every join has a deadline: a test fails,
it never hangs.
"""
import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from channel.auth.models import User
from channel.extensions import db
from channel.ledger import services
from channel.ledger.models import BalanceSnapshot, Document, LedgerEntry
from channel.ledger.services import LedgerError, LineInput
from channel.masterdata.models import Account, Product
from channel.transactions import begin_write

from ..helpers import in_threads
from . import Month, account, counts, new_account, post, user, yuan

DEADLINE_SECONDS = 60


def in_parallel(app, n, request, *, begin=True):
    """Run request(i) in n threads at once, each in its own app context and transaction.

    request(i) runs after begin_write() (unless begin=False: then it calls it itself); it returns
    a value (committed) or raises LedgerError (rolled back).
    Returns [("ok", value) | ("refused", LedgerError)]; any other exception fails the test."""
    def one(i):
        if begin:
            begin_write()
        try:
            value = request(i)
            db.session.commit()
            return ("ok", value)
        except LedgerError as err:
            db.session.rollback()
            return ("refused", err)

    return in_threads(app, n, one, deadline=DEADLINE_SECONDS)


def _finance_id():
    return user("finance").id


# --- one external reference, many requests ------------------------------------------------------

def test_twenty_simultaneous_requests_with_one_external_ref_give_one_document(app):
    with app.app_context():
        acc_id, by_id = new_account().id, _finance_id()
        product_id = db.session.execute(select(Product.id).where(Product.code == "P-W550")).scalar_one()
        before = counts()

    def request(i):
        result = services.post_document(
            kind="shipment", account=db.session.get(Account, acc_id), on=date(2026, 1, 5),
            by=db.session.get(User, by_id), external_ref="ERP-SO-20260105-001",
            lines=[LineInput(db.session.get(Product, product_id), 10, 2880)], memo="同一张ERP单")
        return result.document.number, result.created

    results = in_parallel(app, 20, request)
    assert all(kind == "ok" for kind, _ in results), results
    numbers = {value[0] for _, value in results}
    created = [value[1] for _, value in results]
    assert numbers == {"FH-2026-000001"}  # every request gets the one document's number
    assert created.count(True) == 1 and created.count(False) == 19
    with app.app_context():
        assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
        assert services.current_balance(acc_id) == 28800


def test_one_external_ref_with_two_contents_at_once_gives_one_document_and_conflicts(app):
    """Ten requests carry the reference with ¥100.00, ten with ¥200.00: whichever comes first is
    posted; the requests like it are replays, the others are refused with the difference named."""
    with app.app_context():
        acc_id, by_id = new_account().id, _finance_id()
        before = counts()

    def request(i):
        result = services.post_document(
            kind="payment", account=db.session.get(Account, acc_id), on=date(2026, 1, 5),
            by=db.session.get(User, by_id), external_ref="BANK-1", payment_method="bank_transfer",
            amount_fen=yuan("100.00") if i % 2 else yuan("200.00"))
        return result.document.number, result.created, result.document.amount_fen

    results = in_parallel(app, 20, request)
    ok = [value for kind, value in results if kind == "ok"]
    refused = [err for kind, err in results if kind == "refused"]
    assert len(ok) == len(refused) == 10
    assert len({number for number, _, _ in ok}) == 1 and [c for _, c, _ in ok].count(True) == 1
    winner_amount = ok[0][2]
    for err in refused:
        assert err.code == "external_ref_conflict" and err.differences == ["amount"]
        assert err.info["number"] == ok[0][0]
    with app.app_context():
        assert counts() == (before[0] + 1, before[1] + 1, before[2])
        assert services.current_balance(acc_id) == -winner_amount


def test_one_external_ref_sent_for_two_dealers_of_one_supplier_at_once(app):
    """The reference is unique per supplier: DL-BJ001 and DL-BJ002 both buy from GD-BJ01, so the
    same reference sent for both at the same moment posts once; the other gets the 409 naming the
    account, not a database error."""
    with app.app_context():
        ids = [account("DL-BJ001").id, account("DL-BJ002").id]
        by_id = user("dist.bj").id
        before = counts()

    def request(i):
        result = services.post_document(
            kind="payment", account=db.session.get(Account, ids[i % 2]), on=date(2026, 1, 5),
            by=db.session.get(User, by_id), external_ref="GD-BJ01-HK-0001",
            payment_method="cash", amount_fen=yuan("500.00"))
        return result.document.account_id, result.created

    results = in_parallel(app, 10, request)
    ok = [value for kind, value in results if kind == "ok"]
    refused = [err for kind, err in results if kind == "refused"]
    assert len(ok) == len(refused) == 5
    assert len({account_id for account_id, _ in ok}) == 1
    assert all(err.code == "external_ref_conflict" and err.differences == ["account"] for err in refused)
    with app.app_context():
        assert counts() == (before[0] + 1, before[1] + 1, before[2])


# --- both tiers at once ---------------------------------------------------------------------------

def test_a_distributor_and_its_dealers_post_at_the_same_moment(app):
    """GD-BJ01's shipment from the company and its dealers' shipments from GD-BJ01 at once: a
    dealer's document points at GD-BJ01 as its supplier while GD-BJ01's own posting holds its
    account row. All pass; numbers stay unique and gapless."""
    with app.app_context():
        codes = ["GD-BJ01", "DL-BJ001", "DL-BJ002", "DL-BJ003", "DL-BJ004", "DL-BJ005", "DL-BJ006"]
        ids = [account(code).id for code in codes]
        by_id = _finance_id()
        product_id = db.session.execute(select(Product.id).where(Product.code == "P-W550")).scalar_one()

    def request(i):
        result = services.post_document(
            kind="shipment", account=db.session.get(Account, ids[i % len(ids)]), on=date(2026, 1, 5),
            by=db.session.get(User, by_id), lines=[LineInput(db.session.get(Product, product_id), 1, 2880)])
        return result.document.number

    results = in_parallel(app, 14, request)
    numbers = sorted(value for kind, value in results if kind == "ok")
    assert numbers == [f"FH-2026-{n:06d}" for n in range(1, 15)]
    with app.app_context():
        for acc_id in ids:
            assert services.current_balance(acc_id) == 2 * 2880


def test_a_multi_document_transaction_and_a_single_posting_do_not_deadlock(app):
    """An import posts several documents in one transaction (GD-BJ01's dealer DL-BJ001, then
    DL-BJ002); meanwhile finance posts one shipment to DL-BJ002. The import holds the shipment
    counter from its first document when it reaches DL-BJ002, which the single posting has
    locked: the single posting must not hold DL-BJ002 while it waits for the counter."""
    with app.app_context():
        ids = [account("DL-BJ001").id, account("DL-BJ002").id]
        by_id = _finance_id()
        product_id = db.session.execute(select(Product.id).where(Product.code == "P-W550")).scalar_one()
    first_posted = threading.Event()

    def ship(account_id):
        return services.post_document(
            kind="shipment", account=db.session.get(Account, account_id), on=date(2026, 1, 5),
            by=db.session.get(User, by_id), lines=[LineInput(db.session.get(Product, product_id), 1, 2880)],
        ).document.number

    def request(i):
        if i == 0:  # the import
            begin_write()
            numbers = [ship(ids[0])]
            first_posted.set()
            time.sleep(0.5)  # the single posting gets going meanwhile
            numbers.append(ship(ids[1]))
            return numbers
        assert first_posted.wait(DEADLINE_SECONDS / 2)
        begin_write()  # SQLite: waits here for the import to commit
        return [ship(ids[1])]

    results = in_parallel(app, 2, request, begin=False)
    assert sorted(n for _, numbers in results for n in numbers) == [
        "FH-2026-000001", "FH-2026-000002", "FH-2026-000003"]
    with app.app_context():
        assert services.current_balance(ids[1]) == 2 * 2880


# --- credit control under load --------------------------------------------------------------------

def test_shipments_racing_past_the_credit_limit_only_one_passes(app):
    """¥1,000.00 limit, nothing owed, ten shipments of ¥600.00 at once: room for one."""
    with app.app_context():
        acc_id, by_id = new_account(limit_fen=yuan("1000.00")).id, _finance_id()
        product_id = db.session.execute(select(Product.id).where(Product.code == "P-GT500")).scalar_one()
        before = counts()

    def request(i):
        result = services.post_document(
            kind="shipment", account=db.session.get(Account, acc_id), on=date(2026, 1, 5),
            by=db.session.get(User, by_id),
            lines=[LineInput(db.session.get(Product, product_id), 12, yuan("50.00"))])
        return result.document.number

    results = in_parallel(app, 10, request)
    ok = [value for kind, value in results if kind == "ok"]
    refused = [err for kind, err in results if kind == "refused"]
    assert ok == ["FH-2026-000001"]
    assert len(refused) == 9
    for err in refused:
        assert err.code == "credit_limit"
        # Each refusal saw the one that passed: ¥600.00 owed, ¥600.00 more is ¥200.00 too much.
        assert err.info == {"limit": yuan("1000.00"), "balance": yuan("600.00"), "shortfall": yuan("200.00")}
    with app.app_context():
        assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
        assert services.current_balance(acc_id) == yuan("600.00")


def test_shipments_and_payments_interleaved_never_exceed_the_limit(app):
    """Shipments of ¥300.00 and payments of ¥300.00 at once on an account owing ¥700.00 of a
    ¥1,000.00 limit: whatever order they run in, the balance never goes above the limit, and
    the balance is what passed."""
    with app.app_context():
        acc = new_account(limit_fen=yuan("1000.00"))
        post(kind="opening", account=acc, on=date(2026, 1, 1), direction="debit", amount_fen=yuan("700.00"))
        acc_id, by_id = acc.id, _finance_id()
        product_id = db.session.execute(select(Product.id).where(Product.code == "P-W550")).scalar_one()

    def request(i):
        kw = dict(account=db.session.get(Account, acc_id), on=date(2026, 1, 5),
                  by=db.session.get(User, by_id))
        if i % 2:
            result = services.post_document(kind="payment", amount_fen=yuan("300.00"),
                                            payment_method="bank_transfer", **kw)
        else:
            result = services.post_document(
                kind="shipment", lines=[LineInput(db.session.get(Product, product_id), 10, yuan("30.00"))], **kw)
        # Inside the transaction, after this posting: never above the limit.
        balance = services.current_balance(kw["account"])
        assert result.document.kind == "payment" or balance <= yuan("1000.00"), balance
        return result.document.kind

    results = in_parallel(app, 10, request)
    kinds = [value for kind, value in results if kind == "ok"]
    assert kinds.count("payment") == 5
    assert all(err.code == "credit_limit" for kind, err in results if kind == "refused")
    with app.app_context():
        expected = yuan("700.00") + yuan("300.00") * (kinds.count("shipment") - 5)
        assert services.current_balance(acc_id) == expected <= yuan("1000.00")
        # Replaying the history in date-and-id order, no shipment ever took it over the limit.
        running = 0
        for amount, kind in db.session.execute(
                select(LedgerEntry.amount_fen, LedgerEntry.kind).where(LedgerEntry.account_id == acc_id)
                .order_by(LedgerEntry.id)).all():
            running += amount
            assert kind != "shipment" or running <= yuan("1000.00")


# --- reversals and the month close under load -----------------------------------------------------

def test_one_document_reversed_by_ten_requests_at_once_is_reversed_once(app):
    with app.app_context():
        acc = new_account()
        doc_id = post(kind="rebate", account=acc, on=date(2026, 1, 5), amount_fen=yuan("88.00")).document.id
        acc_id, by_id = acc.id, _finance_id()

    def request(i):
        doc = db.session.get(Document, doc_id)
        return services.reverse_document(doc, reason=f"重复返利 duplicate {i}", on=date(2026, 1, 6),
                                         by=db.session.get(User, by_id)).number

    results = in_parallel(app, 10, request)
    ok = [value for kind, value in results if kind == "ok"]
    refused = [err for kind, err in results if kind == "refused"]
    assert len(ok) == 1 and len(refused) == 9
    assert all(err.code == "already_reversed" for err in refused)
    with app.app_context():
        assert services.current_balance(acc_id) == 0
        assert db.session.execute(select(func.count()).select_from(Document)
                                  .where(Document.reversal_of_id == doc_id)).scalar_one() == 1


def test_postings_racing_the_month_close_land_before_it_or_are_refused(app):
    """Finance closes January while eight requests post into January: each posting either made
    it in before the close (and is in the snapshot) or is refused as closed; the snapshot is the
    sum of what made it in."""
    with app.app_context():
        acc = new_account()
        post(kind="payment", account=acc, on=date(2026, 1, 2), amount_fen=yuan("1.00"), payment_method="cash")
        acc_id, by_id = acc.id, _finance_id()

    def request(i):
        by = db.session.get(User, by_id)
        if i == 0:
            services.close_period(Month(2026, 1), by=by, today=date(2026, 2, 1))
            return "closed"
        return services.post_document(kind="rebate", account=db.session.get(Account, acc_id),
                                      on=date(2026, 1, 31), by=by, amount_fen=100).document.number

    results = in_parallel(app, 9, request)
    assert results[0] == ("ok", "closed")
    posted = [value for kind, value in results[1:] if kind == "ok"]
    refused = [err for kind, err in results if kind == "refused"]
    assert len(posted) + len(refused) == 8
    assert all(err.code == "period_closed" for err in refused)
    with app.app_context():
        snap = db.session.get(BalanceSnapshot, (acc_id, "2026-01"))
        assert snap.closing_fen == -100 - 100 * len(posted)
        assert services.current_balance(acc_id) == snap.closing_fen
        assert services.statement(acc_id, Month(2026, 1)).closing_fen == snap.closing_fen \
            == services.statement(acc_id, Month(2026, 2)).opening_fen


def test_begin_write_refuses_a_session_with_changes_on_sqlite(app):
    """The contract has teeth where it matters (SQLite, where begin_write commits): calling it
    after a change is a programming error, not a silent commit of half a request."""
    with app.app_context():
        acc = new_account()
        acc.notes = "changed"
        if db.engine.dialect.name == "sqlite":
            with pytest.raises(RuntimeError):
                begin_write()
        db.session.rollback()
        assert db.session.get(Account, acc.id).notes is None


def test_a_posting_sees_a_suspension_committed_after_the_request_read_the_account(app):
    """A request reads the account (to show or check it), meanwhile an admin suspends it and
    commits, then the request posts a shipment: the posting must judge by the locked, current
    row, not by what the request read a moment earlier. Same for a credit limit lowered."""
    with app.app_context():
        acc_id = new_account(limit_fen=yuan("1000.00")).id
        other_id = new_account(limit_fen=yuan("1000.00")).id
        w550 = db.session.execute(select(Product).where(Product.code == "P-W550")).scalar_one()
        seen = db.session.get(Account, acc_id)
        seen_other = db.session.get(Account, other_id)
        assert seen.status == "active" and seen_other.credit_limit_fen == yuan("1000.00")
        with app.app_context():  # another request, its own session
            begin_write()
            db.session.get(Account, acc_id).status = "suspended"
            db.session.get(Account, other_id).credit_limit_fen = yuan("100.00")
            db.session.commit()
            db.session.remove()
        before = counts()
        for target, code in ((seen, "account_suspended"), (seen_other, "credit_limit")):
            begin_write()
            try:
                services.post_document(kind="shipment", account=target, on=date(2026, 1, 5),
                                       by=user("finance"), lines=[LineInput(w550, 10, 2880)])
            except LedgerError as err:
                assert err.code == code
            else:
                raise AssertionError(f"shipped to {target.code} judged by a stale read ({code})")
            finally:
                db.session.rollback()
        assert counts() == before


def test_two_closes_of_one_month_at_once_close_it_once(app):
    with app.app_context():
        post(kind="rebate", account=new_account(), on=date(2026, 1, 5), amount_fen=100)
        by_id = _finance_id()

    def request(i):
        return services.close_period(Month(2026, 1), by=db.session.get(User, by_id), today=date(2026, 2, 1)).month

    results = in_parallel(app, 4, request)
    assert [kind for kind, _ in results].count("ok") == 1
    assert all(err.code == "period_already_closed" for kind, err in results if kind == "refused")
    with app.app_context():
        from channel.audit.models import AuditEntry

        assert db.session.execute(select(func.count()).select_from(AuditEntry)
                                  .where(AuditEntry.action == "period_closed")).scalar_one() == 1
