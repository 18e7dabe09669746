"""Ledger speed at scale: 1,000 accounts, 1,000,000 ledger entries, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/ledger.py [--engine sqlite|postgresql|both] [--entries 1000000]

History is loaded with bulk inserts (two years of documents and entries) and every month but the
last is closed through the real `close_period`, which writes the month-end snapshots. Then each
question is asked through the service layer and, in the same run, as one bare SQL query against
the same tables: the bare query is the floor, and the ratio to it is the figure that matters.
Bulk posting (documents per second) is measured through `post_documents`, the batch path the
import uses (one transaction per batch), for payments and for shipments with two lines each; and,
for comparison, one document per `post_document` call (committed every 500 documents).
PostgreSQL runs on a throw-away server on 127.0.0.1 (tests/pg_server.py).
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from channel import create_app  # noqa: E402
from channel.core.periods import Month  # noqa: E402
from channel.extensions import db  # noqa: E402
from channel.ledger import services  # noqa: E402
from channel.ledger.models import Document, LedgerEntry  # noqa: E402
from channel.ledger.services import DocumentInput, LineInput  # noqa: E402
from channel.masterdata.models import Account, Product, Region  # noqa: E402
from channel.transactions import begin_write  # noqa: E402
from config import TestingConfig  # noqa: E402

FIRST = Month(2024, 1)
MONTHS = 24
N_ACCOUNTS = 1000
N_POST = 5000  # documents per bulk posting figure
BATCH = 500  # documents per post_documents call (one transaction)


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def load(n_entries, rng):
    region = Region(code="R", name="基准区")
    db.session.add(region)
    db.session.flush()
    db.session.execute(insert(Account), [
        {"code": f"A{i:04d}", "name": f"客户{i:04d}", "kind": "distributor", "region_id": region.id,
         "credit_limit_fen": 10**12, "payment_terms_days": 30, "status": "active"} for i in range(N_ACCOUNTS)])
    ids = list(db.session.execute(select(Account.id).order_by(Account.id)).scalars())
    days = (FIRST + MONTHS - 1).last_day.toordinal() - FIRST.first_day.toordinal() + 1
    chunk = 50_000
    kinds = [("shipment", "FH", "debit")] * 6 + [("payment", "HK", "credit")] * 4
    for start in range(0, n_entries, chunk):
        docs, entries = [], []
        for n in range(start, min(start + chunk, n_entries)):
            kind, prefix, direction = kinds[n % 10]
            amount = rng.randrange(100, 5_000_000)
            on = date.fromordinal(FIRST.first_day.toordinal() + rng.randrange(days))
            docs.append({"id": n + 1, "number": f"{prefix}-B-{n + 1:09d}", "kind": kind, "direction": direction,
                         "account_id": ids[n % N_ACCOUNTS], "supplier_key": 0, "document_date": on,
                         "amount_fen": amount, "payment_method": "bank_transfer" if kind == "payment" else None})
            entries.append({"id": n + 1, "account_id": ids[n % N_ACCOUNTS], "document_id": n + 1, "entry_date": on,
                            "kind": kind, "amount_fen": amount if direction == "debit" else -amount})
        db.session.execute(insert(Document), docs)
        db.session.execute(insert(LedgerEntry), entries)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        for table in ("documents", "ledger_entries"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n_entries})"))
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    today = (FIRST + MONTHS).first_day + timedelta(days=20)
    for month in Month.range(FIRST, FIRST + MONTHS - 2):
        services.close_period(month, by=None, today=today)
        db.session.commit()
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return ids


def run(url, n_entries, repeat):
    app = create_app(TestingConfig, DATABASE_URL=url, SQLALCHEMY_DATABASE_URI=url)
    rng = random.Random(1)
    out = []
    with app.app_context():
        upgrade()
        t0 = time.perf_counter()
        ids = load(n_entries, rng)
        print(f"  loaded {n_entries:,} entries and closed {MONTHS - 1} months in {time.perf_counter() - t0:.0f} s",
              flush=True)
        account = ids[N_ACCOUNTS // 2]
        month = FIRST + MONTHS - 3  # a closed month with a closed month before it
        mid = month.first_day + timedelta(days=14)
        month_end = month.last_day
        conn = db.session.connection()

        def bare_statement():
            conn.execute(text("SELECT closing_fen FROM balance_snapshots WHERE account_id = :a AND month = :m"),
                         {"a": account, "m": str(month.prev())}).all()
            conn.execute(text("SELECT e.entry_date, d.number, e.kind, e.amount_fen FROM ledger_entries e "
                              "JOIN documents d ON d.id = e.document_id WHERE e.account_id = :a "
                              "AND e.entry_date BETWEEN :s AND :e ORDER BY e.entry_date, e.id"),
                         {"a": account, "s": month.first_day, "e": month.last_day}).all()

        def bare_balance():
            conn.execute(text("SELECT (SELECT closing_fen FROM balance_snapshots WHERE account_id = :a AND month = :m)"
                              " + (SELECT coalesce(sum(amount_fen), 0) FROM ledger_entries WHERE account_id = :a "
                              "AND entry_date > :s AND entry_date <= :d)"),
                         {"a": account, "m": str(month.prev()), "s": month.prev().last_day, "d": mid}).all()

        def bare_month_end_all():
            conn.execute(text("SELECT account_id, closing_fen FROM balance_snapshots WHERE month = :m"),
                         {"m": str(month)}).all()

        def bare_mid_all():
            conn.execute(text("SELECT account_id, closing_fen FROM balance_snapshots WHERE month = :m"),
                         {"m": str(month.prev())}).all()
            conn.execute(text("SELECT account_id, sum(amount_fen) FROM ledger_entries WHERE entry_date > :s "
                              "AND entry_date <= :d GROUP BY account_id"),
                         {"s": month.prev().last_day, "d": mid}).all()

        def plain_group_by():
            conn.execute(text("SELECT account_id, sum(amount_fen) FROM ledger_entries WHERE entry_date <= :d "
                              "GROUP BY account_id"), {"d": month_end}).all()

        cases = [
            ("statement of one account, one month", lambda: services.statement(account, month), bare_statement),
            ("balance of one account at a mid-month date", lambda: services.balance_at(account, mid), bare_balance),
            ("all 1,000 month-end balances", lambda: services.balances_at(month_end), bare_month_end_all),
            ("all 1,000 balances at a mid-month date", lambda: services.balances_at(mid), bare_mid_all),
        ]
        for name, ours, floor in cases:
            ours()
            floor()
            a, b = timed(ours, repeat), timed(floor, repeat)
            out.append((name, a, b))
            print(f"  {name:44} ours {a:9.2f} ms   bare {b:9.2f} ms   ratio {a / b:5.1f}", flush=True)
        g = timed(plain_group_by, 3)
        print(f"  (for scale: all balances by a plain GROUP BY over the history: {g:.0f} ms)", flush=True)
        rates = bulk_posting(ids)
        db.session.remove()
        db.engine.dispose()
    return out, rates


def bulk_posting(ids):
    """Documents per second through the service layer, into the open month, every document with
    its own external reference: one by one through post_document, committed every 500 (as this
    script measured it before the batch path), then in batches of 500 through post_documents,
    one transaction each (payments; shipments of two lines, which also run the credit check).
    A batch's accounts are loaded with one query, as a caller holding many documents would."""
    open_day = (FIRST + MONTHS - 1).first_day + timedelta(days=2)
    db.session.add_all([Product(code=f"P{n}", name=f"产品{n}", unit="箱", list_price_fen=2880) for n in (1, 2)])
    db.session.commit()
    products = db.session.execute(select(Product).order_by(Product.code)).scalars().all()

    def payment(i, account):
        return dict(kind="payment", account=account, on=open_day, amount_fen=10_000 + i,
                    payment_method="bank_transfer", external_ref=f"BENCH-{i}")

    def shipment(i, account):
        return dict(kind="shipment", account=account, on=open_day, external_ref=f"BENCH-S-{i}",
                    lines=[LineInput(products[0], 1 + i % 7, 2880), LineInput(products[1], 2, 4500)])

    def one_by_one(first):
        for i in range(first, first + N_POST):
            services.post_document(by=None, **payment(i, db.session.get(Account, ids[i % N_ACCOUNTS])))
            if i % BATCH == BATCH - 1:
                db.session.commit()
        db.session.commit()

    def batches(make, first):
        for start in range(first, first + N_POST, BATCH):
            begin_write()
            numbers = range(start, start + BATCH)
            accounts = {a.id: a for a in db.session.execute(
                select(Account).where(Account.id.in_({ids[i % N_ACCOUNTS] for i in numbers}))).scalars()}
            services.post_documents([DocumentInput(**make(i, accounts[ids[i % N_ACCOUNTS]])) for i in numbers],
                                    by=None)
            db.session.commit()

    rates = {}
    for name, fn in [("one by one through post_document (payments)", lambda: one_by_one(0)),
                     ("post_documents, batches of 500 (payments)", lambda: batches(payment, N_POST)),
                     ("post_documents, batches of 500 (shipments, 2 lines)", lambda: batches(shipment, 0))]:
        t0 = time.perf_counter()
        fn()
        rates[name] = N_POST / (time.perf_counter() - t0)
        print(f"  bulk posting {name:52} {rates[name]:8,.0f} documents/s ({N_POST:,} documents)", flush=True)
    return rates


def on_engines(engine: str, run) -> None:
    """run(url) on a fresh SQLite file and/or a throw-away PostgreSQL database (tests/pg_server.py),
    as --engine says ("sqlite", "postgresql" or "both")."""
    if engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            print("SQLite (file, WAL)", flush=True)
            run(f"sqlite:///{tmp}/bench.db")
    if engine in ("postgresql", "both"):
        sys.path.insert(0, os.path.join(ROOT, "tests"))
        from pg_server import PostgresServer

        server = PostgresServer().start()
        try:
            print("PostgreSQL (throw-away server, fsync off)", flush=True)
            run(server.create_database("bench"))
        finally:
            server.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    print(f"{args.entries:,} entries, {N_ACCOUNTS:,} accounts, {MONTHS} months; Python {sys.version.split()[0]}")
    on_engines(args.engine, lambda url: run(url, args.entries, args.repeat))


if __name__ == "__main__":
    main()
