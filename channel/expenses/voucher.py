"""The expense voucher (报销单) of one claim: what the PDF prints, as plain data (amounts in integer
fen, dates and aware UTC timestamps, names as text; no ORM objects), for templates/reports/
expense_voucher.html through the report engine (rendered for a web request by
channel.reports.ondemand.send_pdf: a worker process with the configured time and memory limits,
never WeasyPrint in the web process itself)."""
from __future__ import annotations

from flask import current_app

from ..db_types import utcnow
from .models import ExpenseClaim

KIND = "expense_voucher"  # registered in reports/engine.py


def _name(user) -> str | None:
    return user.full_name if user is not None else None


def voucher_context(claim: ExpenseClaim) -> dict:
    """Everything the voucher prints."""
    config = current_app.config
    lines = []
    receipts = 0
    for line in claim.lines:
        count = len(line.receipts)
        receipts += count
        lines.append({
            "date": line.spent_on, "category": line.category, "description": line.description or "",
            "account": ({"code": line.account.code, "name": line.account.name} if line.account else None),
            "nights": line.nights if line.category == "accommodation" else None, "city_tier": line.city_tier,
            "claimed_fen": line.amount_fen, "approved_fen": line.approved_fen,
            "cut_reason": line.cut_reason or "", "receipts": count,
        })
    events = [{"seq": e.seq, "action": e.action, "from_status": e.from_status, "to_status": e.to_status,
               "by": _name(e.by) or "", "at": e.at, "comment": e.comment or "",
               "override_reason": e.override_reason or "", "amount_fen": e.amount_fen} for e in claim.events]
    # Who signs: the approvers so far (first, then second), finance once paid.
    approvers = " / ".join(u.full_name for u in (claim.first_approver, claim.second_approver) if u is not None)
    return {
        "company": {"name": config["COMPANY_NAME"], "address": config["COMPANY_ADDRESS"],
                    "phone": config["COMPANY_PHONE"]},
        "number": claim.number, "status": claim.status, "month": claim.month, "title": claim.title,
        "claimant": {"name": claim.claimant.full_name, "username": claim.claimant.username},
        "region": claim.region.name, "budget_region": claim.budget_region.name,
        "submitted_at": claim.submitted_at,
        "lines": lines,
        "claimed_fen": claim.claimed_fen, "approved_fen": claim.approved_fen, "paid_fen": claim.paid_fen,
        "receipts": receipts,
        "first_approver": _name(claim.first_approver), "second_approver": _name(claim.second_approver),
        "approver": _name(claim.approver), "approved_at": claim.approved_at,
        "paid_on": claim.paid_on, "payment_ref": claim.payment_ref, "paid_by": _name(claim.paid_by),
        "events": events,
        "signatures": {"claimant": claim.claimant.full_name, "approver": approvers,
                       "finance": _name(claim.paid_by) or ""},
        "generated_at": utcnow(),
        "timezone": config["TIMEZONE"],
        "reference": f"{claim.number}·v{claim.version}",
    }
