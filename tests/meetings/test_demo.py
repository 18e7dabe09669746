"""The demo company's monthly meetings are what README and issue 8 promise: six months of held and
published meetings in every region that expects one, with targets near the ledger's figures,
promotions announced, and action items resolved, carried over, open and overdue; this month one
region without its meeting, one meeting planned, one held with its minutes still to publish.
Loaded once per engine (the whole demo, as `channel demo-data` loads it)."""
from collections import Counter, defaultdict

from sqlalchemy import select

from channel.auth.permissions import region_tree_ids
from channel.core.periods import Month
from channel.demo_meetings import MISSING, NOT_PUBLISHED, PAST_MONTHS, PLANNED
from channel.extensions import db
from channel.meetings import services as ms
from channel.meetings.models import ActionItem, Meeting
from tests.helpers import EN, ZH, page_text
from tests.ledger import user


def _meetings():
    return db.session.execute(select(Meeting).order_by(Meeting.meeting_date, Meeting.id)).scalars().all()


def test_six_months_of_published_meetings_in_every_region(full_demo_app):
    with full_demo_app.app_context():
        this = Month.of(ms.business_today())
        regions = ms.meeting_regions()
        assert {r.code for r in regions} >= {"BJ", "TJ", "SH", "ZJ", "GD"}
        by_region = defaultdict(list)
        for m in _meetings():
            by_region[m.region.code].append(m)
        for region in regions:
            past = [m for m in by_region[region.code] if Month.parse(m.month) < this]
            assert [m.month for m in past] == [str(this - n) for n in range(PAST_MONTHS, 0, -1)], region.code
            for m in past:
                assert m.status == "published" and m.held_by.username.startswith("sup.")
                assert m.meeting_date.weekday() < 5 and m.meeting_date.day <= 12
                assert m.title == f"{Month.parse(m.month).year}年{Month.parse(m.month).month}月{region.name}经销商例会"
                invited = [a for a in m.attendees if a.account_id is not None]
                assert any(a.account.kind == "distributor" for a in invited) or region.code == "ZJ"
                assert sum(a.attended for a in invited) >= len(invited) // 2 + 1  # most attend
                assert any(a.user_id is not None and a.user.role == "field_staff" for a in m.attendees)
                assert {i.kind for i in m.agenda} >= {"market", "policy"}
                # Every attending account has its targets, and only they.
                attended = {a.account_id for a in invited if a.attended}
                assert {t.account_id for t in m.targets} == attended
                assert all(t.shipment_fen > 0 and t.payment_fen > 0 and t.month == m.month for t in m.targets)
                assert m.action_items


def test_targets_are_near_the_ledger(full_demo_app):
    with full_demo_app.app_context():
        this = Month.of(ms.business_today())
        month = this - 1
        rows = [t for m in _meetings() if m.month == str(month) for t in m.targets]
        plans = ms.targets([t.account_id for t in rows], month)
        assert plans is not None and plans.plan_fen == sum(t.shipment_fen for t in rows)
        # The distributors' targets are within a factor of two of the month before's shipments.
        from channel.demo_meetings import _ledger_months

        ledger = _ledger_months(month - 1)
        for t in rows:
            if t.account.kind == "distributor":
                shipped = ledger[(t.account_id, str(month - 1))][0]
                assert shipped // 2 <= t.shipment_fen <= shipped * 2, t.account.code


def test_promotions_announced_at_the_meetings(full_demo_app):
    with full_demo_app.app_context():
        linked = [i for m in _meetings() for i in m.agenda if i.promotion_id is not None]
        assert linked and all(i.kind == "policy" for i in linked)
        assert {i.promotion.kind for i in linked} >= {"per_unit", "display_fee", "per_outlet", "percent"}
        for i in linked:  # announced in a region the promotion runs in, while it had not ended
            assert i.meeting.meeting_date <= i.promotion.ends_on
            assert i.meeting.region_id in region_tree_ids([r.region_id for r in i.promotion.regions])


def test_this_month_one_region_missing_one_planned_one_held(full_demo_app):
    with full_demo_app.app_context():
        today = ms.business_today()
        this = Month.of(today)
        assert [r.code for r in ms.regions_without_meeting(user("admin"), this)] == [MISSING]
        assert [r.code for r in ms.regions_without_meeting(user("sup.north"), this)] == [MISSING]
        assert ms.regions_without_meeting(user("sup.east"), this) == []
        now = {m.region.code: m for m in _meetings() if m.month == str(this)}
        assert MISSING not in now
        statuses = {code: m.status for code, m in now.items()}
        assert statuses[PLANNED] == "planned" and statuses[NOT_PUBLISHED] == "held"
        assert Counter(statuses.values()) == {"planned": 1, "held": 1, "published": len(now) - 2}
        planned = now[PLANNED]
        assert planned.meeting_date >= today and planned.agenda and not planned.targets
        assert not any(a.attended for a in planned.attendees)
        held = now[NOT_PUBLISHED]
        assert held.meeting_date <= today and held.targets and held.action_items


def test_action_items_resolved_carried_over_open_and_overdue(full_demo_app):
    with full_demo_app.app_context():
        today = ms.business_today()
        this = Month.of(today)
        items = db.session.execute(select(ActionItem)).scalars().all()
        done = [i for i in items if i.status == "done"]
        assert len(done) >= 0.6 * len(items)
        assert all(i.resolution and i.resolved_by_id == i.owner_id for i in done)
        assert {i.owner.role for i in items} == {"field_staff", "supervisor"}
        assert all(i.due_on is not None and i.due_on >= i.meeting.meeting_date for i in items)
        # Carried over: items kept on a later meeting's agenda, some since resolved.
        carried = [(m, c) for m in _meetings() for c in (m.carried_over or [])]
        assert carried
        assert any(db.session.get(ActionItem, c["id"]).status == "done" for _, c in carried)
        assert any(c["overdue"] for _, c in carried)
        # The open items of earlier months are overdue now, and this month's meetings raised new ones.
        open_items = [i for i in items if i.status == "open"]
        assert all(i.due_on < today for i in open_items if Month.parse(i.meeting.month) < this)
        assert any(i.due_on >= today for i in open_items if i.meeting.month == str(this))
        for name in ("rep.beijing", "sup.north"):
            overdue = ms.overdue_items(user(name), today)
            assert overdue, name
        assert any(i.owner.username == "sup.north" for i in ms.overdue_items(user("sup.north"), today))
        mine = db.session.execute(ms.visible_items_query(user("rep.beijing")).where(
            ActionItem.status == "open", ActionItem.owner_id == user("rep.beijing").id)).scalars().all()
        assert any(i.due_on >= today for i in mine) and any(i.due_on < today for i in mine)
        # This month's BJ meeting started with them on its agenda.
        [bj] = [m for m in _meetings() if m.month == str(this) and m.region.code == "BJ"]
        assert {c["id"] for c in bj.carried_over} >= {i.id for i in open_items
                                                        if i.meeting.region_id == bj.region_id
                                                        and i.meeting.meeting_date < bj.meeting_date}


def test_the_dashboards_show_it(full_demo_app):
    with full_demo_app.app_context():
        today = ms.business_today()
        overdue = {name: [i.number for i in ms.overdue_items(user(name), today)]
                   for name in ("rep.beijing", "sup.north")}
        missing = [r.name for r in ms.regions_without_meeting(user("sup.north"), Month.of(today))]
        db.session.remove()
    for name, numbers in overdue.items():
        client = full_demo_app.test_client().login(name)
        for headers in (EN, ZH):
            resp = client.get("/dashboard", headers=headers)
            assert resp.status_code == 200
            page = page_text(resp)
            assert all(n in page for n in numbers), (name, numbers)
            if name == "sup.north":
                assert all(r in page for r in missing)
