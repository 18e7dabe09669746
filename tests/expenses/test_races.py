"""People acting on one claim at once: the claim row is locked (PostgreSQL) or the write lock
taken first (SQLite), so two approvers clicking together make one approval and the other is told,
two payments make one, and a line added while the claim is submitted either makes it into the
submitted total or is refused."""
from datetime import date

from sqlalchemy import func, select

from channel.auth.models import User
from channel.expenses import services as es
from channel.expenses.models import ExpenseClaim, ExpenseEvent, ExpenseLine
from channel.extensions import db
from tests.helpers import in_threads
from tests.ledger import user, written, yuan

from . import D, act, claim


def _try(fn, *args, **kw):
    try:
        written(fn, *args, **kw)
        return "done"
    except es.ExpenseError as err:
        return err.code


def _events(claim_id, action):
    return db.session.execute(select(func.count()).select_from(ExpenseEvent).where(
        ExpenseEvent.claim_id == claim_id, ExpenseEvent.action == action)).scalar_one()


def test_two_approvers_at_once_one_wins_the_other_is_told(app):
    """sup.north and 王经理 (and admin) open the same claim and click "approve" together."""
    with app.app_context():
        c = claim(submit=True)
        claim_id, seen = c.id, c.version
    approvers = ["sup.north", "mgr.channel", "admin", "sup.north"]

    def go(i):
        return _try(es.approve, db.session.get(ExpenseClaim, claim_id), by=user(approvers[i]), version=seen)

    results = in_threads(app, 4, go)
    assert sorted(results) == ["done"] + ["stale"] * 3
    with app.app_context():
        c = db.session.get(ExpenseClaim, claim_id)
        assert (c.status, c.version, _events(claim_id, "approve")) == ("approved", seen + 1, 1)
        assert c.approver.username == approvers[results.index("done")]


def test_without_a_version_the_late_approver_finds_it_approved(app):
    """An API client sending no version: the second approval finds the claim no longer waiting."""
    with app.app_context():
        c = claim(submit=True)
        claim_id = c.id

    def go(i):
        return _try(es.approve, db.session.get(ExpenseClaim, claim_id), by=user(("sup.north", "mgr.channel")[i]))

    assert sorted(in_threads(app, 2, go)) == ["done", "not_waiting_for_approval"]
    with app.app_context():
        assert _events(claim_id, "approve") == 1


def test_approve_racing_reject_leaves_one_of_them(app):
    with app.app_context():
        c = claim(submit=True)
        claim_id, seen = c.id, c.version

    def go(i):
        c = db.session.get(ExpenseClaim, claim_id)
        if i % 2:
            return _try(es.reject, c, by=user("mgr.channel"), comment="请补充行程单", version=seen)
        return _try(es.approve, c, by=user("sup.north"), version=seen)

    assert sorted(in_threads(app, 2, go)) == ["done", "stale"]
    with app.app_context():
        c = db.session.get(ExpenseClaim, claim_id)
        assert c.status in ("approved", "draft") and len(c.events) == 2


def test_two_payments_at_once_pay_once(app):
    with app.app_context():
        c = claim(submit=True)
        act(es.approve, c, "sup.north")
        written(lambda: db.session.add(User(username="finance2", full_name="赵会计", role="finance",
                                            password_hash="x")))
        claim_id, seen = c.id, c.version
    payers = ["finance", "finance2", "admin", "finance"]

    def go(i):
        c = db.session.get(ExpenseClaim, claim_id)
        kw = {"version": seen} if i < 2 else {}  # the pages send the version; the others do not
        return _try(es.pay, c, by=user(payers[i]), paid_on=date(2026, 4, 2), reference=f"BT-{i}", **kw)

    results = in_threads(app, 4, go)
    assert results.count("done") == 1
    assert set(results) - {"done"} <= {"stale", "already_paid"}
    with app.app_context():
        c = db.session.get(ExpenseClaim, claim_id)
        assert (c.status, c.paid_fen, _events(claim_id, "pay")) == ("paid", yuan("300.00"), 1)
        assert c.payment_ref == f"BT-{results.index('done')}"


def test_submit_racing_add_line(app):
    """The claimant submits in one tab while adding a line in another: either the line is in the
    submitted total, or it is refused because the claim is no longer a draft. Never a line
    outside the total."""
    with app.app_context():
        c = claim()
        claim_id = c.id

    def go(i):
        c = db.session.get(ExpenseClaim, claim_id)
        if i == 0:
            return _try(es.submit, c, by=user("rep.beijing"))
        return _try(es.add_line, c, es.LineInput(D, "meal", yuan("50.00")), by=user("rep.beijing"))

    for _ in range(3):
        results = in_threads(app, 2, go)
        assert results[0] == "done" and results[1] in ("done", "not_a_draft")
        with app.app_context():
            c = db.session.get(ExpenseClaim, claim_id)
            lines = db.session.execute(select(func.sum(ExpenseLine.amount_fen)).where(
                ExpenseLine.claim_id == claim_id)).scalar_one()
            submitted = c.events[-1]
            assert c.status == "submitted" and c.claimed_fen == lines == submitted.amount_fen
            assert lines == yuan("300.00") + (yuan("50.00") if results[1] == "done" else 0)
            # Back to a draft for the next round.
            act(es.reject, c, "sup.north", comment="再来一次")
            written(lambda: [es.delete_line(ln, by=user("rep.beijing")) for ln in
                             db.session.get(ExpenseClaim, claim_id).lines if ln.category == "meal"])
