"""The scheduler process: APScheduler 3 running jobs inside the app's context.

For now it keeps a heartbeat row fresh so that admins (and later /readyz) can see it is alive;
report jobs are added here as they arrive.
"""
import logging
import os
import socket

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import select

log = logging.getLogger("channel.scheduler")


def beat(app, name):
    from channel.db_types import utcnow
    from channel.extensions import db
    from channel.system.models import SchedulerHeartbeat

    with app.app_context():
        row = db.session.execute(
            select(SchedulerHeartbeat).where(SchedulerHeartbeat.name == name)
        ).scalar_one_or_none()
        if row is None:
            row = SchedulerHeartbeat(name=name, host=socket.gethostname()[:200], pid=os.getpid())
            db.session.add(row)
        row.pid = os.getpid()
        row.beat_at = utcnow()
        db.session.commit()


def build_scheduler(app, name=None):
    name = name or f"{socket.gethostname()}:{os.getpid()}"
    scheduler = BlockingScheduler(timezone=app.config["BABEL_DEFAULT_TIMEZONE"])
    scheduler.add_job(
        beat, "interval", args=(app, name), id="heartbeat",
        seconds=app.config["SCHEDULER_HEARTBEAT_SECONDS"], coalesce=True, max_instances=1,
        next_run_time=None,
    )
    return scheduler, name


def run(app):
    scheduler, name = build_scheduler(app)
    beat(app, name)
    log.info("scheduler %s started", name)
    scheduler.start()
