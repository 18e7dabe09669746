"""The demo company's promotions are what README and issue 8 promise: one of each type, every
state present, the settled one paid through the ledger (dealers' rebates credited to their general
distributor for them, and passed on) with one region's budget shared pro rata, execution reports
verified, rejected and waiting, and an ended one ready for finance to settle. Loaded once per
engine (the whole demo, as `channel demo-data` loads it)."""
from collections import Counter

from sqlalchemy import select

from channel.core.periods import Month
from channel.demo_promotions import (
    OUTLET_REPORTS,
    REJECT_REASON,
    SHORT_REGION,
    STOCKED,
    WAITING,
    codes,
)
from channel.extensions import db
from channel.files.models import StoredFile
from channel.ledger.models import Document
from channel.promotions import services as ps
from channel.promotions.models import Promotion
from channel.reconciliation import services as rs
from tests.helpers import EN, ZH, page_text
from tests.ledger import account, user


def _promotions():
    today = ps.business_today()
    return {ps.shown_status(p, today): p for p in db.session.execute(
        select(Promotion).order_by(Promotion.code)).scalars()}


def test_one_of_each_type_in_every_state(full_demo_app):
    with full_demo_app.app_context():
        everything = db.session.execute(select(Promotion)).scalars().all()
        today = ps.business_today()
        states = Counter(ps.shown_status(p, today) for p in everything)
        assert set(states) == {"draft", "published", "running", "ended", "settled"}
        assert {p.kind for p in everything} == {"per_unit", "percent", "per_outlet", "display_fee"}
        by_state = _promotions()
        assert by_state["settled"].kind == "per_unit" and by_state["ended"].kind == "display_fee"
        running = {p.kind for p in everything if ps.shown_status(p, today) == "running"}
        assert running == {"percent", "per_outlet"}
        assert {p.code for p in everything} == set(codes(today).values())
        assert all(p.code.startswith("CX") and p.regions and p.products for p in everything)
        assert all(r.budget_fen > 0 for p in everything for r in p.regions)
        # A draft is head office's: a supervisor does not see it.
        draft = by_state["draft"]
        assert draft not in db.session.execute(ps.promotions_query(user("sup.east"))).scalars().all()


def test_the_settled_promotion_paid_through_the_ledger(full_demo_app):
    with full_demo_app.app_context():
        p = _promotions()["settled"]
        assert {s.region.code for s in p.settlements} == set(STOCKED)
        this = Month.of(ps.business_today())
        lines = [ln for s in p.settlements for ln in s.lines]
        assert {ln.account.code for ln in lines} == {c for group in STOCKED.values() for c in group}
        for s in p.settlements:
            assert s.posted_on >= p.ends_on and Month.of(s.posted_on) == this  # posted into an open month
            assert s.paid_fen == sum(ln.paid_fen for ln in s.lines)
            assert s.earned_fen == sum(ln.earned_fen for ln in s.lines)
        for ln in lines:
            assert (ln.document is None) == (ln.paid_fen == 0)
            if ln.document is None:
                continue
            doc = ln.document
            assert doc.kind == "rebate" and doc.amount_fen == ln.paid_fen
            assert doc.external_ref == ps.external_ref(p, ln.account)
            if ln.account.supplier_id is None:  # a distributor or a direct dealer: its own ledger
                assert doc.account_id == ln.account_id and doc.for_account_id is None
            else:  # a dealer of 北京鑫源: credited to the distributor for the dealer
                assert doc.account.code == "GD-BJ01" and doc.for_account_id == ln.account_id
        dealers = [ln for ln in lines if ln.document is not None and ln.document.for_account_id is not None]
        assert len(dealers) >= 2
        # 北京鑫源 passed every one of them on in full.
        for ln in dealers:
            passed = db.session.execute(select(Document).where(Document.passes_on_id == ln.document_id)).scalars().all()
            assert sum(d.amount_fen for d in passed) == ln.paid_fen
            assert all(d.account_id == ln.account_id for d in passed)
        assert not [x for x in rs.payouts(account("GD-BJ01"), open_only=True)
                    if x.document.external_ref and x.document.external_ref.startswith("PROMO:")]
        # Settling again posts nothing new (and is refused: it is settled).
        assert p.status == "settled"


def test_one_region_short_of_budget_shared_pro_rata(full_demo_app):
    with full_demo_app.app_context():
        p = _promotions()["settled"]
        settlements = {s.region.code: s for s in p.settlements}
        short = settlements[SHORT_REGION]
        assert short.short and short.paid_fen == short.budget_fen < short.earned_fen
        paying = [ln for ln in short.lines if ln.earned_fen > 0]
        assert len(paying) >= 2 and all(0 < ln.paid_fen < ln.earned_fen for ln in paying)
        assert all(ln.earned_fen == 0 for s in p.settlements for ln in s.lines if ln.net_qty < p.min_quantity)
        for code, s in settlements.items():
            if code != SHORT_REGION:
                assert not s.short and s.paid_fen == s.earned_fen <= s.budget_fen
        # The cap per account held.
        assert max(ln.earned_fen for s in p.settlements for ln in s.lines) == p.cap_fen


def test_execution_reports_verified_rejected_and_waiting(full_demo_app):
    with full_demo_app.app_context():
        p = db.session.execute(select(Promotion).where(Promotion.kind == "per_outlet")).scalar_one()
        reports = [r for e in p.enrolments for r in e.reports]
        assert Counter(r.status for r in reports) == Counter(v for *_, v, _ in OUTLET_REPORTS)
        [rejected] = [r for r in reports if r.status == "rejected"]
        assert rejected.reject_reason == REJECT_REASON and rejected.checked_by.username == "sup.north"
        assert all(r.checked_by.username == "sup.north" for r in reports if r.status == "verified")
        assert all(r.photos for r in reports)
        pending = ps.pending_reports(user("sup.north"))
        assert [r.enrolment.account.code for r in pending] == [WAITING]
        photo = db.session.get(StoredFile, pending[0].photos[0].sha256)
        assert photo.mime == "image/png" and photo.content.startswith(b"\x89PNG")
        rows = {r.enrolment.account.code: r for r in ps.progress(p, p.enrolments)}
        assert rows["GD-BJ01"].verified_outlets == 23 and rows[WAITING].pending == 1
        # What it would pay so far: the verified outlets at ¥50 each.
        [north] = ps.figures(p)
        assert north.earned_fen == sum(r.outlets for r in reports if r.status == "verified") * p.rate


def test_running_percent_and_ended_display_fee(full_demo_app):
    with full_demo_app.app_context():
        today = ps.business_today()
        percent = db.session.execute(select(Promotion).where(Promotion.kind == "percent",
                                                             Promotion.status == "published")).scalar_one()
        assert ps.shown_status(percent, today) == "running"
        assert all(e.target_qty > 0 for e in percent.enrolments) and len(percent.enrolments) >= 4
        rows = ps.progress(percent, percent.enrolments)
        assert sum(r.net_qty > 0 for r in rows) >= 3
        fee = _promotions()["ended"]
        assert fee.kind == "display_fee" and not fee.settlements
        [south] = ps.figures(fee)
        verified = [e for e in fee.enrolments if e.verified]
        assert 0 < len(verified) < len(fee.enrolments)
        assert south.earned_fen == len(verified) * fee.rate <= south.budget_fen
        assert all(r.status == "verified" for e in fee.enrolments for r in e.reports)


def test_the_pages_show_it(full_demo_app):
    with full_demo_app.app_context():
        p = db.session.execute(select(Promotion).where(Promotion.kind == "per_outlet")).scalar_one()
        fee = db.session.execute(select(Promotion).where(Promotion.kind == "display_fee")).scalar_one()
        pid, waiting, fee_code = p.id, account(WAITING).name, fee.code
        db.session.remove()
    client = full_demo_app.test_client().login("sup.north")
    for headers in (EN, ZH):
        resp = client.get(f"/promotions/{pid}/reports", headers=headers)
        assert resp.status_code == 200 and waiting in page_text(resp)
    finance = full_demo_app.test_client().login("finance")
    for headers in (EN, ZH):
        resp = finance.get("/promotions/", headers=headers)
        assert resp.status_code == 200 and fee_code in page_text(resp)
