from datetime import date

from channel.plans import services as ps
from tests.ledger import account, user, written, yuan

from . import BEFORE, DURING, PERIOD, pay, plan_input, saved, ship


def test_plan_flow_and_actuals(app):
    with app.app_context():
        plan = saved("DL-BJ001", plan_input(("P-W550", 100), payment="2000.00", on=date(2026, 3, 15)))
        assert plan.shipment_fen == 100 * 2880
        written(ps.submit, plan, by=user("rep.beijing"), today=BEFORE)
        written(ps.approve, plan, by=user("sup.north"), today=BEFORE)
        assert plan.status == "approved"
        written(ps.change, plan, plan_input(("P-W550", 80), payment="2000.00", on=date(2026, 3, 15)),
                by=user("sup.north"), reason="库存偏高", today=DURING)
        assert plan.version == 2 and plan.versions[0].content["lines"][0][1] == 100
        ship("DL-BJ001", date(2026, 3, 12), ("P-W550", 60, 2880))
        pay("DL-BJ001", date(2026, 3, 16), yuan("1500.00"))
        a = ps.achievements([account("DL-BJ001").id], [PERIOD])[(account("DL-BJ001").id, str(PERIOD))]
        assert (a.plan_qty, a.actual_qty, a.actual_fen, a.actual_paid_fen) == (80, 60, 60 * 2880, yuan("1500.00"))
        assert str(a.qty_pct) == "75.0" and str(a.paid_pct) == "75.0"
