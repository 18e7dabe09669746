"""The settlement of a promotion in one region (促销结算单): what the settlement page and the PDF
show, as plain data (amounts in integer fen, dates and aware UTC timestamps, names as text; no
ORM objects), for templates/promotions/settlement.html and, through the report engine,
templates/reports/promotion_settlement.html.

Before finance settles it is a preview: the figures as they stand (the ledger's net shipments
in the period and the verified execution). Once settled it is what finance approved: the stored
settlement lines with the rebate document of each participant paid, whatever the ledger shows
since (channel.promotions.services.figures).
"""
from __future__ import annotations

from flask import current_app

from ..core import plans as plan_core
from ..db_types import utcnow
from . import services as ps
from .models import Promotion

KIND = "promotion_settlement"  # registered in reports/engine.py


def _account(account) -> dict | None:
    return {"code": account.code, "name": account.name} if account is not None else None


def reference(promotion: Promotion, region) -> str:
    """What the PDF's footer names: the promotion, the region and the version of the promotion
    the figures belong to."""
    return f"{promotion.code}·{region.code}·v{promotion.version}"


def terms(promotion: Promotion) -> dict:
    """The promotion's terms as the settlement states them."""
    products = sorted((pp.product for pp in promotion.products), key=lambda p: p.code)
    units = {p.unit for p in products}
    return {
        "code": promotion.code, "name": promotion.name, "description": promotion.description or "",
        "kind": promotion.kind, "rate": promotion.rate,
        # percent: basis points as a percentage with two decimals (150 -> "1.50"), no float
        "rate_pct": f"{promotion.rate // 100}.{promotion.rate % 100:02d}" if promotion.kind == "percent" else None,
        "min_quantity": promotion.min_quantity, "cap_fen": promotion.cap_fen,
        "starts_on": promotion.starts_on, "ends_on": promotion.ends_on, "days": promotion.days,
        "products": [{"code": p.code, "name": p.name, "unit": p.unit} for p in products],
        "unit": units.pop() if len(units) == 1 else None,  # the unit quantities count in, if one
    }


def settlement_context(promotion: Promotion, region_figures: ps.RegionFigures, *, only=None,
                       reference_text: str | None = None) -> dict:
    """One region's settlement. `only`: the enrolment ids the reader may see (a distributor its
    own and its dealers'); the region's totals are then left out, and the totals are those of the
    rows shown."""
    config = current_app.config
    rf = region_figures
    settled = rf.settled
    rows = []
    for e in rf.enrolments:
        if only is not None and e.id not in only:
            continue
        part = rf.participations[e.id]
        line = rf.lines.get(e.id)
        document = line.document if line is not None else None
        if document is not None:
            through = document.account if document.for_account_id is not None else None
        else:
            through = ps.paid_through(e.account)
        rows.append({
            "enrolment_id": e.id, "account_id": e.account_id,
            "code": e.account.code, "name": e.account.name, "kind": e.account.kind,
            "region": e.account.region.name,
            "through": _account(through),
            "target_qty": e.target_qty, "target_outlets": e.target_outlets,
            "net_qty": part.net_qty, "net_fen": part.net_fen,
            "verified_outlets": part.verified_outlets, "verified": part.verified,
            "earned_fen": rf.settlement.earned[e.id], "paid_fen": rf.settlement.paid[e.id],
            "cut_fen": rf.settlement.earned[e.id] - rf.settlement.paid[e.id],
            "document": document.number if document is not None else None,
            "document_date": document.document_date if document is not None else None,
        })
    partial = only is not None and len(rows) < len(rf.enrolments)
    region = rf.region.region
    return {
        "company": {"name": config["COMPANY_NAME"], "address": config["COMPANY_ADDRESS"],
                    "phone": config["COMPANY_PHONE"]},
        "promotion": terms(promotion),
        "status": "settled" if settled is not None else ps.shown_status(promotion),
        "settled": settled is not None,
        "region": {"id": region.id, "code": region.code, "name": region.name, "path": region.path},
        "budget_fen": rf.budget_fen,
        "short": rf.short,
        # What share of the rewards the budget pays when it runs short (one decimal, as text).
        "covered_pct": str(plan_core.percent(rf.budget_fen, rf.earned_fen)) if rf.short else None,
        "participants": rows,
        "totals": {key: sum(r[key] for r in rows) for key in
                   ("net_qty", "net_fen", "verified_outlets", "earned_fen", "paid_fen", "cut_fen")}
        | {"documents": sum(1 for r in rows if r["paid_fen"] > 0)},
        "partial": partial,
        "region_totals": None if partial else {
            "participants": len(rf.enrolments), "earned_fen": rf.earned_fen, "paid_fen": rf.paid_fen,
            "left_fen": rf.left_fen, "documents": rf.documents},
        "posted_on": settled.posted_on if settled is not None else None,
        "approved_by": settled.approved_by.full_name if settled is not None else None,
        "approved_at": settled.approved_at if settled is not None else None,
        "generated_at": utcnow(),
        "timezone": config["TIMEZONE"],
        "reference": reference_text or reference(promotion, region),
    }
