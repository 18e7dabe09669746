from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from reports.jobs import CronError, cron_trigger

CRON_FIELD_NAMES = {
    "minute": (_l("minute"), "0–59"),
    "hour": (_l("hour"), "0–23"),
    "day": (_l("day of the month"), "1–31"),
    "month": (_l("month"), _l("1–12 or jan–dec")),
    "day_of_week": (_l("weekday"), _l("0–7 or sun–sat; 0 and 7 are Sunday")),
}


def cron_message(err: CronError) -> str:
    if err.code == "fields":
        return _("Enter five fields separated by spaces: minute hour day month weekday, "
                 "e.g. 0 2 1 * * (02:00 on the 1st of every month).")
    if err.code == "day_and_weekday":
        return _("Restrict either the day of the month or the weekday, not both: leave one of them *.")
    if err.code == "never":
        return _("This schedule never comes due (e.g. 30 February).")
    name, allowed = CRON_FIELD_NAMES[err.field]
    return _("The %(field)s field “%(value)s” is not valid (allowed: %(allowed)s, with * , - and /).",
             field=name, value=err.value, allowed=allowed)


class ScheduleForm(FlaskForm):
    cron = StringField(_l("Schedule (cron)"), validators=[
        DataRequired(message=_l("Enter a schedule, e.g. 0 2 1 * *.")), Length(max=100)])
    enabled = BooleanField(_l("Enabled"))

    def __init__(self, *args, tz, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz

    def validate_cron(self, field):
        try:
            cron_trigger(field.data, self.tz)
        except CronError as err:
            raise ValidationError(cron_message(err)) from None
