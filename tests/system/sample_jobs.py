"""A job for the scheduler tests, registered when imported (CHANNEL_SCHEDULER_JOB_MODULES).

What is owed is read from the settings table, as a real job reads its own tables: the keys in
"sample.owed" (comma-separated) are owed (and stay owed once made), those in "sample.waiting" wait. run() appends
"key pid" to the file in config SAMPLE_JOBS_LOG, so that a test counts how often each key was
made and by which process; "sample.fail" names keys whose run raises.
"""
import os

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from channel.extensions import db
from channel.system.models import Setting
from reports.jobs import Job, Owed, register

SAMPLE = "sample"


def _setting(key):
    value = db.session.execute(select(Setting.value).where(Setting.key == key)).scalar_one_or_none()
    return [k for k in (value or "").split(",") if k]


def set_owed(keys=(), waiting=(), fail=()):
    """For the tests (inside an app context): what the sample job owes from now on."""
    for name, values in (("sample.owed", keys), ("sample.waiting", waiting), ("sample.fail", fail)):
        row = db.session.get(Setting, name) or Setting(key=name)
        row.value = ",".join(values)
        db.session.add(row)
    db.session.commit()


def owed(now):
    # Unlike a real job, keys stay owed after they are made: only the framework's keyed runs
    # keep them from being made twice.
    keys = _setting("sample.owed")
    waiting = [(k, _l("%(key)s is not closed yet.", key=k)) for k in _setting("sample.waiting")]
    return Owed(keys=keys, waiting=waiting)


def run(key, progress):
    progress(0, 2)
    if key in _setting("sample.fail"):
        raise RuntimeError(f"sample failure for {key}")
    path = current_app.config.get("SAMPLE_JOBS_LOG")
    if path:
        with open(path, "a") as f:
            f.write(f"{key} {os.getpid()}\n")
    progress(2, 2)
    return _l("Made %(key)s.", key=key)


register(Job(id=SAMPLE, title=_l("Sample job"), default_cron="0 2 1 * *", owed=owed, run=run,
             retry_minutes=60))
