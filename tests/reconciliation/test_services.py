"""Issuing, confirming, disputing and answering, holds, and the pass-through, through the
services on SQLite and PostgreSQL; and what the database itself refuses."""
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from channel.extensions import db
from channel.ledger.services import LedgerError
from channel.notify.models import Notification
from channel.reconciliation import services as rs
from channel.reconciliation.models import ReconciliationEvent, ReconciliationVersion
from channel.reports.services import settlement_context
from tests.ledger import LineInput, account, close, post, product, reopen, reverse, user, written, yuan

from . import APRIL, CLOSED_ON, MARCH, confirm, dispute, march_ledger, rec_of


def _refused(code, fn, *args, **kw):
    with pytest.raises((rs.ReconciliationError, LedgerError)) as caught:
        fn(*args, **kw)
    assert caught.value.code == code, caught.value.code
    db.session.rollback()


def test_closing_a_month_issues_the_company_statements(app):
    with app.app_context():
        march_ledger()
        bj = rec_of("GD-BJ01")
        assert (bj.status, bj.version, bj.issued_on, bj.due_on) == ("issued", 1, CLOSED_ON, date(2026, 4, 12))
        assert (bj.opening_fen, bj.closing_fen, bj.agreed_fen) == (0, yuan("1500.00"), yuan("1500.00"))
        assert bj.content_hash == rs.content(account("GD-BJ01"), MARCH).hash
        assert rec_of("GD-SH01").status == "issued"
        # Dealers' statements are the distributor's to issue; accounts with nothing stay out.
        assert rec_of("DL-BJ001") is None and rec_of("GD-TJ01") is None
        # The portal user is told (a notification, mailed where SMTP is configured).
        told = db.session.execute(select(Notification).where(Notification.user_id == user("dist.bj").id)).scalars().all()
        assert [(n.kind, n.link) for n in told] == [("statement_issued", f"/reconciliation/{bj.id}")]
        assert db.session.execute(select(func.count()).select_from(ReconciliationVersion)).scalar_one() == 2


def test_an_open_month_is_not_issued(app):
    with app.app_context():
        march_ledger()
        _refused("month_not_closed", rs.issue, [account("GD-BJ01")], APRIL, by=user("finance"))


def test_confirm_freezes_the_statement_and_the_month(app):
    with app.app_context():
        march_ledger()
        confirm("GD-BJ01", ip="10.1.2.3")
        rec = rec_of("GD-BJ01")
        assert rec.status == "confirmed" and rec.confirmed_by.username == "dist.bj"
        assert rec.confirmed_hash == rec.content_hash and rec.confirmed_ip == "10.1.2.3"
        # Issuing again leaves it alone; confirming again is refused.
        result = written(lambda: rs.issue([account("GD-BJ01")], MARCH, by=user("finance")))
        assert result.confirmed == [rec] and not result.reissued
        _refused("already_confirmed", rs.confirm, rec, shown_hash=rec.content_hash, by=user("dist.bj"))
        # Even with March reopened, nothing can be posted into the confirmed account's March ...
        reopen(MARCH)
        with pytest.raises(DBAPIError, match="confirmed this month"):
            post(kind="payment", account="GD-BJ01", on=date(2026, 3, 30), amount_fen=100,
                 payment_method="cash")
        # ... while an account that has not confirmed can still be corrected.
        post(kind="payment", account="GD-SH01", on=date(2026, 3, 30), amount_fen=100, payment_method="cash")


def test_the_settlement_pdf_prints_the_confirmation(app):
    with app.app_context():
        march_ledger()
        assert settlement_context(account("GD-BJ01"), MARCH)["reconciliation"]["status"] == "issued"
        confirm("GD-BJ01")
        printed = settlement_context(account("GD-BJ01"), MARCH)["reconciliation"]
        rec = rec_of("GD-BJ01")
        assert printed["status"] == "confirmed" and printed["hash"] == rec.content_hash
        assert printed["confirmed_by"] == user("dist.bj").full_name and printed["confirmed_at"] == rec.confirmed_at


def test_a_stale_hash_is_refused_and_changes_nothing(app):
    with app.app_context():
        march_ledger()
        rec = rec_of("GD-BJ01")
        _refused("stale", rs.confirm, rec, shown_hash="0" * 64, by=user("dist.bj"))
        _refused("stale", rs.dispute, rec, shown_hash="0" * 64, by=user("dist.bj"),
                 lines=[rs.DisputeInput(reason="x")])
        assert rec_of("GD-BJ01").status == "issued"


def test_a_ledger_change_under_an_issued_statement_needs_a_reissue(app):
    with app.app_context():
        march_ledger()
        first = rec_of("GD-BJ01").content_hash
        reopen(MARCH)
        # While the month is open again nobody confirms it.
        _refused("month_reopened", rs.confirm, rec_of("GD-BJ01"), shown_hash=first, by=user("dist.bj"))
        post(kind="payment", account="GD-BJ01", on=date(2026, 3, 25), amount_fen=yuan("100.00"),
             payment_method="cash")
        now = rs.content(account("GD-BJ01"), MARCH, rec_of("GD-BJ01"))
        # Closing again re-issues what changed (and only that), with a new due date.
        close(MARCH, today=date(2026, 4, 6))
        rec = rec_of("GD-BJ01")
        assert (rec.version, rec.content_hash, rec.due_on) == (2, now.hash, date(2026, 4, 16))
        assert rec.closing_fen == yuan("1400.00")
        assert rec_of("GD-SH01").version == 1
        _refused("stale", rs.confirm, rec, shown_hash=first, by=user("dist.bj"))
        confirm("GD-BJ01")


def test_a_dealer_statement_changed_under_it_waits_for_its_distributor(app):
    """The close re-issues the company's statements; a dealer's is its distributor's to re-issue."""
    with app.app_context():
        march_ledger()
        dist = user("dist.bj")
        written(lambda: rs.issue([account("DL-BJ001")], MARCH, by=dist, today=date(2026, 4, 5)))
        reopen(MARCH)
        post(kind="payment", account="DL-BJ001", on=date(2026, 3, 25), amount_fen=yuan("100.00"),
             payment_method="cash", by=dist)
        close(MARCH, today=date(2026, 4, 6))
        rec = rec_of("DL-BJ001")
        now = rs.content(account("DL-BJ001"), MARCH, rec)
        _refused("changed_since_issue", rs.confirm, rec, shown_hash=now.hash, by=dist)
        written(lambda: rs.issue([account("DL-BJ001")], MARCH, by=dist, today=date(2026, 4, 7)))
        confirm("DL-BJ001", signed_by="张伟")


def test_dispute_answer_correct_and_reissue(app):
    """The account disputes the shipment (it received 90, not 100) and a missing credit note of
    86.00; finance reverses the shipment (linked to the dispute) and posts the right one in April,
    and the supervisor explains the credit note. Worked figures: closing 1,500.00; the linked
    reversal -2,000.00: March's balance to agree becomes -500.00 (the right shipment, 1,800.00,
    is on April's statement)."""
    with app.app_context():
        ship = march_ledger()
        items = dispute("GD-BJ01", [
            rs.DisputeInput(reason="实收 90 箱 received 90 cases", document=ship),
            rs.DisputeInput(reason="破损补偿未入账 credit note missing", missing_date=date(2026, 3, 28),
                            missing_amount_fen=yuan("86.00"), missing_ref="PS-0931"),
        ], note="其余无误")
        rec = rec_of("GD-BJ01")
        assert rec.status == "disputed" and len(rec.items) == 2
        # Finance and GD-BJ01's supervisors (马国栋, and 王经理 who supervises every region) are told.
        told = {n.user.username for n in db.session.execute(select(Notification).where(
            Notification.kind == "statement_disputed")).scalars()}
        assert told == {"finance", "sup.north", "mgr.channel"}
        # While disputed, nobody confirms it; a second dispute of the same line is refused.
        _refused("dispute_pending", rs.confirm, rec, shown_hash=rec.content_hash, by=user("dist.bj"))
        _refused("already_answered" if False else "dispute_pending", rs.dispute, rec, shown_hash=rec.content_hash,
                 by=user("dist.bj"), lines=[rs.DisputeInput(reason="again", document=ship)])
        first_hash = rec.content_hash
        # The supervisor explains the missing credit note: still disputed (one line open).
        written(lambda: rs.answer(db.session.get(type(items[1]), items[1].id), message="补偿在四月入账",
                                  by=user("sup.north")))
        assert rec_of("GD-BJ01").status == "disputed"
        # Finance corrects the shipment through the ledger, in April.
        def correct():
            item = db.session.get(type(items[0]), items[0].id)
            rs.answer(item, message="红冲重开", by=user("finance"), reverse=True, on=date(2026, 4, 3))
            post_right = rs.ledger.post_document(kind="shipment", account=account("GD-BJ01"), on=date(2026, 4, 3),
                                                 lines=[LineInput(product("P-W550"), 90, yuan("20.00"))],
                                                 by=user("finance"))
            return post_right
        written(correct)
        rec = rec_of("GD-BJ01")
        assert rec.status == "issued" and rec.version == 2 and rec.content_hash != first_hash
        content = rs.content(account("GD-BJ01"), MARCH, rec)
        assert [c.amount_fen for c in content.corrections] == [-yuan("2000.00")]
        assert rec.agreed_fen == content.agreed_fen == -yuan("500.00")
        kinds = [e.kind for e in db.session.execute(select(ReconciliationEvent).where(
            ReconciliationEvent.reconciliation_id == rec.id).order_by(ReconciliationEvent.id)).scalars()]
        assert kinds == ["issued", "disputed", "explained", "corrected", "reissued"]
        # The old hash is stale now; the new one confirms.
        _refused("stale", rs.confirm, rec, shown_hash=first_hash, by=user("dist.bj"))
        confirm("GD-BJ01")
        assert rec_of("GD-BJ01").status == "confirmed"


def test_answer_rules(app):
    with app.app_context():
        march_ledger()
        items = dispute("GD-BJ01", [rs.DisputeInput(reason="missing", missing_amount_fen=100)])
        item = db.session.get(type(items[0]), items[0].id)
        _refused("answer_required", rs.answer, item, message=" ", by=user("finance"))
        _refused("nothing_to_reverse", rs.answer, item, message="x", by=user("finance"), reverse=True)
        # A correction into a closed month is the ledger's refusal; nothing is answered.
        _refused("period_closed", rs.answer, item, message="x", by=user("finance"),
                 adjustment=rs.Adjustment(100, "credit"), on=date(2026, 3, 31))
        assert db.session.get(type(item), item.id).status == "open"
        written(lambda: rs.answer(db.session.get(type(item), item.id), message="ok", by=user("finance"),
                                  adjustment=rs.Adjustment(100, "credit"), on=date(2026, 4, 1)))
        _refused("already_answered", rs.answer, db.session.get(type(item), item.id), message="again",
                 by=user("finance"))


def test_dealer_tier_recorded_by_the_distributor(app):
    with app.app_context():
        march_ledger()
        dist = user("dist.bj")
        result = written(lambda: rs.issue(rs.issuable_accounts(MARCH, account("GD-BJ01")), MARCH, by=dist,
                                          today=date(2026, 4, 5)))
        assert [r.account.code for r in result.issued] == ["DL-BJ001"]
        confirm("DL-BJ001", by="dist.bj", signed_by="张伟")
        rec = rec_of("DL-BJ001")
        assert rec.status == "confirmed" and rec.confirmed_by_name == "张伟" and rec.supplier.code == "GD-BJ01"
        assert settlement_context(account("DL-BJ001"), MARCH)["reconciliation"]["confirmed_by"] == "张伟"


@pytest.mark.parametrize("action", ["warn", "hold"])
def test_overdue_reconciliation_and_new_shipments(app, monkeypatch, action):
    with app.app_context():
        march_ledger()
        written(lambda: rs.save_settings(answer_days=10, overdue_action=action, by=user("finance")))
        monkeypatch.setattr(rs, "business_today", lambda: date(2026, 4, 20))  # due 12 April
        lines = [LineInput(product("P-W550"), 1, yuan("20.00"))]
        if action == "warn":
            result = post(kind="shipment", account="GD-BJ01", on=date(2026, 4, 20), lines=lines)
            assert result.warnings == ["reconciliation_overdue"]
        else:
            _refused("reconciliation_hold", post, kind="shipment", account="GD-BJ01", on=date(2026, 4, 20),
                     lines=lines)
            # Payments still come in; other accounts ship; a dealer of the distributor too.
            post(kind="payment", account="GD-BJ01", on=date(2026, 4, 20), amount_fen=100, payment_method="cash")
            post(kind="shipment", account="DL-BJ001", on=date(2026, 4, 20), lines=lines, by=user("dist.bj"))
            _refused("reason_required", rs.release_hold, rec_of("GD-BJ01"), reason=" ", by=user("finance"))
            written(lambda: rs.release_hold(rec_of("GD-BJ01"), reason="总经理批准先发货", by=user("finance")))
            _refused("already_released", rs.release_hold, rec_of("GD-BJ01"), reason="again", by=user("finance"))
            assert post(kind="shipment", account="GD-BJ01", on=date(2026, 4, 20), lines=lines).created
        # Confirming ends it.
        confirm("GD-BJ01")
        assert post(kind="shipment", account="GD-BJ01", on=date(2026, 4, 21), lines=lines).warnings == []
        _refused("not_overdue", rs.release_hold, rec_of("GD-BJ01"), reason="x", by=user("finance"))


def test_settings_are_checked_and_audited(app):
    with app.app_context():
        assert rs.get_settings() == rs.Settings(10, "none")
        with pytest.raises(ValueError):
            rs.save_settings(answer_days=0, overdue_action="hold", by=user("finance"))
        with pytest.raises(ValueError):
            rs.save_settings(answer_days=5, overdue_action="explode", by=user("finance"))
        written(lambda: rs.save_settings(answer_days=5, overdue_action="hold", by=user("finance")))
        assert rs.get_settings() == rs.Settings(5, "hold")


def test_pass_through_and_its_gap(app):
    """Worked example: the company credits GD-BJ01 3,000.00 for DL-BJ001 in March; 北京 passes
    1,800.00 on in March and 1,200.00 in April: a gap of 1,200.00 at the end of March, none at the
    end of April. A payout reversed by the company is not owed."""
    with app.app_context():
        bj, dealer = account("GD-BJ01"), account("DL-BJ001")
        payout = post(kind="rebate", account=bj, on=date(2026, 3, 10), amount_fen=yuan("3000.00"),
                      for_account=dealer).document
        written(lambda: rs.pass_on(payout, amount_fen=yuan("1800.00"), on=date(2026, 3, 15), by=user("dist.bj")))
        assert rs.pass_through(bj, date(2026, 3, 31))[0].gap_fen == yuan("1200.00")
        _refused("pass_on_exceeds", rs.pass_on, db.session.get(type(payout), payout.id),
                 amount_fen=yuan("1200.01"), on=date(2026, 4, 2), by=user("dist.bj"))
        written(lambda: rs.pass_on(db.session.get(type(payout), payout.id), amount_fen=yuan("1200.00"),
                                   on=date(2026, 4, 2), by=user("dist.bj")))
        assert rs.pass_through(bj, date(2026, 3, 31))[0].gap_fen == yuan("1200.00")
        assert rs.pass_through(bj, date(2026, 4, 30))[0].gap_fen == 0
        assert rs.payouts(bj, open_only=True) == []
        row = rs.board(MARCH, [bj], today=date(2026, 4, 20))[0]
        assert (row.received_fen, row.passed_fen, row.gap_fen) == (yuan("3000.00"), yuan("1800.00"), yuan("1200.00"))
        # A payout can only be meant for the distributor's own dealer, and only on a rebate.
        _refused("for_account_not_dealer", post, kind="rebate", account=bj, on=date(2026, 4, 3), amount_fen=100,
                 for_account=account("DL-SH001"))
        _refused("policy_link_rebates_only", post, kind="payment", account=bj, on=date(2026, 4, 3), amount_fen=100,
                 payment_method="cash", for_account=dealer)
        # Reversed by the company: nothing left to pass on, and the gap counts it out.
        other = post(kind="rebate", account=bj, on=date(2026, 4, 5), amount_fen=yuan("500.00"), for_account=dealer).document
        reverse(other, on=date(2026, 4, 6))
        assert rs.pass_through(bj, date(2026, 4, 30))[0].gap_fen == 0
        _refused("pass_on_exceeds", rs.pass_on, db.session.get(type(other), other.id), amount_fen=1,
                 on=date(2026, 4, 7), by=user("dist.bj"))


def test_the_database_refuses_what_the_rules_forbid(app):
    with app.app_context():
        march_ledger()
        confirm("GD-BJ01")
        rec = rec_of("GD-BJ01")
        for sql in (f"UPDATE reconciliations SET agreed_fen = 0 WHERE id = {rec.id}",
                    f"DELETE FROM reconciliations WHERE id = {rec.id}",
                    f"UPDATE reconciliation_versions SET closing_fen = 0 WHERE reconciliation_id = {rec.id}",
                    f"DELETE FROM reconciliation_events WHERE reconciliation_id = {rec.id}",
                    f"INSERT INTO reconciliations (account_id, month, status, version, content_hash, opening_fen, "
                    f"closing_fen, agreed_fen, issued_on, due_on, issued_at, created_at) VALUES "
                    f"({rec.account_id}, '2026-04', 'issued', 1, 'x', 0, 0, 0, '2026-05-01', '2026-05-11', "
                    f"'2026-05-01 00:00:00+00', '2026-05-01 00:00:00+00')"):
            with pytest.raises(DBAPIError):
                db.session.execute(text(sql))
                db.session.flush()
            db.session.rollback()
        # A pass-on of a payout meant for another dealer, written past the services.
        bj, dealer = account("GD-BJ01"), account("DL-BJ001")
        payout = post(kind="rebate", account=bj, on=date(2026, 4, 10), amount_fen=100, for_account=dealer).document
        with pytest.raises(DBAPIError):
            db.session.execute(text(
                "INSERT INTO documents (number, kind, direction, account_id, supplier_id, supplier_key, document_date, "
                "amount_fen, passes_on_id, created_at) VALUES ('FL-X-1', 'rebate', 'credit', :acc, :sup, :sup, "
                "'2026-04-11', 100, :payout, '2026-04-11 00:00:00+00')"),
                {"acc": account("DL-BJ002").id, "sup": bj.id, "payout": payout.id})
            db.session.flush()
        db.session.rollback()
        with pytest.raises(DBAPIError):  # a payout for a dealer that is not the account's
            db.session.execute(text(
                "INSERT INTO documents (number, kind, direction, account_id, supplier_key, document_date, "
                "amount_fen, for_account_id, created_at) VALUES ('FL-X-2', 'rebate', 'credit', :acc, 0, "
                "'2026-04-11', 100, :dealer, '2026-04-11 00:00:00+00')"),
                {"acc": account("GD-SH01").id, "dealer": dealer.id})
            db.session.flush()
        db.session.rollback()


def test_overdue_statements_are_reminded_once_per_version(app, monkeypatch):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from channel.reconciliation.jobs import REMINDERS_JOB
    from reports.jobs import catch_up

    with app.app_context():
        march_ledger()
        later = datetime(2026, 4, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # both due 12 April
        monkeypatch.setattr(rs, "business_today", lambda: later.date())
        rec = rec_of("GD-BJ01")
        outcomes = dict(catch_up(REMINDERS_JOB, later))
        assert outcomes == {f"{rec.id}-v1": "done", f"{rec_of('GD-SH01').id}-v1": "done"}
        reminded = db.session.execute(select(Notification.user_id).where(
            Notification.kind == "statement_overdue")).scalars().all()
        assert sorted(reminded) == sorted([user("dist.bj").id, user("dist.sh").id])
        assert all(outcome != "done" for outcome in dict(catch_up(REMINDERS_JOB, later)).values())
        assert db.session.execute(select(func.count()).select_from(Notification).where(
            Notification.kind == "statement_overdue")).scalar_one() == 2
        confirm("GD-BJ01")
        assert f"{rec.id}-v1" not in dict(catch_up(REMINDERS_JOB, later))
