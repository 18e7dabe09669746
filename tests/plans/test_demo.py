"""The demo company's ten-day plans are what README and issue 7 promise: six months of approved
plans fitting the ledger (most achieved 85-110%, some far below with their variance notes), the
current period locked with one plan changed by a supervisor (its earlier version kept), and the
coming period half filled. Loaded once per engine (the whole demo, as `channel demo-data` loads it)."""
from collections import Counter

from sqlalchemy import select

from channel.core import plans as core
from channel.core.periods import TenDay
from channel.demo_plans import CHANGE_REASON, CHANGED, COMING_SEND_BACK, FAR_BELOW, PAST_PERIODS, SLOW_PAYERS
from channel.extensions import db
from channel.plans import services as ps
from channel.plans.models import Plan
from tests.ledger import user


def _periods():
    current = TenDay.of(ps.business_today())
    past = [current]
    for _ in range(PAST_PERIODS):
        past.insert(0, past[0].prev())
    return past[:-1], current, current.next()


def _plans():
    return db.session.execute(select(Plan).order_by(Plan.period_start, Plan.account_id)).scalars().all()


def test_six_months_of_approved_plans_fitting_the_ledger(full_demo_app):
    with full_demo_app.app_context():
        past, current, coming = _periods()
        plans = _plans()
        assert {p.period for p in plans} == {str(t) for t in (*past, current, coming)}
        finished = [p for p in plans if TenDay.parse(p.period) < current]
        assert all(p.status == "approved" for p in finished)
        assert len({p.account_id for p in finished}) >= 20  # distributors and most dealers
        for p in finished:  # as the services write them: two steps, amounts at list price
            n = len(p.events)
            assert [(e.seq, e.action, e.from_status, e.to_status) for e in p.events][-2:] == [
                (n - 1, "submit", "draft", "submitted"), (n, "approve", "submitted", "approved")]
            assert p.events[0].by_id == p.drafted_by_id and p.events[-1].by_id == p.approved_by_id
            assert p.submitted_at <= p.approved_at
            assert all(ln.unit_price_fen == ln.product.list_price_fen for ln in p.lines)
            assert p.payment_on is None or TenDay.parse(p.period).contains(p.payment_on)
            assert core.may_edit(p.status, TenDay.parse(p.period), ps.business_today(),
                                 actor=ps.actor(p.approved_by, p.account)) is False
        # A few went back once before they were approved.
        assert any([e.action for e in p.events] == ["submit", "send_back", "submit", "approve"] for p in finished)
        # Most achieved 85-110% of the planned shipments.
        got = ps.achievements({p.account_id for p in finished}, past)
        pcts = [got[(p.account_id, p.period)].shipped_pct for p in finished if p.lines]
        assert sum(85 <= pct <= 112 for pct in pcts) >= 0.7 * len(pcts)


def test_far_below_plan_with_variance_notes(full_demo_app):
    with full_demo_app.app_context():
        past, current, _ = _periods()
        finished = [p for p in _plans() if TenDay.parse(p.period) < current]
        got = ps.achievements({p.account_id for p in finished}, past)
        threshold = ps.variance_threshold()
        below = [p for p in finished if core.needs_variance_note(got[(p.account_id, p.period)], threshold)]
        assert len(below) >= 10
        assert all(p.variance_note for p in below)
        assert not any(p.variance_note for p in finished if p not in below)
        accounts = Counter(p.account.code for p in below)
        assert accounts[FAR_BELOW] >= 3 and all(accounts[c] >= 3 for c in SLOW_PAYERS)
        shortest = core.furthest_below_first([(p.account.code, got[(p.account_id, p.period)]) for p in finished
                                              if p.period == str(past[-1])])
        assert shortest[0][1].gap_fen > 0


def test_the_current_period_is_locked_and_one_plan_was_changed(full_demo_app):
    with full_demo_app.app_context():
        _, current, _ = _periods()
        plans = [p for p in _plans() if p.period == str(current)]
        assert len(plans) >= 15 and all(core.is_locked(p.status, current, ps.business_today()) for p in plans)
        [changed] = [p for p in plans if p.version > 1]
        assert changed.account.code == CHANGED and changed.version == 2
        [kept] = changed.versions
        assert (kept.reason, kept.by.username) == (CHANGE_REASON, "sup.north")
        assert sum(q for _, q, _ in kept.content["lines"]) < changed.quantity
        assert [e.action for e in changed.events] == ["submit", "approve", "change"]


def test_the_coming_period_is_half_filled(full_demo_app):
    with full_demo_app.app_context():
        _, _, coming = _periods()
        plans = [p for p in _plans() if p.period == str(coming)]
        accounts = ps.plannable_accounts(user("admin"))
        statuses = Counter(p.status for p in plans)
        assert set(statuses) == {"draft", "submitted"}
        assert 0.3 * len(accounts) <= len(plans) <= 0.7 * len(accounts)
        [back] = [p for p in plans if any(e.action == "send_back" for e in p.events)]
        assert back.status == "draft" and back.events[-1].comment == COMING_SEND_BACK
        # Something waits for every supervisor; every rep has plans still missing.
        for name in ("sup.north", "sup.east", "sup.south"):
            assert ps.plannable_accounts(user(name)) and ps.missing(user(name), coming)
            waiting = [p for p in plans if p.status == "submitted" and ps.actor(user(name), p.account).supervises]
            assert waiting, name
        for name in ("rep.beijing", "merch.tianjin", "rep.shanghai", "rep.guangdong"):
            assert ps.missing(user(name), coming), name
