"""The mail outbox in the scheduler process: every 30 seconds the active scheduler sends the
pending notification e-mails (only where SMTP is configured; never in the web server)."""
from flask import current_app

from reports.jobs import register_interval

from . import services


def mail_outbox() -> None:
    if current_app.config.get("SMTP_HOST"):
        services.send_pending()


register_interval("mail_outbox", 30, mail_outbox)
