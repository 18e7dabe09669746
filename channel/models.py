"""Imports every area's models so that Alembic and the app see the whole schema."""
from .api.models import ApiToken  # noqa: F401
from .audit.models import AuditEntry  # noqa: F401
from .auth.models import LoginAttempt, User, supervisor_regions  # noqa: F401
from .expenses.models import ExpenseBudget, ExpenseClaim, ExpenseEvent, ExpenseLine, ExpenseReceipt  # noqa: F401
from .files.models import StoredFile  # noqa: F401
from .ledger.models import BalanceSnapshot, Document, DocumentCounter, DocumentLine, LedgerEntry, Period  # noqa: F401
from .masterdata.models import Account, Product, Region  # noqa: F401
from .notify.models import Notification  # noqa: F401
from .meetings.models import ActionItem, AgendaItem, Meeting, MeetingAttendee, MeetingTarget  # noqa: F401
from .plans.models import Plan, PlanEvent, PlanLine, PlanStock, PlanVersion  # noqa: F401
from .plans.report_models import PlanReport  # noqa: F401
from .promotions.models import (  # noqa: F401
    Enrolment,
    ExecutionPhoto,
    ExecutionReport,
    Promotion,
    PromotionProduct,
    PromotionRegion,
    PromotionSettlement,
    SettlementLine,
)
from .reconciliation.models import (  # noqa: F401
    DisputeCorrection, DisputeItem, HoldRelease, Reconciliation, ReconciliationEvent, ReconciliationVersion)
from .reports.models import ReportBatch, ReportFile, ReportRun  # noqa: F401
from .system.models import JobRun, JobSchedule, SchedulerHeartbeat, SchedulerLease, Setting, apscheduler_jobs  # noqa: F401
