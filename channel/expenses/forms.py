"""Forms of the expense claim pages: the claim's header, a line, receipts, the approver's
decision (per-line cuts, override reason, comment), the payment, and the one-button forms that
carry the claim version the user saw.

Amounts are typed in yuan and kept as integer fen (MoneyField); whether an action is allowed is
decided by the services, not here.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from ..core.expenses import CATEGORIES, CITY_TIERS
from ..files.forms import ACCEPT, AttachmentField
from ..i18n import label
from ..ledger.forms import _positive, _strip, _valid_date
from ..masterdata.forms import MoneyField


def _version(form, field):
    if not (field.data or "").isdigit():
        raise ValidationError(_l("The form has expired. Reload the page and try again."))


class VersionForm(FlaskForm):
    """A button that acts on the claim as the user saw it (submit, delete)."""

    version = HiddenField(validators=[_version])

    @property
    def version_number(self) -> int:
        return int(self.version.data)


class ClaimForm(FlaskForm):
    """A claim's header: month, what it is for, and the region (only a supervisor has several)."""

    month = SelectField(_l("Month"), validators=[InputRequired(message=_l("Choose the month."))])
    title = StringField(_l("Purpose"), filters=[_strip],
                        validators=[InputRequired(message=_l("Say what the claim is for.")), Length(max=200)],
                        render_kw={"placeholder": _l("e.g. Beijing dealer visits, week 12")})
    region_id = SelectField(_l("Region"), validators=[Optional()])

    def __init__(self, *args, months=(), regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.month.choices = [SelectChoice(str(m), str(m)) for m in months]
        self.region_id.choices = [SelectChoice(str(r.id), r.path) for r in regions]
        self.several_regions = len(regions) > 1


def _tier_choices():
    return [SelectChoice("", _l("— choose —"))] + [
        SelectChoice(str(t), label(t, "city_tier")) for t in CITY_TIERS]


class LineForm(FlaskForm):
    spent_on = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter the date.")), _valid_date])
    category = SelectField(_l("Category"), validators=[InputRequired(message=_l("Choose a category."))])
    amount = MoneyField(_l("Amount (¥)"), validators=[InputRequired(message=_l("Enter the amount.")), _positive],
                        render_kw={"inputmode": "decimal", "autocomplete": "off", "placeholder": "128.50"})
    description = StringField(_l("Description"), filters=[_strip], validators=[Optional(), Length(max=200)])
    account_id = SelectField(_l("Account visited"), validators=[Optional()])
    nights = IntegerField(_l("Nights"), default=1, validators=[Optional(), NumberRange(1, 366)],
                          render_kw={"inputmode": "numeric", "min": 1})
    city_tier = SelectField(_l("City tier"), validators=[Optional()])

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = [SelectChoice("", _l("— choose —"))] + [
            SelectChoice(c, label(c, "expense_category")) for c in CATEGORIES]
        self.account_id.choices = [SelectChoice("", _l("— none —"))] + [
            SelectChoice(str(a.id), f"{a.code} {a.name}") for a in accounts]
        self.city_tier.choices = _tier_choices()

    def validate_category(self, field):
        if field.data not in CATEGORIES:
            raise ValidationError(_l("Choose a category."))

    def validate_city_tier(self, field):
        if self.category.data == "accommodation" and not field.data:
            raise ValidationError(_l("Choose the city tier for accommodation."))


class ReceiptForm(FlaskForm):
    """One or more receipt files for a line (the input allows several at once)."""

    receipts = AttachmentField(_l("Receipts (PDF, JPEG or PNG)"),
                               render_kw={"accept": ACCEPT, "multiple": True})


class CutForm(Form):
    """One line as the approver decides it: the amount approved, and why it is less."""

    line_id = HiddenField()
    approved = MoneyField(_l("Approved (¥)"), validators=[Optional()],
                          render_kw={"inputmode": "decimal", "autocomplete": "off"})
    reason = StringField(_l("Reason for the cut"), filters=[_strip], validators=[Optional(), Length(max=200)])


class DecisionForm(FlaskForm):
    """Approve (with cuts and, over budget, an override reason) or reject (with a comment)."""

    version = HiddenField(validators=[_version])
    cuts = FieldList(FormField(CutForm))
    override_reason = TextAreaField(_l("Reason to approve over the budget"), filters=[_strip],
                                    validators=[Optional(), Length(max=1000)])
    comment = TextAreaField(_l("Comment"), filters=[_strip], validators=[Optional(), Length(max=2000)])

    @property
    def version_number(self) -> int:
        return int(self.version.data)


class PayForm(FlaskForm):
    version = HiddenField(validators=[_version])
    paid_on = DateField(_l("Payment date"), validators=[InputRequired(message=_l("Enter the date.")), _valid_date])
    reference = StringField(_l("Payment reference"), filters=[_strip],
                            validators=[InputRequired(message=_l("Enter the payment reference.")),
                                        Length(max=64)])
    back = HiddenField()

    @property
    def version_number(self) -> int:
        return int(self.version.data)
