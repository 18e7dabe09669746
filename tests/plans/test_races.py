"""People acting on one plan at once: the plan row is locked (PostgreSQL) or the write lock taken
first (SQLite), so two supervisors approving together make one approval and the other is told;
a submit racing a send-back leaves one consistent history; two people creating the same
account's plan for a period at once make one plan (the unique key), never a crash."""
from sqlalchemy import func, select

from channel.extensions import db
from channel.plans import services as ps
from channel.plans.models import Plan, PlanEvent
from tests.helpers import in_threads
from tests.ledger import account, user, written

from . import BEFORE, PERIOD, plan_input, saved


def _try(fn, *args, **kw):
    try:
        written(fn, *args, **kw)
        return "done"
    except ps.PlanError as err:
        return err.code


def _events(plan_id, action=None):
    stmt = select(func.count()).select_from(PlanEvent).where(PlanEvent.plan_id == plan_id)
    if action:
        stmt = stmt.where(PlanEvent.action == action)
    return db.session.execute(stmt).scalar_one()


def _submitted(code="DL-BJ001"):
    plan = saved(code, plan_input(("P-W550", 100)))
    written(ps.submit, plan, by=user("rep.beijing"), today=BEFORE)
    return plan.id


def test_two_supervisors_approving_at_once_one_wins(app):
    """马国栋 and 王经理 (and admin) open the same plan and click "approve" together."""
    with app.app_context():
        plan_id = _submitted()
    approvers = ["sup.north", "mgr.channel", "admin", "sup.north"]

    def go(i):
        return _try(ps.approve, db.session.get(Plan, plan_id), by=user(approvers[i]), today=BEFORE)

    results = in_threads(app, 4, go)
    assert sorted(results) == ["done"] + ["not_submitted"] * 3
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        assert (plan.status, _events(plan_id, "approve"), _events(plan_id)) == ("approved", 1, 2)
        assert plan.approved_by.username == approvers[results.index("done")]


def test_submit_racing_send_back(app):
    """The rep submits again while the supervisor sends the plan back: whatever the order, the
    status is the last event's and the history has no step from a status the plan was not in."""
    with app.app_context():
        plan_id = _submitted()
        written(ps.send_back, db.session.get(Plan, plan_id), by=user("sup.north"), comment="请补充库存",
                today=BEFORE)

    def go(i):
        plan = db.session.get(Plan, plan_id)
        if i == 0:
            return _try(ps.submit, plan, by=user("rep.beijing"), today=BEFORE)
        return _try(ps.send_back, plan, by=user("sup.north"), comment="再改一次", today=BEFORE)

    for _ in range(3):
        results = in_threads(app, 2, go)
        # Submit first: the send-back finds it submitted and sends it back (both done). Send back
        # first: the plan is a draft, nothing to send back; the submit goes through.
        assert results[0] == "done" and results[1] in ("done", "not_submitted")
        with app.app_context():
            plan = db.session.get(Plan, plan_id)
            events = plan.events
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            for before, after in zip(events, events[1:]):
                assert after.from_status == before.to_status
            assert plan.status == events[-1].to_status == ("draft" if results[1] == "done" else "submitted")
            if plan.status == "submitted":
                written(ps.send_back, plan, by=user("sup.north"), comment="下一轮", today=BEFORE)


def test_two_saves_creating_the_same_plan(app):
    """The rep and the supervisor (or two tabs) save the first plan of an account for a period
    at once: one plan, the later save edits it (or is refused cleanly); no IntegrityError."""
    for round_, code in enumerate(("DL-BJ001", "DL-BJ002", "DL-BJ003")):
        who = ["rep.beijing", "sup.north", "rep.beijing"]

        def go(i):
            return _try(ps.save, account(code), PERIOD, plan_input(("P-W550", 10 + i)), by=user(who[i]),
                        today=BEFORE)

        results = in_threads(app, 3, go)
        assert set(results) <= {"done"}, results
        with app.app_context():
            plans = db.session.execute(select(Plan).where(Plan.account_id == account(code).id)).scalars().all()
            assert len(plans) == 1 and plans[0].period == str(PERIOD) and plans[0].status == "draft"
            assert plans[0].quantity in (10, 11, 12) and len(plans[0].lines) == 1


def test_a_save_racing_a_submit_either_makes_it_in_or_is_refused(app):
    """The rep submits in one tab while saving changes in another: the submitted plan holds
    either the old figures or the new ones, whole; the late save is told it is no longer a draft."""
    with app.app_context():
        plan = saved("DL-BJ001", plan_input(("P-W550", 100), ("P-GT500", 10)))
        plan_id = plan.id

    def go(i):
        if i == 0:
            return _try(ps.submit, db.session.get(Plan, plan_id), by=user("rep.beijing"), today=BEFORE)
        return _try(ps.save, account("DL-BJ001"), PERIOD, plan_input(("P-W550", 50)), by=user("rep.beijing"),
                    today=BEFORE)

    results = in_threads(app, 2, go)
    assert results[0] == "done" and results[1] in ("done", "not_a_draft")
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        assert plan.status == "submitted"
        assert [(ln.product.code, ln.quantity) for ln in plan.lines] == (
            [("P-W550", 50)] if results[1] == "done" else [("P-W550", 100), ("P-GT500", 10)])
