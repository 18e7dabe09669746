"""The demo company's year of ledger history, loaded through the real services."""
from datetime import date

from sqlalchemy import func, select

from channel.core.periods import Month
from channel.demo import load_demo
from channel.extensions import db
from channel.ledger import services
from channel.ledger.models import Document, LedgerEntry, Period
from channel.masterdata.models import Account

TODAY = date(2026, 11, 24)


def test_demo_history_is_a_living_ledger(empty_app):
    with empty_app.app_context():
        assert load_demo(today=TODAY) is True
        closed = db.session.execute(select(Period.month).where(Period.status == "closed").order_by(Period.month)).scalars().all()
        assert closed == [str(m) for m in Month.range(Month(2025, 11), Month(2026, 10))]
        accounts = {a.code: a for a in db.session.execute(select(Account)).scalars()}
        with_entries = set(db.session.execute(select(LedgerEntry.account_id).distinct()).scalars())
        assert with_entries == {a.id for a in accounts.values()}  # every account, both tiers
        tier_two = db.session.execute(select(func.count()).select_from(Document).where(Document.supplier_id.is_not(None))).scalar_one()
        assert tier_two > 100
        assert db.session.execute(select(func.count()).select_from(Document).where(Document.reversal_of_id.is_not(None))).scalar_one() >= 2
        at_limit = accounts["DL-BJ003"]
        assert services.current_balance(at_limit) == at_limit.credit_limit_fen
        for code in ("DL-TJ002", "DL-GZ003"):
            assert services.overdue(accounts[code], TODAY) > 0, code
        # closing of M equals opening of M+1, from the snapshots, for an account of each tier
        for code in ("GD-BJ01", "DL-BJ001", "DL-ZJ003"):
            previous = None
            for month in Month.range(Month(2025, 11), Month(2026, 11)):
                st = services.statement(accounts[code], month)
                if previous is not None:
                    assert st.opening_fen == previous.closing_fen
                previous = st
            assert previous.closing_fen == services.current_balance(accounts[code])
        assert load_demo(today=TODAY) is False
