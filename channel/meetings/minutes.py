"""The minutes (会议纪要) of a monthly meeting: what the PDF prints, as plain data (amounts in
integer fen, dates and aware UTC timestamps, names as text; no ORM objects), for templates/reports/
meeting_minutes.html through the report engine. A planned or held meeting's minutes print as a
draft (only staff see those: a distributor only ever sees published meetings).

The action items print as they stand now (their follow-up goes on after the minutes); the items
carried over as they stood when the meeting was held (services.carried_over). A distributor's copy
holds the targets and action items of its own accounts (itself and its dealers) and the items
raised for no account, as its meeting page does: another account's figures and problems are not
its business."""
from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select

from ..core import meetings as core
from ..db_types import utcnow
from ..extensions import db
from .models import AGENDA_KINDS, ActionItem, Meeting
from .services import business_today, carried_over

KIND = "meeting_minutes"  # registered in reports/engine.py


def _name(user) -> str | None:
    return user.full_name if user is not None else None


def _iso_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _item_status(item, today: date) -> str:
    """open, done, or overdue (open past its due date)."""
    return "overdue" if core.ActionItem(item.id, item.due_on, item.status).overdue(today) else item.status


def account_filter(viewer):
    """account (or None) -> whether the viewer's copy shows what concerns it: everything for
    staff; for a distributor its own account, its dealers', and what concerns no account."""
    if viewer is None or viewer.role != "distributor":
        return lambda account: True
    return lambda account: account is None or viewer.account_id in (account.id, account.supplier_id)


def carried_for(meeting: Meeting, viewer=None) -> list[dict]:
    """services.carried_over, narrowed to what the viewer's copy shows."""
    rows = carried_over(meeting)
    if viewer is None or viewer.role != "distributor" or not rows:
        return rows
    sees = account_filter(viewer)
    items = db.session.execute(select(ActionItem).where(ActionItem.id.in_([r["id"] for r in rows]))).scalars()
    shown = {i.id for i in items if sees(i.account)}
    return [r for r in rows if r["id"] in shown]


def minutes_context(meeting: Meeting, *, viewer=None, today: date | None = None) -> dict:
    """Everything the minutes print (the viewer's copy: see account_filter)."""
    config = current_app.config
    today = today or business_today()
    sees = account_filter(viewer)
    accounts = sorted((a for a in meeting.attendees if a.account_id is not None),
                      key=lambda a: (a.account.kind != "distributor", a.account.code))
    staff = sorted((a for a in meeting.attendees if a.user_id is not None), key=lambda a: a.user.full_name)
    agenda = []
    for kind in AGENDA_KINDS:
        items = [{"seq": i.seq, "title": i.title, "body": i.body or "",
                  "promotion": ({"code": i.promotion.code, "name": i.promotion.name}
                                if i.promotion is not None else None)}
                 for i in meeting.agenda if i.kind == kind]
        if items:
            agenda.append({"kind": kind, "items": items})
    targets = sorted(({"code": t.account.code, "name": t.account.name, "shipment_fen": t.shipment_fen,
                       "payment_fen": t.payment_fen} for t in meeting.targets if sees(t.account)),
                     key=lambda t: t["code"])
    items = [{
        "number": i.number, "title": i.title, "detail": i.detail or "",
        "account": {"code": i.account.code, "name": i.account.name} if i.account is not None else None,
        "owner": i.owner.full_name, "due_on": i.due_on, "status": _item_status(i, today),
        "resolution": i.resolution or "", "resolved_by": _name(i.resolved_by), "resolved_at": i.resolved_at,
    } for i in meeting.action_items if sees(i.account)]
    carried = [{
        "number": c["number"], "title": c["title"], "owner": c["owner"], "due_on": _iso_date(c.get("due_on")),
        "raised_on": _iso_date(c.get("raised_on")), "status": "overdue" if c.get("overdue") else c["status"],
    } for c in carried_for(meeting, viewer)]
    return {
        "company": {"name": config["COMPANY_NAME"], "address": config["COMPANY_ADDRESS"],
                    "phone": config["COMPANY_PHONE"]},
        "id": meeting.id, "title": meeting.title, "month": meeting.month,
        "region": {"code": meeting.region.code, "name": meeting.region.name, "path": meeting.region.path},
        "date": meeting.meeting_date,
        "time": meeting.meeting_time.strftime("%H:%M") if meeting.meeting_time is not None else None,
        "place": meeting.place, "status": meeting.status, "draft": meeting.status != "published",
        "accounts": [{"code": a.account.code, "name": a.account.name, "kind": a.account.kind,
                      "attended": a.attended} for a in accounts],
        "staff": [{"name": a.user.full_name, "role": a.user.role, "attended": a.attended} for a in staff],
        "held": meeting.status != "planned",
        "carried_over": carried,
        "agenda": agenda,
        "targets": targets,
        "targets_total": {"shipment_fen": sum(t["shipment_fen"] for t in targets),
                          "payment_fen": sum(t["payment_fen"] for t in targets)},
        "items": items,
        "summary": meeting.summary or "",
        "held_by": _name(meeting.held_by), "held_at": meeting.held_at,
        "published_by": _name(meeting.published_by), "published_at": meeting.published_at,
        "generated_at": utcnow(),
        "timezone": config["TIMEZONE"],
        "reference": f"M{meeting.id}·v{meeting.version}",
    }
