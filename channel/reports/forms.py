"""Asking for a month's settlements (finance: every account; a distributor: its dealers)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from ..i18n import LANGUAGE_NAMES


class GenerateForm(FlaskForm):
    period = SelectField(_l("Month"), validators=[InputRequired(message=_l("Choose a closed month."))])
    lang = SelectField(_l("Language"), choices=[SelectChoice(k, v) for k, v in LANGUAGE_NAMES.items()])
    force = BooleanField(_l("Render again even where nothing changed"))

    def __init__(self, months, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.period.choices = [SelectChoice(str(m), str(m)) for m in months]
        if not self.period.data and months:
            self.period.data = str(months[0])
