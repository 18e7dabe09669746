"""Two people answering at once: the reconciliation row is locked (PostgreSQL) or the write lock
taken first (SQLite), so exactly one confirmation wins, a dispute racing a confirmation leaves
one of them, and two issues of one month make one statement."""
from sqlalchemy import func, select

from channel.extensions import db
from channel.reconciliation import services as rs
from channel.reconciliation.models import DisputeItem, Reconciliation, ReconciliationEvent
from tests.helpers import in_threads
from tests.ledger import account, user, written

from . import MARCH, march_ledger, rec_of


def _try(fn):
    try:
        written(fn)
        return "done"
    except rs.ReconciliationError as err:
        return err.code


def test_two_confirmations_one_wins(app):
    with app.app_context():
        march_ledger()
        rec_id, shown = rec_of("GD-BJ01").id, rec_of("GD-BJ01").content_hash

    def go(i):
        return _try(lambda: rs.confirm(db.session.get(Reconciliation, rec_id), shown_hash=shown, by=user("dist.bj")))

    assert sorted(in_threads(app, 4, go)) == ["already_confirmed"] * 3 + ["done"]
    with app.app_context():
        events = db.session.execute(select(ReconciliationEvent.kind).where(
            ReconciliationEvent.reconciliation_id == rec_id)).scalars().all()
        assert events.count("confirmed") == 1


def test_a_dispute_racing_a_confirmation(app):
    with app.app_context():
        ship = march_ledger()
        rec_id, shown, ship_id = rec_of("GD-BJ01").id, rec_of("GD-BJ01").content_hash, ship.id

    def go(i):
        rec = db.session.get(Reconciliation, rec_id)
        if i % 2:
            return _try(lambda: rs.confirm(rec, shown_hash=shown, by=user("dist.bj")))
        document = db.session.get(type(ship), ship_id)
        return _try(lambda: rs.dispute(rec, shown_hash=shown, by=user("dist.bj"),
                                       lines=[rs.DisputeInput(reason="short", document=document)]))

    results = in_threads(app, 4, go)
    assert results.count("done") == 1
    with app.app_context():
        rec = db.session.get(Reconciliation, rec_id)
        items = db.session.execute(select(func.count()).select_from(DisputeItem)).scalar_one()
        assert (rec.status, items) in (("confirmed", 0), ("disputed", 1))


def test_two_issues_of_one_month_make_one_statement(app):
    with app.app_context():
        march_ledger()
        dealer = account("DL-BJ001")
        dealer_id = dealer.id

    def go(i):
        from channel.masterdata.models import Account

        result = written(lambda: rs.issue([db.session.get(Account, dealer_id)], MARCH, by=user("dist.bj")))
        return len(result.issued)

    assert sorted(in_threads(app, 3, go)) == [0, 0, 1]
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Reconciliation).where(
            Reconciliation.account_id == dealer_id)).scalar_one() == 1
