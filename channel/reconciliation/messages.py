"""What every ReconciliationError code says to a person, in their language (pages and API)."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

MESSAGES = {
    "month_not_closed": _l("%(month)s is not closed yet: close it before issuing its statements."),
    "already_confirmed": _l("This statement is already confirmed; it cannot change any more."),
    "dispute_pending": _l("This statement is disputed: it is re-issued when every disputed line is answered."),
    "changed_since_issue": _l("The ledger of this month changed after the statement was issued: it must be "
                              "re-issued before it can be confirmed or disputed."),
    "month_reopened": _l("%(month)s has been reopened for corrections: the statement can be answered when "
                         "the month is closed again."),
    "stale": _l("The statement changed while you were reading it. Review the new version below, then "
                "confirm or dispute again."),
    "nothing_disputed": _l("Mark at least one line, or describe a missing document."),
    "dispute_reason_required": _l("Say what is wrong with each disputed line."),
    "not_on_statement": _l("%(number)s is not on this statement."),
    "disputed_twice": _l("%(number)s is disputed twice."),
    "amount_positive": _l("The amount must be above zero."),
    "answer_required": _l("Write the answer."),
    "already_answered": _l("This line has already been answered."),
    "nothing_to_reverse": _l("A missing document cannot be reversed: post an adjustment instead."),
    "reason_required": _l("Give a reason."),
    "not_overdue": _l("This reconciliation is not overdue: shipments are not held."),
    "already_released": _l("The hold is already released."),
}


def reconciliation_message(err) -> str:
    template = MESSAGES.get(err.code)
    if template is None:
        return _("The action was refused (%(code)s).", code=err.code)
    info = dict(err.info)
    return str(template) % info if info else str(template)
