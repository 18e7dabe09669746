"""Language choice and the display filters every template uses."""
from flask import current_app, request, session
from flask_babel import format_date, format_datetime, get_locale
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
    },
}


def label(value, group):
    return LABELS.get(group, {}).get(value, value if value is not None else "")


def choices(group):
    return [(k, v) for k, v in LABELS[group].items()]


def select_locale():
    supported = current_app.config["LANGUAGES"]
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


def register_filters(app):
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
            "current_locale": str(get_locale()),
            "is_chinese": is_chinese,
        }
