"""Configuration classes. Settings come from the class, then the instance folder's
config.py (if any), then environment variables prefixed CHANNEL_ (see create_app)."""
import os


class Config:
    SECRET_KEY = "dev-only-not-secret"
    # None means: a SQLite file in the instance folder (resolved in create_app).
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REPORTS_DIR = None  # default: <instance>/reports
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    WTF_CSRF_TIME_LIMIT = None  # token valid for the session's life
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    PAGE_SIZE = 25
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024  # uploads (imports, receipts); larger answers 413
    # Login throttle: this many failures within the window lock the username (and the address).
    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_SECONDS = 15 * 60
    SCHEDULER_HEARTBEAT_SECONDS = 30
    SERVER_NAME_DISPLAY = "Channel"
    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"
    LOGIN_MAX_FAILURES = 5


class ProductionConfig(Config):
    SECRET_KEY = None  # must come from CHANNEL_SECRET_KEY
    SESSION_COOKIE_SECURE = True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class(name=None):
    return CONFIGS[name or os.environ.get("CHANNEL_ENV", "development")]
