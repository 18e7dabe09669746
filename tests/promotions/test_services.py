"""A promotion through its services, end to end: published, accounts enrolled, execution reported
and checked, settled from the ledger into rebate documents (a dealer's through its distributor);
settling again posts nothing."""
from datetime import date

import pytest
from sqlalchemy import func, select

from channel.extensions import db
from channel.ledger.models import Document
from channel.promotions import services as ps
from tests.ledger import user, written
from tests.promotions import AFTER, DURING, enrol, new_product, promotion, ship


def test_per_unit_rebate_settles_into_the_ledger_once(app):
    with app.app_context():
        new_product()
        p = promotion("per_unit", 200)  # ¥2.00 a case
        e1 = enrol(p, "GD-BJ01", qty=100)
        e2 = enrol(p, "DL-BJ001", qty=20)
        ship("GD-BJ01", date(2026, 3, 3), 120)
        ship("GD-BJ01", date(2026, 3, 20), 10, kind="return")
        ship("DL-BJ001", date(2026, 3, 5), 30)
        ship("DL-BJ001", date(2026, 4, 5), 30)  # after the period: does not count
        [north] = ps.figures(p)
        assert north.settlement.earned == {e1.id: 110 * 200, e2.id: 30 * 200}
        with pytest.raises(ps.PromotionError) as err:
            written(ps.settle, p, version=p.version, by=user("finance"), today=DURING)
        assert err.value.code == "not_ended"
        result = written(ps.settle, p, version=p.version, by=user("finance"), today=AFTER)
        assert result.documents == 2
        docs = db.session.execute(select(Document).where(Document.kind == "rebate",
                                                         Document.external_ref.like(f"PROMO:{p.code}:%"))
                                  .order_by(Document.amount_fen)).scalars().all()
        assert [(d.account.code, d.amount_fen, d.for_account.code if d.for_account else None) for d in docs] == [
            ("GD-BJ01", 6_000, "DL-BJ001"), ("GD-BJ01", 22_000, None)]
        p = db.session.get(type(p), p.id)
        assert p.status == "settled"
        with pytest.raises(ps.PromotionError) as err:
            written(ps.settle, p, version=p.version, by=user("finance"), today=AFTER)
        assert err.value.code == "already_settled"
        assert db.session.execute(select(func.count()).select_from(Document)
                                  .where(Document.external_ref.like("PROMO:%"))).scalar_one() == 2


def test_execution_reports_are_checked_by_another_person(app):
    with app.app_context():
        new_product()
        p = promotion("per_outlet", 5_000)
        e = enrol(p, "DL-BJ002", outlets=10)
        r = written(ps.report_execution, e, executed_on=date(2026, 3, 10), outlets=6, note="6 家门店已铺货",
                    by=user("rep.beijing"), today=DURING)
        with pytest.raises(ps.PromotionError):
            written(ps.check_report, r, verdict="verified", version=r.version, by=user("rep.beijing"))
        r = written(ps.check_report, r, verdict="verified", version=r.version, by=user("sup.north"))
        assert r.status == "verified"
        [north] = ps.figures(p)
        assert north.settlement.earned == {e.id: 6 * 5_000}
