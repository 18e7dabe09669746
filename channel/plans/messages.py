"""What every PlanError code says to a person, in their language (pages and API)."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import label

MESSAGES = {
    "not_your_plan": _l("Only the account's field staff (or the distributor itself) draft its plan."),
    "not_a_draft": _l("This plan is no longer a draft (it is %(status)s)."),
    "period_over": _l("The period %(period)s is over: its plan cannot change any more."),
    "needs_supervisor": _l("Only a supervisor of the account's region does this."),
    "not_submitted": _l("This plan has not been submitted (it is %(status)s)."),
    "locked": _l("The period %(period)s has started: the approved plan is locked. A supervisor may change "
                 "it with a reason."),
    "approved_send_back": _l("This plan is approved: send it back to change it before its period starts."),
    "not_locked": _l("This plan is not locked: send it back to change it."),
    "reason_required": _l("Give a reason for the change."),
    "comment_required": _l("Say why the plan is sent back."),
    "text_too_long": _l("The text is too long (at most 2,000 characters)."),
    "whole_number": _l("Enter a whole number."),
    "out_of_range": _l("Enter a number from %(minimum)s to %(maximum)s."),
    "product_unknown": _l("Choose a product."),
    "product_twice": _l("%(product)s is listed twice."),
    "payment_date_outside_period": _l("The payment date must be in the period (%(start)s to %(end)s)."),
    "payment_date_required": _l("Give the expected payment date."),
    "period_not_started": _l("The period has not started yet."),
}


def plan_message(err) -> str:
    template = MESSAGES.get(err.code)
    if template is None:
        return _("The action was refused (%(code)s).", code=err.code)
    info = dict(err.info)
    if "status" in info:
        info["status"] = label(info["status"], "plan_status")
    return str(template) % info if info else str(template)
