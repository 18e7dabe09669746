"""Worked examples of settling a promotion, one per type, every figure worked by hand in the
comments and then checked against the services, from the ledger to the rebate documents.

The promotions run from 1 to 31 March 2026 in 华北区 (NORTH: 北京 BJ and 天津 TJ) on a product of
their own, 促销装 P-PROMO at ¥50.00 a case, which the demo's history never ships; a second
product, P-OTHER, shows that other products do not count. Settled by finance on 2 April 2026,
so the rebates are dated 2026-04-02 unless the example says otherwise.

The participants: 北京鑫源 GD-BJ01 and 天津恒通 GD-TJ01, general distributors supplied by the
company, and the dealers DL-BJ001..005 of GD-BJ01, whose rebates are credited to GD-BJ01's
ledger for the dealer (Document.for_account): GD-BJ01 passes them on.
"""
from datetime import date

import pytest
from sqlalchemy import func, select

from channel.core.periods import Month
from channel.extensions import db
from channel.ledger.models import Document
from channel.ledger.services import LedgerError, LineInput
from channel.promotions import services as ps
from channel.promotions.models import Promotion, PromotionSettlement, SettlementLine
from channel.reconciliation import services as rs
from tests.ledger import account, close, entries_sum, post, product, reverse, user, written, yuan
from tests.promotions import AFTER, DURING, enrol, new_product, promotion, ship

SETTLED_ON = AFTER  # 2026-04-02


def settle(p, **kw):
    kw.setdefault("today", AFTER)
    return written(ps.settle, db.session.get(Promotion, p.id), version=kw.pop("version", None),
                   by=user(kw.pop("by", "finance")), **kw)


def report(e, outlets, *, by="rep.beijing", on=date(2026, 3, 10), verdict=None, reason=None,
           checker="sup.north"):
    """An execution report of `outlets` outlets, then (if given) the supervisor's verdict."""
    r = written(ps.report_execution, e, executed_on=on, outlets=outlets, note=f"{outlets} 家门店",
                by=user(by), today=DURING)
    if verdict:
        r = written(ps.check_report, r, verdict=verdict, reason=reason, version=r.version, by=user(checker))
    return r


def rebates(p) -> list[tuple]:
    """(ledger account, for dealer, amount fen, date) of the promotion's rebate documents, by
    their external reference PROMO:<promotion>:<participant>."""
    docs = db.session.execute(select(Document).where(Document.kind == "rebate",
                                                     Document.external_ref.like(f"PROMO:{p.code}:%"))
                              .order_by(Document.external_ref)).scalars()
    return [(d.account.code, d.for_account.code if d.for_account else None, d.amount_fen, d.document_date)
            for d in docs]


def paid(p) -> dict:
    """{account code: (earned, paid, document number or None)} as the settlement stored it."""
    lines = db.session.execute(select(SettlementLine).join(PromotionSettlement)
                               .where(PromotionSettlement.promotion_id == p.id)).scalars()
    return {ln.account.code: (ln.earned_fen, ln.paid_fen, ln.document.number if ln.document else None)
            for ln in lines}


def document_count() -> int:
    return db.session.execute(select(func.count()).select_from(Document)).scalar_one()


def two_products():
    new_product()
    new_product("P-OTHER", 3_000)


# --- per unit -----------------------------------------------------------------------------------

def test_per_unit_net_of_returns_and_reversals_with_minimum_and_cap(app):
    """¥2.00 a case of P-PROMO shipped in March, at least 50 cases, at most ¥300.00 an account;
    budget ¥1,000.00."""
    with app.app_context():
        two_products()
        p = promotion("per_unit", yuan("2.00"), min_quantity=50, cap_fen=yuan("300.00"),
                      budgets=(("NORTH", yuan("1000.00")),))
        bj, dl1, dl2, tj = (enrol(p, c) for c in ("GD-BJ01", "DL-BJ001", "DL-BJ002", "GD-TJ01"))

        # GD-BJ01                                                         cases counted
        #   02-28 shipment 40 (the day before the period)                      —
        ship("GD-BJ01", date(2026, 2, 28), 40)
        #   03-01 shipment 100 P-PROMO, and 500 P-OTHER on the same document  +100
        post(kind="shipment", account="GD-BJ01", on=date(2026, 3, 1),
             lines=[LineInput(product("P-PROMO"), 100, 5_000), LineInput(product("P-OTHER"), 500, 3_000)])
        #   03-10 shipment 30, reversed (红冲) on 03-12                        +30 −30
        wrong = ship("GD-BJ01", date(2026, 3, 10), 30).document
        reverse(wrong, on=date(2026, 3, 12))
        #   03-18 return 15                                                    −15
        ship("GD-BJ01", date(2026, 3, 18), 15, kind="return")
        #   03-31 shipment 20 (the last day)                                   +20
        ship("GD-BJ01", date(2026, 3, 31), 20)
        #   04-01 shipment 60 (the day after)                                  —
        ship("GD-BJ01", date(2026, 4, 1), 60)
        #   net 100 + 30 − 30 − 15 + 20 = 105 cases × ¥2.00 = ¥210.00
        # DL-BJ001 (dealer of GD-BJ01): 03-05 shipment 200: 200 × ¥2.00 = ¥400.00, capped at ¥300.00
        ship("DL-BJ001", date(2026, 3, 5), 200)
        # DL-BJ002: 03-06 shipment 60, 03-20 return 15: net 45 < 50, below the minimum: ¥0.00
        ship("DL-BJ002", date(2026, 3, 6), 60)
        ship("DL-BJ002", date(2026, 3, 20), 15, kind="return")
        # GD-TJ01: 03-08 shipment 80 cases × ¥2.00 = ¥160.00
        ship("GD-TJ01", date(2026, 3, 8), 80)
        # Earned ¥210.00 + ¥300.00 + ¥0.00 + ¥160.00 = ¥670.00, within the budget of ¥1,000.00:
        # everyone is paid what they earned.

        [north] = ps.figures(p)
        assert {e: (q.net_qty, q.net_fen) for e, q in north.participations.items()} == {
            bj.id: (105, yuan("5250.00")), dl1.id: (200, yuan("10000.00")), dl2.id: (45, yuan("2250.00")),
            tj.id: (80, yuan("4000.00"))}
        assert north.settlement.earned == {bj.id: yuan("210.00"), dl1.id: yuan("300.00"), dl2.id: 0,
                                           tj.id: yuan("160.00")}
        assert north.settlement.paid == north.settlement.earned and not north.short
        assert (north.earned_fen, north.paid_fen, north.left_fen) == (yuan("670.00"), yuan("670.00"),
                                                                      yuan("330.00"))

        before = document_count()
        result = settle(p)
        assert result.documents == 3  # DL-BJ002 earned nothing: no document
        assert document_count() == before + 3
        assert rebates(p) == [
            ("GD-BJ01", "DL-BJ001", yuan("300.00"), SETTLED_ON),  # PROMO:PR-per_unit:DL-BJ001
            ("GD-BJ01", None, yuan("210.00"), SETTLED_ON),
            ("GD-TJ01", None, yuan("160.00"), SETTLED_ON),
        ]
        stored = paid(p)
        assert {c: v[:2] for c, v in stored.items()} == {
            "GD-BJ01": (yuan("210.00"), yuan("210.00")), "DL-BJ001": (yuan("300.00"), yuan("300.00")),
            "DL-BJ002": (0, 0), "GD-TJ01": (yuan("160.00"), yuan("160.00"))}
        assert stored["DL-BJ002"][2] is None and all(v[2] for c, v in stored.items() if c != "DL-BJ002")
        [s] = db.session.execute(select(PromotionSettlement).where(PromotionSettlement.promotion_id == p.id)).scalars()
        assert (s.budget_fen, s.earned_fen, s.paid_fen, s.short, s.posted_on, s.approved_by.username) == (
            yuan("1000.00"), yuan("670.00"), yuan("670.00"), False, SETTLED_ON, "finance")
        assert db.session.get(Promotion, p.id).status == "settled"


# --- percent ------------------------------------------------------------------------------------

def test_percent_in_basis_points_with_a_budget_that_runs_short(app):
    """1.5% (150 basis points) of the net amount of P-PROMO shipped in March, at least 10 cases;
    budget ¥80.00, which runs short."""
    with app.app_context():
        two_products()
        p = promotion("percent", 150, min_quantity=10, budgets=(("NORTH", yuan("80.00")),))
        bj, tj, dl3, dl4 = (enrol(p, c) for c in ("GD-BJ01", "GD-TJ01", "DL-BJ003", "DL-BJ004"))

        # GD-BJ01: 03-03 shipment 100 × ¥50.00 = ¥5,000.00 (and 40 P-OTHER × ¥30.00, not counted);
        #          03-09 return 10 × ¥49.90 = ¥499.00 (the price it was invoiced at)
        #          net ¥4,501.00 × 1.5% = ¥67.515 → ¥67.52 (half up, to the fen)
        post(kind="shipment", account="GD-BJ01", on=date(2026, 3, 3),
             lines=[LineInput(product("P-PROMO"), 100, 5_000), LineInput(product("P-OTHER"), 40, 3_000)])
        ship("GD-BJ01", date(2026, 3, 9), 10, price=4_990, kind="return")
        # GD-TJ01: 03-04 shipment 33 × ¥48.30 = ¥1,593.90;
        #          03-05 shipment 10 × ¥48.30 = ¥483.00, reversed on 03-06: nothing
        #          ¥1,593.90 × 1.5% = ¥23.9085 → ¥23.91
        ship("GD-TJ01", date(2026, 3, 4), 33, price=4_830)
        reverse(ship("GD-TJ01", date(2026, 3, 5), 10, price=4_830).document, on=date(2026, 3, 6))
        # DL-BJ003: 03-07 shipment 8 × ¥50.00 = ¥400.00, but 8 cases < 10: ¥0.00
        ship("DL-BJ003", date(2026, 3, 7), 8)
        # DL-BJ004: 03-12 shipment 20 × ¥50.00 = ¥1,000.00 × 1.5% = ¥15.00
        ship("DL-BJ004", date(2026, 3, 12), 20)
        #
        # Earned ¥67.52 + ¥23.91 + ¥0.00 + ¥15.00 = ¥106.43 (10,643 fen) > budget ¥80.00 (8,000 fen):
        # the budget is shared in proportion to the rewards, by largest remainder.
        #   GD-BJ01   8,000 × 6,752 / 10,643 = 54,016,000 / 10,643 = 5,075 remainder 2,775
        #   GD-TJ01   8,000 × 2,391 / 10,643 = 19,128,000 / 10,643 = 1,797 remainder 2,529
        #   DL-BJ003  8,000 ×     0 / 10,643 =                           0
        #   DL-BJ004  8,000 × 1,500 / 10,643 = 12,000,000 / 10,643 = 1,127 remainder 5,339
        # The whole parts add up to 7,999 fen: the one fen left goes to the largest remainder,
        # DL-BJ004 (5,339): ¥50.75 + ¥17.97 + ¥0.00 + ¥11.28 = ¥80.00 exactly.
        [north] = ps.figures(p)
        assert north.participations[bj.id].net_fen == yuan("4501.00")
        assert north.participations[bj.id].net_qty == 90
        assert north.participations[tj.id].net_fen == yuan("1593.90")
        assert north.settlement.earned == {bj.id: 6_752, tj.id: 2_391, dl3.id: 0, dl4.id: 1_500}
        assert north.settlement.paid == {bj.id: 5_075, tj.id: 1_797, dl3.id: 0, dl4.id: 1_128}
        assert north.short and north.paid_fen == north.budget_fen == yuan("80.00") and north.left_fen == 0

        settle(p)
        assert {c: v[:2] for c, v in paid(p).items()} == {
            "GD-BJ01": (6_752, 5_075), "GD-TJ01": (2_391, 1_797), "DL-BJ003": (0, 0), "DL-BJ004": (1_500, 1_128)}
        assert rebates(p) == [("GD-BJ01", "DL-BJ004", 1_128, SETTLED_ON), ("GD-BJ01", None, 5_075, SETTLED_ON),
                              ("GD-TJ01", None, 1_797, SETTLED_ON)]
        [s] = db.session.get(Promotion, p.id).settlements
        assert (s.earned_fen, s.paid_fen, s.budget_fen, s.short) == (10_643, 8_000, 8_000, True)


# --- per outlet -----------------------------------------------------------------------------------

def test_per_outlet_counts_verified_outlets_only_up_to_the_cap(app):
    """¥50.00 for every verified outlet stocked, at most ¥400.00 an account; budget ¥2,000.00.
    Shipments do not matter."""
    with app.app_context():
        new_product()
        p = promotion("per_outlet", yuan("50.00"), cap_fen=yuan("400.00"), budgets=(("NORTH", yuan("2000.00")),))
        dl1, dl2, dl4 = (enrol(p, c, outlets=10) for c in ("DL-BJ001", "DL-BJ002", "DL-BJ004"))
        # DL-BJ001: 6 outlets verified, 3 rejected, 2 still waiting: 6 × ¥50.00 = ¥300.00
        report(dl1, 6, verdict="verified")
        report(dl1, 3, verdict="rejected", reason="照片不清楚 photos unreadable")
        report(dl1, 2)
        # DL-BJ002: 5 + 4 verified = 9 × ¥50.00 = ¥450.00, capped at ¥400.00
        report(dl2, 5, verdict="verified")
        report(dl2, 4, on=date(2026, 3, 14), verdict="verified")
        # DL-BJ004: its 5 outlets rejected: ¥0.00, whatever it shipped (100 cases)
        report(dl4, 5, verdict="rejected", reason="门店未陈列 not on the shelf")
        ship("DL-BJ004", date(2026, 3, 12), 100)
        # Earned ¥300.00 + ¥400.00 + ¥0.00 = ¥700.00, within the budget.
        [north] = ps.figures(p)
        assert {e: q.verified_outlets for e, q in north.participations.items()} == {dl1.id: 6, dl2.id: 9, dl4.id: 0}
        assert north.settlement.paid == {dl1.id: yuan("300.00"), dl2.id: yuan("400.00"), dl4.id: 0}

        settle(p)
        # Both dealers are GD-BJ01's: both rebates are credited to GD-BJ01, each for its dealer.
        assert rebates(p) == [("GD-BJ01", "DL-BJ001", yuan("300.00"), SETTLED_ON),
                              ("GD-BJ01", "DL-BJ002", yuan("400.00"), SETTLED_ON)]
        assert {c: v[:2] for c, v in paid(p).items()} == {
            "DL-BJ001": (yuan("300.00"), yuan("300.00")), "DL-BJ002": (yuan("400.00"), yuan("400.00")),
            "DL-BJ004": (0, 0)}


# --- display fee ----------------------------------------------------------------------------------

def test_display_fee_for_verified_execution_shared_when_the_budget_runs_short(app):
    """A fixed display fee (陈列费) of ¥800.00 for an account whose display was verified; budget
    ¥1,000.00 for three verified displays."""
    with app.app_context():
        new_product()
        p = promotion("display_fee", yuan("800.00"), budgets=(("NORTH", yuan("1000.00")),))
        bj, dl1, dl2, dl5, tj = (enrol(p, c) for c in ("GD-BJ01", "DL-BJ001", "DL-BJ002", "DL-BJ005", "GD-TJ01"))
        report(bj, 1, verdict="verified")                              # ¥800.00
        report(dl1, 1, verdict="rejected", reason="陈列位置不对 wrong place")
        report(dl1, 1, on=date(2026, 3, 14), verdict="verified")       # ¥800.00: the second one verified
        report(dl2, 1)                                                 # waiting for a verdict: ¥0.00
        #                                                                DL-BJ005: no report: ¥0.00
        report(tj, 1, by="merch.tianjin", verdict="verified")          # ¥800.00
        # Earned 3 × ¥800.00 = ¥2,400.00 (240,000 fen) > budget ¥1,000.00 (100,000 fen):
        #   each 100,000 × 80,000 / 240,000 = 33,333 remainder 80,000 (all three alike);
        #   3 × 33,333 = 99,999, one fen left; the remainders tie, so it goes to the earliest
        #   enrolment, GD-BJ01: ¥333.34 + ¥333.33 + ¥333.33 = ¥1,000.00 exactly.
        [north] = ps.figures(p)
        assert north.settlement.earned == {bj.id: 80_000, dl1.id: 80_000, dl2.id: 0, dl5.id: 0, tj.id: 80_000}
        assert north.settlement.paid == {bj.id: 33_334, dl1.id: 33_333, dl2.id: 0, dl5.id: 0, tj.id: 33_333}
        assert north.short

        settle(p)
        assert rebates(p) == [("GD-BJ01", "DL-BJ001", 33_333, SETTLED_ON), ("GD-BJ01", None, 33_334, SETTLED_ON),
                              ("GD-TJ01", None, 33_333, SETTLED_ON)]
        assert sum(v[1] for v in paid(p).values()) == yuan("1000.00")


# --- paid through the distributor, and passed on ----------------------------------------------------

def test_a_dealers_rebate_goes_to_its_distributor_to_pass_on(app):
    """DL-BJ001 buys from GD-BJ01: its rebate is credited to GD-BJ01's ledger with the company,
    for DL-BJ001, and shows in the reconciliation's pass-through check until GD-BJ01 credits it
    to DL-BJ001. DL-ZJ003 (华东区) buys from the company directly: paid on its own ledger."""
    with app.app_context():
        new_product()
        p = promotion("per_unit", yuan("1.50"), budgets=(("NORTH", yuan("500.00")), ("EAST", yuan("500.00"))))
        enrol(p, "GD-BJ01")
        enrol(p, "DL-BJ001")
        enrol(p, "DL-ZJ003", by="sup.east")
        ship("GD-BJ01", date(2026, 3, 2), 100)   # 100 × ¥1.50 = ¥150.00
        ship("DL-BJ001", date(2026, 3, 5), 40)   #  40 × ¥1.50 = ¥60.00
        ship("DL-ZJ003", date(2026, 3, 6), 120)  # 120 × ¥1.50 = ¥180.00
        bj01, dl1, zj3 = account("GD-BJ01"), account("DL-BJ001"), account("DL-ZJ003")
        balances = {a.code: entries_sum(a) for a in (bj01, dl1, zj3)}

        settle(p)
        assert rebates(p) == [("GD-BJ01", "DL-BJ001", yuan("60.00"), SETTLED_ON),
                              ("DL-ZJ003", None, yuan("180.00"), SETTLED_ON),
                              ("GD-BJ01", None, yuan("150.00"), SETTLED_ON)]
        # GD-BJ01 owes the company ¥210.00 less; DL-BJ001 owes GD-BJ01 as much as before (until
        # GD-BJ01 passes the ¥60.00 on); DL-ZJ003 owes the company ¥180.00 less.
        assert entries_sum(bj01) == balances["GD-BJ01"] - yuan("210.00")
        assert entries_sum(dl1) == balances["DL-BJ001"]
        assert entries_sum(zj3) == balances["DL-ZJ003"] - yuan("180.00")
        # Two settlements, one per region, each within its own budget.
        assert sorted((s.region.code, s.paid_fen) for s in db.session.get(Promotion, p.id).settlements) == [
            ("EAST", yuan("180.00")), ("NORTH", yuan("210.00"))]

        # The reconciliation's pass-through check: ¥60.00 received for DL-BJ001, nothing passed on.
        [row] = rs.pass_through(bj01, SETTLED_ON)
        assert (row.dealer_id, row.received_fen, row.passed_fen, row.gap_fen, row.flagged) == (
            dl1.id, yuan("60.00"), 0, yuan("60.00"), True)
        [payout] = rs.payouts(bj01, open_only=True)
        assert (payout.document.for_account.code, payout.outstanding_fen) == ("DL-BJ001", yuan("60.00"))
        assert payout.document.external_ref == f"PROMO:{p.code}:DL-BJ001"
        # GD-BJ01 credits DL-BJ001: the gap closes, and DL-BJ001 owes ¥60.00 less.
        written(rs.pass_on, payout.document, amount_fen=yuan("60.00"), on=date(2026, 4, 3), by=user("dist.bj"))
        [row] = rs.pass_through(bj01, date(2026, 4, 3))
        assert (row.received_fen, row.passed_fen, row.flagged) == (yuan("60.00"), yuan("60.00"), False)
        assert rs.payouts(bj01, open_only=True) == []
        assert entries_sum(dl1) == balances["DL-BJ001"] - yuan("60.00")


# --- once, and only into an open month --------------------------------------------------------------

def test_settling_again_posts_nothing(app):
    with app.app_context():
        new_product()
        p = promotion("per_unit", yuan("2.00"))
        enrol(p, "GD-BJ01")
        enrol(p, "DL-BJ001")
        ship("GD-BJ01", date(2026, 3, 2), 10)
        ship("DL-BJ001", date(2026, 3, 2), 10)
        assert settle(p).documents == 2
        seen = db.session.get(Promotion, p.id).version
        documents, settlements = document_count(), db.session.execute(
            select(func.count()).select_from(PromotionSettlement)).scalar_one()
        for version in (seen, None):  # with the version seen now, and without (an API client)
            with pytest.raises(ps.PromotionError) as err:
                settle(p, version=version)
            assert err.value.code == "already_settled"
        # With the version seen before the settlement: stale.
        with pytest.raises(ps.PromotionError) as err:
            settle(p, version=seen - 1)
        assert err.value.code == "stale"
        assert document_count() == documents
        assert db.session.execute(select(func.count()).select_from(PromotionSettlement)).scalar_one() == settlements
        assert len(rebates(p)) == 2


def test_what_was_settled_stays_as_settled(app):
    """A return posted afterwards, dated in the period (March still open), changes the ledger
    but not the settlement: the figures show what was paid."""
    with app.app_context():
        new_product()
        p = promotion("per_unit", yuan("2.00"))
        e = enrol(p, "GD-BJ01")
        ship("GD-BJ01", date(2026, 3, 2), 50)
        settle(p)
        ship("GD-BJ01", date(2026, 3, 30), 20, kind="return")
        [north] = ps.figures(db.session.get(Promotion, p.id))
        assert north.settled is not None and north.lines[e.id].document is not None
        assert (north.participations[e.id].net_qty, north.earned_fen, north.paid_fen) == (
            50, yuan("100.00"), yuan("100.00"))
        # As it stands the ledger would give 30 cases now.
        assert ps.net_shipments([e.account_id], p.product_ids, p.starts_on, p.ends_on) == {
            e.account_id: (30, yuan("1500.00"))}


def test_settlement_date_in_a_closed_month_posts_nothing(app):
    """March is closed on 2 April: a settlement dated 31 March is refused by the ledger and
    nothing is written; dated 2 April (open) it goes through."""
    with app.app_context():
        new_product()
        p = promotion("per_unit", yuan("2.00"))
        enrol(p, "GD-BJ01")
        ship("GD-BJ01", date(2026, 3, 2), 10)
        close(Month(2026, 3), today=AFTER)
        before = document_count()
        with pytest.raises(LedgerError) as err:
            settle(p, on=date(2026, 3, 31))
        assert err.value.code == "period_closed"
        p = db.session.get(Promotion, p.id)
        assert (p.status, p.settled_at, p.settlements) == ("published", None, [])
        assert document_count() == before
        assert db.session.execute(select(func.count()).select_from(SettlementLine)).scalar_one() == 0
        # Before the promotion's end: refused by the promotion.
        with pytest.raises(ps.PromotionError) as err:
            settle(p, on=date(2026, 3, 30))
        assert err.value.code == "posting_before_end"
        settle(p, on=AFTER, version=p.version)
        assert rebates(p) == [("GD-BJ01", None, yuan("20.00"), AFTER)]


def test_only_finance_settles_and_only_once_ended(app):
    with app.app_context():
        new_product()
        p = promotion("per_unit", yuan("2.00"))
        for who, today, code in (("sup.north", AFTER, "not_allowed"), ("finance", date(2026, 3, 31), "not_ended")):
            with pytest.raises(ps.PromotionError) as err:
                settle(p, by=who, today=today)
            assert err.value.code == code
        assert db.session.get(Promotion, p.id).status == "published"
