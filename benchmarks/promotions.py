"""Promotions and meetings at scale: a promotion run by 1,000 enrolled accounts over a ledger of
six months, and a year of monthly meetings in 100 regions.

    .venv/bin/python benchmarks/promotions.py [--engine sqlite|postgresql|both] [--docs 100000]

History: 10 regions of 100 accounts (a distributor and 99 of its dealers each), 30 products, and
`--docs` shipments and returns (2 lines each) spread over six months, bulk-loaded; a promotion of
5 products over the last three months with every account enrolled and one verified execution
report each. Timed: the settlement figures of every region (what the settlement page shows: the
ledger's net shipments of the promotion's products per account, then the rules) against the bare
grouped SQL they need; the uplift (period against the same length before it); and settling it
once (1,000 settlement lines and about 1,000 rebate documents in one transaction). Meetings: 100
regions with a meeting a month for a year and 10 action items each; timed: the board's regions
without a meeting this month and the admin's overdue action items.
"""
import argparse
import os
import random
import sys
import time
from datetime import date, datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select, text, update  # noqa: E402

from benchmarks.ledger import on_engines, timed  # noqa: E402
from channel import create_app  # noqa: E402
from channel.auth.models import User  # noqa: E402
from channel.core.periods import Month  # noqa: E402
from channel.extensions import db  # noqa: E402
from channel.ledger.models import Document, DocumentLine, LedgerEntry  # noqa: E402
from channel.masterdata.models import Account, Product, Region  # noqa: E402
from channel.meetings import services as ms  # noqa: E402
from channel.meetings.models import ActionItem, Meeting  # noqa: E402
from channel.promotions import services as ps  # noqa: E402
from channel.promotions.models import (  # noqa: E402
    Enrolment,
    ExecutionReport,
    Promotion,
    PromotionProduct,
    PromotionRegion,
)
from config import TestingConfig  # noqa: E402

N_REGIONS, PER_REGION, N_PRODUCTS = 10, 100, 30
START, END = date(2026, 1, 1), date(2026, 6, 30)
PROMO_START, PROMO_END = date(2026, 4, 1), date(2026, 6, 30)
TODAY = date(2026, 7, 2)
NOW = datetime(2026, 7, 1, 2, 0, tzinfo=timezone.utc)


def load(n_docs, rng):
    top = Region(code="TOP", name="全国")
    db.session.add(top)
    db.session.flush()
    regions = []
    for r in range(N_REGIONS):
        region = Region(code=f"R{r}", name=f"区域{r}", parent_id=top.id)
        db.session.add(region)
        db.session.flush()
        regions.append(region)
    for username, role in (("admin", "admin"), ("finance", "finance"), ("sup", "supervisor"), ("rep", "field_staff")):
        staff = role == "field_staff"
        db.session.add(User(username=username, full_name=username, password_hash="x", role=role,
                            region_id=top.id if staff else None, field_kind="rep" if staff else None))
    db.session.flush()
    db.session.execute(insert(Product), [{"code": f"P{i:03d}", "name": f"产品{i}", "unit": "箱",
                                          "list_price_fen": 1000 + 37 * i, "active": True}
                                         for i in range(N_PRODUCTS)])
    products = list(db.session.execute(select(Product.id, Product.list_price_fen)).all())
    for r, region in enumerate(regions):
        head = Account(code=f"D{r:02d}", name=f"总经销{r}", kind="distributor", region_id=region.id,
                       credit_limit_fen=10**12, payment_terms_days=30, status="active")
        db.session.add(head)
        db.session.flush()
        db.session.execute(insert(Account), [
            {"code": f"D{r:02d}-{i:03d}", "name": f"分销{r}-{i}", "kind": "dealer", "supplier_id": head.id,
             "region_id": region.id, "credit_limit_fen": 10**12, "payment_terms_days": 30, "status": "active"}
            for i in range(1, PER_REGION)])
    accounts = list(db.session.execute(select(Account.id, Account.supplier_id).order_by(Account.id)).all())
    days = (END - START).days + 1
    docs, doc_lines, entries = [], [], []
    for n in range(n_docs):
        kind, prefix, direction = ("return", "TH", "credit") if n % 8 == 0 else ("shipment", "FH", "debit")
        on = START + timedelta(days=rng.randrange(days))
        account_id, supplier_id = accounts[rng.randrange(len(accounts))]
        amount = 0
        for line_no, (product_id, price) in enumerate(rng.sample(products[:10], 2), 1):
            qty = rng.randrange(1, 60)
            doc_lines.append({"document_id": n + 1, "line_no": line_no, "product_id": product_id,
                              "quantity": qty, "unit_price_fen": price, "amount_fen": qty * price})
            amount += qty * price
        docs.append({"id": n + 1, "number": f"{prefix}-B-{n + 1:09d}", "kind": kind, "direction": direction,
                     "account_id": account_id, "supplier_id": supplier_id, "supplier_key": supplier_id or 0,
                     "document_date": on, "amount_fen": amount})
        entries.append({"id": n + 1, "account_id": account_id, "document_id": n + 1, "entry_date": on, "kind": kind,
                        "amount_fen": amount if direction == "debit" else -amount})
    for chunk in range(0, n_docs, 50_000):
        db.session.execute(insert(Document), docs[chunk:chunk + 50_000])
        db.session.execute(insert(LedgerEntry), entries[chunk:chunk + 50_000])
    for chunk in range(0, len(doc_lines), 50_000):
        db.session.execute(insert(DocumentLine), doc_lines[chunk:chunk + 50_000])
    users = {u.username: u for u in db.session.execute(select(User)).scalars()}
    promotion = Promotion(code="BENCH", name="基准促销", kind="per_unit", rate=150, min_quantity=5, cap_fen=500_000,
                          starts_on=PROMO_START, ends_on=PROMO_END, status="draft", version=1)
    promotion.products = [PromotionProduct(product_id=p) for p, _price in products[:5]]
    promotion.regions = [PromotionRegion(region_id=r.id, budget_fen=3_000_000) for r in regions]
    db.session.add(promotion)
    db.session.flush()
    promotion.status, promotion.published_by_id, promotion.published_at = "published", users["finance"].id, NOW
    db.session.flush()
    region_of = dict(db.session.execute(select(Account.id, Account.region_id)).all())
    db.session.execute(insert(Enrolment), [
        {"promotion_id": promotion.id, "account_id": a, "region_id": region_of[a], "target_qty": 100,
         "target_outlets": 5, "enrolled_by_id": users["sup"].id} for a, _s in accounts])
    enrolments = list(db.session.execute(select(Enrolment.id)).scalars())
    db.session.execute(insert(ExecutionReport), [
        {"enrolment_id": e, "executed_on": PROMO_START + timedelta(days=10), "outlets": 3, "status": "verified",
         "version": 2, "reported_by_id": users["rep"].id, "checked_by_id": users["sup"].id, "checked_at": NOW}
        for e in enrolments])
    # Meetings: 100 regions (the 10 above and 90 more), a meeting a month for a year, 10 items each.
    for r in range(N_REGIONS, 100):
        db.session.add(Region(code=f"R{r}", name=f"区域{r}", parent_id=top.id))
    db.session.flush()
    all_regions = list(db.session.execute(select(Region.id).where(Region.parent_id == top.id)).scalars())
    meetings = []
    for region_id in all_regions:
        for m in range(12):
            month = Month(2025, 8) + m
            on = month.first_day + timedelta(days=3)
            meetings.append({"region_id": region_id, "month": str(month), "meeting_date": on, "place": "会议室",
                             "title": f"{month} 例会", "status": "held", "version": 2,
                             "held_by_id": users["sup"].id, "held_at": NOW})
    db.session.execute(insert(Meeting), meetings)
    items = []
    for meeting_id, on in db.session.execute(select(Meeting.id, Meeting.meeting_date)).all():
        for seq in range(1, 11):
            items.append({"meeting_id": meeting_id, "seq": seq, "title": f"问题{seq}", "owner_id": users["rep"].id,
                          "due_on": on + timedelta(days=14), "status": "open" if seq <= 2 else "done",
                          "version": 1, "resolution": None if seq <= 2 else "已解决",
                          "resolved_at": None if seq <= 2 else NOW})
    db.session.execute(insert(ActionItem), items)
    db.session.execute(update(Meeting).values(status="published", version=3, published_by_id=users["sup"].id,
                                              published_at=NOW))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        for table in ("documents", "ledger_entries"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return promotion.id, users


def run(url, n_docs, repeat):
    app = create_app(TestingConfig, DATABASE_URL=url, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context(), app.test_request_context():
        upgrade()
        t0 = time.perf_counter()
        promotion_id, users = load(n_docs, random.Random(1))
        print(f"  loaded {N_REGIONS * PER_REGION:,} accounts, {n_docs:,} documents, 1,000 enrolments, "
              f"1,200 meetings in {time.perf_counter() - t0:.0f} s", flush=True)
        conn = db.session.connection()

        def bare():
            conn.execute(text(
                "SELECT d.account_id, d.kind, d.direction, l.product_id, sum(l.quantity), sum(l.amount_fen) "
                "FROM documents d JOIN document_lines l ON l.document_id = d.id "
                "WHERE d.kind IN ('shipment', 'return') AND d.document_date BETWEEN :s AND :e "
                "AND l.product_id IN (SELECT product_id FROM promotion_products WHERE promotion_id = :p) "
                "GROUP BY d.account_id, d.kind, d.direction, l.product_id"),
                {"s": PROMO_START, "e": PROMO_END, "p": promotion_id}).all()

        def figures():
            db.session.expire_all()
            return ps.figures(db.session.get(Promotion, promotion_id))

        floor = timed(bare, repeat)
        fig = timed(figures, repeat)
        print(f"  settlement figures of 1,000 accounts in 10 regions: {fig:.0f} ms (bare SQL {floor:.0f} ms: "
              f"ratio {fig / floor:.1f})", flush=True)

        def uplift():
            db.session.expire_all()
            p = db.session.get(Promotion, promotion_id)
            return ps.uplift(p, p.enrolments)

        print(f"  uplift of 1,000 accounts (period against the same length before): {timed(uplift, repeat):.0f} ms",
              flush=True)
        db.session.commit()
        t0 = time.perf_counter()
        p = db.session.get(Promotion, promotion_id)
        result = ps.settle(p, version=p.version, by=users["finance"], today=TODAY)
        db.session.commit()
        took = (time.perf_counter() - t0) * 1000
        print(f"  settling it: {took:.0f} ms for {result.documents:,} rebate documents "
              f"({took / max(result.documents, 1):.2f} ms each)", flush=True)
        admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        month = Month(2026, 7)
        board = timed(lambda: ms.regions_without_meeting(admin, month), repeat)
        overdue = timed(lambda: ms.overdue_items(admin, today=TODAY), repeat)
        print(f"  meetings board, 100 regions: regions without a meeting {board:.0f} ms; "
              f"the admin's overdue action items (2,400 open of 12,000): {overdue:.0f} ms", flush=True)
        db.session.remove()
        db.engine.dispose()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    on_engines(args.engine, lambda url: run(url, args.docs, args.repeat))


if __name__ == "__main__":
    main()
