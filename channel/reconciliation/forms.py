"""Forms of the reconciliation pages: confirm, dispute (one row per statement line plus rows for
missing documents), answer a disputed line, issue statements, release a hold, settings, and
passing a payout on to a dealer."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..core.reconciliation import MAX_ANSWER_DAYS
from ..files.forms import AttachmentField
from ..ledger.forms import _direction_choices, _positive, _strip, _valid_date
from ..masterdata.forms import MoneyField

MAX_MISSING_ROWS = 3


class ConfirmForm(FlaskForm):
    content_hash = HiddenField(validators=[DataRequired()])
    signed_by = StringField(_l("Signed by (the dealer's representative)"), filters=[_strip],
                            validators=[Optional(), Length(max=100)])


class DisputeLineForm(Form):
    """One statement line: a reason makes it disputed. (A plain Form: the parent has the token.)"""

    number = HiddenField()
    reason = StringField(_l("What is wrong"), filters=[_strip], validators=[Optional(), Length(max=1000)])
    attachment = AttachmentField(_l("Attachment (PDF, JPEG or PNG)"), required=False)


class MissingForm(Form):
    """A document the account has and the statement lacks."""

    date = DateField(_l("Date"), validators=[Optional(), _valid_date])
    amount = MoneyField(_l("Amount (¥)"), validators=[Optional(), _positive])
    ref = StringField(_l("Their reference"), filters=[_strip], validators=[Optional(), Length(max=64)])
    reason = StringField(_l("What is missing"), filters=[_strip], validators=[Optional(), Length(max=1000)])
    attachment = AttachmentField(_l("Attachment (PDF, JPEG or PNG)"), required=False)

    def is_blank(self):
        return not (self.date.data or self.amount.data or self.ref.data or self.reason.data)


class DisputeForm(FlaskForm):
    content_hash = HiddenField(validators=[DataRequired()])
    lines = FieldList(FormField(DisputeLineForm))
    missing = FieldList(FormField(MissingForm), min_entries=1, max_entries=MAX_MISSING_ROWS)
    note = TextAreaField(_l("Note to the issuer"), filters=[_strip], validators=[Optional(), Length(max=2000)])
    signed_by = StringField(_l("Signed by (the dealer's representative)"), filters=[_strip],
                            validators=[Optional(), Length(max=100)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        for row in self.missing:
            if not row.form.is_blank() and not row.form.reason.data:
                row.form.reason.errors = list(row.form.reason.errors) + [
                    _l("Say what the missing document is.")]
                ok = False
        if ok and not any(r.form.reason.data for r in self.lines) and all(
                r.form.is_blank() for r in self.missing):
            self.form_errors.append(_l("Mark at least one line, or describe a missing document."))
            ok = False
        return ok


class AnswerForm(FlaskForm):
    message = TextAreaField(_l("Answer"), filters=[_strip],
                            validators=[InputRequired(message=_l("Write the answer.")), Length(max=2000)])
    reverse = BooleanField(_l("Reverse the disputed document (红冲) in the open month"))
    amount = MoneyField(_l("Adjustment (¥)"), validators=[Optional(), _positive])
    direction = RadioField(_l("Adjustment direction"), validators=[Optional()])
    date = DateField(_l("Posting date"), validators=[Optional(), _valid_date])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.direction.choices = _direction_choices()

    def validate_direction(self, field):
        if self.amount.fen and field.data not in ("debit", "credit"):
            raise ValidationError(_l("Choose debit or credit."))


class IssueForm(FlaskForm):
    month = SelectField(_l("Month"), validators=[InputRequired(message=_l("Choose a closed month."))])
    account_id = SelectField(_l("Accounts"), validators=[Optional()])

    def __init__(self, months, accounts, *args, all_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.month.choices = [SelectChoice(str(m), str(m)) for m in months]
        self.account_id.choices = [SelectChoice("", all_label or _l("All"))] + [
            SelectChoice(str(a.id), f"{a.code} {a.name}") for a in accounts]


class ReleaseForm(FlaskForm):
    reason = StringField(_l("Reason"), filters=[_strip],
                         validators=[InputRequired(message=_l("Give a reason.")), Length(max=500)])


class SettingsForm(FlaskForm):
    answer_days = IntegerField(_l("Days to confirm or dispute"),
                               validators=[InputRequired(message=_l("Enter a number of days.")),
                                           NumberRange(1, MAX_ANSWER_DAYS,
                                                       message=_l("Between %(min)s and %(max)s days."))])
    overdue_action = RadioField(_l("An overdue reconciliation does to new shipments"),
                                validators=[InputRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.overdue_action.choices = [
            SelectChoice("none", _l("Nothing")),
            SelectChoice("warn", _l("Warn whoever posts the shipment")),
            SelectChoice("hold", _l("Hold them until answered or released by finance")),
        ]


class PassOnForm(FlaskForm):
    amount = MoneyField(_l("Amount (¥)"), validators=[InputRequired(message=_l("Enter the amount.")), _positive])
    date = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter the date.")), _valid_date])
    memo = StringField(_l("Memo"), filters=[_strip], validators=[Optional(), Length(max=500)])
