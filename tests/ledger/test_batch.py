"""Posting many documents at once (`post_documents`, what the import and bulk posting use): the
same rules as one by one, judged in input order within one transaction, and all or nothing.
Every test runs on SQLite and on PostgreSQL (the `app` fixture)."""
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from channel.audit.models import AuditEntry
from channel.auth.models import User
from channel.extensions import db
from channel.ledger import services
from channel.ledger.imports import check_and_post
from channel.ledger.models import Document, DocumentLine, LedgerEntry
from channel.ledger.services import DocumentInput, DuplicateConflict, LedgerError
from channel.masterdata.models import Account, Product

from . import (
    Calendar,
    LineInput,
    Month,
    account,
    call,
    close,
    counts,
    documents,
    entries_sum,
    new_account,
    post,
    product,
    user,
    written,
    yuan,
)
from .test_concurrency import in_parallel

JAN, FEB = Month(2026, 1), Month(2026, 2)


def batch(*inputs, by=None) -> list[services.PostResult]:
    """post_documents in its own transaction (rolled back if it raises)."""
    return written(lambda: services.post_documents(list(inputs), by=by or user("finance")))


def shipment(acc, on, *lines, **kw) -> DocumentInput:
    """A shipment of (product code, quantity, unit price fen) lines."""
    return DocumentInput(kind="shipment", account=acc, on=on,
                         lines=[LineInput(product(code), qty, price) for code, qty, price in lines], **kw)


def payment(acc, on, amount_fen, **kw) -> DocumentInput:
    return DocumentInput(kind="payment", account=acc, on=on, amount_fen=amount_fen,
                         payment_method="bank_transfer", **kw)


def refused(code, *inputs) -> LedgerError:
    """The batch is refused with `code` and posts nothing."""
    before = counts()
    with pytest.raises(LedgerError) as caught:
        batch(*inputs)
    assert caught.value.code == code, caught.value.info
    assert counts() == before
    return caught.value


# --- worked examples ---------------------------------------------------------------------------

def test_a_batch_posts_one_document_and_one_entry_each_with_consecutive_numbers(app):
    with app.app_context():
        bj, sh = new_account(), new_account()
        before = counts()
        results = batch(
            shipment(bj, date(2026, 1, 5), ("P-W550", 100, yuan("28.80")), ("P-GT500", 10, yuan("45.00"))),
            payment(sh, date(2026, 1, 6), yuan("500.00"), bank_ref=" BT-1 ", memo=" 首笔回款 "),
            shipment(sh, date(2026, 1, 7), ("P-CL330", 5, yuan("50.00"))),
            DocumentInput(kind="rebate", account=bj, on=date(2026, 1, 8), amount_fen=yuan("120.00")),
            payment(bj, date(2026, 1, 9), yuan("1000.00")),
            shipment(bj, date(2027, 1, 4), ("P-W550", 1, yuan("28.80"))),
        )
        assert [r.document.number for r in results] == [
            "FH-2026-000001", "HK-2026-000001", "FH-2026-000002", "FL-2026-000001", "HK-2026-000002",
            "FH-2027-000001"]
        assert all(r.created and r.warnings == [] for r in results)
        assert counts() == (before[0] + 6, before[1] + 6, before[2] + 4)
        first = results[0].document
        assert first.amount_fen == yuan("3330.00") and first.direction == "debit"
        assert [(ln.line_no, ln.product.code, ln.amount_fen) for ln in first.lines] == [
            (1, "P-W550", yuan("2880.00")), (2, "P-GT500", yuan("450.00"))]
        assert first.created_by_id == user("finance").id == first.entry.posted_by_id
        paid = results[1].document
        assert (paid.bank_ref, paid.memo, paid.payment_method) == ("BT-1", "首笔回款", "bank_transfer")
        assert paid.entry.amount_fen == -yuan("500.00")
        # One entry per document, carrying its sign; the balance is the sum of the entries.
        for result in results:
            entry = result.document.entry
            assert entry.amount_fen == result.document.signed_fen
            assert entry.entry_date == result.document.document_date
        assert services.current_balance(bj) == entries_sum(bj) == yuan("3330.00") - yuan("120.00") \
            - yuan("1000.00") + yuan("28.80")
        assert services.current_balance(sh) == entries_sum(sh) == yuan("250.00") - yuan("500.00")
        # The series carry on where the batch left them, one by one or in the next batch.
        assert post(kind="payment", account=sh, on=date(2026, 1, 10), amount_fen=1,
                    payment_method="cash").document.number == "HK-2026-000003"
        assert batch(shipment(sh, date(2026, 1, 11), ("P-W550", 1, 1)))[0].document.number == "FH-2026-000003"


def test_a_batch_posts_what_the_same_documents_one_by_one_post(app):
    """The batch path and post_document are one set of rules: drawn documents posted as one
    batch to one account and one by one to another give the same numbers of entries, the same
    balances and the same statements."""
    with app.app_context():
        cal = Calendar()

        @settings(max_examples=15, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
        @given(docs=st.lists(documents, min_size=1, max_size=8))
        def example(docs):
            first = cal.window()
            together, alone = new_account(), new_account()
            results = batch(*[DocumentInput(**call(doc, together, first)) for doc in docs])
            assert all(r.created for r in results)
            for doc in docs:
                post(**call(doc, alone, first))
            for month in Month.range(first, first + 2):
                a, b = services.statement(together, month), services.statement(alone, month)
                assert (a.opening_fen, a.closing_fen, a.totals) == (b.opening_fen, b.closing_fen, b.totals)
                assert [(ln.kind, ln.debit_fen, ln.credit_fen) for ln in a.lines] == [
                    (ln.kind, ln.debit_fen, ln.credit_fen) for ln in b.lines]
            assert services.current_balance(together) == entries_sum(together) == entries_sum(alone)

        example()


# --- all or nothing ----------------------------------------------------------------------------

def test_one_bad_input_refuses_the_whole_batch_naming_it(app):
    with app.app_context():
        acc = new_account()
        good = payment(acc, date(2026, 1, 5), yuan("100.00"))
        err = refused("amount_positive", good, good, payment(acc, date(2026, 1, 5), 0), good)
        assert err.index == 2 and err.field == "amount"
        # Every refused input is listed, in input order, the raised one first.
        err = refused("lines_required", good, shipment(acc, date(2026, 1, 5)), good,
                      DocumentInput(kind="adjustment", account=acc, on=date(2026, 1, 5), amount_fen=1,
                                    direction="debit"))
        assert [(e.index, e.code) for e in err.refused] == [(1, "lines_required"), (3, "reason_required")]
        assert err.refused[0] is err
        # Nothing was posted and no number was used.
        assert batch(good)[0].document.number == "HK-2026-000001"


def test_a_refused_input_after_a_replay_leaves_the_replay_alone(app):
    with app.app_context():
        acc = new_account()
        posted = batch(payment(acc, date(2026, 1, 5), yuan("100.00"), external_ref="BANK-1"))[0].document
        err = refused("payment_method_required",
                      payment(acc, date(2026, 1, 5), yuan("100.00"), external_ref="BANK-1"),
                      DocumentInput(kind="payment", account=acc, on=date(2026, 1, 6), amount_fen=5))
        assert err.index == 1
        assert db.session.execute(select(func.count()).select_from(Document)
                                  .where(Document.account_id == acc.id)).scalar_one() == 1
        assert services.current_balance(acc) == -posted.amount_fen


def test_the_credit_limit_counts_the_earlier_inputs_of_the_batch(app):
    """¥1,000.00 limit, nothing owed: two shipments of ¥600.00 do not fit, whether in one batch
    or not; a payment between them makes room; finance may override with a reason."""
    with app.app_context():
        acc = new_account(limit_fen=yuan("1000.00"))
        six_hundred = shipment(acc, date(2026, 1, 5), ("P-GT500", 12, yuan("50.00")))
        err = refused("credit_limit", six_hundred, six_hundred)
        assert err.index == 1
        assert err.info == {"limit": yuan("1000.00"), "balance": yuan("600.00"), "shortfall": yuan("200.00")}
        results = batch(six_hundred, payment(acc, date(2026, 1, 6), yuan("300.00")), six_hundred)
        assert [r.document.number for r in results] == ["FH-2026-000001", "HK-2026-000001", "FH-2026-000002"]
        assert services.current_balance(acc) == yuan("900.00")
        # Over the limit by ¥500.00 on the first, then by ¥1,100.00: both need the override.
        err = refused("credit_limit", six_hundred, six_hundred)
        assert err.index == 0 and err.info["balance"] == yuan("900.00")
        override = shipment(acc, date(2026, 1, 7), ("P-GT500", 12, yuan("50.00")), override_reason=" 老客户 ")
        results = batch(override, override)
        assert [r.warnings for r in results] == [["credit_override"], ["credit_override"]]
        assert {r.document.credit_override_reason for r in results} == {"老客户"}
        overrides = db.session.execute(select(AuditEntry.object_label).where(
            AuditEntry.action == "credit_override").order_by(AuditEntry.id)).scalars().all()
        assert overrides == [r.document.number for r in results]
        assert services.current_balance(acc) == entries_sum(acc) == yuan("2100.00")


def test_a_suspended_account_or_a_discontinued_product_refuses_the_batch(app):
    with app.app_context():
        active = new_account()
        suspended = new_account(status="suspended")
        err = refused("account_suspended", shipment(active, date(2026, 1, 5), ("P-W550", 1, 1)),
                      shipment(suspended, date(2026, 1, 5), ("P-W550", 1, 1)))
        assert err.index == 1 and err.info == {"account": suspended.code}
        err = refused("product_inactive", shipment(active, date(2026, 1, 5), ("P-W550", 1, 1), ("P-OLD01", 1, 1)))
        assert err.index == 0 and err.info == {"line": 2, "product": "P-OLD01"}
        # Payments to the suspended account still go through.
        assert batch(payment(suspended, date(2026, 1, 5), 100))[0].created


# --- external references -----------------------------------------------------------------------

def test_replaying_a_whole_batch_posts_nothing(app):
    with app.app_context():
        bj, sh = new_account(limit_fen=yuan("1000.00")), new_account()
        inputs = [shipment(bj, date(2026, 1, 5), ("P-W550", 30, yuan("28.80")), external_ref="ERP-1"),
                  payment(sh, date(2026, 1, 5), yuan("50.00"), external_ref="BANK-1", bank_ref="BT 1"),
                  payment(sh, date(2026, 1, 6), yuan("70.00"))]
        first = batch(*inputs[:2])
        before = counts()
        # Whitespace around references is not part of them; a month closed since and the credit
        # limit (¥864.00 of ¥1,000.00 used) do not apply to a replay.
        close(JAN, today=date(2026, 2, 1))
        again = batch(inputs[0], payment(sh, date(2026, 1, 5), yuan("50.00"), external_ref=" BANK-1 ",
                                         bank_ref=" BT 1 "))
        assert [(r.created, r.document.id) for r in again] == [(False, r.document.id) for r in first]
        assert counts() == before
        # A batch mixing replays and new documents posts only the new ones.
        mixed = batch(*inputs[:2], payment(sh, date(2026, 2, 2), yuan("70.00"), external_ref="BANK-2"))
        assert [r.created for r in mixed] == [False, False, True]
        assert mixed[2].document.number == "HK-2026-000002"
        assert counts() == (before[0] + 1, before[1] + 1, before[2])


def test_a_reference_twice_in_one_batch_is_one_document(app):
    with app.app_context():
        acc = new_account()
        twice = payment(acc, date(2026, 1, 5), yuan("100.00"), external_ref="BANK-7")
        before = counts()
        results = batch(twice, payment(acc, date(2026, 1, 6), yuan("1.00")), twice)
        assert [r.created for r in results] == [True, True, False]
        assert results[2].document is results[0].document
        assert counts() == (before[0] + 2, before[1] + 2, before[2])
        assert services.current_balance(acc) == -yuan("101.00")


def test_a_reference_twice_in_one_batch_with_other_content_is_a_conflict(app):
    with app.app_context():
        acc = new_account()
        err = refused("external_ref_conflict",
                      payment(acc, date(2026, 1, 5), yuan("100.00"), external_ref="BANK-8"),
                      payment(acc, date(2026, 1, 5), yuan("200.00"), external_ref="BANK-8", memo="改"))
        assert isinstance(err, DuplicateConflict) and err.index == 1
        assert err.differences == ["amount", "memo"]
        assert err.info["number"] == "HK-2026-000001"  # the number the first would have had
        # Unique per supplier: one reference for two dealers of GD-BJ01 in one batch.
        err = refused("external_ref_conflict",
                      payment(account("DL-BJ001"), date(2026, 1, 5), 100, external_ref="GD-BJ01-HK-1"),
                      payment(account("DL-BJ002"), date(2026, 1, 5), 100, external_ref="GD-BJ01-HK-1"))
        assert err.differences == ["account"]
        # A reference refused earlier in the batch is no reference at all for the later input:
        # only the refusal is reported.
        err = refused("amount_positive",
                      payment(acc, date(2026, 1, 5), 0, external_ref="BANK-9"),
                      payment(acc, date(2026, 1, 5), 100, external_ref="BANK-9"))
        assert [e.index for e in err.refused] == [0]


# --- the import: one batch --------------------------------------------------------------------

def test_the_import_lists_every_refused_document_with_its_line_and_posts_nothing(app):
    """The import posts its file as one batch; the ledger's refusals come back for every
    document, each on the line where the document starts, as when it posted one by one."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        limited = new_account(limit_fen=yuan("100.00"))
        suspended = new_account(status="suspended")
        on_ = date(2026, 1, 5).isoformat()
        rows = [["external_ref", "date", "account", "product", "quantity", "unit_price", "memo"],
                ["R-1", on_, limited.code, "P-W550", "1", "28.80", ""],
                ["R-2", on_, suspended.code, "P-W550", "1", "28.80", ""],
                ["R-3", on_, limited.code, "P-W550", "5", "28.80", ""],
                ["R-3", on_, limited.code, "P-GT500", "5", "28.80", ""]]
        before = counts()
        result = written(lambda: check_and_post("shipment", rows, user=user("finance")))
        assert [line for line, _ in result.errors] == [3, 4]
        assert f"Account {suspended.code} is suspended" in result.errors[0][1]
        assert "limit ¥100.00, balance ¥28.80, shortfall ¥216.80" in result.errors[1][1]
        assert result.posted == [] and counts() == before
        # Good rows post as one batch; uploading them again posts nothing.
        good = [rows[0], rows[1], ["R-4", on_, limited.code, "P-W550", "2", "28.80", ""]]
        first = written(lambda: check_and_post("shipment", good, user=user("finance")))
        assert (first.errors, first.posted) == ([], ["FH-2026-000001", "FH-2026-000002"])
        again = written(lambda: check_and_post("shipment", good, user=user("finance")))
        assert (again.posted, again.replayed) == ([], ["FH-2026-000001", "FH-2026-000002"])
        assert services.current_balance(limited) == entries_sum(limited) == yuan("86.40")


# --- months ------------------------------------------------------------------------------------

def test_a_closed_month_refuses_the_batch(app):
    with app.app_context():
        acc = new_account()
        batch(payment(acc, date(2026, 1, 5), 100))
        close(JAN, today=date(2026, 3, 1))
        err = refused("period_closed", payment(acc, date(2026, 2, 5), 100), payment(acc, date(2026, 1, 31), 100))
        assert err.index == 1 and err.info == {"month": "2026-01"}
        close(FEB, today=date(2026, 3, 1))
        err = refused("period_closed", payment(acc, date(2026, 2, 28), 100))
        assert err.info == {"month": "2026-02"}
        # Also into an open month before the latest closed one.
        err = refused("before_closed_period", payment(acc, date(2025, 12, 31), 100))
        assert err.info == {"month": "2025-12", "closed": "2026-02"}
        assert batch(payment(acc, date(2026, 3, 1), 100))[0].created


def test_the_closed_month_trigger_still_guards_the_multi_row_insert(app, monkeypatch):
    """The database's own guard works under the batch's INSERT too: with the service's period
    check blinded, an entry dated in a closed month is still refused, by the trigger."""
    with app.app_context():
        acc = new_account()
        batch(payment(acc, date(2026, 1, 5), 100))
        close(JAN, today=date(2026, 2, 1))
        monkeypatch.setattr(services, "_closed_months", lambda: frozenset())
        with pytest.raises(IntegrityError, match="closed"):
            batch(payment(acc, date(2026, 2, 6), 100), payment(acc, date(2026, 1, 6), 100))
        assert entries_sum(acc) == -100


# --- concurrency -------------------------------------------------------------------------------

def test_two_batches_racing_on_the_same_accounts_both_post_without_deadlock(app):
    """Two imports at once over the same six accounts, in opposite orders, each shipping to and
    taking payments from every account: the locks are taken in one order (number series, then
    accounts by id), so neither waits for the other crosswise; numbers stay unique and gapless."""
    with app.app_context():
        ids = [new_account().id for _ in range(6)]
        by_id = user("finance").id
        product_id = db.session.execute(select(Product.id).where(Product.code == "P-W550")).scalar_one()

    def request(i):
        accounts = [db.session.get(Account, acc_id) for acc_id in (ids if i % 2 else ids[::-1])]
        w550 = db.session.get(Product, product_id)
        inputs = []
        for acc in accounts:
            inputs.append(DocumentInput(kind="shipment", account=acc, on=date(2026, 1, 5),
                                        lines=[LineInput(w550, 1, 2880)]))
            inputs.append(DocumentInput(kind="payment", account=acc, on=date(2026, 1, 5), amount_fen=1000,
                                        payment_method="cash"))
        return [r.document.number for r in services.post_documents(inputs, by=db.session.get(User, by_id))]

    results = in_parallel(app, 4, request)
    assert all(kind == "ok" for kind, _ in results), results
    numbers = sorted(n for _, batch_numbers in results for n in batch_numbers)
    assert numbers == sorted([f"FH-2026-{n:06d}" for n in range(1, 25)] + [f"HK-2026-{n:06d}" for n in range(1, 25)])
    with app.app_context():
        for acc_id in ids:
            assert services.current_balance(acc_id) == entries_sum(acc_id) == 4 * (2880 - 1000)


def test_batches_racing_past_the_credit_limit_only_one_passes(app):
    """¥1,000.00 limit, nothing owed; each of six batches ships ¥600.00 to it (and ¥1.00 to an
    account of its own): room for one batch, the others are refused whole."""
    with app.app_context():
        limited = new_account(limit_fen=yuan("1000.00")).id
        own = [new_account().id for _ in range(6)]
        by_id = user("finance").id
        product_id = db.session.execute(select(Product.id).where(Product.code == "P-GT500")).scalar_one()
        before = counts()

    def request(i):
        gt500 = db.session.get(Product, product_id)
        inputs = [DocumentInput(kind="shipment", account=db.session.get(Account, own[i]), on=date(2026, 1, 5),
                                lines=[LineInput(gt500, 1, 100)]),
                  DocumentInput(kind="shipment", account=db.session.get(Account, limited), on=date(2026, 1, 5),
                                lines=[LineInput(gt500, 12, yuan("50.00"))])]
        return [r.document.number for r in services.post_documents(inputs, by=db.session.get(User, by_id))]

    results = in_parallel(app, 6, request)
    ok = [value for kind, value in results if kind == "ok"]
    refused_ = [err for kind, err in results if kind == "refused"]
    assert len(ok) == 1 and ok[0] == ["FH-2026-000001", "FH-2026-000002"]
    assert len(refused_) == 5
    for err in refused_:
        assert err.code == "credit_limit" and err.index == 1
        assert err.info == {"limit": yuan("1000.00"), "balance": yuan("600.00"), "shortfall": yuan("200.00")}
    with app.app_context():
        assert counts() == (before[0] + 2, before[1] + 2, before[2] + 2)
        assert services.current_balance(limited) == yuan("600.00")


def test_batches_with_one_external_ref_for_two_dealers_of_one_supplier_at_once(app):
    """Batches of payments for DL-BJ001 and of rebates for DL-BJ002 carry one reference of their
    supplier GD-BJ01 at the same moment: neither the accounts nor the number series meet, only
    the unique index does (PostgreSQL). One posts; the batches like it replay it, the others get
    the 409 naming the differences, not a database error."""
    with app.app_context():
        ids = [account("DL-BJ001").id, account("DL-BJ002").id]
        by_id = user("dist.bj").id
        before = counts()

    def request(i):
        acc = db.session.get(Account, ids[i % 2])
        extra = {"kind": "rebate"} if i % 2 else {"kind": "payment", "payment_method": "cash"}
        inputs = [DocumentInput(account=acc, on=date(2026, 1, 5), amount_fen=100 + i, external_ref=f"OWN-{i}",
                                **extra),
                  DocumentInput(account=acc, on=date(2026, 1, 5), amount_fen=yuan("500.00"),
                                external_ref="GD-BJ01-0001", **extra)]
        results = services.post_documents(inputs, by=db.session.get(User, by_id))
        return results[1].document.account_id, results[1].created

    results = in_parallel(app, 6, request)
    ok = [value for kind, value in results if kind == "ok"]
    conflicts = [err for kind, err in results if kind == "refused"]
    assert len(ok) == len(conflicts) == 3
    assert len({account_id for account_id, _ in ok}) == 1 and [c for _, c in ok].count(True) == 1
    assert all(err.code == "external_ref_conflict" and err.index == 1
               and err.differences == ["kind", "account", "payment_method"] for err in conflicts)
    with app.app_context():
        assert counts() == (before[0] + 4, before[1] + 4, before[2])
        assert db.session.execute(select(func.count()).select_from(Document).where(
            Document.external_ref == "GD-BJ01-0001")).scalar_one() == 1
        assert db.session.execute(select(func.count()).select_from(DocumentLine)).scalar_one() == before[2]
        assert db.session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == before[1] + 4
