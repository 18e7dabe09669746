"""The daily reminder of overdue reconciliations (a scheduler job, see reports/jobs.py).

Each overdue statement version is one key ("<reconciliation id>-v<version>"), made once: the
account's portal users are told once that its answer is late, and told again only if the
statement is re-issued and that version, too, goes unanswered.
"""
from flask_babel import lazy_gettext as _l

from reports.jobs import Job, Owed, register

from ..core import reconciliation as core
from ..extensions import db
from ..notify.services import register_kind
from . import services
from .models import Reconciliation

REMINDERS = "reconciliation_reminders"

register_kind("statement_overdue", _l("Statement %(month)s of %(account)s is overdue"),
              _l("Your statement for %(month)s was to be confirmed or disputed by %(due)s. Please answer it now: "
                 "an overdue reconciliation may hold new shipments."))


def _key(rec) -> str:
    return f"{rec.id}-v{rec.version}"


def reminders_owed(now) -> Owed:
    return Owed(keys=[_key(rec) for rec in services.overdue(now.date())])


def send_reminder(key: str, progress) -> str:
    rec_id, version = key.split("-v")
    rec = db.session.get(Reconciliation, int(rec_id))
    if rec is None or rec.version != int(version) or not core.is_overdue(rec.status, rec.due_on,
                                                                            services.business_today()):
        return _l("Answered meanwhile: no reminder needed.")
    users = services.portal_users(rec.account)
    services.tell_account(rec, "statement_overdue", users)
    db.session.commit()
    return _l("%(n)s users reminded.", n=len(users))


REMINDERS_JOB = register(Job(id=REMINDERS, title=_l("Overdue reconciliation reminders"), default_cron="0 9 * * *",
                             owed=reminders_owed, run=send_reminder, retry_minutes=60))
