"""Expenses at scale: the approval screen and queue when a company has years of claims.

    .venv/bin/python benchmarks/expenses.py [--engine sqlite|postgresql|both] [--claims 20000]

History: 3 top regions with 2 sub-regions each, 40 field staff per top region, `--claims` claims
of 5 lines over 36 months (all paid but the last two months: last month approved and waiting,
this month submitted), bulk-loaded. Timed: one claim's budget figures (services.budget_uses)
against the bare grouped SQL it needs, the flags of a claim (caps, duplicate receipts, budget),
a supervisor's approval queue and its page's flags, the dashboard counts, one approval (write,
committed), and the monthly summary.
"""
import argparse
import os
import random
import sys
import time
from datetime import date, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from benchmarks.ledger import on_engines, timed  # noqa: E402
from channel import create_app  # noqa: E402
from channel.auth.models import User, supervisor_regions  # noqa: E402
from channel.core.expenses import CATEGORIES  # noqa: E402
from channel.core.periods import Month  # noqa: E402
from channel.expenses import services as es  # noqa: E402
from channel.expenses.models import ExpenseBudget, ExpenseClaim, ExpenseLine  # noqa: E402
from channel.extensions import db  # noqa: E402
from channel.masterdata.models import Region  # noqa: E402
from channel.transactions import begin_write  # noqa: E402
from config import TestingConfig  # noqa: E402

MONTHS = 36
PEOPLE_PER_REGION = 40


def load(n_claims, rng, this_month):
    first = this_month
    for _ in range(MONTHS - 1):
        first = first.prev()
    months = [first]
    while months[-1] < this_month:
        months.append(months[-1].next())
    tops, subs = [], {}
    for i in range(3):
        top = Region(code=f"T{i}", name=f"大区{i}")
        db.session.add(top)
        db.session.flush()
        tops.append(top)
        subs[top.id] = []
        for j in range(2):
            sub = Region(code=f"T{i}S{j}", name=f"片区{i}{j}", parent_id=top.id)
            db.session.add(sub)
            db.session.flush()
            subs[top.id].append(sub)
    finance = User(username="finance", full_name="财务", password_hash="x", role="finance")
    db.session.add(finance)
    sups, people = [], []
    for top in tops:
        sup = User(username=f"sup{top.id}", full_name=f"主管{top.id}", password_hash="x", role="supervisor")
        db.session.add(sup)
        db.session.flush()
        db.session.execute(insert(supervisor_regions).values(user_id=sup.id, region_id=top.id))
        sups.append(sup)
        for k in range(PEOPLE_PER_REGION):
            sub = subs[top.id][k % 2]
            u = User(username=f"rep{top.id}_{k}", full_name=f"业务员{top.id}-{k}", password_hash="x",
                     role="field_staff", field_kind="rep", region_id=sub.id)
            db.session.add(u)
            people.append((u, sub, top, sup))
    db.session.flush()
    for month in months:
        for top in tops:
            db.session.add(ExpenseBudget(region_id=top.id, month=str(month), category="total",
                                         amount_fen=40_000_000))
            db.session.add(ExpenseBudget(region_id=top.id, month=str(month), category="meal",
                                         amount_fen=4_000_000))
    claims, lines = [], []
    for cid in range(1, n_claims + 1):
        u, sub, top, sup = people[cid % len(people)]
        month = months[min(len(months) - 1, (cid * len(months)) // n_claims)]
        claims.append(dict(id=cid, claimant_id=u.id, region_id=sub.id, budget_region_id=top.id, month=str(month),
                           title="出差", status="draft", version=1, claimed_fen=0))
        total = 0
        for n in range(5):
            amount = rng.randrange(2_000, 80_000)
            total += amount
            lines.append(dict(claim_id=cid, spent_on=month.first_day + timedelta(days=n),
                              category=CATEGORIES[(cid + n) % len(CATEGORIES)], description="",
                              amount_fen=amount, approved_fen=amount, nights=1,
                              city_tier=2 if CATEGORIES[(cid + n) % len(CATEGORIES)] == "accommodation" else None))
        claims[-1]["claimed_fen"] = total
    db.session.execute(insert(ExpenseClaim), claims)
    db.session.execute(insert(ExpenseLine), lines)
    # Then their states, as the approvals and payments would have left them.
    last, current = months[-2], months[-1]
    conn = db.session.connection()
    params = {"fin": finance.id, "paid_on": date(2000, 1, 1)}
    conn.execute(text(
        "UPDATE expense_claims SET status = 'paid', approved_fen = claimed_fen, approver_id = :fin, "
        "approved_at = CURRENT_TIMESTAMP, paid_by_id = :fin, paid_at = CURRENT_TIMESTAMP, paid_on = :paid_on, "
        "payment_ref = 'P', paid_fen = claimed_fen WHERE month < :last"), {**params, "last": str(last)})
    conn.execute(text(
        "UPDATE expense_claims SET status = 'approved', approved_fen = claimed_fen, approver_id = :fin, "
        "approved_at = CURRENT_TIMESTAMP WHERE month = :last"), {"fin": finance.id, "last": str(last)})
    conn.execute(text("UPDATE expense_lines SET approved_fen = NULL WHERE claim_id IN "
                      "(SELECT id FROM expense_claims WHERE month = :cur)"), {"cur": str(current)})
    conn.execute(text("UPDATE expense_claims SET status = 'submitted', submitted_at = CURRENT_TIMESTAMP "
                      "WHERE month = :cur"), {"cur": str(current)})
    if db.engine.dialect.name == "postgresql":
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('expense_claims', 'id'), {n_claims})"))
    db.session.commit()
    return sups, finance, current


def run(url, n_claims, repeat):
    app = create_app(TestingConfig, DATABASE_URL=url, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context(), app.test_request_context():
        upgrade()
        t0 = time.perf_counter()
        sups, finance, current = load(n_claims, random.Random(1), Month.of(es.business_today()))
        n_lines = db.session.execute(text("SELECT count(*) FROM expense_lines")).scalar_one()
        print(f"  loaded {n_claims:,} claims with {n_lines:,} lines in {time.perf_counter() - t0:.0f} s", flush=True)
        sup = sups[0]
        queue = es.approval_queue(sup)
        claim = queue[len(queue) // 2]
        conn = db.session.connection()

        def bare_budget():
            conn.execute(text(
                "SELECT l.category, c.status, sum(coalesce(l.approved_fen, l.amount_fen)) FROM expense_lines l "
                "JOIN expense_claims c ON c.id = l.claim_id WHERE c.budget_region_id = :r AND c.month = :m "
                "AND c.id <> :c AND c.status IN ('submitted', 'second_approval', 'approved', 'paid') "
                "GROUP BY l.category, c.status"), {"r": claim.budget_region_id, "m": claim.month, "c": claim.id}).all()
            conn.execute(text("SELECT category, amount_fen FROM expense_budgets WHERE region_id = :r AND month = :m"),
                         {"r": claim.budget_region_id, "m": claim.month}).all()

        floor = timed(bare_budget, repeat * 10)
        uses = timed(lambda: es.budget_uses(claim), repeat * 10)
        print(f"  one claim's budget figures: {uses:.2f} ms (bare SQL {floor:.2f} ms: ratio {uses / floor:.1f})",
              flush=True)
        flags = timed(lambda: es.claim_flags(claim), repeat * 10)
        print(f"  one claim's flags (caps, duplicate receipts, budget): {flags:.2f} ms", flush=True)
        db.session.expire_all()
        q = timed(lambda: es.approval_queue(sup), repeat)
        print(f"  a supervisor's approval queue ({len(queue)} claims waiting): {q:.0f} ms", flush=True)
        page = timed(lambda: es.flags_for(es.approval_queue(sup)), repeat)
        one_by_one = timed(lambda: [es.claim_flags(c) for c in es.approval_queue(sup)], repeat)
        print(f"  the queue with every claim's flags one claim at a time: {one_by_one:.0f} ms", flush=True)
        print(f"  the queue with every claim's flags (the queue page): {page:.0f} ms "
              f"({page / len(queue):.2f} ms a claim)", flush=True)
        dash = timed(lambda: (es.waiting_for(sup), es.waiting_for(finance)), repeat)
        print(f"  dashboard counts of a supervisor and finance: {dash:.0f} ms", flush=True)

        def approve_one():
            c = es.approval_queue(sup)[0]
            begin_write()
            es.approve(c, by=sup, version=c.version)
            db.session.commit()

        one = timed(approve_one, repeat)
        print(f"  one approval, committed (queue read included): {one:.0f} ms", flush=True)
        from channel.expenses.summary import monthly_summary
        s = timed(lambda: monthly_summary(current.prev(), finance), repeat)
        print(f"  monthly summary of {current.prev()} for finance (every region, category and person): {s:.0f} ms",
              flush=True)
        db.session.remove()
        db.engine.dispose()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--claims", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    on_engines(args.engine, lambda url: run(url, args.claims, args.repeat))


if __name__ == "__main__":
    main()
