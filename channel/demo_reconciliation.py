"""Reconciliation history for the demo company, through the real services.

- Every closed month's company statements were issued two days after the month ended (the
  close issues them). All of them are confirmed, except:
  - last month: 天津 (GD-TJ01) disputes a shipment line (open), 上海 (GD-SH01) disputed one that
    finance corrected with an adjustment (answered, re-issued, waiting for confirmation);
  - 广州 (GD-GZ01) has answered neither of the last two months: overdue.
- The distributors issue their dealers' statements and record the dealers' confirmations;
  for last month 北京 has two dealers not yet settled, 天津 has not issued its dealers'.
- Policy pass-through: the company credited 北京 payouts for two dealers last month; 北京 passed
  one on in full and the other only in part (a gap), 上海 passed its one on in full.
"""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from .auth.models import User
from .core.periods import Month
from .extensions import db
from .ledger.models import Document, Period
from .ledger.services import post_document
from .masterdata.models import Account
from .reconciliation import services as rs

DISPUTING = "GD-TJ01"
ANSWERED = "GD-SH01"
SILENT = "GD-GZ01"  # overdue: answers nothing for the last two months
DEALERS_PENDING = ("DL-BJ004", "DL-BJ005")  # 北京's dealers not yet settled last month
NOT_ISSUING = "GD-TJ01"  # has not issued its dealers' statements of last month
# (distributor, dealer, payout yuan, passed on yuan): 北京 keeps ¥1,200.00 of DL-BJ002's payout.
PAYOUTS = [("GD-BJ01", "DL-BJ002", 3_000_00, 1_800_00), ("GD-BJ01", "DL-BJ001", 1_500_00, 1_500_00),
           ("GD-SH01", "DL-SH001", 2_400_00, 2_400_00)]


def close_day(month: Month, today):
    """When finance closed `month` in the demo's past: two days after it ended."""
    return min(today, month.last_day + timedelta(days=2))


def post_payouts(month: Month, users, today):
    """Last month's policy payouts for dealers and what the distributors passed on (before the
    month is closed)."""
    accounts = {a.code: a for a in db.session.execute(select(Account)).scalars()}
    day = min(today, month.first_day + timedelta(days=14))
    for n, (dist, dealer, paid, passed) in enumerate(PAYOUTS, start=1):
        payout = post_document(kind="rebate", account=accounts[dist], on=day, amount_fen=paid,
                               for_account=accounts[dealer], by=users["finance"],
                               external_ref=f"DEMO-PAYOUT-{n}",
                               memo=f"{month.month}月陈列奖励（{accounts[dealer].name}）").document
        rs.pass_on(payout, amount_fen=passed, on=min(today, day + timedelta(days=5)),
                   by=users[f"dist:{accounts[dist].id}"], memo=f"兑现 {payout.number}")


def _at(day, hour):
    return datetime.combine(day, time(hour), ZoneInfo(current_app.config["TIMEZONE"]))


def load_reconciliation(today, users):
    closed = sorted(Month.parse(m) for m in db.session.execute(
        select(Period.month).where(Period.status == "closed")).scalars())
    if not closed:
        return
    last = closed[-1]
    for month in closed:
        issued_day = close_day(month, today)
        recs = db.session.execute(select(rs.Reconciliation).where(
            rs.Reconciliation.month == str(month), rs.Reconciliation.supplier_id.is_(None))).scalars().all()
        for rec in recs:
            code = rec.account.code
            if code == SILENT and month >= last.prev():
                continue
            if month == last and code in (DISPUTING, ANSWERED):
                continue
            _confirm(rec, users, issued_day + timedelta(days=3 + rec.account.id % 4))
        # Each distributor settles with its dealers a few days after its own statement.
        for dist in db.session.execute(select(Account).where(Account.kind == "distributor")
                                       .order_by(Account.code)).scalars():
            if month == last and dist.code == NOT_ISSUING:
                continue
            by = users[f"dist:{dist.id}"]
            dealer_day = min(today, issued_day + timedelta(days=4))
            result = rs.issue(rs.issuable_accounts(month, dist), month, by=by, today=dealer_day)
            for rec in result.issued:
                if month == last and (rec.account.code in DEALERS_PENDING or dist.code == SILENT):
                    continue
                _confirm(rec, users, dealer_day + timedelta(days=2), by=by, signed_by=rec.account.contact_name)
    _last_month_disputes(last, users, users["finance"], today)
    rs.save_settings(answer_days=10, overdue_action="warn", by=users["finance"])
    _read_what_was_settled()
    db.session.commit()


def _read_what_was_settled():
    """The notifications of statements answered long ago were read when they came."""
    from .notify.models import Notification

    settled = {f"/reconciliation/{rid}" for rid in db.session.execute(select(rs.Reconciliation.id).where(
        rs.Reconciliation.status == "confirmed")).scalars()}
    for note in db.session.execute(select(Notification).where(Notification.read_at.is_(None))).scalars():
        if note.link in settled:
            note.read_at = note.created_at


def _confirm(rec, users, day, *, by=None, signed_by=None):
    if by is None:
        if rec.account.kind == "distributor":
            by = db.session.execute(select(User).where(User.account_id == rec.account_id)).scalars().first()
        else:  # a dealer the company supplies: finance records its signed statement
            by, signed_by = users["finance"], rec.account.contact_name
    rs.confirm(rec, shown_hash=rec.content_hash, by=by, signed_by=signed_by,
               at=_at(min(day, rec.due_on), 10 + rec.account.id % 7), ip="10.0.8.21")


def _last_month_disputes(month: Month, users, finance, today):
    def rec_of(code):
        account = db.session.execute(select(Account).where(Account.code == code)).scalar_one()
        return rs.find(account, month), account

    def last_shipment(account):
        return db.session.execute(select(Document).where(
            Document.account_id == account.id, Document.kind == "shipment",
            Document.document_date >= month.first_day, Document.document_date <= month.last_day,
            Document.reversal_of_id.is_(None)).order_by(Document.document_date.desc())).scalars().first()

    # 天津: one shipment disputed, waiting for finance.
    rec, account = rec_of(DISPUTING)
    doc = last_shipment(account)
    if rec is not None and doc is not None:
        rs.dispute(rec, shown_hash=rec.content_hash, by=_portal_user(account),
                   lines=[rs.DisputeInput(reason="实收比单据少 10 箱，已附签收单。", document=doc)],
                   note="其余各行无误。", ip="10.0.8.35")
    # 上海: a missing credit note disputed, answered with an adjustment: re-issued.
    rec, account = rec_of(ANSWERED)
    if rec is not None:
        items = rs.dispute(rec, shown_hash=rec.content_hash, by=_portal_user(account),
                           lines=[rs.DisputeInput(reason="上月破损补偿未入账。", missing_date=month.first_day
                                                  + timedelta(days=19), missing_amount_fen=860_00,
                                                  missing_ref="PS-0931")], ip="10.0.8.44")
        rs.answer(items[0], message="核实无误，已调整入账。", by=finance,
                  adjustment=rs.Adjustment(860_00, "credit"), on=today)


def _portal_user(account):
    return db.session.execute(select(User).where(User.account_id == account.id)).scalars().first()
