"""Helpers for the meeting tests."""
from datetime import date, time

from sqlalchemy import select

from channel.extensions import db
from channel.masterdata.models import Region
from channel.meetings import services as ms
from tests.ledger import account, user, written

ON = date(2026, 3, 5)  # a meeting day in a past month of the demo's history
AFTER = date(2026, 3, 6)


def region(code: str) -> Region:
    return db.session.execute(select(Region).where(Region.code == code)).scalar_one()


def meeting(region_code="BJ", *, on=ON, accounts=("GD-BJ01", "DL-BJ001", "DL-BJ002"), staff=("rep.beijing",),
            by="sup.north", title="三月经销商会议", place="北京办事处会议室"):
    """A planned meeting with these accounts and staff invited."""
    return written(ms.create_meeting, region(region_code), on=on, at=time(9, 30), place=place, title=title,
                   by=user(by), account_ids=[account(c).id for c in accounts],
                   user_ids=[user(u).id for u in staff])
