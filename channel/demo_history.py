"""A year of believable ledger history for the demo company, through the real services.

Every account in both tiers: an opening balance, shipments with product lines, payments by bank
transfer, cash and acceptance bill (承兑汇票), some returns, quarterly rebates for the general
distributors, a few reversals (红冲) with their corrected documents, two dealers falling behind
(overdue), one dealer at its credit limit; every month before the current one closed. Then the
reconciliation history (demo_reconciliation), the expense claims (demo_expenses), the
ten-day plans (demo_plans), the promotions (demo_promotions; their stock in the past months is
posted before those months close) and the monthly meetings (demo_meetings).
Deterministic: the same `today` gives the same history.
"""
import random
from datetime import date, timedelta

from sqlalchemy import select

from .auth.models import User
from .core.periods import Month
from .extensions import db
from .ledger.services import LedgerError, LineInput, close_period, current_balance, post_document, reverse_document
from .demo_expenses import load_expenses
from .demo_meetings import load_meetings
from .demo_plans import load_plans
from .demo_promotions import load_promotions, stock_up
from .demo_reconciliation import close_day, load_reconciliation, post_payouts
from .masterdata.models import Account, Product

SLOW_PAYERS = ("DL-TJ002", "DL-GZ003")  # pay about half of what they buy: overdue
AT_LIMIT = "DL-BJ003"  # shipped up to its credit limit in the current month
SUSPENDED_SINCE_MONTHS = 3  # DL-TJ005 stopped paying three months ago (it is suspended)


def _poster(account, users):
    return users["finance"] if account.supplier_id is None else users[f"dist:{account.supplier_id}"]


def _day(month: Month, rng, lo=1, hi=28, today=None):
    day = month.first_day + timedelta(days=rng.randint(lo, min(hi, month.days)) - 1)
    return min(day, today) if today else day


def load_history(today: date, seed: int = 2026):
    rng = random.Random(seed)
    first = Month.of(today) - 12
    accounts = db.session.execute(select(Account).order_by(Account.code)).scalars().all()
    products = [p for p in db.session.execute(select(Product).order_by(Product.code)).scalars() if p.active]
    users = {"finance": db.session.execute(select(User).where(User.username == "finance")).scalar_one()}
    for user in db.session.execute(select(User).where(User.role == "distributor")).scalars():
        users[f"dist:{user.account_id}"] = user
    seq = 0

    def post(**kw):
        nonlocal seq
        seq += 1
        kw.setdefault("external_ref", f"DEMO-{seq:06d}")
        try:
            return post_document(**kw).document
        except LedgerError as err:
            if err.code in ("credit_limit", "account_suspended"):
                return None
            raise

    for account in accounts:
        by = _poster(account, users)
        big = account.kind == "distributor" or account.supplier_id is None
        suspended = account.status == "suspended"
        if suspended:
            account.status = "active"  # it traded normally before it was suspended
        limit = account.credit_limit_fen
        post(kind="opening", account=account, on=first.first_day, by=by, direction="debit",
             amount_fen=rng.randrange(limit // 10, limit // 4, 100) if limit else 10_000,
             memo="系统上线期初余额")
        owed_last_month = 0
        for month in Month.range(first, Month.of(today)):
            if month.first_day > today:
                break
            is_current = month == Month.of(today)
            stopped = suspended and Month.of(today) - month <= SUSPENDED_SINCE_MONTHS
            shipped = 0
            if not (suspended and Month.of(today) - month < SUSPENDED_SINCE_MONTHS):
                for _ in range(rng.randint(3, 5) if big else rng.randint(1, 3)):
                    picks = rng.sample(products, rng.randint(2, 4) if big else rng.randint(1, 3))
                    lines = [LineInput(p, rng.randint(40, 260) if big else rng.randint(5, 50), p.list_price_fen)
                             for p in picks]
                    doc = post(kind="shipment", account=account, on=_day(month, rng, today=today), by=by,
                               lines=lines, memo=rng.choice(["", "", "月度补货", "促销备货", "节前备货"]))
                    if doc is not None:
                        shipped += doc.amount_fen
            # Payments settle last month's shipments (most of them), a little late.
            share = 0.5 if account.code in SLOW_PAYERS else (0 if stopped else 0.95)
            pay = int(owed_last_month * share) // 100 * 100
            if pay > 0 and not (is_current and today.day < 12):
                method = rng.choice(["bank_transfer"] * 6 + ["acceptance_bill"] * (2 if big else 0) + ["cash"] * (0 if big else 2))
                post(kind="payment", account=account, on=_day(month, rng, 5, 20, today), by=by,
                     amount_fen=pay, payment_method=method,
                     bank_ref=f"{'CDHP' if method == 'acceptance_bill' else 'BT'}{rng.randint(10**8, 10**9 - 1)}"
                     if method != "cash" else None)
            if shipped and rng.random() < 0.12:
                product = rng.choice(products)
                post(kind="return", account=account, on=_day(month, rng, 15, 28, today), by=by,
                     lines=[LineInput(product, rng.randint(1, 8), product.list_price_fen)], memo="破损退货")
            if account.kind == "distributor" and month.month in (3, 6, 9, 12) and not is_current:
                post(kind="rebate", account=account, on=month.last_day, by=by,
                     amount_fen=rng.randrange(500_000, 2_000_000, 100), memo=f"{month.year}年第{month.month // 3}季度返利")
            owed_last_month = shipped
        if suspended:
            account.status = "suspended"
        db.session.flush()
    _corrections(rng, accounts, users, today)
    _at_limit(accounts, users, products, today)
    post_payouts(Month.of(today).prev(), users, today)
    stock_up(today)  # a promotion's stock in the past months, while they are still open
    db.session.commit()
    for month in Month.range(first, Month.of(today).prev()):
        # Closed two days after the month ended; the close issues the company's statements.
        close_period(month, by=users["finance"], today=close_day(month, today))
    db.session.commit()
    load_reconciliation(today, users)
    load_expenses(today)
    load_plans(today)
    load_promotions(today)
    load_meetings(today)


def _corrections(rng, accounts, users, today):
    """A few wrong shipments reversed (红冲) and posted again correctly, in the current month."""
    from .ledger.models import Document

    for code in ("GD-BJ01", "GD-SH01", "DL-SH002"):
        account = next(a for a in accounts if a.code == code)
        doc = db.session.execute(
            select(Document).where(Document.account_id == account.id, Document.kind == "shipment")
            .order_by(Document.document_date.desc())
        ).scalars().first()
        if doc is None or doc.document_date < Month.of(today).first_day:
            continue
        by = _poster(account, users)
        reverse_document(doc, reason="单价录入错误，红冲后重开", on=doc.document_date, by=by)
        lines = [LineInput(ln.product, ln.quantity, ln.unit_price_fen * 95 // 100) for ln in doc.lines]
        post_document(kind="shipment", account=account, on=doc.document_date, by=by, lines=lines,
                      memo=f"更正 {doc.number}", override_reason="更正单据")


def _at_limit(accounts, users, products, today):
    """Ship to one dealer up to exactly its credit limit."""
    account = next(a for a in accounts if a.code == AT_LIMIT)
    room = account.credit_limit_fen - current_balance(account)
    product = max((p for p in products if p.list_price_fen <= room), key=lambda p: p.list_price_fen, default=None)
    if product is None or room <= 0:
        return
    quantity = room // product.list_price_fen
    if quantity:
        post_document(kind="shipment", account=account, on=today, by=_poster(account, users),
                      lines=[LineInput(product, quantity, product.list_price_fen)], memo="旺季备货")
    rest = account.credit_limit_fen - current_balance(account)
    if rest > 0:  # top up to the fen with an adjustment (freight charged on)
        post_document(kind="adjustment", account=account, on=today, by=_poster(account, users),
                      direction="debit", amount_fen=rest, reason="代垫运费")
