from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ..core.money import MoneyError, parse_amount
from ..i18n import choices

CODE_RE = r"^[A-Za-z0-9_\-]+$"
CODE_MESSAGE = _l("Letters, digits, dash and underscore only.")


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class MoneyField(StringField):
    """Yuan typed as text ("12345.60"), kept as integer fen in `fen`; never a float."""

    fen = None

    def pre_validate(self, form):
        self.fen = None
        if self.data in (None, ""):
            return
        try:
            self.fen = parse_amount(self.data)
        except MoneyError as err:
            raise ValidationError({
                "negative": _l("The amount must not be negative."),
                "precision": _l("At most two decimals (fen)."),
                "range": _l("The amount is too large."),
            }.get(err.code, _l("Enter an amount such as 12345.60 (no commas)."))) from None


def money_field_value(fen):
    return str((Decimal(fen) / 100).quantize(Decimal("0.01"))) if fen is not None else ""


class RegionForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32), Regexp(CODE_RE, message=CODE_MESSAGE)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    parent_id = SelectField(_l("Parent region"), coerce=_optional_int, validators=[Optional()])

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.parent_id.choices = [(None, _l("— none (top level) —"))] + [(r.id, r.path) for r in regions]


class AccountArchiveForm(FlaskForm):
    """The customer file (客户档案): what a supervisor keeps up to date."""

    contact_name = StringField(_l("Contact"), validators=[Optional(), Length(max=100)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    notes = TextAreaField(_l("Archive notes"), validators=[Optional(), Length(max=5000)])


class AccountForm(AccountArchiveForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32), Regexp(CODE_RE, message=CODE_MESSAGE)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    region_id = SelectField(_l("Region"), coerce=_optional_int, validators=[DataRequired(message=_l("Choose a region."))])
    supplier_id = SelectField(_l("Supplier"), coerce=_optional_int, validators=[Optional()])
    credit_limit = MoneyField(_l("Credit limit (¥)"), validators=[InputRequired(message=_l("Enter the credit limit (0 for none)."))])
    payment_terms_days = IntegerField(
        _l("Payment terms (days)"),
        validators=[InputRequired(message=_l("Enter the payment terms in days.")),
                    NumberRange(min=0, max=365, message=_l("Between 0 and 365 days."))],
    )
    status = SelectField(_l("Status"), validators=[DataRequired()])

    def __init__(self, *args, regions=(), distributors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices("account_kind")
        self.status.choices = choices("account_status")
        self.region_id.choices = [(None, "—")] + [(r.id, r.path) for r in regions]
        self.supplier_id.choices = [(None, _l("The company (direct)"))] + [
            (a.id, str(a)) for a in distributors
        ]


class ProductForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32), Regexp(CODE_RE, message=CODE_MESSAGE)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=20)])
    list_price = MoneyField(_l("List price (¥)"), validators=[InputRequired(message=_l("Enter the list price."))])
    active = BooleanField(_l("Active"), default=True)
