"""What every PromotionError code says to a person, in their language (pages and API). A ledger
refusal met while settling (a LedgerError from posting the rebates) says what the ledger says."""
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import label
from ..ledger.messages import ledger_message
from ..ledger.services import LedgerError

MESSAGES = {
    # the state of the promotion or report (moved on while the user looked at it)
    "stale": _l("This changed while you were looking at it (someone else acted first). Look at it again."),
    "not_a_draft": _l("This promotion is no longer a draft (it is %(status)s)."),
    "already_settled": _l("This promotion is settled: nothing about it changes any more."),
    "terms_fixed": _l("This promotion is published: its code, type, rates, rules, period, products and regions are "
                      "fixed. Only the name, the description and the budgets may change."),
    "not_open_for_enrolment": _l("Accounts are enrolled while the promotion is published or running (it is "
                                 "%(status)s)."),
    "not_started": _l("Execution is reported once the promotion has started (it is %(status)s)."),
    "already_checked": _l("This report has already been checked (it is %(status)s)."),
    "not_ended": _l("A promotion is settled after its last day (it is %(status)s)."),
    "posting_before_end": _l("The rebates are posted on or after the promotion's last day (%(end)s)."),
    # who may
    "not_allowed": _l("Only head office (finance or an administrator) sets up, publishes and settles promotions."),
    "not_your_region": _l("Only a supervisor of the account's region does this."),
    "own_report": _l("Nobody checks their own execution report."),
    # what was typed
    "required": _l("%(field)s is required."),
    "too_long": _l("%(field)s is too long (at most %(limit)s characters)."),
    "code_taken": _l("The code %(code)s is already used by another promotion."),
    "type_unknown": _l("Choose the type of promotion."),
    "not_negative_whole": _l("%(field)s must be a whole number, 0 or more."),
    "percent_over_100": _l("A percentage rebate is at most 100%%."),
    "too_large": _l("%(field)s is too large."),
    "date_required": _l("Enter the first and the last day of the promotion."),
    "period_backwards": _l("The last day cannot be before the first day."),
    "products_required": _l("Choose at least one product."),
    "product_unknown": _l("Choose products from the list."),
    "regions_required": _l("Give at least one region with its budget."),
    "region_unknown": _l("Choose regions from the list."),
    "regions_overlap": _l("A region and one of its sub-regions cannot both be listed: the larger one already "
                          "includes the smaller."),
    "budget_invalid": _l("Enter each region's budget as an amount of 0 or more, like 20000.00."),
    "account_suspended": _l("Account %(account)s is suspended: it cannot be enrolled."),
    "account_outside_regions": _l("Account %(account)s is not in any of the promotion's regions."),
    "already_enrolled": _l("Account %(account)s is already enrolled."),
    "has_reports": _l("This account has execution reports: it stays enrolled (reject the reports instead)."),
    "date_outside_period": _l("The date must be within the promotion and not in the future (%(start)s to "
                              "%(end)s)."),
    "too_many_photos": _l("At most %(limit)s photos per report."),
    "photo_not_image": _l("Photos must be JPEG or PNG pictures."),
}

# PromotionError.field -> what the field is called in a message.
FIELD_NAMES = {
    "code": _l("Code"),
    "name": _l("Name"),
    "description": _l("Description of the promotion"),
    "kind": _l("Type"),
    "rate": _l("Rate"),
    "min_quantity": _l("Minimum quantity"),
    "cap_fen": _l("Cap per account"),
    "starts_on": _l("First day"),
    "ends_on": _l("Last day"),
    "products": _l("Products"),
    "regions": _l("Regions and budgets"),
    "account": _l("Account"),
    "target_qty": _l("Target quantity"),
    "target_outlets": _l("Target outlets"),
    "executed_on": _l("Date of execution"),
    "outlets": _l("Outlets stocked"),
    "note": _l("Note"),
    "photos": _l("Photos"),
    "reason": _l("Reason"),
    "on": _l("Posting date"),
}


def _date(value):
    if isinstance(value, date):
        return format_date(value)
    try:
        return format_date(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def promotion_message(err) -> str:
    if isinstance(err, LedgerError):
        return ledger_message(err)
    template = MESSAGES.get(err.code)
    if template is None:
        return _("The action was refused (%(code)s).", code=err.code)
    info = dict(getattr(err, "info", {}) or {})
    info["field"] = str(FIELD_NAMES.get(err.field, _("This field")))
    if "status" in info:
        group = "execution_status" if err.code == "already_checked" else "promotion_status"
        info["status"] = label(info["status"], group)
    for key in ("start", "end"):
        if key in info:
            info[key] = _date(info[key])
    return str(template) % info
