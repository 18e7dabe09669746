import pytest
from sqlalchemy import func, select

from channel.auth.models import User
from channel.demo import load_demo
from channel.extensions import db
from channel.masterdata.models import Account, Product, Region
from channel.system.models import SchedulerHeartbeat
from config import TestingConfig
from reports.scheduler import beat, build_scheduler


def _count(stmt):
    return db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()


def test_demo_company_has_the_promised_shape(app):
    with app.app_context():
        assert _count(select(Region).where(Region.parent_id.is_(None))) == 3
        assert _count(select(Account).where(Account.kind == "distributor")) == 4
        assert _count(select(Account).where(Account.kind == "dealer")) == 24
        assert _count(select(Product)) == 30
        roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
        # three regional supervisors and the channel manager (王经理, the second approver of expenses)
        assert roles == {"admin": 1, "finance": 1, "supervisor": 4, "field_staff": 6, "distributor": 4}
        assert [u.username for u in db.session.execute(select(User).where(User.second_approver.is_(True))).scalars()] \
            == ["mgr.channel"]
        # every top-level region has its supervisor; every distributor has a portal user
        for region in db.session.execute(select(Region).where(Region.parent_id.is_(None))).scalars():
            assert region.supervisors, region.code
        bound = set(db.session.execute(select(User.account_id).where(User.role == "distributor")).scalars())
        assert bound == set(db.session.execute(select(Account.id).where(Account.kind == "distributor")).scalars())
        # dealers' names are Chinese, and each dealer's supplier (if any) is in its region tree
        for dealer in db.session.execute(select(Account).where(Account.kind == "dealer")).scalars():
            assert any("\u4e00" <= ch <= "\u9fff" for ch in dealer.name)
            if dealer.supplier is not None:
                from channel.masterdata.services import root_of

                assert root_of(dealer.supplier.region) is root_of(dealer.region)
        assert load_demo() is False  # idempotent


def test_scheduler_heartbeat_shows_on_admin_dashboard(app, login):
    client = login("admin")
    page = client.get("/dashboard", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Not running" in page
    beat(app, "test-host:1")
    beat(app, "test-host:1")  # a second beat updates the same row
    with app.app_context():
        rows = db.session.execute(select(SchedulerHeartbeat)).scalars().all()
        assert [r.name for r in rows] == ["test-host:1"]
    page = client.get("/dashboard", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Running" in page and "Not running" not in page


def test_scheduler_has_heartbeat_lease_and_poll_jobs(app):
    scheduler, name = build_scheduler(app, "x")
    assert {"heartbeat", "lease", "poll"} <= {job.id for job in scheduler.get_jobs()}
    assert name == "x"
    assert str(scheduler.timezone) == app.config["TIMEZONE"] == "Asia/Shanghai"


def test_the_business_time_zone_is_one_setting(tmp_path):
    from channel import create_app

    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.db'}",
                     TIMEZONE="Europe/Berlin")
    assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Europe/Berlin"
    with pytest.raises(RuntimeError, match="Mars/Olympus"):
        create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.db'}",
                   TIMEZONE="Mars/Olympus")
