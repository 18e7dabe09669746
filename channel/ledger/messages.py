"""What every LedgerError code says to a person, in their language, with money as money.
Shared by the web pages and the API so that both say the same thing."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core.money import format_fen
from ..i18n import label

MESSAGES = {
    "kind_unknown": _l("Unknown document kind."),
    "date_required": _l("Enter a valid date."),
    "lines_required": _l("Add at least one product line."),
    "lines_not_allowed": _l("This kind of document has no product lines."),
    "quantity_positive": _l("Line %(line)s: the quantity must be a whole number above zero."),
    "quantity_too_large": _l("Line %(line)s: the quantity is too large."),
    "price_not_negative": _l("Line %(line)s: the unit price must not be negative."),
    "product_inactive": _l("Line %(line)s: product %(product)s is discontinued and cannot be shipped."),
    "amount_positive": _l("The amount must be above zero."),
    "amount_too_large": _l("The amount is too large."),
    "payment_method_required": _l("Choose how the payment was made."),
    "reason_required": _l("Give a reason."),
    "direction_required": _l("Choose debit or credit."),
    "account_suspended": _l("Account %(account)s is suspended: it accepts no shipments."),
    "period_closed": _l("%(month)s is closed: nothing can be posted into it."),
    "before_closed_period": _l("The books are closed up to %(closed)s: nothing can be posted into %(month)s."),
    "credit_limit": _l("This shipment would exceed the credit limit: limit %(limit)s, balance %(balance)s, "
                       "shortfall %(shortfall)s."),
    "external_ref_conflict": _l("External reference already used by %(number)s with different content "
                                "(%(fields)s)."),
    "reversal_not_reversible": _l("%(number)s is itself a reversal and cannot be reversed; post a new document instead."),
    "already_reversed": _l("%(number)s has already been reversed."),
    "period_not_ended": _l("%(month)s has not ended yet and cannot be closed."),
    "period_already_closed": _l("%(month)s is already closed."),
    "previous_period_open": _l("Close %(previous)s before %(month)s."),
    "period_not_closed": _l("%(month)s is not closed."),
    "reconciliation_hold": _l("Shipments to %(account)s are on hold: its reconciliation of %(month)s is overdue. "
                              "Finance can release the hold with a reason."),
    "policy_link_rebates_only": _l("Only a rebate can be meant for a dealer or pass a payout on."),
    "for_account_not_dealer": _l("%(dealer)s is not a dealer of %(account)s."),
    "pass_on_mismatch": _l("%(number)s is not a payout for %(account)s."),
    "pass_on_exceeds": _l("Only %(left)s of %(number)s is left to pass on."),
    "later_period_closed": _l("Only the latest closed month can be reopened: reopen %(later)s first."),
}

MONEY_INFO = ("limit", "balance", "shortfall", "left")


def ledger_message(err) -> str:
    info = {k: (format_fen(v) if k in MONEY_INFO else v) for k, v in err.info.items()}
    if getattr(err, "differences", None):  # DuplicateConflict: the fields by their names
        info["fields"] = ", ".join(str(label(name, "document_field")) for name in err.differences)
    info.setdefault("number", "")
    info.setdefault("reversal", "")
    template = MESSAGES.get(err.code)
    if template is None:
        return _("The document could not be posted (%(code)s).", code=err.code)
    return str(template) % info if info else str(template)
