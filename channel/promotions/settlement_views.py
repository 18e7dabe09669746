"""The settlement of a promotion: per region (those the user sees) the figures as they stand
before it is settled (a preview) or as finance settled them, with each participant's row; for
finance, once the promotion has ended, "Approve and post rebates"; and the settlement PDF of a
region (促销结算单), rendered on demand through the web process's render worker, every download
audited.

Who: whoever may see the promotion sees its settlement page, for the regions they see
(services.visible_regions); a distributor, field staff or a supervisor of part of a region only
the rows of the accounts they see, without the region's totals. Only head office settles.

A refused settlement changes nothing and says why: 409 when the promotion moved on meanwhile
(another finance user settled it first: stale or already_settled), 422 for any other refusal
(not ended yet, a date before the last day or in a closed month), 403 for a user who may not.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField
from wtforms.validators import InputRequired, ValidationError

from ..audit.services import record
from ..auth.permissions import can, require
from ..core import promotions as core
from ..core.money import format_fen
from ..extensions import db
from ..ledger.forms import _valid_date
from ..ledger.services import LedgerError
from ..reports.ondemand import send_pdf
from ..transactions import begin_write
from . import services
from .blueprint import bp
from .messages import promotion_message
from .models import Promotion
from .settlement import KIND, settlement_context
from .views import rules_text  # the promotion pages' wording of the rules

PromotionError = core.PromotionError

# The promotion moved on while the user looked at it (someone settled it first): 409.
CONFLICTS = frozenset({"stale", "already_settled"})
FORBIDDEN = frozenset({"not_allowed"})


def _version(form, field):
    if not (field.data or "").isdigit():
        raise ValidationError(_l("The form has expired. Reload the page and try again."))


class SettleForm(FlaskForm):
    """Finance's approval: the promotion's version as seen, and the date the rebates are posted on."""

    version = HiddenField(validators=[_version])
    on = DateField(_l("Settlement date"), validators=[InputRequired(message=_l("Enter the date.")), _valid_date])


def _promotion_or_404(promotion_id) -> Promotion:
    promotion = db.session.get(Promotion, promotion_id)
    if promotion is None:
        abort(404)
    require("view_promotion", promotion)  # 404 for a promotion the user may not see
    return promotion


def _only(promotion):
    """The enrolments the user may see; None for head office (all of them)."""
    if current_user.role in ("admin", "finance"):
        return None
    return {e.id for e in services.visible_enrolments(current_user, promotion)}


def _regions(promotion, region_ids=None):
    """[(RegionFigures, context)] of the regions the user sees (narrowed to region_ids)."""
    visible = {r.region_id for r in services.visible_regions(current_user, promotion)}
    if region_ids is not None:
        visible &= set(region_ids)
    only = _only(promotion)
    return [(rf, settlement_context(promotion, rf, only=only)) for rf in services.figures(promotion, visible)]


def _document_links(regions) -> set:
    """The rebate documents the user may open (their ledger is one the user sees)."""
    return {line.document.number for rf, _ctx in regions for line in rf.lines.values()
            if line.document is not None and can("view_ledger", line.document.account)}


def _page(promotion, form=None, *, alert=None, status=200):
    regions = _regions(promotion)
    shown = services.shown_status(promotion)
    may_settle = can("settle_promotions") and shown == "ended"
    if may_settle and form is None:
        form = SettleForm(formdata=None)
        form.version.data = str(promotion.version)
        form.on.data = services.business_today()
    # What the approval posts (finance sees every region, whole).
    to_pay = sum(rf.paid_fen for rf, _ctx in regions)
    documents = sum(rf.documents for rf, _ctx in regions)
    return render_template("promotions/settlement.html", promotion=promotion, shown=shown, regions=regions,
                           form=form if may_settle else None, to_pay=to_pay, documents=documents, alert=alert,
                           rules=rules_text(promotion), links=_document_links(regions),
                           settlement=promotion.settlements[0] if promotion.settlements else None), status


@bp.route("/<int:promotion_id>/settlement", endpoint="settlement")
@login_required
def show_settlement(promotion_id):
    return _page(_promotion_or_404(promotion_id))


@bp.route("/<int:promotion_id>/settle", methods=["POST"], endpoint="settle")
@login_required
def settle_promotion(promotion_id):
    promotion = _promotion_or_404(promotion_id)
    require("settle_promotions")
    form = SettleForm()
    if not form.validate():
        return _page(promotion, form, status=422)
    begin_write()
    try:
        result = services.settle(promotion, version=int(form.version.data), by=current_user, on=form.on.data)
    except (PromotionError, LedgerError) as err:
        db.session.rollback()
        promotion = _promotion_or_404(promotion_id)
        message = promotion_message(err)
        if err.code in CONFLICTS:
            return _page(promotion, alert=message, status=409)  # as it is now, with a fresh form
        if err.field in ("on", "date"):  # the date: before the last day, or in a closed month
            form.on.errors = [*form.on.errors, message]
            return _page(promotion, form, status=422)
        return _page(promotion, form, alert=message, status=403 if err.code in FORBIDDEN else 422)
    paid = sum(s.paid_fen for s in result.settlements)
    db.session.commit()
    flash(ngettext("%(code)s settled: %(num)s rebate document posted, %(amount)s in all.",
                   "%(code)s settled: %(num)s rebate documents posted, %(amount)s in all.",
                   result.documents, code=promotion.code, amount=format_fen(paid)), "success")
    return redirect(url_for(".settlement", promotion_id=promotion_id))


@bp.route("/<int:promotion_id>/settlement/<int:region_id>.pdf", endpoint="settlement_pdf")
@login_required
def settlement_pdf(promotion_id, region_id):
    promotion = _promotion_or_404(promotion_id)
    found = _regions(promotion, [region_id])
    if not found:
        abort(404)  # not one of the promotion's regions, or not one the user sees
    _rf, context = found[0]
    region_code = context["region"]["code"]
    filename = f"{promotion.code}-{region_code}" + ("" if context["settled"] else "-preview") + ".pdf"

    def audit():
        found = db.session.get(Promotion, promotion_id)
        record("promotion_settlement_downloaded", found, by=current_user, label=f"{found.code} {region_code}",
               changes={"region": region_code, "preview": not context["settled"]})

    return send_pdf(KIND, context, filename, after=audit, unavailable=(
        _("Settlement not available"),
        _("The settlement could not be made just now. Please try again in a minute; if it persists, tell your "
          "administrator.")))
