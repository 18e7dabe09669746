"""People settling one promotion at once: the promotion row is locked (PostgreSQL) or the write
lock taken first (SQLite), so two finance users clicking "Approve and post rebates" together make
one settlement and one set of rebate documents, and the other is told (stale: it saw the version
before; already_settled: an API client sending no version). A verdict on an execution report
given while the promotion is being settled either counts in the settlement or is refused."""
from datetime import date

from sqlalchemy import func, select

from channel.auth.models import User
from channel.extensions import db
from channel.ledger.models import Document
from channel.promotions import services as ps
from channel.promotions.models import ExecutionReport, Promotion, PromotionSettlement, SettlementLine
from tests.helpers import in_threads
from tests.ledger import user, written, yuan

from . import AFTER, DURING, enrol, new_product, promotion, ship


def _try(fn, *args, **kw):
    try:
        written(fn, *args, **kw)
        return "done"
    except ps.PromotionError as err:
        return err.code


def _count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _rebates(p) -> int:
    return _count(Document, Document.external_ref.like(f"PROMO:{p.code}:%"))


def test_two_finance_users_settle_at_once_rebates_posted_once(app):
    with app.app_context():
        new_product()
        p = promotion("per_unit", yuan("2.00"), budgets=(("NORTH", yuan("1000.00")), ("EAST", yuan("1000.00"))))
        for code in ("GD-BJ01", "DL-BJ001", "GD-TJ01"):
            enrol(p, code)
            ship(code, date(2026, 3, 5), 50)
        enrol(p, "DL-ZJ003", by="sup.east")
        ship("DL-ZJ003", date(2026, 3, 6), 20)
        written(lambda: db.session.add(User(username="finance2", full_name="赵会计", role="finance",
                                            password_hash="x")))
        promotion_id, seen = p.id, p.version
    who = ["finance", "finance2", "admin", "finance2"]

    def go(i):
        kw = {"version": seen if i < 2 else None}  # the page sends the version seen; an API client may not
        return _try(ps.settle, db.session.get(Promotion, promotion_id), by=user(who[i]), today=AFTER, **kw)

    results = in_threads(app, 4, go)
    assert results.count("done") == 1, results
    assert set(results) - {"done"} <= {"stale", "already_settled"}, results
    with app.app_context():
        p = db.session.get(Promotion, promotion_id)
        assert (p.status, p.version, p.settled_by.username) == ("settled", seen + 1, who[results.index("done")])
        assert _rebates(p) == 4
        assert _count(PromotionSettlement, PromotionSettlement.promotion_id == p.id) == 2
        assert sum(s.paid_fen for s in p.settlements) == (3 * 50 + 20) * yuan("2.00")


def test_a_verdict_while_settling_counts_or_is_refused(app):
    """The supervisor verifies a report at the moment finance settles: either the verdict comes
    first and the outlets are paid, or the settlement comes first and the verdict is refused.
    Never a verified report the settlement did not count."""
    with app.app_context():
        new_product()
        p = promotion("per_outlet", yuan("50.00"))
        reports = []
        for code in ("DL-BJ001", "DL-BJ002"):
            e = enrol(p, code, outlets=5)
            reports.append(written(ps.report_execution, e, executed_on=date(2026, 3, 10), outlets=4,
                                   by=user("rep.beijing"), today=DURING))
        promotion_id, seen = p.id, p.version
        report_ids = [(r.id, r.version) for r in reports]

    def go(i):
        if i == 0:
            return _try(ps.settle, db.session.get(Promotion, promotion_id), by=user("finance"), version=seen,
                        today=AFTER)
        report_id, version = report_ids[i - 1]
        return _try(ps.check_report, db.session.get(ExecutionReport, report_id), verdict="verified",
                    version=version, by=user("sup.north"))

    results = in_threads(app, 3, go)
    assert results[0] == "done"
    assert set(results[1:]) <= {"done", "already_settled"}, results
    with app.app_context():
        lines = db.session.execute(select(SettlementLine).join(PromotionSettlement)
                                   .where(PromotionSettlement.promotion_id == promotion_id)).scalars().all()
        verified = {r.enrolment.account_id: r.status == "verified"
                    for r in db.session.execute(select(ExecutionReport)).scalars()}
        for line in lines:
            assert line.verified == verified[line.account_id]
            assert line.paid_fen == (4 * yuan("50.00") if verified[line.account_id] else 0)
