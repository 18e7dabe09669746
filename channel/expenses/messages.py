"""What every ExpenseError code says to a person, in their language (pages and API)."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core.money import format_fen
from ..i18n import label

MESSAGES = {
    # the state machine (channel.core.expenses)
    "not_a_draft": _l("This claim is no longer a draft (it is %(status)s): it cannot be changed."),
    "not_your_claim": _l("Only the person who claims may change or submit this claim."),
    "nothing_claimed": _l("Add at least one line before submitting."),
    "already_paid": _l("This claim is already paid."),
    "not_approved": _l("Only an approved claim can be paid (this one is %(status)s)."),
    "not_finance": _l("Only finance pays claims."),
    "not_waiting_for_approval": _l("This claim is not waiting for an approval (it is %(status)s)."),
    "own_claim": _l("Nobody approves their own claim."),
    "needs_next_level": _l("A supervisor's own claim is approved at the next level (a manager or an administrator)."),
    "not_your_region": _l("Only a supervisor of the claimant's region approves this claim."),
    "needs_second_approver": _l("The second approval is given by a manager or an administrator."),
    "same_approver_twice": _l("The second approval must come from someone other than the first approver."),
    "category_unknown": _l("Choose a category."),
    "amount_positive": _l("The amount must be above zero."),
    "nights_positive": _l("Nights must be at least 1."),
    "city_tier_unknown": _l("Choose a city tier."),
    "cut_above_claim": _l("The approved amount cannot be above the claimed amount."),
    "amount_negative": _l("The approved amount cannot be below zero."),
    "cut_reason_required": _l("Say why the line is cut."),
    "budget_override_reason_required": _l("Approving this claim takes the budget over by %(over)s: give a "
                                          "reason to approve it anyway."),
    # the services
    "stale": _l("This claim changed while you were looking at it (%(who)s acted; it is now %(status)s). "
                "Look at it again."),
    "title_required": _l("Say what the claim is for."),
    "title_too_long": _l("The purpose is too long (at most 200 characters)."),
    "cannot_claim": _l("You have no region to claim expenses in."),
    "region_not_yours": _l("Choose one of your regions."),
    "month_in_future": _l("The month cannot be in the future."),
    "lines_outside_month": _l("Some lines are dated outside %(month)s: change them first."),
    "has_history": _l("A claim that was submitted before is kept; revise it and submit it again."),
    "amount_invalid": _l("Enter an amount like 128.50."),
    "amount_too_large": _l("The amount is too large."),
    "date_outside_month": _l("The date must be in the claim's month (%(month)s)."),
    "date_in_future": _l("The date cannot be in the future."),
    "city_tier_required": _l("Choose the city tier for accommodation."),
    "description_too_long": _l("The description is too long (at most 200 characters)."),
    "account_unknown": _l("Choose one of your accounts."),
    "line_unknown": _l("That line is not on this claim."),
    "comment_required": _l("Say why the claim is returned."),
    "reference_required": _l("Enter the payment reference."),
    "reference_too_long": _l("The payment reference is too long (at most 64 characters)."),
    "paid_on_in_future": _l("The payment date cannot be in the future."),
    "flagged": _l("Flagged claims are approved one by one."),
    "budget_region_not_top": _l("Budgets are set for the top regions."),
    "budget_amount_invalid": _l("Enter a budget like 20000.00, or leave it empty."),
}


def expense_message(err) -> str:
    template = MESSAGES.get(err.code)
    if template is None:
        return _("The action was refused (%(code)s).", code=err.code)
    info = dict(err.info)
    if "over" in info:
        info["over"] = format_fen(info["over"])
    if "status" in info:
        info["status"] = label(info["status"], "expense_status")
    return str(template) % info if info else str(template)
