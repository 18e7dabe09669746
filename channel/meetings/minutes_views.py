"""The minutes PDF (会议纪要) of a meeting: whoever may see the meeting downloads it, in their
language; every download is audited. Before the minutes are published it prints as a draft (only
staff see such a meeting). Rendered on demand by the web process's render worker, never
WeasyPrint in the web process itself."""
from flask import abort
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..audit.services import record
from ..auth.permissions import require
from ..extensions import db
from ..reports.ondemand import send_pdf
from .blueprint import bp
from .minutes import KIND, minutes_context
from .models import Meeting


@bp.route("/<int:meeting_id>/minutes.pdf", endpoint="minutes")
@login_required
def minutes(meeting_id):
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    require("view_meeting", meeting)  # 404 for a meeting out of scope (or unpublished, for an account)
    context = minutes_context(meeting, viewer=current_user)
    name = f"minutes-{context['month']}-{context['region']['code']}-M{meeting_id}"

    def audit():
        found = db.session.get(Meeting, meeting_id)
        record("minutes_downloaded", found, by=current_user, label=str(found))

    return send_pdf(KIND, context, f"{name}{'-draft' if context['draft'] else ''}.pdf", after=audit, unavailable=(
        _("Minutes not available"),
        _("The minutes could not be made just now. Please try again in a minute; if it persists, tell your "
          "administrator.")))
