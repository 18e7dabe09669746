"""The demo company's reconciliation history is what README and the issue promise: past months
confirmed, last month one dispute open and one answered, one distributor overdue, and one
pass-through gap (北京 kept ¥1,200.00 of DL-BJ002's payout). Loaded once per engine."""

from sqlalchemy import select

from channel.core.periods import Month
from channel.demo_reconciliation import PAYOUTS
from channel.extensions import db
from channel.ledger.services import last_closed_month
from channel.reconciliation import services as rs
from channel.reconciliation.models import DisputeItem, Reconciliation
from tests.helpers import EN, page_text
from tests.ledger import account


def _recs(month):
    return {r.account.code: r for r in db.session.execute(select(Reconciliation).where(
        Reconciliation.month == str(month), Reconciliation.supplier_id.is_(None))).scalars()}


def test_past_months_confirmed_last_month_in_progress(full_demo_app):
    with full_demo_app.app_context():
        last = last_closed_month()
        today = rs.business_today()
        for month in Month.range(last - 9, last - 2):
            assert {c: r.status for c, r in _recs(month).items()} == dict.fromkeys(_recs(month), "confirmed"), month
        before = _recs(last.prev())
        assert before["GD-GZ01"].status == "issued" and rs.core.is_overdue("issued", before["GD-GZ01"].due_on, today)
        now = _recs(last)
        assert now["GD-BJ01"].status == "confirmed"
        assert now["GD-TJ01"].status == "disputed"
        open_items = db.session.execute(select(DisputeItem).where(
            DisputeItem.reconciliation_id == now["GD-TJ01"].id)).scalars().all()
        assert [i.status for i in open_items] == ["open"]
        answered = now["GD-SH01"]
        assert (answered.status, answered.version) == ("issued", 2)
        assert answered.agreed_fen == answered.closing_fen - 860_00
        assert rs.overdue(today, [account("GD-GZ01").id])


def test_the_pass_through_gap_is_the_one_designed(full_demo_app):
    with full_demo_app.app_context():
        last = last_closed_month()
        gaps = {}
        for dist in ("GD-BJ01", "GD-SH01", "GD-TJ01", "GD-GZ01"):
            for row in rs.pass_through(account(dist), last.last_day):
                gaps[db.session.get(type(account(dist)), row.dealer_id).code] = row
        expected = {dealer: (paid, passed) for _, dealer, paid, passed in PAYOUTS}
        assert {c: (r.received_fen, r.passed_fen) for c, r in gaps.items()} == expected
        assert [c for c, r in gaps.items() if r.flagged] == ["DL-BJ002"]
        assert gaps["DL-BJ002"].gap_fen == 1_200_00
        rows = {r.distributor.code: r for r in rs.board(last, [account(c) for c in ("GD-BJ01", "GD-SH01")])}
        assert rows["GD-BJ01"].gap_fen == 1_200_00 and rows["GD-SH01"].gap_fen == 0
        assert rows["GD-BJ01"].received_fen == 4_500_00 and rows["GD-BJ01"].passed_fen == 3_300_00
        assert rows["GD-BJ01"].dealers_settled == rows["GD-BJ01"].dealers - 2  # two not yet settled


def test_the_board_shows_it(full_demo_app):
    client = full_demo_app.test_client().login("sup.north")
    page = page_text(client.get("/reconciliation/board", headers=EN))
    assert "⚠ ¥1,200.00" in page and "Disputed" in page
    client = full_demo_app.test_client().login("dist.bj")
    home = page_text(client.get("/dashboard", headers=EN))
    assert "Pass on 1 policy payout to your dealers" in home
