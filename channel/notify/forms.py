from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField
from wtforms.validators import NumberRange, Optional


class ReadForm(FlaskForm):
    """Mark one notification read (id), optionally going to it (open), or all of them (all)."""

    id = IntegerField(validators=[Optional(), NumberRange(min=1)])
    all = BooleanField()
    open = BooleanField()
    next = HiddenField()

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        return bool(self.id.data) != bool(self.all.data)  # exactly one of the two
