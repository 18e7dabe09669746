"""The demo company's expense claims are what README and issue 6 promise: claims in every state
across regions and months, one approval over budget with its override reason, lines over the
policy caps, one receipt handed in twice, and something waiting for every approver. Loaded once
per engine (the whole demo, as `channel demo-data` loads it)."""

from sqlalchemy import func, select

from channel.core.expenses import STATUSES
from channel.core.periods import Month
from channel.demo_expenses import BUDGETS, CLAIMS, OVERRIDE_REASON, RETURN_COMMENT
from channel.expenses import services as es
from channel.expenses.models import ExpenseBudget, ExpenseClaim, ExpenseEvent
from channel.extensions import db
from channel.notify.models import Notification
from tests.ledger import user


def _claims():
    return db.session.execute(select(ExpenseClaim).order_by(ExpenseClaim.id)).scalars().all()


def test_claims_in_every_state_across_regions_and_months(full_demo_app):
    with full_demo_app.app_context():
        claims = _claims()
        assert len(claims) == len(CLAIMS)
        assert {c.status for c in claims} == set(STATUSES)
        this_month = Month.of(es.business_today())
        assert {c.month for c in claims} == {str(this_month - n) for n in range(4)}
        assert {c.budget_region.code for c in claims} == set(BUDGETS)
        for c in claims:  # the totals are their lines', the paid ones paid what was approved
            assert c.claimed_fen == sum(ln.amount_fen for ln in c.lines) > 0
            if c.status in ("approved", "paid"):
                assert c.approved_fen == sum(ln.approved_fen for ln in c.lines)
            if c.status == "paid":
                assert c.paid_fen == c.approved_fen and c.paid_on <= es.business_today()
        # Months before the last are paid; one paid claim was cut by its approver.
        assert all(c.status == "paid" for c in claims if Month.parse(c.month) < this_month - 1)
        assert any(c.approved_fen < c.claimed_fen for c in claims if c.status == "paid")
        # Receipts on most lines, PDF and PNG.
        mimes = {r.file.mime for c in claims for ln in c.lines for r in ln.receipts}
        assert mimes == {"application/pdf", "image/png"}


def test_a_returned_claim_keeps_its_comment_and_one_was_returned_and_paid(full_demo_app):
    with full_demo_app.app_context():
        rejected = db.session.execute(select(ExpenseEvent).where(ExpenseEvent.action == "reject")
                                      .order_by(ExpenseEvent.id)).scalars().all()
        by_status = {e.claim.status: e for e in rejected}
        assert set(by_status) == {"paid", "draft"}
        returned = by_status["draft"].claim
        assert by_status["draft"].comment == RETURN_COMMENT and returned.claimant.username == "promo.zhejiang"
        assert es.waiting_for(returned.claimant)["returned"] == 1
        assert [e.action for e in by_status["paid"].claim.events] == ["submit", "reject", "submit", "approve", "pay"]


def test_one_approval_over_budget_with_its_reason(full_demo_app):
    with full_demo_app.app_context():
        overridden = db.session.execute(select(ExpenseEvent).where(
            ExpenseEvent.override_reason.is_not(None))).scalars().all()
        assert [(e.override_reason, e.claim.claimant.username, e.by.username) for e in overridden] == [
            (OVERRIDE_REASON, "rep.guangdong", "sup.south")]
        uses = dict(es.budget_uses(overridden[0].claim))
        assert uses["entertainment"].over and not uses["total"].over
        budgets = db.session.execute(select(func.count()).select_from(ExpenseBudget).where(
            ExpenseBudget.category == "total")).scalar_one()
        assert budgets == 3 * 4  # three regions, the last three months and this one


def test_lines_over_the_caps_and_a_duplicate_receipt_are_flagged(full_demo_app):
    with full_demo_app.app_context():
        flags = {c.number: es.claim_flags(c) for c in _claims()}
        codes = {code for f in flags.values() for code in f.lines.values()}
        assert codes == {"over_day_cap", "over_night_cap"}
        waiting = [c for c in _claims() if c.status == "submitted"]
        assert {code for c in waiting for code in flags[c.number].lines.values()} == codes
        duplicated = {number: f.duplicates for number, f in flags.items() if f.duplicates}
        assert len(duplicated) == 2
        first, second = sorted(duplicated)
        assert list(duplicated[first].values()) == [[second]] and list(duplicated[second].values()) == [[first]]


def test_a_queue_s_flags_in_one_go_are_each_claim_s_flags(full_demo_app):
    """flags_for (the queue pages: five queries for any number of claims) agrees with
    claim_flags of each claim, for every claim of the demo in every state, the over-budget one too."""
    with full_demo_app.app_context():
        claims = _claims()
        together = es.flags_for(claims)
        assert together == {c.id: es.claim_flags(c) for c in claims}
        assert any(f.over_budget for f in together.values()) and any(f.duplicates for f in together.values())
        assert es.flags_for([]) == {}


def test_every_approver_has_something_waiting_and_finance_something_to_pay(full_demo_app):
    with full_demo_app.app_context():
        for name in ("sup.north", "sup.east", "sup.south", "mgr.channel"):
            assert es.approval_queue(user(name)), name
        manager = {c.status for c in es.approval_queue(user("mgr.channel"))}
        assert "second_approval" in manager
        own = [c for c in es.approval_queue(user("mgr.channel")) if c.claimant.role == "supervisor"]
        assert [c.claimant.username for c in own] == ["sup.north"]
        assert es.payment_queue(user("finance"))
        # What is still to be done is unread; what was done long ago was read when it came.
        unread = {(n.user.username, n.kind) for n in db.session.execute(select(Notification).where(
            Notification.read_at.is_(None), Notification.kind.like("expense_%"))).scalars()}
        assert {("sup.north", "expense_submitted"), ("mgr.channel", "expense_second_approval"),
                ("promo.zhejiang", "expense_rejected")} <= unread
        assert ("rep.shanghai", "expense_paid") not in unread
