"""Plan versus actual rolled up (channel/plans/rollup.py), on a case worked by hand.

Period 2026-03-2 (11-20 March). List prices: P-W550 ¥28.80, P-GT500 ¥45.00, P-CL330 ¥52.80.

DL-BJ001 (北京), plan: P-W550 100 + P-GT500 20 = ¥2,880.00 + ¥900.00 = ¥3,780.00 (120 cases);
payment ¥2,000.00.
  12 Mar shipment   W550 80, GT500 20    +¥2,304.00 +¥900.00
  14 Mar return     W550 10              -¥288.00
  16 Mar shipment   W550 30              +¥864.00, reversed 17 Mar: -¥864.00
  18 Mar shipment   CL330 5 (not planned) +¥264.00 (amount only)
  21 Mar shipment   W550 50              next period: not counted
  16 Mar payment    ¥1,500.00
  actual: qty 70 + 20 = 90 (75.0 %); ¥3,180.00 (84.1 %); paid ¥1,500.00 (75.0 %); gap ¥600.00

DL-TJ001 (天津), plan: P-W550 50 = ¥1,440.00; payment ¥1,000.00.
  13 Mar shipment   W550 20              +¥576.00
  11 Mar payment    ¥300.00, reversed 12 Mar
  19 Mar payment    ¥1,200.00
  actual: qty 20 (40.0 %); ¥576.00 (40.0 %); paid ¥1,200.00 (120.0 %); gap ¥864.00

Together (华北区, the company): plan ¥5,220.00, actual ¥3,756.00 (72.0 %); qty 170 / 110
(64.7 %); payments ¥3,000.00 / ¥2,700.00 (90.0 %).
"""
from datetime import date

from sqlalchemy import select

from channel.core.periods import Month, TenDay
from channel.extensions import db
from channel.masterdata.models import Region
from channel.plans import rollup
from channel.plans import services as ps
from tests.ledger import account, reverse, user, written, yuan

from . import BEFORE, DURING, PERIOD, pay, plan_input, saved, ship

AFTER = date(2026, 3, 25)


def region(code):
    return db.session.execute(select(Region).where(Region.code == code)).scalar_one()


def hand_case(*, approve=True):
    bj = saved("DL-BJ001", plan_input(("P-W550", 100), ("P-GT500", 20), payment="2000.00", on=date(2026, 3, 15)))
    saved("DL-TJ001", plan_input(("P-W550", 50), payment="1000.00", on=date(2026, 3, 18)),
          username="merch.tianjin")
    if approve:
        written(ps.submit, bj, by=user("rep.beijing"), today=BEFORE)
        written(ps.approve, bj, by=user("sup.north"), today=BEFORE)
    ship("DL-BJ001", date(2026, 3, 12), ("P-W550", 80, 2880), ("P-GT500", 20, 4500))
    ship("DL-BJ001", date(2026, 3, 14), ("P-W550", 10, 2880), kind="return")
    wrong = ship("DL-BJ001", date(2026, 3, 16), ("P-W550", 30, 2880))
    reverse(wrong.document, on=date(2026, 3, 17))
    ship("DL-BJ001", date(2026, 3, 18), ("P-CL330", 5, 5280))
    ship("DL-BJ001", date(2026, 3, 21), ("P-W550", 50, 2880))
    pay("DL-BJ001", date(2026, 3, 16), yuan("1500.00"))
    ship("DL-TJ001", date(2026, 3, 13), ("P-W550", 20, 2880))
    wrong_pay = pay("DL-TJ001", date(2026, 3, 11), yuan("300.00"))
    reverse(wrong_pay.document, on=date(2026, 3, 12))
    pay("DL-TJ001", date(2026, 3, 19), yuan("1200.00"))


def figures(a):
    return (a.plan_qty, a.actual_qty, a.plan_fen, a.actual_fen, a.plan_paid_fen, a.actual_paid_fen)


BJ = (120, 90, yuan("3780.00"), yuan("3180.00"), yuan("2000.00"), yuan("1500.00"))
TJ = (50, 20, yuan("1440.00"), yuan("576.00"), yuan("1000.00"), yuan("1200.00"))
BOTH = tuple(b + t for b, t in zip(BJ, TJ))


def test_hand_case_per_account_rep_region_company(app):
    with app.app_context():
        hand_case()
        f = rollup.for_user(user("admin"), PERIOD, today=AFTER)
        rows = {r.account.code: r for r in f.accounts}
        assert figures(rows["DL-BJ001"].achievement) == BJ
        assert figures(rows["DL-TJ001"].achievement) == TJ
        bj, tj = rows["DL-BJ001"].achievement, rows["DL-TJ001"].achievement
        assert (str(bj.qty_pct), str(bj.shipped_pct), str(bj.paid_pct), bj.gap_fen) == ("75.0", "84.1", "75.0", 60000)
        assert (str(tj.qty_pct), str(tj.shipped_pct), str(tj.paid_pct), tj.gap_fen) == ("40.0", "40.0", "120.0", 86400)
        # Status: approved before the period began is locked now; a draft stays a draft.
        assert rows["DL-BJ001"].status == "locked" and rows["DL-TJ001"].status == "draft"
        assert rows["DL-BJ002"].status == "none" and figures(rows["DL-BJ002"].achievement) == (0,) * 6

        # Furthest below plan first: TJ (¥864 short), BJ (¥600 short), then the rest.
        assert [r.account.code for r in f.accounts[:2]] == ["DL-TJ001", "DL-BJ001"]
        # The company total; nothing else moved.
        assert figures(f.total.achievement) == BOTH
        assert str(f.total.achievement.shipped_pct) == "72.0" and str(f.total.achievement.paid_pct) == "90.0"
        assert str(f.total.achievement.qty_pct) == "64.7"
        assert (f.total.accounts, f.total.planned) == (2, 2)

        regions = {g.key.code: g for g in f.regions}
        assert figures(regions["BJ"].achievement) == BJ
        assert figures(regions["TJ"].achievement) == TJ
        assert figures(regions["NORTH"].achievement) == BOTH  # sub-regions rolled up
        assert figures(regions["EAST"].achievement) == (0,) * 6
        assert (regions["NORTH"].depth, regions["BJ"].depth) == (1, 2)
        assert [g.key.code for g in f.regions][:3] == ["EAST", "SH", "ZJ"]  # tree order

        reps = {g.key.username: g for g in f.reps}
        assert figures(reps["rep.beijing"].achievement) == BJ
        assert figures(reps["merch.tianjin"].achievement) == TJ
        assert figures(reps["rep.shanghai"].achievement) == (0,) * 6


def test_the_same_figures_as_the_services(app):
    with app.app_context():
        hand_case()
        ids = [account("DL-BJ001").id, account("DL-TJ001").id]
        direct = ps.achievements(ids, [PERIOD])
        f = rollup.for_user(user("admin"), PERIOD, today=AFTER)
        for r in f.accounts:
            if r.account.id in ids:
                assert r.achievement == direct[(r.account.id, str(PERIOD))]


def test_scopes(app):
    with app.app_context():
        hand_case()
        north = rollup.for_user(user("sup.north"), PERIOD, today=AFTER)
        assert figures(north.total.achievement) == BOTH
        assert {r.account.region.code for r in north.accounts} == {"BJ", "TJ"}
        assert [g.key.code for g in north.regions] == ["NORTH", "BJ", "TJ"]
        assert {g.key.username for g in north.reps} == {"rep.beijing", "merch.tianjin"}

        rep = rollup.for_user(user("rep.beijing"), PERIOD, today=AFTER)
        assert figures(rep.total.achievement) == BJ
        assert {r.account.region.code for r in rep.accounts} == {"BJ"}
        assert [g.key.username for g in rep.reps] == ["rep.beijing"]

        dist = rollup.for_user(user("dist.tj"), PERIOD, today=AFTER)
        assert figures(dist.total.achievement) == TJ
        assert {r.account.code for r in dist.accounts} <= {"GD-TJ01"} | {f"DL-TJ00{i}" for i in range(1, 6)}
        assert dist.regions == [] and dist.reps == []

        east = rollup.for_user(user("sup.east"), PERIOD, today=AFTER)
        assert figures(east.total.achievement) == (0,) * 6

        # Narrowed to a region.
        tj_only = rollup.for_user(user("admin"), PERIOD, region=region("TJ"), today=AFTER)
        assert figures(tj_only.total.achievement) == TJ
        assert [g.key.code for g in tj_only.regions] == ["TJ"]
        assert [g.key.username for g in tj_only.reps] == ["merch.tianjin"]

        # The PDF's: a region whoever asks.
        assert figures(rollup.for_region(region("NORTH"), PERIOD, today=AFTER).total.achievement) == BOTH


def test_variance_notes_asked_for_after_the_period(app):
    with app.app_context():
        hand_case()
        during = rollup.for_user(user("admin"), PERIOD, today=DURING)
        assert not any(r.needs_note for r in during.accounts)  # under way: not yet
        after = rollup.period_figures(rollup.accounts_in(user("admin")), PERIOD, today=AFTER, threshold=80)
        rows = {r.account.code: r for r in after.accounts}
        assert rows["DL-TJ001"].needs_note and rows["DL-TJ001"].note_missing  # 40 % shipped
        assert rows["DL-BJ001"].needs_note  # payments at 75 %
        assert not rows["DL-BJ002"].needs_note  # no plan: nothing to explain
        assert after.notes_missing == 2
        plan = ps.find(account("DL-TJ001"), PERIOD)
        plan.variance_note = "竞品降价 a competitor cut prices"
        db.session.commit()
        again = rollup.period_figures(rollup.accounts_in(user("admin")), PERIOD, today=AFTER, threshold=80)
        row = next(r for r in again.accounts if r.account.code == "DL-TJ001")
        assert row.needs_note and not row.note_missing and row.variance_note.startswith("竞品")
        lenient = rollup.period_figures(rollup.accounts_in(user("admin")), PERIOD, today=AFTER, threshold=30)
        assert not any(r.needs_note for r in lenient.accounts)


def test_trend_and_monthly_rollup(app):
    with app.app_context():
        hand_case()
        # Another month: 2026-02-3 (21-28 Feb) planned and half shipped; 2026-03-1 nothing planned
        # but a shipment.
        saved("DL-BJ001", plan_input(("P-W550", 10)), period=TenDay.parse("2026-02-3"), today=date(2026, 2, 19))
        ship("DL-BJ001", date(2026, 2, 28), ("P-W550", 5, 2880))
        ship("DL-TJ001", date(2026, 3, 2), ("P-W550", 1, 2880))
        end = TenDay.parse("2026-03-3")
        periods = rollup.trend_periods(end)
        assert periods[0] == TenDay.parse("2025-10-1") and periods[-1] == end and len(periods) == 18
        accounts = rollup.accounts_in(user("sup.north"))
        points = rollup.trend(accounts, periods)
        assert [str(p.period) for p in points] == [str(p) for p in periods]
        by = {str(p.period): p.achievement for p in points}
        assert figures(by["2026-03-2"]) == BOTH
        assert figures(by["2026-02-3"]) == (10, 5, 28800, 14400, 0, 0)
        assert str(by["2026-02-3"].shipped_pct) == "50.0"
        assert figures(by["2026-03-1"]) == (0, 1, 0, 2880, 0, 0) and by["2026-03-1"].shipped_pct is None
        assert figures(by["2026-03-3"]) == (0, 50, 0, yuan("1440.00"), 0, 0)  # the 21 March shipment
        assert figures(by["2025-12-2"]) == (0,) * 6

        months = rollup.monthly(points)
        assert [str(m.month) for m in months] == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
        march = months[-1]
        assert march.complete and [str(p.period) for p in march.periods] == ["2026-03-1", "2026-03-2", "2026-03-3"]
        assert march.total.plan_fen == yuan("5220.00")
        assert march.total.actual_fen == 2880 + yuan("3756.00") + yuan("1440.00")
        assert march.target is None  # no targets until the meetings issue sets them
        assert rollup.targets(None, Month(2026, 3)) is None

        # A trend that ends mid-month: that month is incomplete.
        partial = rollup.monthly(rollup.trend(accounts, rollup.trend_periods(PERIOD)))
        assert len(partial[-1].periods) == 2 and not partial[-1].complete
        # One account's trend.
        one = rollup.trend(rollup.accounts_in(user("admin"), account_ids=[account("DL-TJ001").id]), periods)
        assert figures({str(p.period): p.achievement for p in one}["2026-03-2"]) == TJ


def test_a_fixed_number_of_queries(app):
    """The period's figures take as many queries for many planned accounts as for two."""
    from sqlalchemy import event

    def queries():
        u = user("admin")
        db.session.expire_all()
        n = [0]

        def count(*_a, **_k):
            n[0] += 1
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            rollup.for_user(u, PERIOD, today=AFTER)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return n[0]

    with app.app_context():
        hand_case()
        few = queries()
        for code in ("DL-BJ002", "DL-BJ003", "DL-BJ004", "DL-SH001"):
            saved(code, plan_input(("P-W550", 3), ("P-GT500", 1)),
                  username="rep.shanghai" if code.startswith("DL-SH") else "rep.beijing")
            ship(code, date(2026, 3, 12), ("P-W550", 1, 2880))
        assert queries() == few <= 12, few


def test_net_returns_above_shipments(app):
    """More returned than shipped in the period: a negative actual, shown, never a negative bar."""
    from channel.plans import charts

    with app.app_context():
        saved("DL-BJ001", plan_input(("P-W550", 10)))
        ship("DL-BJ001", date(2026, 3, 1), ("P-W550", 10, 2880))
        ship("DL-BJ001", date(2026, 3, 12), ("P-W550", 4, 2880), kind="return")
        f = rollup.for_user(user("rep.beijing"), PERIOD, today=AFTER)
        row = next(r for r in f.accounts if r.account.code == "DL-BJ001")
        assert (row.achievement.actual_qty, row.achievement.actual_fen) == (-4, -4 * 2880)
        chart = charts.bars([("x", "x", row.achievement.plan_fen, row.achievement.actual_fen)])
        assert chart.groups[0].actual.width == 0 and chart.groups[0].pct == -40
