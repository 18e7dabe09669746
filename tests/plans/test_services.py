"""Plan services on both engines: drafting (who may, what is checked), prefill, submit, approve,
send back, the lock at the period's start and a supervisor's change with a reason (the earlier
version kept); the actual figures equal to the ledger's; what is missing on the reminder days;
and what the database refuses whatever the services do."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from channel.audit.models import AuditEntry
from channel.core.periods import TenDay
from channel.extensions import db
from channel.ledger.models import Document, LedgerEntry
from channel.plans import services as ps
from channel.plans.models import Plan, PlanEvent, PlanVersion
from tests.ledger import account, post, product, reverse, user, written, yuan

from . import BEFORE, DURING, PERIOD, pay, plan_input, saved, ship

ON = date(2026, 3, 15)  # a payment date in the period


def refused(code, fn, *args, **kw):
    with pytest.raises(ps.PlanError) as caught:
        written(fn, *args, **kw)
    assert caught.value.code == code, caught.value.info
    return caught.value


def act(fn, plan, username, today=BEFORE, **kw):
    return written(fn, plan, by=user(username), today=today, **kw)


def approved(code="DL-BJ001", data=None, drafter="rep.beijing"):
    plan = saved(code, data or plan_input(("P-W550", 100), payment="2000.00", on=ON), username=drafter)
    act(ps.submit, plan, drafter)
    act(ps.approve, plan, "sup.north")
    return plan


# --- drafting ----------------------------------------------------------------------------------

def test_save_creates_a_draft_at_list_prices_and_edits_it(app):
    with app.app_context():
        data = plan_input(("P-W550", 100), ("P-GT500", 20, 4000), payment="3000.00", on=ON,
                          stock=[("P-W550", 35, 80)])
        data.competitor_notes, data.problems = "  竞品降价 5%  ", ""
        plan = saved("DL-BJ001", data)
        assert (plan.status, plan.version, plan.period, plan.period_start) == ("draft", 1, "2026-03-2",
                                                                               date(2026, 3, 11))
        assert [(ln.product.code, ln.quantity, ln.unit_price_fen, ln.amount_fen) for ln in plan.lines] == [
            ("P-W550", 100, 2880, 288_000), ("P-GT500", 20, 4000, 80_000)]
        assert (plan.shipment_fen, plan.quantity, plan.payment_fen) == (368_000, 120, yuan("3000.00"))
        assert [(s.product.code, s.stock_qty, s.sellout_qty) for s in plan.stock] == [("P-W550", 35, 80)]
        assert (plan.competitor_notes, plan.problems, plan.drafted_by.username) == ("竞品降价 5%", None,
                                                                                   "rep.beijing")
        # Saving again edits the same plan: the lines are what was sent last.
        again = saved("DL-BJ001", plan_input(("P-CL330", 5)))
        assert again.id == plan.id
        assert [(ln.product.code, ln.quantity) for ln in again.lines] == [("P-CL330", 5)]
        assert (again.payment_fen, again.payment_on, again.stock, again.competitor_notes) == (0, None, [], None)
        assert db.session.execute(select(func.count()).select_from(Plan)).scalar_one() == 1
        assert ps.find(account("DL-BJ001"), PERIOD).id == plan.id
        assert ps.find(account("DL-BJ002"), PERIOD) is None
        actions = db.session.execute(select(AuditEntry.action).where(AuditEntry.action.like("plan_%"))).scalars()
        assert list(actions) == ["plan_created"]


def test_prefill_from_the_last_period(app):
    with app.app_context():
        assert ps.prefill(account("DL-BJ001"), PERIOD.next()) == ps.PlanInput()
        saved("DL-BJ001", plan_input(("P-W550", 100), ("P-GT500", 20, 4000), payment="3000.00", on=ON,
                                     stock=[("P-W550", 35, 80)]))
        data = ps.prefill(account("DL-BJ001"), PERIOD.next())
        w, g = product("P-W550").id, product("P-GT500").id
        assert data.lines == [(w, 100, 2880), (g, 20, 4000)]
        assert data.stock == [(w, 0, 0)]  # the same products, to be counted again
        # The payment on the same day of the new period (the 15th is the 5th day of 11-20 March).
        assert (data.payment_fen, data.payment_on, data.competitor_notes) == (yuan("3000.00"), date(2026, 3, 25), "")
        plan = saved("DL-BJ001", data, period=PERIOD.next())
        assert plan.shipment_fen == 368_000 and plan.period == "2026-03-3"
        assert ps.prefill(account("DL-BJ002"), PERIOD.next()) == ps.PlanInput()
        # A payment day past the end of a shorter period falls on its last day; no payment, no date.
        saved("DL-BJ002", plan_input(("P-W550", 1), payment="10.00", on=date(2026, 2, 28)),
              period=TenDay.parse("2026-02-3"), today=date(2026, 2, 19))
        assert ps.prefill(account("DL-BJ002"), TenDay.parse("2026-03-1")).payment_on == date(2026, 3, 8)
        saved("DL-BJ002", plan_input(("P-W550", 1)), period=TenDay.parse("2026-03-1"), today=date(2026, 2, 19))
        assert ps.prefill(account("DL-BJ002"), PERIOD).payment_on is None


def test_who_may_draft(app):
    with app.app_context():
        data = plan_input(("P-W550", 10))
        # The region's field staff; a distributor's own user for its own account only.
        assert saved("DL-BJ001", data, "rep.beijing").status == "draft"
        assert saved("GD-BJ01", data, "dist.bj").drafted_by.username == "dist.bj"
        for code, username in (("DL-BJ002", "dist.bj"),  # its dealer: the rep plans it
                               ("GD-TJ01", "dist.bj"), ("DL-BJ002", "rep.shanghai"), ("DL-BJ002", "merch.tianjin"),
                               ("DL-BJ002", "sup.east"), ("DL-BJ002", "finance")):
            refused("not_your_plan", ps.save, account(code), PERIOD, data, by=user(username), today=BEFORE)
        # A supervisor of the region may write a draft, but only a drafter submits it.
        plan = saved("DL-BJ002", data, "sup.north")
        refused("not_your_plan", ps.submit, plan, by=user("sup.north"), today=BEFORE)
        act(ps.submit, plan, "rep.beijing")
        assert plan.status == "submitted"
        # Another region's rep may not move a plan of this one.
        other = saved("DL-BJ003", data)
        refused("not_your_plan", ps.submit, other, by=user("rep.shanghai"), today=BEFORE)
        refused("needs_supervisor", ps.approve, plan, by=user("sup.east"), today=BEFORE)
        refused("needs_supervisor", ps.approve, plan, by=user("rep.beijing"), today=BEFORE)
        assert db.session.execute(select(func.count()).select_from(Plan)).scalar_one() == 4


def test_actor(app):
    with app.app_context():
        bj, tj = account("DL-BJ001"), account("DL-TJ001")
        assert ps.actor(user("rep.beijing"), bj) == ps.core.PlanActor(drafts=True, supervises=False)
        assert ps.actor(user("rep.beijing"), tj) == ps.core.PlanActor()
        assert ps.actor(user("sup.north"), tj) == ps.core.PlanActor(drafts=False, supervises=True)
        assert ps.actor(user("mgr.channel"), account("DL-GZ001")).supervises
        assert ps.actor(user("admin"), bj) == ps.core.PlanActor(drafts=False, supervises=True)
        assert ps.actor(user("dist.bj"), account("GD-BJ01")).drafts
        assert ps.actor(user("dist.bj"), bj) == ps.core.PlanActor()
        assert ps.actor(user("finance"), bj) == ps.core.PlanActor()
        assert [a.code for a in ps.plannable_accounts(user("dist.bj"))] == [
            "DL-BJ001", "DL-BJ002", "DL-BJ003", "DL-BJ004", "DL-BJ005", "DL-BJ006", "GD-BJ01"]
        # The suspended dealer is not planned.
        assert "DL-TJ005" not in [a.code for a in ps.plannable_accounts(user("merch.tianjin"))]


@pytest.mark.parametrize("data,code,field", [
    (lambda: plan_input(("P-W550", 10), ("P-W550", 5)), "product_twice", "lines-1"),
    (lambda: plan_input(("P-W550", 0)), "out_of_range", "lines-0"),
    (lambda: plan_input(("P-W550", -3)), "out_of_range", "lines-0"),
    (lambda: plan_input(("P-W550", 10, -1)), "out_of_range", "lines-0"),
    (lambda: plan_input(("P-OLD01", 10)), "product_unknown", "lines-0"),  # discontinued
    (lambda: plan_input(("P-W550", 10), stock=[("P-W550", 1, 1), ("P-W550", 2, 2)]), "product_twice", "stock-1"),
    (lambda: plan_input(stock=[("P-W550", -1, 0)]), "out_of_range", "stock-0"),
    (lambda: plan_input(("P-W550", 10), payment="100.00", on=PERIOD.start - timedelta(days=1)),
     "payment_date_outside_period", "payment_on"),
    (lambda: plan_input(("P-W550", 10), payment="100.00", on=PERIOD.end + timedelta(days=1)),
     "payment_date_outside_period", "payment_on"),
    (lambda: plan_input(("P-W550", 10), payment="100.00"), "payment_date_required", "payment_on"),
    (lambda: plan_input(payment=-100), "out_of_range", "payment"),
])
def test_what_save_checks(app, data, code, field):
    with app.app_context():
        err = refused(code, ps.save, account("DL-BJ001"), PERIOD, data(), by=user("rep.beijing"), today=BEFORE)
        assert err.field == field
        assert db.session.execute(select(func.count()).select_from(Plan)).scalar_one() == 0


def test_odd_input_is_refused_cleanly(app):
    with app.app_context():
        bj = account("DL-BJ001")
        for data, code in ((ps.PlanInput(lines=[(product("P-W550").id, 1.5, None)]), "whole_number"),
                           (ps.PlanInput(lines=[(product("P-W550").id, True, None)]), "whole_number"),
                           (ps.PlanInput(lines=[(10**6, 1, None)]), "product_unknown"),
                           (ps.PlanInput(lines=[(product("P-W550").id, ps.MAX_QUANTITY + 1, None)]), "out_of_range"),
                           (ps.PlanInput(problems="问" * (ps.MAX_TEXT + 1)), "text_too_long")):
            refused(code, ps.save, bj, PERIOD, data, by=user("rep.beijing"), today=BEFORE)
        # A payment on the period's first and last days is in it; no payment needs no date.
        for on in (PERIOD.start, PERIOD.end):
            assert saved("DL-BJ001", plan_input(payment="1.00", on=on)).payment_on == on
        assert saved("DL-BJ001", plan_input(("P-W550", 1))).payment_fen == 0


# --- the steps ---------------------------------------------------------------------------------

def test_submit_approve_and_the_history(app):
    with app.app_context():
        plan = saved("DL-BJ001", plan_input(("P-W550", 100), payment="2000.00", on=ON))
        act(ps.submit, plan, "rep.beijing")
        assert plan.status == "submitted" and plan.submitted_at is not None
        # A submitted plan: its drafter cannot edit it any more; the supervisor can.
        refused("not_a_draft", ps.save, account("DL-BJ001"), PERIOD, plan_input(("P-W550", 1)),
                by=user("rep.beijing"), today=BEFORE)
        saved("DL-BJ001", plan_input(("P-W550", 90), payment="2000.00", on=ON), username="sup.north")
        refused("not_a_draft", ps.submit, plan, by=user("rep.beijing"), today=BEFORE)
        act(ps.approve, plan, "sup.north", comment="同意")
        assert (plan.status, plan.approved_by.username, plan.quantity) == ("approved", "sup.north", 90)
        assert plan.approved_at is not None
        refused("not_submitted", ps.approve, plan, by=user("sup.north"), today=BEFORE)
        assert [(e.seq, e.action, e.from_status, e.to_status, e.by.username, e.comment) for e in plan.events] == [
            (1, "submit", "draft", "submitted", "rep.beijing", None),
            (2, "approve", "submitted", "approved", "sup.north", "同意")]
        actions = db.session.execute(select(AuditEntry.action).where(AuditEntry.action.like("plan_%"))
                                     .order_by(AuditEntry.id)).scalars().all()
        assert actions == ["plan_created", "plan_submitted", "plan_approved"]


def test_send_back_needs_a_comment_and_makes_a_draft_again(app):
    with app.app_context():
        plan = saved("DL-BJ001", plan_input(("P-W550", 100)))
        refused("not_submitted", ps.send_back, plan, by=user("sup.north"), comment="x", today=BEFORE)
        act(ps.submit, plan, "rep.beijing")
        refused("comment_required", ps.send_back, plan, by=user("sup.north"), comment="  ", today=BEFORE)
        act(ps.send_back, plan, "sup.north", comment="数量偏低，请按上旬动销重新估算")
        assert plan.status == "draft"
        saved("DL-BJ001", plan_input(("P-W550", 140)))
        act(ps.submit, plan, "rep.beijing")
        act(ps.approve, plan, "sup.north")
        # An approved plan is sent back before its period starts (then edited and approved again).
        refused("approved_send_back", ps.save, account("DL-BJ001"), PERIOD, plan_input(("P-W550", 1)),
                by=user("sup.north"), today=BEFORE)
        act(ps.send_back, plan, "sup.north", comment="总部促销政策调整，请加量")
        assert (plan.status, plan.approved_by_id, plan.approved_at) == ("draft", None, None)
        assert [e.action for e in plan.events] == ["submit", "send_back", "submit", "approve", "send_back"]
        assert plan.events[1].comment == "数量偏低，请按上旬动销重新估算"


def test_the_period_lock_and_a_change_with_a_reason(app):
    with app.app_context():
        plan = approved(data=plan_input(("P-W550", 100), ("P-GT500", 10), payment="2000.00", on=ON,
                                        stock=[("P-W550", 20, 60)]))
        # Locked from the period's first day: no edit, no send-back; a change with a reason.
        for today in (PERIOD.start, DURING, PERIOD.end + timedelta(days=5)):
            refused("locked", ps.save, account("DL-BJ001"), PERIOD, plan_input(("P-W550", 1)), by=user("sup.north"),
                    today=today)
        refused("locked", ps.send_back, plan, by=user("sup.north"), comment="x", today=PERIOD.start)
        refused("not_locked", ps.change, plan, plan_input(("P-W550", 1)), by=user("sup.north"), reason="x",
                today=PERIOD.start - timedelta(days=1))
        refused("reason_required", ps.change, plan, plan_input(("P-W550", 1)), by=user("sup.north"), reason=" ",
                today=DURING)
        refused("needs_supervisor", ps.change, plan, plan_input(("P-W550", 1)), by=user("rep.beijing"),
                reason="x", today=DURING)
        refused("payment_date_required", ps.change, plan, plan_input(("P-W550", 80), payment="1.00"),
                by=user("sup.north"), reason="库存偏高", today=DURING)
        assert plan.version == 1 and plan.versions == []
        act(ps.change, plan, "sup.north", today=DURING, data=plan_input(("P-W550", 80), payment="1500.00", on=ON),
            reason="  门店库存偏高，减量  ")
        assert (plan.status, plan.version, plan.shipment_fen, plan.payment_fen) == ("approved", 2, 80 * 2880,
                                                                                    yuan("1500.00"))
        w, g = product("P-W550").id, product("P-GT500").id
        [kept] = plan.versions
        assert (kept.version, kept.reason, kept.by.username) == (2, "门店库存偏高，减量", "sup.north")
        assert kept.content == {"lines": [[w, 100, 2880], [g, 10, 4500]], "stock": [[w, 20, 60]],
                                "payment_fen": yuan("2000.00"), "payment_on": "2026-03-15",
                                "competitor_notes": "", "problems": ""}
        assert (plan.events[-1].action, plan.events[-1].comment) == ("change", "门店库存偏高，减量")
        # A second change keeps the second version.
        act(ps.change, plan, "mgr.channel", today=DURING, data=plan_input(("P-W550", 70)), reason="再减")
        assert [v.version for v in plan.versions] == [2, 3] and plan.versions[1].content["lines"] == [[w, 80, 2880]]
        assert plan.version == 3 and plan.payment_fen == 0
        audit = db.session.execute(select(AuditEntry).where(AuditEntry.action == "plan_changed")
                                   .order_by(AuditEntry.id)).scalars().first()
        assert audit.reason == "门店库存偏高，减量"
        assert audit.changes == {"shipment": ["¥3,330.00", "¥2,304.00"], "payment": ["¥2,000.00", "¥1,500.00"]}


def test_after_the_period_nothing_is_submitted_or_edited(app):
    with app.app_context():
        plan = saved("DL-BJ001", plan_input(("P-W550", 10)))
        late = PERIOD.end + timedelta(days=1)
        refused("period_over", ps.submit, plan, by=user("rep.beijing"), today=late)
        refused("period_over", ps.save, account("DL-BJ001"), PERIOD, plan_input(("P-W550", 1)),
                by=user("rep.beijing"), today=late)
        # A late plan written and submitted during its period is fine.
        act(ps.submit, plan, "rep.beijing", today=PERIOD.end)
        assert plan.status == "submitted"


def test_variance_note(app, monkeypatch):
    with app.app_context():
        plan = approved()
        monkeypatch.setattr(ps, "business_today", lambda: PERIOD.start - timedelta(days=1))
        refused("period_not_started", ps.set_variance_note, plan, "x", by=user("rep.beijing"))
        monkeypatch.setattr(ps, "business_today", lambda: PERIOD.end + timedelta(days=1))
        refused("not_your_plan", ps.set_variance_note, plan, "x", by=user("rep.shanghai"))
        refused("not_your_plan", ps.set_variance_note, plan, "x", by=user("finance"))
        written(ps.set_variance_note, plan, " 竞品买赠冲击，门店压货 ", by=user("rep.beijing"))
        assert (plan.variance_note, plan.variance_by.username) == ("竞品买赠冲击，门店压货", "rep.beijing")
        # The note is not a figure: it is written on an approved (locked) plan without a version.
        assert plan.version == 1
        written(ps.set_variance_note, plan, "", by=user("sup.north"))
        assert plan.variance_note is None


# --- actual figures --------------------------------------------------------------------------------

def _ledger_figures(account_id, period):
    """What the ledger's entries say, independently of the plan code: net shipments in fen (the
    entries of shipments and returns, reversals included) and payments received."""
    def entries(kinds):
        return int(db.session.execute(
            select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
            .join(Document, Document.id == LedgerEntry.document_id)
            .where(LedgerEntry.account_id == account_id, Document.kind.in_(kinds),
                   LedgerEntry.entry_date.between(period.start, period.end))).scalar_one())
    return entries(("shipment", "return")), -entries(("payment",))


def test_actual_figures_equal_the_ledger(app):
    with app.app_context():
        bj = account("DL-BJ001")
        ship("DL-BJ001", date(2026, 3, 12), ("P-W550", 60, 2880), ("P-GT500", 10, 4500))
        ship("DL-BJ001", date(2026, 3, 14), ("P-W550", 5, 2880), kind="return")
        wrong = ship("DL-BJ001", date(2026, 3, 13), ("P-W550", 20, 2880))
        reverse(wrong.document, on=date(2026, 3, 16))  # 红冲: nets out
        pay("DL-BJ001", date(2026, 3, 16), yuan("1500.00"))
        wrong_pay = pay("DL-BJ001", date(2026, 3, 18), yuan("700.00"))
        reverse(wrong_pay.document, on=date(2026, 3, 19))
        post(kind="rebate", account="DL-BJ001", on=date(2026, 3, 17), amount_fen=yuan("300.00"))  # not counted
        post(kind="adjustment", account="DL-BJ001", on=date(2026, 3, 17), amount_fen=yuan("30.00"),
             direction="debit", reason="运费")
        # Not in this period, or not this account's.
        ship("DL-BJ001", date(2026, 3, 10), ("P-W550", 7, 2880))
        ship("DL-BJ001", date(2026, 3, 21), ("P-W550", 9, 2880))
        pay("DL-BJ001", date(2026, 3, 21), yuan("99.00"))
        ship("DL-BJ002", date(2026, 3, 12), ("P-W550", 11, 2880))

        a = ps.actuals([bj.id], [PERIOD])[(bj.id, str(PERIOD))]
        w, g = product("P-W550").id, product("P-GT500").id
        assert a.shipped_qty == {w: 55, g: 10}
        assert (a.shipped_fen, a.paid_fen) == (55 * 2880 + 10 * 4500, yuan("1500.00"))
        assert (a.shipped_fen, a.paid_fen) == _ledger_figures(bj.id, PERIOD)
        # Each period its own documents; several periods and accounts in one call.
        first, third = TenDay.parse("2026-03-1"), TenDay.parse("2026-03-3")
        b2 = account("DL-BJ002")
        got = ps.actuals([bj.id, b2.id], [first, PERIOD, third])
        assert set(got) == {(bj.id, "2026-03-1"), (bj.id, "2026-03-2"), (bj.id, "2026-03-3"), (b2.id, "2026-03-2")}
        assert got[(bj.id, "2026-03-1")] == ps.core.Actual({w: 7}, 7 * 2880, 0)
        assert got[(bj.id, "2026-03-3")] == ps.core.Actual({w: 9}, 9 * 2880, yuan("99.00"))
        assert got[(b2.id, "2026-03-2")].shipped_fen == 11 * 2880
        for key, act_ in got.items():
            assert (act_.shipped_fen, act_.paid_fen) == _ledger_figures(key[0], TenDay.parse(key[1]))
        assert ps.actuals([], [PERIOD]) == {} and ps.actuals([bj.id], []) == {}


def test_a_reversal_in_a_later_period_counts_there(app):
    with app.app_context():
        bj = account("DL-BJ001")
        doc = ship("DL-BJ001", date(2026, 3, 19), ("P-W550", 10, 2880))
        reverse(doc.document, on=date(2026, 3, 22))
        got = ps.actuals([bj.id], [PERIOD, PERIOD.next()])
        assert got[(bj.id, str(PERIOD))].shipped_fen == 28_800
        assert got[(bj.id, str(PERIOD.next()))].shipped_fen == -28_800
        assert sum(a.shipped_fen for a in got.values()) == 0


def test_the_dealer_tier_a_distributor_shipping_to_its_dealer(app):
    with app.app_context():
        dealer, dist = account("DL-BJ001"), account("GD-BJ01")
        post(kind="shipment", account=dealer, on=date(2026, 3, 12), by=user("dist.bj"),
             lines=[ship_line("P-W550", 30, 2600)])
        post(kind="payment", account=dealer, on=date(2026, 3, 13), by=user("dist.bj"), amount_fen=yuan("500.00"),
             payment_method="cash")
        ship("GD-BJ01", date(2026, 3, 12), ("P-W550", 200, 2880))
        got = ps.actuals([dealer.id, dist.id], [PERIOD])
        assert got[(dealer.id, str(PERIOD))] == ps.core.Actual({product("P-W550").id: 30}, 30 * 2600, yuan("500.00"))
        assert got[(dist.id, str(PERIOD))].shipped_fen == 200 * 2880  # the company's shipment to it only


def ship_line(code, qty, price):
    from tests.ledger import LineInput
    return LineInput(product(code), qty, price)


def test_achievement_against_the_plan(app):
    with app.app_context():
        plan = approved(data=plan_input(("P-W550", 100), ("P-GT500", 10), payment="2000.00", on=ON))
        ship("DL-BJ001", date(2026, 3, 12), ("P-W550", 60, 2880), ("P-CL330", 10, 5280))  # CL330 not planned
        pay("DL-BJ001", date(2026, 3, 16), yuan("1500.00"))
        ship("DL-BJ002", date(2026, 3, 12), ("P-W550", 11, 2880))  # no plan
        bj, b2, b3 = (account(c).id for c in ("DL-BJ001", "DL-BJ002", "DL-BJ003"))
        got = ps.achievements([bj, b2, b3], [PERIOD])
        assert set(got) == {(bj, str(PERIOD)), (b2, str(PERIOD))}  # a pair with a plan or a movement
        a = got[(bj, str(PERIOD))]
        assert a == ps.core.Achievement(110, 60, 100 * 2880 + 10 * 4500, 60 * 2880 + 10 * 5280, yuan("2000.00"),
                                        yuan("1500.00"))
        assert (str(a.qty_pct), str(a.paid_pct)) == ("54.5", "75.0")
        assert ps.core.needs_variance_note(a, ps.variance_threshold())
        unplanned = got[(b2, str(PERIOD))]
        assert (unplanned.plan_fen, unplanned.actual_fen, unplanned.shipped_pct) == (0, 11 * 2880, None)
        assert ps.achievement(plan, None) == ps.core.Achievement(110, 0, plan.shipment_fen, 0, yuan("2000.00"), 0)
        assert ps.achievement(None, None) == ps.core.ZERO


# --- reminders -------------------------------------------------------------------------------------

def _codes(accounts):
    return [a.code for a in accounts]


BJ = ["DL-BJ001", "DL-BJ002", "DL-BJ003", "DL-BJ004", "DL-BJ005", "DL-BJ006", "GD-BJ01"]


def test_missing_plans(app):
    with app.app_context():
        assert _codes(ps.missing(user("rep.beijing"), PERIOD)) == BJ
        saved("DL-BJ001", plan_input(("P-W550", 1)))  # a draft is still missing
        act(ps.submit, saved("DL-BJ002", plan_input(("P-W550", 1))), "rep.beijing")
        approved("DL-BJ003")
        saved("GD-BJ01", plan_input(("P-W550", 1)), period=PERIOD.next())  # another period
        assert _codes(ps.missing(user("rep.beijing"), PERIOD)) == ["DL-BJ001", "DL-BJ004", "DL-BJ005", "DL-BJ006",
                                                                  "GD-BJ01"]
        north = _codes(ps.missing(user("sup.north"), PERIOD))
        assert "DL-BJ002" not in north and "DL-TJ001" in north and "DL-SH001" not in north
        assert _codes(ps.missing(user("rep.shanghai"), PERIOD))[0] == "DL-SH001"


@pytest.mark.parametrize("today,period,remind", [
    (date(2026, 3, 7), "2026-03-2", False),
    (date(2026, 3, 8), "2026-03-2", True),
    (date(2026, 3, 10), "2026-03-2", True),
    (date(2026, 3, 11), "2026-03-3", False),
    (date(2026, 3, 17), "2026-03-3", False),
    (date(2026, 3, 18), "2026-03-3", True),
    (date(2026, 3, 27), "2026-04-1", False),
    (date(2026, 3, 28), "2026-04-1", True),
    (date(2026, 3, 31), "2026-04-1", True),
    (date(2026, 2, 28), "2026-03-1", True),  # February's last day is its 28th
    (date(2028, 2, 29), "2028-03-1", True),
])
def test_waiting_for_on_the_reminder_days(app, monkeypatch, today, period, remind):
    with app.app_context():
        monkeypatch.setattr(ps, "business_today", lambda: today)
        got = ps.waiting_for(user("rep.beijing"))
        assert (str(got["period"]), got["remind"], _codes(got["missing"])) == (period, remind, BJ)
        assert "to_approve" not in got


def test_waiting_for_each_role(app, monkeypatch):
    with app.app_context():
        monkeypatch.setattr(ps, "business_today", lambda: BEFORE)  # the 9th: planning 2026-03-2
        act(ps.submit, saved("DL-BJ001", plan_input(("P-W550", 1))), "rep.beijing")
        act(ps.submit, saved("DL-TJ001", plan_input(("P-W550", 1)), username="merch.tianjin"), "merch.tianjin")
        act(ps.submit, saved("DL-BJ002", plan_input(("P-W550", 1))), "rep.beijing")
        act(ps.approve, ps.find(account("DL-BJ002"), PERIOD), "sup.north")
        rep = ps.waiting_for(user("rep.beijing"))
        assert rep["remind"] and _codes(rep["missing"]) == [c for c in BJ if c not in ("DL-BJ001", "DL-BJ002")]
        sup = ps.waiting_for(user("sup.north"))
        assert sup["to_approve"] == 2 and sup["remind"] and "DL-TJ001" not in _codes(sup["missing"])
        assert ps.waiting_for(user("sup.east"))["to_approve"] == 0
        assert ps.waiting_for(user("mgr.channel"))["to_approve"] == 2
        admin = ps.waiting_for(user("admin"))
        assert admin["to_approve"] == 2 and "missing" not in admin
        assert ps.waiting_for(user("finance")) == {"period": PERIOD}
        dist = ps.waiting_for(user("dist.bj"))
        assert "GD-BJ01" in _codes(dist["missing"]) and "to_approve" not in dist
        assert ps.coming_period() == PERIOD


# --- the database refuses, whatever the services do -----------------------------------------------

def _db_refuses(sql, match, **params):
    with pytest.raises(DBAPIError, match=match):
        with db.session.begin_nested():
            db.session.execute(text(sql), params)
    db.session.rollback()


def _db_accepts(sql, **params):
    with db.session.begin_nested() as nested:
        db.session.execute(text(sql), params)
        nested.rollback()
    db.session.rollback()


def test_the_database_refuses_what_the_rules_forbid(app):
    with app.app_context():
        plan = approved(data=plan_input(("P-W550", 100), payment="2000.00", on=ON, stock=[("P-W550", 20, 60)]))
        draft = saved("DL-BJ002", plan_input(("P-W550", 10)))
        ids = {"appr": plan.id, "draft": draft.id, "w": product("P-W550").id, "g": product("P-GT500").id,
               "acc": plan.account_id, "sup": user("sup.north").id}
        kept = "an approved plan changes only as a new version"
        insert_line = ("INSERT INTO plan_lines (plan_id, product_id, quantity, unit_price_fen, amount_fen) "
                       "VALUES (:id, :g, 5, 4500, 22500)")
        # An approved plan's figures: not without a kept version.
        for change in ("payment_fen = payment_fen + 1", "payment_on = '2026-03-16'", "payment_on = NULL",
                       "period = '2026-03-3'"):
            _db_refuses(f"UPDATE plans SET {change} WHERE id = :id", kept, id=ids["appr"])
        _db_refuses(insert_line, kept, id=ids["appr"], g=ids["g"])
        _db_refuses("UPDATE plan_lines SET quantity = 1, amount_fen = 2880 WHERE plan_id = :id", kept, id=ids["appr"])
        _db_refuses("DELETE FROM plan_lines WHERE plan_id = :id", kept, id=ids["appr"])
        _db_refuses("UPDATE plan_stock SET stock_qty = 0 WHERE plan_id = :id", kept, id=ids["appr"])
        _db_refuses("DELETE FROM plan_stock WHERE plan_id = :id", kept, id=ids["appr"])
        _db_refuses("INSERT INTO plan_stock (plan_id, product_id, stock_qty, sellout_qty) VALUES (:id, :g, 1, 1)",
                    kept, id=ids["appr"], g=ids["g"])
        # Raising the version alone is not keeping it.
        _db_refuses("UPDATE plans SET version = 2, payment_fen = 1 WHERE id = :id", kept, id=ids["appr"])
        # What is not a figure may change; so may a draft's figures; and an approved plan sent back.
        _db_accepts("UPDATE plans SET variance_note = '竞品冲击', problems = '断货' WHERE id = :id", id=ids["appr"])
        _db_accepts("UPDATE plans SET status = 'draft', approved_by_id = NULL, approved_at = NULL, "
                    "payment_fen = 1 WHERE id = :id", id=ids["appr"])
        _db_accepts(insert_line, id=ids["draft"], g=ids["g"])
        _db_accepts("UPDATE plans SET payment_fen = 5 WHERE id = :id", id=ids["draft"])
        # With the earlier version kept first, the change goes through.
        with db.session.begin_nested() as nested:
            db.session.execute(text("INSERT INTO plan_versions (plan_id, version, content, reason, at) VALUES "
                                    "(:id, 2, '{}', '减量', '2026-03-15 00:00:00+00')"), {"id": ids["appr"]})
            db.session.execute(text("UPDATE plans SET version = 2, payment_fen = 1 WHERE id = :id"),
                               {"id": ids["appr"]})
            db.session.execute(text("DELETE FROM plan_lines WHERE plan_id = :id"), {"id": ids["appr"]})
            nested.rollback()
        db.session.rollback()
        # Lines: a positive quantity, the amount quantity x price, one line per product.
        _db_refuses("UPDATE plan_lines SET quantity = 0, amount_fen = 0 WHERE plan_id = :id", "quantity_positive",
                    id=ids["draft"])
        _db_refuses("UPDATE plan_lines SET amount_fen = amount_fen + 1 WHERE plan_id = :id",
                    "amount_is_quantity_times_price", id=ids["draft"])
        _db_refuses("INSERT INTO plan_lines (plan_id, product_id, quantity, unit_price_fen, amount_fen) "
                    "VALUES (:id, :w, 1, 2880, 2880)", "uq_plan_lines_product|UNIQUE", id=ids["draft"], w=ids["w"])
        _db_refuses("UPDATE plans SET status = 'approved' WHERE id = :id", "approved_has_approver", id=ids["draft"])
        _db_refuses("UPDATE plans SET status = 'locked' WHERE id = :id", "status_known", id=ids["draft"])
        # One plan per account and period.
        _db_refuses("INSERT INTO plans (account_id, period, period_start, status, version, payment_fen, created_at, "
                    "updated_at) VALUES (:acc, '2026-03-2', '2026-03-11', 'draft', 1, 0, '2026-03-09 00:00:00+00', "
                    "'2026-03-09 00:00:00+00')", "uq_plans_account_period|UNIQUE", acc=ids["acc"])
        # The history is append-only: versions and events.
        act(ps.change, plan, "sup.north", today=DURING, data=plan_input(("P-W550", 80)), reason="减量")
        for table in ("plan_versions", "plan_events"):
            column = "reason" if table == "plan_versions" else "comment"
            _db_refuses(f"UPDATE {table} SET {column} = 'rewritten' WHERE plan_id = :id", "append-only|refuse",
                        id=ids["appr"])
            _db_refuses(f"DELETE FROM {table} WHERE plan_id = :id", "append-only|refuse", id=ids["appr"])
        _db_refuses("INSERT INTO plan_events (plan_id, seq, action, from_status, to_status, at) VALUES "
                    "(:id, 1, 'approve', 'submitted', 'approved', '2026-03-12 00:00:00+00')",
                    "uq_plan_events_seq|UNIQUE", id=ids["appr"])
        # Nothing moved.
        plan = db.session.get(Plan, ids["appr"])
        assert (plan.status, plan.version, plan.payment_fen, plan.quantity) == ("approved", 2, 0, 80)
        assert [v.version for v in plan.versions] == [2]
        assert len(plan.events) == 3
        assert db.session.execute(select(func.count()).select_from(PlanVersion)).scalar_one() == 1
        assert db.session.execute(select(func.count()).select_from(PlanEvent)).scalar_one() == 3
