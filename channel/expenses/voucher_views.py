"""The voucher PDF (报销单) of a claim: whoever may see the claim downloads it, in their language;
every download is audited. Rendered on demand (a claim's voucher changes with every step, and
takes a fraction of a second) by a render worker process, never in the web process."""
import io

from flask import abort, render_template, send_file
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..audit.services import record
from ..auth.permissions import require
from ..extensions import db
from ..i18n import current_language
from .blueprint import bp
from .models import ExpenseClaim
from .voucher import VoucherUnavailable, render_voucher, voucher_context


@bp.route("/<int:claim_id>/voucher.pdf", endpoint="voucher")
@login_required
def voucher(claim_id):
    claim = db.session.get(ExpenseClaim, claim_id)
    if claim is None:
        abort(404)
    require("view_claim", claim)  # 404 for a claim out of scope
    context = voucher_context(claim)
    db.session.rollback()  # the read ends here: no transaction held while the worker renders
    try:
        pdf = render_voucher(context, current_language())
    except VoucherUnavailable:
        return render_template("errors/error.html", code=503, title=_("Voucher not available"),
                               text=_("The voucher could not be made just now. Please try again in a "
                                      "minute; if it persists, tell your administrator.")), 503
    claim = db.session.get(ExpenseClaim, claim_id)
    record("voucher_downloaded", claim, by=current_user, label=claim.number)
    db.session.commit()
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{context['number']}.pdf", max_age=0)
