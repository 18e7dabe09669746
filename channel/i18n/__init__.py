"""Language choice and the display filters every template uses."""
from babel import Locale
from flask import current_app, g, has_request_context, request, session
from flask_babel import LazyString, format_date, format_datetime, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..core.money import format_fen

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}

LABELS = {
    "role": {
        "admin": _l("Administrator"),
        "finance": _l("Finance"),
        "supervisor": _l("Channel supervisor"),
        "field_staff": _l("Field staff"),
        "distributor": _l("Distributor"),
    },
    "field_kind": {
        "rep": _l("Sales representative"),
        "merchandiser": _l("Merchandiser"),
        "promoter": _l("Promoter"),
    },
    "account_kind": {"distributor": _l("General distributor"), "dealer": _l("Dealer")},
    "account_status": {"active": _l("Active"), "suspended": _l("Suspended")},
    "active": {True: _l("Active"), False: _l("Inactive")},
    "audit_action": {
        "created": _l("Created"),
        "updated": _l("Updated"),
        "deleted": _l("Deleted"),
        "password_set": _l("Password reset"),
        "password_changed": _l("Password changed"),
        "login": _l("Logged in"),
        "logout": _l("Logged out"),
        "sessions_ended": _l("Sessions ended"),
        "demo_data_loaded": _l("Demo data loaded"),
        "period_closed": _l("Month closed"),
        "period_reopened": _l("Month reopened"),
        "reversed": _l("Reversed"),
        "credit_override": _l("Credit limit overridden"),
        "run_requested": _l("Run requested"),
        "retry_requested": _l("Retry requested"),
        "reports_requested": _l("Reports requested"),
        "report_downloaded": _l("Report downloaded"),
        "statements_issued": _l("Statements issued"),
        "statement_confirmed": _l("Statement confirmed"),
        "statement_disputed": _l("Statement disputed"),
        "dispute_answered": _l("Dispute answered"),
        "hold_released": _l("Shipment hold released"),
        "settings_changed": _l("Settings changed"),
        "expense_claim_created": _l("Expense claim created"),
        "expense_claim_changed": _l("Expense claim changed"),
        "expense_claim_deleted": _l("Expense claim deleted"),
        "expense_claim_submitted": _l("Expense claim submitted"),
        "expense_claim_approved": _l("Expense claim approved"),
        "expense_claim_rejected": _l("Expense claim returned"),
        "expense_claim_paid": _l("Expense claim paid"),
        "expense_budget_override": _l("Expense budget overridden"),
        "expense_budget_set": _l("Expense budget set"),
        "receipt_downloaded": _l("Receipt opened"),
        "voucher_downloaded": _l("Expense voucher downloaded"),
        "plan_created": _l("Plan created"),
        "plan_submitted": _l("Plan submitted"),
        "plan_approved": _l("Plan approved"),
        "plan_sent_back": _l("Plan sent back"),
        "plan_changed": _l("Plan changed after it locked"),
        "plan_variance_note": _l("Variance note written"),
        "meeting_created": _l("Meeting scheduled"),
        "meeting_changed": _l("Meeting changed"),
        "meeting_deleted": _l("Meeting cancelled"),
        "meeting_held": _l("Meeting held"),
        "meeting_published": _l("Minutes published"),
        "meeting_agenda_added": _l("Agenda item added"),
        "meeting_agenda_removed": _l("Agenda item removed"),
        "meeting_targets_set": _l("Monthly targets set"),
        "minutes_downloaded": _l("Minutes downloaded"),
        "action_item_raised": _l("Action item raised"),
        "action_item_changed": _l("Action item changed"),
        "action_item_resolved": _l("Action item resolved"),
        "action_item_reopened": _l("Action item reopened"),
        "promotion_created": _l("Promotion created"),
        "promotion_changed": _l("Promotion changed"),
        "promotion_deleted": _l("Promotion deleted"),
        "promotion_published": _l("Promotion published"),
        "promotion_enrolled": _l("Account enrolled in a promotion"),
        "promotion_targets_changed": _l("Promotion targets changed"),
        "promotion_withdrawn": _l("Account withdrawn from a promotion"),
        "execution_reported": _l("Execution reported"),
        "execution_verified": _l("Execution verified"),
        "execution_rejected": _l("Execution rejected"),
        "promotion_settled": _l("Promotion settled"),
        "promotion_settlement_downloaded": _l("Promotion settlement downloaded"),
    },
    # Reconciliation (channel/reconciliation/models.py); "overdue" and "not_issued" are shown, not stored.
    "reconciliation_status": {
        "issued": _l("Awaiting answer"),
        "disputed": _l("Disputed"),
        "confirmed": _l("Confirmed"),
        "overdue": _l("Overdue"),
        "not_issued": _l("Not issued"),
    },
    "dispute_status": {"open": _l("Waiting for an answer"), "explained": _l("Explained"), "corrected": _l("Corrected")},
    "reconciliation_event": {
        "issued": _l("Issued"),
        "reissued": _l("Re-issued"),
        "confirmed": _l("Confirmed"),
        "disputed": _l("Disputed"),
        "explained": _l("Explained"),
        "corrected": _l("Corrected through the ledger"),
        "hold_released": _l("Shipment hold released"),
    },
    "overdue_action": {"none": _l("Nothing"), "warn": _l("Warning"), "hold": _l("Hold")},
    # Ten-day plans (channel/plans/models.py, channel/core/plans.py); "locked" and "none" are shown, not stored.
    "plan_status": {
        "draft": _l("Draft"),
        "submitted": _l("Waiting for approval"),
        "approved": _l("Approved"),
        "locked": _l("Locked"),
        "none": _l("No plan"),
    },
    "plan_action": {
        "submit": _l("Submitted"),
        "approve": _l("Approved"),
        "send_back": _l("Sent back"),
        "change": _l("Changed after it locked"),
    },
    # Monthly meetings (channel/meetings/models.py, channel/core/meetings.py).
    "meeting_status": {"planned": _l("Planned"), "held": _l("Held"), "published": _l("Minutes published")},
    "agenda_kind": {"market": _l("Market information"), "policy": _l("Policy and promotions"), "other": _l("Other")},
    "item_status": {"open": _l("Not resolved yet"), "done": _l("Resolved"), "overdue": _l("Overdue")},
    # Promotions (channel/promotions/models.py, channel/core/promotions.py); running and ended follow the dates.
    "promotion_status": {
        "draft": _l("Draft"),
        "published": _l("Published, not started"),
        "running": _l("In progress"),
        "ended": _l("Ended, to be settled"),
        "settled": _l("Settled"),
    },
    "promotion_kind": {
        "per_unit": _l("Rebate per unit shipped"),
        "percent": _l("Percentage rebate on net shipments"),
        "per_outlet": _l("Reward per outlet stocked"),
        "display_fee": _l("Display fee"),
    },
    "execution_status": {"submitted": _l("Waiting for verification"), "verified": _l("Verified"),
                      "rejected": _l("Rejected")},
    "tenday": {1: _l("first ten days"), 2: _l("second ten days"), 3: _l("last ten days")},
    # Expenses (channel/expenses/models.py, channel/core/expenses.py).
    "expense_status": {
        "draft": _l("Draft"),
        "submitted": _l("Waiting for approval"),
        "second_approval": _l("Waiting for second approval"),
        "approved": _l("Approved, to be paid"),
        "paid": _l("Paid"),
    },
    "expense_category": {
        "travel": _l("Travel"),
        "accommodation": _l("Accommodation"),
        "local_transport": _l("Local transport"),
        "meal": _l("Meal allowance"),
        "supplement": _l("Supplement"),
        "misc": _l("Miscellaneous"),
        "entertainment": _l("Customer entertainment"),
        "other": _l("Other"),
        "total": _l("Total"),
    },
    "expense_action": {
        "submit": _l("Submitted"),
        "approve": _l("Approved"),
        "reject": _l("Returned"),
        "pay": _l("Paid"),
    },
    "city_tier": {1: _l("Tier 1 city"), 2: _l("Tier 2 city"), 3: _l("Tier 3 city or below")},
    "expense_flag": {
        "over_day_cap": _l("Over the daily allowance"),
        "over_night_cap": _l("Over the nightly accommodation cap"),
        "duplicate_receipt": _l("Receipt also on another claim"),
        "over_budget": _l("Over budget"),
    },
    # The ledger (channel/ledger/models.py).
    "document_kind": {
        "shipment": _l("Shipment"),
        "payment": _l("Payment received"),
        "return": _l("Return"),
        "rebate": _l("Rebate"),
        "adjustment": _l("Adjustment"),
        "opening": _l("Opening balance"),
    },
    "direction": {"debit": _l("Debit"), "credit": _l("Credit")},
    "payment_method": {
        "bank_transfer": _l("Bank transfer"),
        "cash": _l("Cash"),
        "acceptance_bill": _l("Bank acceptance bill"),
    },
    "period_status": {"open": _l("Open"), "closed": _l("Closed")},
    # Scheduled job runs (channel/system/models.py).
    "job_status": {
        "waiting": _l("Waiting"),
        "running": _l("Running"),
        "done": _l("Done"),
        "failed": _l("Failed"),
    },
    # The report archive (channel/reports/models.py).
    "report_kind": {"settlement": _l("Monthly settlement")},
    "report_status": {
        "queued": _l("Queued"),
        "running": _l("Rendering"),
        "done": _l("Ready"),
        "failed": _l("Failed"),
        "downloaded": _l("Downloaded"),
    },
    # What differs when an external reference comes again with other content.
    "document_field": {
        "kind": _l("Kind"), "account": _l("Account"), "date": _l("Date"), "amount": _l("Amount"),
        "direction": _l("Debit or credit"), "lines": _l("Lines"), "payment_method": _l("Payment method"),
        "bank_ref": _l("Bank reference"), "memo": _l("Memo"), "reason": _l("Reason"),
        "for_account": _l("For dealer"), "passes_on": _l("Passes on"),
    },
    # Field names as the audit log records them.
    "field": {
        "code": _l("Code"), "name": _l("Name"), "kind": _l("Kind"), "supplier_id": _l("Supplier"),
        "region_id": _l("Region"), "parent_id": _l("Parent region"), "contact_name": _l("Contact"),
        "phone": _l("Phone"), "address": _l("Address"), "credit_limit_fen": _l("Credit limit"),
        "payment_terms_days": _l("Payment terms (days)"), "status": _l("Status"),
        "notes": _l("Archive notes"), "unit": _l("Unit"), "list_price_fen": _l("List price"),
        "active": _l("Active"), "username": _l("Username"), "full_name": _l("Full name"),
        "email": _l("E-mail"), "role": _l("Role"), "field_kind": _l("Field staff kind"),
        "account_id": _l("Distributor account"), "is_active_user": _l("Active"),
        "locale": _l("Language"), "regions": _l("Supervised regions"),
        "cron": _l("Schedule (cron)"), "enabled": _l("Enabled"),
        "answer_days": _l("Days to confirm or dispute"), "overdue_action": _l("Overdue reconciliation"),
        "second_approver": _l("Second approvals of expense claims"),
    },
    # AuditEntry.object_type: the table name, or "system". Unknown types show as they are.
    "object_type": {
        "users": _l("User"),
        "accounts": _l("Account"),
        "regions": _l("Region"),
        "products": _l("Product"),
        "settings": _l("Setting"),
        "documents": _l("Document"),
        "periods": _l("Month"),
        "job_schedules": _l("Job schedule"),
        "job_runs": _l("Job run"),
        "reconciliations": _l("Reconciliation"),
        "expense_claims": _l("Expense claim"),
        "expense_budgets": _l("Expense budget"),
        "system": _l("System"),
    },
}


def translations():
    """The request's catalog, looked up once per request and locale rather than per string:
    list pages call gettext hundreds of times, and Flask-Babel's lookup costs more than the
    translation itself."""
    locale = get_locale()
    cached = g.get("_channel_translations")
    if cached is None or cached[0] is not locale:
        cached = g._channel_translations = (locale, get_translations())
    return cached[1]


def label(value, group):
    text = LABELS.get(group, {}).get(value)
    if text is None:
        return value if value is not None else ""
    if isinstance(text, LazyString):
        return translations().ugettext(text._args[0])
    return text


def choices(group):
    return [(k, v) for k, v in LABELS[group].items()]


def select_locale():
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():  # the scheduler, the CLI: messages in the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if getattr(current_user, "is_authenticated", False) and current_user.locale in supported:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in supported:
        return chosen
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"])
    if best in ("zh_CN", "zh"):
        return "zh_CN"
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def is_chinese():
    return str(get_locale()).startswith("zh")


def current_language():
    """The request's language as a LANGUAGES code. Babel names the locale "zh_CN" as
    "zh_Hans_CN" (hence the catalog directory translations/zh_Hans_CN), so compare parsed."""
    locale = get_locale()
    for code in current_app.config["LANGUAGES"]:
        if locale is not None and Locale.parse(code) == locale:
            return code
    return str(locale)


def register_filters(app):
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.filters["money"] = format_fen
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["date"] = lambda d, fmt="medium": format_date(d, fmt) if d else ""
    app.jinja_env.filters["datetime"] = (
        lambda d, fmt="medium": format_datetime(d, fmt) if d else ""
    )

    @app.context_processor
    def _i18n_globals():
        return {
            "LANGUAGE_NAMES": LANGUAGE_NAMES,
            "current_locale": current_language(),
            "is_chinese": is_chinese,
        }
