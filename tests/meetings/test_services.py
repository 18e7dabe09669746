"""Meetings through their services: the states, targets (one per account and month), action items
carried over to the next agenda, overdue items, regions without a meeting; the database's rules."""
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError

from channel.core.periods import Month
from channel.extensions import db
from channel.meetings import services as ms
from channel.meetings.models import Meeting
from tests.ledger import account, user, written
from tests.meetings import AFTER, ON, meeting, region


def held(m, today=AFTER, accounts=("GD-BJ01", "DL-BJ001"), staff=("rep.beijing",)):
    return written(ms.hold, m, version=m.version, attended_account_ids=[account(c).id for c in accounts],
                   attended_user_ids=[user(u).id for u in staff], by=user("sup.north"), today=today)


def test_a_meeting_goes_planned_held_published_and_keeps_who_attended(app):
    with app.app_context():
        m = meeting()
        assert m.status == "planned" and m.month == "2026-03" and len(m.attendees) == 4
        with pytest.raises(ms.MeetingError) as err:
            written(ms.hold, m, version=m.version, by=user("sup.north"), today=date(2026, 3, 4))
        assert err.value.code == "not_yet"
        m = held(m)
        assert m.status == "held" and m.held_by.username == "sup.north"
        assert {a.account.code for a in m.attendees if a.account_id and a.attended} == {"GD-BJ01", "DL-BJ001"}
        m = written(ms.publish, m, version=m.version, by=user("sup.north"), today=AFTER)
        assert m.status == "published"
        with pytest.raises(ms.MeetingError) as err:
            written(ms.publish, m, version=m.version, by=user("sup.north"), today=AFTER)
        assert err.value.code == "already_published"


def test_a_stale_version_is_refused(app):
    with app.app_context():
        m = meeting()
        old = m.version
        written(ms.add_agenda_item, m, kind="market", title="竞品降价", version=old, by=user("sup.north"))
        with pytest.raises(ms.MeetingError) as err:
            written(ms.add_agenda_item, m, kind="market", title="again", version=old, by=user("sup.north"))
        assert err.value.code == "stale"


def test_targets_are_one_per_account_and_month_and_feed_the_month(app):
    with app.app_context():
        m = meeting()
        bj01, dl1 = account("GD-BJ01").id, account("DL-BJ001").id
        written(ms.set_targets, m, {bj01: (50_000_000, 45_000_000), dl1: (2_000_000, 1_800_000)},
                by=user("sup.north"))
        t = ms.targets([bj01, dl1], Month(2026, 3))
        assert (t.plan_fen, t.plan_paid_fen, t.accounts) == (52_000_000, 46_800_000, 2)
        assert ms.targets([bj01], Month(2026, 4)) is None
        other = meeting(title="三月补充会议", on=date(2026, 3, 20))
        with pytest.raises(ms.MeetingError) as err:
            written(ms.set_targets, other, {bj01: (1, 1)}, by=user("sup.north"))
        assert err.value.code == "target_set_elsewhere"
        with pytest.raises(ms.MeetingError) as err:
            written(ms.set_targets, m, {account("GD-TJ01").id: (1, 1)}, by=user("sup.north"))
        assert err.value.code == "target_not_invited"


def test_open_action_items_carry_over_to_the_next_meeting_overdue_first(app):
    with app.app_context():
        march = meeting()
        sup, rep = user("sup.north"), user("rep.beijing")
        late = written(ms.raise_item, march, title="补发破损货品", owner=rep, due_on=date(2026, 3, 10), by=sup)
        later = written(ms.raise_item, march, title="核对三月返利", owner=sup, due_on=date(2026, 3, 25), by=sup)
        done = written(ms.raise_item, march, title="更新价目表", owner=rep, due_on=date(2026, 3, 8), by=sup)
        march = held(march)
        written(ms.resolve_item, done, version=done.version, resolution="已发新价目表", by=rep)
        april = meeting(on=date(2026, 4, 3), title="四月经销商会议")
        assert [i["id"] for i in ms.carried_over(april)] == [late.id, later.id]
        assert [i.id for i in ms.overdue_items(rep, today=date(2026, 4, 1))] == [late.id]
        assert [i.id for i in ms.overdue_items(sup, today=date(2026, 4, 1))] == [late.id, later.id]
        april = held(april, today=date(2026, 4, 3))
        written(ms.resolve_item, later, version=later.version, resolution="已核对", by=sup)
        # What the April meeting reviewed stays as it was when held.
        assert [i["id"] for i in ms.carried_over(april)] == [late.id, later.id]


def test_regions_without_a_meeting_in_the_month(app):
    with app.app_context():
        month = Month(2026, 3)
        before = {r.code for r in ms.regions_without_meeting(user("sup.north"), month)}
        assert {"BJ", "TJ"} <= before
        meeting()
        after = {r.code for r in ms.regions_without_meeting(user("sup.north"), month)}
        assert after == before - {"BJ"}
        assert "SH" not in after  # another supervisor's region


def test_the_database_refuses_changes_to_published_minutes(app):
    with app.app_context():
        m = meeting()
        written(ms.raise_item, m, title="补发破损货品", owner=user("rep.beijing"), due_on=None, by=user("sup.north"))
        m = held(m)
        m = written(ms.publish, m, version=m.version, by=user("sup.north"), today=AFTER)
        for sql in (f"UPDATE meetings SET place = 'x' WHERE id = {m.id}",
                    f"INSERT INTO meeting_agenda (meeting_id, seq, kind, title) VALUES ({m.id}, 9, 'other', 'x')",
                    f"DELETE FROM meeting_attendees WHERE meeting_id = {m.id}",
                    f"UPDATE action_items SET title = 'x' WHERE meeting_id = {m.id}",
                    f"INSERT INTO meeting_targets (meeting_id, account_id, month, shipment_fen, payment_fen) "
                    f"VALUES ({m.id}, {account('DL-BJ002').id}, '2026-03', 1, 1)"):
            with pytest.raises((IntegrityError, InternalError, OperationalError)):
                db.session.execute(text(sql))
                db.session.flush()
            db.session.rollback()
        assert db.session.get(Meeting, m.id).place == "北京办事处会议室"


def test_only_the_regions_supervisor_schedules(app):
    with app.app_context():
        with pytest.raises(ms.MeetingError):
            written(ms.create_meeting, region("BJ"), on=ON, at=None, place="x", title="x", by=user("sup.east"))
