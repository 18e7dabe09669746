"""The voucher PDF (报销单) of a claim: whoever may see the claim downloads it, in their language;
every download is audited. Rendered on demand (a claim's voucher changes with every step, and
takes a fraction of a second) by a render worker process, never in the web process."""

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..audit.services import record
from ..auth.permissions import require
from ..extensions import db
from ..reports.ondemand import send_pdf
from .blueprint import bp
from .models import ExpenseClaim
from .voucher import KIND, voucher_context


@bp.route("/<int:claim_id>/voucher.pdf", endpoint="voucher")
@login_required
def voucher(claim_id):
    claim = db.session.get(ExpenseClaim, claim_id)
    if claim is None:
        abort(404)
    require("view_claim", claim)  # 404 for a claim out of scope
    context = voucher_context(claim)

    def audit():
        found = db.session.get(ExpenseClaim, claim_id)
        record("voucher_downloaded", found, by=current_user, label=found.number)

    return send_pdf(KIND, context, f"{context['number']}.pdf", after=audit, unavailable=(
        _("Voucher not available"),
        _("The voucher could not be made just now. Please try again in a minute; if it persists, tell your "
          "administrator.")))
