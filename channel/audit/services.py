"""Writing the audit log. Every area records its changes through `record`."""
from flask import has_request_context, request

from ..extensions import db
from .models import AuditEntry


def snapshot(obj, fields):
    """The values of `fields` on `obj`, as JSON-friendly plain values."""
    out = {}
    for name in fields:
        value = getattr(obj, name)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        out[name] = value
    return out


def diff(before: dict, after: dict) -> dict:
    """{field: [before, after]} for every field whose value changed."""
    keys = list(before) + [k for k in after if k not in before]
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def record(action, obj=None, *, by, changes=None, reason=None, object_type=None, label=None):
    entry = AuditEntry(
        action=action,
        user_id=getattr(by, "id", None),
        object_type=object_type or (obj.__tablename__ if obj is not None else "system"),
        object_id=str(obj.id) if obj is not None and getattr(obj, "id", None) is not None else None,
        object_label=(label or (str(obj) if obj is not None else None) or "")[:200] or None,
        changes=changes or None,
        reason=reason,
        address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
