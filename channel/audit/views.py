from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..auth.permissions import require
from ..core.money import format_fen
from ..extensions import db
from ..i18n import label
from ..masterdata.models import Account, Region
from .models import AuditEntry

# How a recorded value is shown: label groups for codes, money for fen, names for references.
VALUE_LABELS = {"kind": "account_kind", "status": "account_status", "role": "role",
                "field_kind": "field_kind", "active": "active", "is_active_user": "active"}
REFERENCES = {"region_id": Region, "parent_id": Region, "supplier_id": Account, "account_id": Account}


def _names(entries):
    """{(model, id): display name} for every referenced id on this page, in two queries."""
    wanted = {}
    for entry in entries:
        for field, values in (entry.changes or {}).items():
            if field in REFERENCES:
                wanted.setdefault(REFERENCES[field], set()).update(v for v in values if isinstance(v, int))
    names = {}
    for model, ids in wanted.items():
        for obj in db.session.execute(select(model).where(model.id.in_(ids))).scalars():
            names[model, obj.id] = str(obj.path if model is Region else obj)
    return names


def show_value(field, value, names):
    if value is None or value == "" or value == []:
        return "∅"
    if field.endswith("_fen") and isinstance(value, int):
        return format_fen(value)
    if field in VALUE_LABELS:
        return label(value, VALUE_LABELS[field])
    if field in REFERENCES:
        return names.get((REFERENCES[field], value), f"#{value}")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value

bp = Blueprint("audit", __name__)


@bp.route("/admin/audit")
@login_required
def list_entries():
    require("view_audit")
    q = request.args.get("q", "").strip()
    object_type = request.args.get("type", "").strip()
    stmt = select(AuditEntry).options(selectinload(AuditEntry.user)).order_by(AuditEntry.id.desc())
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if q:
        like = f"%{q}%"
        stmt = stmt.outerjoin(User, AuditEntry.user_id == User.id).where(
            or_(AuditEntry.object_label.ilike(like), User.username.ilike(like),
                AuditEntry.action.ilike(like))
        )
    types = db.session.execute(select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)).scalars().all()
    page = db.paginate(stmt, per_page=50, error_out=False)
    names = _names(page.items)
    return render_template("audit/list.html", page=page, q=q, object_type=object_type, types=types,
                           show=lambda field, value: show_value(field, value, names))
