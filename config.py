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
    # The business time zone: dates and times shown, cron schedules, "today" (CHANNEL_TIMEZONE).
    # BABEL_DEFAULT_TIMEZONE is derived from it in create_app; set this one only.
    TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    PAGE_SIZE = 25
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024  # uploads (imports, receipts); larger answers 413
    ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024  # one uploaded attachment (PDF, JPEG, PNG)
    # Login throttle: this many failures within the window lock the username (and the address).
    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_SECONDS = 15 * 60
    # The scheduler process (`channel scheduler`, reports/scheduler.py). Several may run against
    # one database: the holder of the lease runs the jobs, the others stand by and take over once
    # it has not been renewed for SCHEDULER_LEASE_SECONDS.
    SCHEDULER_HEARTBEAT_SECONDS = 30
    SCHEDULER_LEASE_SECONDS = 30
    # How often the active process looks for schedule changes, "run now" requests and retries.
    SCHEDULER_POLL_SECONDS = 5
    # Modules that register jobs (reports.jobs.register) when imported, e.g. "channel.reports.jobs".
    SCHEDULER_JOB_MODULES = ["channel.reports.jobs", "channel.notify.jobs", "channel.reconciliation.jobs",
                             "channel.plans.jobs"]
    SERVER_NAME_DISPLAY = "Channel"
    # The issuer printed at the top of every report (the manufacturer running Channel).
    COMPANY_NAME = "华东食品有限公司"
    COMPANY_ADDRESS = "上海市浦东新区张江路 88 号"
    COMPANY_PHONE = "021-5080 8888"
    # Reports: the language a scheduled batch is printed in, the render pool, and its limits.
    REPORT_LANGUAGE = "zh_CN"
    REPORT_WORKERS = 2
    REPORT_TIMEOUT_SECONDS = 60
    REPORT_MEMORY_MB = 1024
    # A report run left 'running' this long (its process died) goes back to the queue.
    REPORT_STALE_MINUTES = 15
    # Monthly settlements: how many closed months back the schedule makes up for when owed.
    SETTLEMENT_CATCH_UP_MONTHS = 2
    # Reconciliation: days an account has to confirm or dispute an issued statement (the default
    # until finance sets it on the reconciliation settings page).
    RECONCILIATION_ANSWER_DAYS = 10
    # Expenses: claims above this amount need a second approval, and the policy caps that flag a
    # line (meal allowance per day, accommodation per night by city tier), until finance sets
    # them on the expense settings page.
    EXPENSE_SECOND_APPROVAL_OVER_FEN = 300000  # ¥3,000.00
    EXPENSE_CAPS_PER_DAY_FEN = {"meal": 10000, "supplement": 5000}  # ¥100 / ¥50 a day
    EXPENSE_CAPS_PER_NIGHT_FEN = {1: 50000, 2: 38000, 3: 28000}  # ¥500 / ¥380 / ¥280 a night
    # Ten-day plans: the days of the month from which field staff and supervisors are shown the
    # accounts without a plan for the coming period (one per period), and the achievement (per
    # cent of plan) below which a variance note is asked for.
    PLAN_REMINDER_DAYS = [8, 18, 28]
    PLAN_VARIANCE_THRESHOLD_PCT = 80
    TESTING = False
    DEBUG = False
    # Notification e-mails (channel/notify), sent by the scheduler; SMTP_HOST None: in-app only.
    SMTP_HOST = None
    SMTP_PORT = 25
    SMTP_USERNAME = None
    SMTP_PASSWORD = None
    SMTP_STARTTLS = False
    SMTP_SSL = False
    SMTP_TIMEOUT_SECONDS = 20
    MAIL_FROM = "channel@localhost"
    BASE_URL = "http://127.0.0.1:5000"  # the links in e-mails point here


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
