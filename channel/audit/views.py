from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..auth.permissions import require
from ..extensions import db
from .models import AuditEntry

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
    return render_template("audit/list.html", page=page, q=q, object_type=object_type, types=types)
