"""Channel: the app factory. Kept short by small init_* helpers."""
import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, g, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import babel, csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_object=None, **overrides):
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
        instance_relative_config=True,
    )
    if config_object is None:
        from config import config_class

        config_object = config_class()
    app.config.from_object(config_object)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("CHANNEL")
    app.config.update(overrides)
    init_config(app)
    init_extensions(app)
    init_i18n(app)
    init_security(app)
    init_blueprints(app)
    init_cli(app)
    return app


def init_config(app):
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        url = "sqlite:///" + os.path.join(app.instance_path, "channel.db")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        # The SQLite default pool keeps one connection per thread; pre-ping is useless there.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {}
    reports = app.config.get("REPORTS_DIR") or os.path.join(app.instance_path, "reports")
    app.config["REPORTS_DIR"] = reports
    # One business time zone (TIMEZONE, CHANNEL_TIMEZONE): Flask-Babel shows times in it.
    try:
        ZoneInfo(app.config["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        raise RuntimeError(f"CHANNEL_TIMEZONE {app.config['TIMEZONE']!r} is not a known time zone.") from None
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["TIMEZONE"]
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "CHANNEL_SECRET_KEY is not set: production refuses to start without a secret key."
        )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # WAL lets readers and one writer work at once; SQLite enforces foreign keys only when asked.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def init_extensions(app):
    from . import models  # noqa: F401  (the whole schema, for Alembic and relationships)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    from .auth.services import load_user_from_session

    login_manager.user_loader(load_user_from_session)
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"


def init_i18n(app):
    from .i18n import select_locale, register_filters

    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(ROOT / "channel" / "translations"),
    )
    register_filters(app)


def init_security(app):
    @app.before_request
    def _request_id():
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or secrets.token_hex(8)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def init_blueprints(app):
    from .api.views import bp as api_bp
    from .ledger.import_views import bp as imports_bp
    from .audit.views import bp as audit_bp
    from .auth.views import bp as auth_bp
    from .dashboard.views import bp as dashboard_bp
    from .errors import init_errors
    from .ledger.views import bp as ledger_bp
    from .masterdata.views import bp as masterdata_bp
    from .notify.views import bp as notify_bp
    from .reconciliation.views import bp as reconciliation_bp
    from .expenses import budget_views, views, voucher_views  # noqa: F401  (routes on expenses_bp)
    from .expenses.blueprint import bp as expenses_bp
    from .plans import actual_views, report_views, views as plan_views  # noqa: F401  (routes on plans_bp)
    from .plans.blueprint import bp as plans_bp
    from .meetings import minutes_views, views as meeting_views  # noqa: F401  (routes on meetings_bp)
    from .meetings.blueprint import bp as meetings_bp
    from .promotions import settlement_views, views as promotion_views  # noqa: F401  (routes on promotions_bp)
    from .promotions.blueprint import bp as promotions_bp
    from .reports.views import bp as reports_bp
    from .system.views import bp as system_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(masterdata_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(ledger_bp)
    csrf.exempt(api_bp)  # bearer tokens only, never the session cookie: nothing for CSRF to ride on
    app.register_blueprint(api_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(system_bp)
    app.register_blueprint(notify_bp)
    app.register_blueprint(reconciliation_bp)
    app.register_blueprint(expenses_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(meetings_bp)
    app.register_blueprint(promotions_bp)
    init_errors(app)
    from .auth.permissions import can

    app.jinja_env.globals["can"] = can


def init_cli(app):
    from .cli import register_commands

    register_commands(app)
