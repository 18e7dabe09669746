"""Reconciliation at scale: what closing a month costs when it issues 1,000 statements, the
supervisor's board over 1,000 general distributors, and one statement's content and hash.

    .venv/bin/python benchmarks/reconciliation.py [--engine sqlite|postgresql|both] [--entries 200000]

The history is benchmarks/ledger.py's (1,000 accounts, bulk-loaded documents over two years,
every month but the last two closed through the real close, which issues the statements). The
last month is then closed once more with its statements timed apart, and the figures set against
bare SQL floors measured in the same run: one statement query per account (what issuing must read
at least) and the month's snapshots.
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
from sqlalchemy import func, select, text  # noqa: E402

from benchmarks.ledger import FIRST, MONTHS, load, on_engines, timed  # noqa: E402
from channel import create_app  # noqa: E402
from channel.extensions import db  # noqa: E402
from channel.ledger import services as ledger  # noqa: E402
from channel.masterdata.models import Account  # noqa: E402
from channel.reconciliation import services as rs  # noqa: E402
from channel.reconciliation.models import Reconciliation  # noqa: E402
from config import TestingConfig  # noqa: E402


def run(url, n_entries, repeat):
    app = create_app(TestingConfig, DATABASE_URL=url, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        t0 = time.perf_counter()
        ids = load(n_entries, random.Random(1))
        print(f"  loaded {n_entries:,} entries, closed and issued {MONTHS - 1} months in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
        last = FIRST + MONTHS - 1
        today = last.next().first_day + timedelta(days=2)
        issued = {}
        real_issue = rs.issue_after_close

        def timing_issue(month, **kw):
            t = time.perf_counter()
            result = real_issue(month, **kw)
            issued["seconds"] = time.perf_counter() - t
            issued["n"] = len(result.issued)
            return result

        rs.issue_after_close = timing_issue
        t0 = time.perf_counter()
        ledger.close_period(last, by=None, today=today)
        db.session.commit()
        close_s = time.perf_counter() - t0
        rs.issue_after_close = real_issue
        conn = db.session.connection()

        def bare_statements():
            for account in ids:
                conn.execute(text("SELECT closing_fen FROM balance_snapshots WHERE account_id = :a AND month = :m"),
                             {"a": account, "m": str(last.prev())}).all()
                conn.execute(text("SELECT e.entry_date, d.number, e.kind, e.amount_fen FROM ledger_entries e "
                                  "JOIN documents d ON d.id = e.document_id WHERE e.account_id = :a "
                                  "AND e.entry_date BETWEEN :s AND :e ORDER BY e.entry_date, e.id"),
                             {"a": account, "s": last.first_day, "e": last.last_day}).all()

        floor = timed(bare_statements, 3)
        n = issued["n"]
        print(f"  close of the last month: {close_s * 1000:.0f} ms, of which issuing {n} statements "
              f"{issued['seconds'] * 1000:.0f} ms ({issued['seconds'] * 1000 / n:.2f} ms each); "
              f"bare reads of {len(ids)} statements {floor:.0f} ms: ratio {issued['seconds'] * 1000 / floor:.1f}",
              flush=True)
        count = db.session.execute(select(func.count()).select_from(Reconciliation)).scalar_one()
        print(f"  reconciliations in the database: {count:,}", flush=True)
        distributors = list(db.session.execute(select(Account).order_by(Account.id)).scalars())
        board = timed(lambda: rs.board(last, distributors, today=today), repeat)
        print(f"  board of {len(distributors)} distributors for one month: {board:.0f} ms", flush=True)
        account = distributors[len(distributors) // 2]
        rec = rs.find(account, last)
        content = timed(lambda: rs.content(account, last, rec).hash, repeat * 10)
        floor_one = timed(lambda: ledger.statement(account, last), repeat * 10)
        print(f"  one statement's content and hash: {content:.2f} ms (the statement alone {floor_one:.2f} ms)",
              flush=True)
        db.session.remove()
        db.engine.dispose()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    on_engines(args.engine, lambda url: run(url, args.entries, args.repeat))


if __name__ == "__main__":
    main()
