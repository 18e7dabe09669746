"""Plan versus actual at scale: a company of 1,000 accounts with six months of ten-day plans and
the ledger documents they are measured against.

    .venv/bin/python benchmarks/plans.py [--engine sqlite|postgresql|both] [--docs 200000]

History: 10 regions of 100 accounts, 18 ten-day periods (six months), a plan of 3 lines per
account and period (18,000 plans), and `--docs` shipments (2 lines each), returns and payments
spread over the same six months, bulk-loaded. Timed: the actual figures of every account for one
period (services.actuals) against the bare grouped SQL they need, the roll-up the plan-versus-
actual page shows (per account, rep, region, company), the six-month trend of every account, and
one region's figures (what the region PDF reads).
"""
import argparse
import os
import random
import sys
import time
from datetime import timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from benchmarks.ledger import on_engines, timed  # noqa: E402
from channel import create_app  # noqa: E402
from channel.auth.models import User  # noqa: E402
from channel.core.periods import TenDay  # noqa: E402
from channel.extensions import db  # noqa: E402
from channel.ledger.models import Document, DocumentLine, LedgerEntry  # noqa: E402
from channel.masterdata.models import Account, Product, Region  # noqa: E402
from channel.plans import rollup  # noqa: E402
from channel.plans import services as ps  # noqa: E402
from channel.plans.models import Plan, PlanLine  # noqa: E402
from config import TestingConfig  # noqa: E402

N_REGIONS, PER_REGION, N_PRODUCTS = 10, 100, 30
FIRST = TenDay.parse("2026-01-1")
PERIODS = [FIRST]
while len(PERIODS) < 18:
    PERIODS.append(PERIODS[-1].next())


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
    db.session.add(User(username="admin", full_name="管理员", password_hash="x", role="admin"))
    db.session.execute(insert(Product), [{"code": f"P{i:03d}", "name": f"产品{i}", "unit": "箱",
                                          "list_price_fen": 1000 + 37 * i, "active": True}
                                         for i in range(N_PRODUCTS)])
    products = list(db.session.execute(select(Product.id, Product.list_price_fen)).all())
    db.session.execute(insert(Account), [
        {"code": f"A{i:04d}", "name": f"客户{i:04d}", "kind": "distributor", "region_id": regions[i // PER_REGION].id,
         "credit_limit_fen": 10**12, "payment_terms_days": 30, "status": "active"}
        for i in range(N_REGIONS * PER_REGION)])
    ids = list(db.session.execute(select(Account.id).order_by(Account.id)).scalars())
    plans, lines = [], []
    for period in PERIODS:
        for account_id in ids:
            pid = len(plans) + 1
            plans.append({"id": pid, "account_id": account_id, "period": str(period), "period_start": period.start,
                          "status": "draft", "version": 1, "payment_fen": rng.randrange(100_000, 2_000_000),
                          "payment_on": period.start})
            for product_id, price in rng.sample(products, 3):
                qty = rng.randrange(5, 200)
                lines.append({"plan_id": pid, "product_id": product_id, "quantity": qty, "unit_price_fen": price,
                              "amount_fen": qty * price})
    db.session.execute(insert(Plan), plans)
    db.session.execute(insert(PlanLine), lines)
    start, days = PERIODS[0].start, (PERIODS[-1].end - PERIODS[0].start).days + 1
    kinds = [("shipment", "FH", "debit")] * 6 + [("return", "TH", "credit")] + [("payment", "HK", "credit")] * 3
    docs, doc_lines, entries = [], [], []
    for n in range(n_docs):
        kind, prefix, direction = kinds[n % 10]
        on = start + timedelta(days=rng.randrange(days))
        account_id = ids[rng.randrange(len(ids))]
        amount = 0
        if kind != "payment":
            for line_no, (product_id, price) in enumerate(rng.sample(products, 2), 1):
                qty = rng.randrange(1, 60)
                doc_lines.append({"document_id": n + 1, "line_no": line_no, "product_id": product_id,
                                  "quantity": qty, "unit_price_fen": price, "amount_fen": qty * price})
                amount += qty * price
        else:
            amount = rng.randrange(10_000, 900_000)
        docs.append({"id": n + 1, "number": f"{prefix}-B-{n + 1:09d}", "kind": kind, "direction": direction,
                     "account_id": account_id, "supplier_key": 0, "document_date": on, "amount_fen": amount,
                     "payment_method": "bank_transfer" if kind == "payment" else None})
        entries.append({"id": n + 1, "account_id": account_id, "document_id": n + 1, "entry_date": on, "kind": kind,
                        "amount_fen": amount if direction == "debit" else -amount})
    for chunk in range(0, n_docs, 50_000):
        db.session.execute(insert(Document), docs[chunk:chunk + 50_000])
        db.session.execute(insert(LedgerEntry), entries[chunk:chunk + 50_000])
    for chunk in range(0, len(doc_lines), 50_000):
        db.session.execute(insert(DocumentLine), doc_lines[chunk:chunk + 50_000])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        for table in ("documents", "ledger_entries", "plans"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return ids, regions


def run(url, n_docs, repeat):
    app = create_app(TestingConfig, DATABASE_URL=url, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context(), app.test_request_context():
        upgrade()
        t0 = time.perf_counter()
        ids, regions = load(n_docs, random.Random(1))
        print(f"  loaded {len(ids):,} accounts, {len(ids) * len(PERIODS):,} plans, {n_docs:,} documents in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
        period = PERIODS[-2]
        conn = db.session.connection()

        def bare():
            conn.execute(text(
                "SELECT d.account_id, d.document_date, d.kind, d.direction, l.product_id, sum(l.quantity), "
                "sum(l.amount_fen) FROM documents d JOIN document_lines l ON l.document_id = d.id "
                "WHERE d.kind IN ('shipment', 'return') AND d.document_date BETWEEN :s AND :e "
                "GROUP BY d.account_id, d.document_date, d.kind, d.direction, l.product_id"),
                {"s": period.start, "e": period.end}).all()
            conn.execute(text(
                "SELECT account_id, document_date, direction, sum(amount_fen) FROM documents "
                "WHERE kind = 'payment' AND document_date BETWEEN :s AND :e "
                "GROUP BY account_id, document_date, direction"), {"s": period.start, "e": period.end}).all()

        floor = timed(bare, repeat)
        acts = timed(lambda: ps.actuals(ids, [period]), repeat)
        print(f"  actual figures of {len(ids):,} accounts for one period: {acts:.0f} ms "
              f"(bare SQL {floor:.0f} ms: ratio {acts / floor:.1f})", flush=True)
        admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        page = timed(lambda: rollup.for_user(admin, period, today=PERIODS[-1].end), repeat)
        print(f"  the plan-versus-actual roll-up of the company (accounts, regions, company): {page:.0f} ms",
              flush=True)
        accounts = list(db.session.execute(select(Account)).scalars())
        trend = timed(lambda: rollup.trend(accounts, PERIODS), repeat)
        print(f"  six months' trend of {len(accounts):,} accounts (18 periods): {trend:.0f} ms", flush=True)
        one = timed(lambda: rollup.for_region(regions[0], period, today=PERIODS[-1].end), repeat)
        print(f"  one region's figures (100 accounts, what its PDF reads): {one:.0f} ms", flush=True)
        db.session.remove()
        db.engine.dispose()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    on_engines(args.engine, lambda url: run(url, args.docs, args.repeat))


if __name__ == "__main__":
    main()
