"""The minutes PDF (会议纪要) of a meeting: whoever may see the meeting downloads it, in their
language; every download is audited. Before the minutes are published it prints as a draft (only
staff see such a meeting). Rendered on demand by the web process's render worker, never
WeasyPrint in the web process itself."""
import io

from flask import abort, render_template, send_file
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..audit.services import record
from ..auth.permissions import require
from ..extensions import db
from ..i18n import current_language
from ..reports.ondemand import RenderUnavailable, render_now
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
    db.session.rollback()  # the read ends here: no transaction held while the worker renders
    try:
        pdf = render_now(KIND, context, current_language())
    except RenderUnavailable:
        return render_template("errors/error.html", code=503, title=_("Minutes not available"),
                               text=_("The minutes could not be made just now. Please try again in a "
                                      "minute; if it persists, tell your administrator.")), 503
    meeting = db.session.get(Meeting, meeting_id)
    record("minutes_downloaded", meeting, by=current_user, label=str(meeting))
    db.session.commit()
    name = f"minutes-{context['month']}-{context['region']['code']}-M{meeting_id}"
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{name}{'-draft' if context['draft'] else ''}.pdf", max_age=0)
