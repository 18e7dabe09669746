"""Forms that post ledger documents, reverse them and reopen months.

Amounts are yuan typed as text and kept as fen (MoneyField); quantities are whole numbers typed
as text and checked here, so that "1.5" or "1e3" get a clear message rather than WTForms' own.
"""
import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..core.money import format_fen
from ..i18n import LABELS
from ..masterdata.forms import MoneyField, money_field_value

MAX_QUANTITY = 10_000_000  # as the service allows
MAX_LINE_ROWS = 200  # rows sent, blank ones included
EMPTY_LINE_ROWS = 5  # what a browser without JavaScript gets to fill in
FIRST_DAY = date(2000, 1, 1)  # the domain of channel.core.periods.Month
LAST_DAY = date(2999, 12, 31)
WHOLE_NUMBER = re.compile(r"[0-9]+")
DISCONTINUED = _l("discontinued")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


def product_choices(products):
    """The product picker: code, name, list price; the list price also as data for the script."""
    def text(p):
        shown = f"{p.code} {p.name} · {format_fen(p.list_price_fen)}/{p.unit}"
        return shown if p.active else f"{shown} ({DISCONTINUED})"

    return [SelectChoice("", "—")] + [
        SelectChoice(str(p.id), text(p), render_kw={"data-price": money_field_value(p.list_price_fen)})
        for p in products
    ]


class LineForm(Form):
    """One product line. A row left entirely blank is ignored; the others must be complete.
    A plain wtforms Form (the parent FlaskForm carries the CSRF token), so every message here is
    given explicitly, translated."""

    product_id = SelectField(_l("Product"), coerce=_optional_int, validate_choice=False,
                             invalid_value_message=_l("Choose a product from the list."))
    quantity = StringField(_l("Quantity"), validators=[Length(max=20)])
    unit_price = MoneyField(_l("Unit price (¥)"))

    products = {}  # id -> Product, set by the parent form
    quantity_value = None
    price_fen = None

    def is_blank(self):
        return (self.product_id.data is None and not (self.quantity.data or "").strip()
                and not (self.unit_price.data or "").strip())

    @property
    def product(self):
        return self.products.get(self.product_id.data)

    @property
    def amount_fen(self):
        if self.quantity_value is None or self.price_fen is None:
            return None
        return self.quantity_value * self.price_fen

    def validate(self, extra_validators=None):
        self.quantity_value = self.price_fen = None
        ok = super().validate(extra_validators)
        if self.is_blank():
            for f in self:
                f.errors = []
            return True
        if self.product_id.data is None or self.product is None:
            self.product_id.errors.append(_l("Choose a product from the list."))
            ok = False
        text = (self.quantity.data or "").strip()
        if not text:
            self.quantity.errors.append(_l("Enter the quantity."))
            ok = False
        elif not WHOLE_NUMBER.fullmatch(text) or int(text) == 0:
            self.quantity.errors.append(_l("The quantity must be a whole number above 0."))
            ok = False
        elif int(text) > MAX_QUANTITY:
            self.quantity.errors.append(_l("At most %(n)s units per line.", n=f"{MAX_QUANTITY:,}"))
            ok = False
        else:
            self.quantity_value = int(text)
        if self.unit_price.errors:
            ok = False
        elif self.unit_price.fen is not None:
            self.price_fen = self.unit_price.fen
        elif self.product is not None:  # left empty: the list price (what the script prefills)
            self.price_fen = self.product.list_price_fen
            self.unit_price.data = money_field_value(self.price_fen)
        return ok


def _valid_date(form, field):
    if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(_l("Enter a date between 2000 and 2999."))


def _positive(form, field):
    if field.fen is not None and field.fen == 0:
        raise ValidationError(_l("The amount must be greater than zero."))


def _direction_choices():
    return [SelectChoice("debit", _l("Debit: the account owes more")),
            SelectChoice("credit", _l("Credit: the account owes less"))]


class DocumentForm(FlaskForm):
    date = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter the date.")), _valid_date])
    external_ref = StringField(_l("External reference"), filters=[_strip],
                               validators=[Optional(), Length(max=64)])
    memo = StringField(_l("Memo"), filters=[_strip], validators=[Optional(), Length(max=500)])

    has_lines = False


class LinesForm(DocumentForm):
    lines = FieldList(FormField(LineForm), min_entries=EMPTY_LINE_ROWS)

    has_lines = True

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        by_id = {p.id: p for p in products}
        self.product_options = product_choices(products)
        for row in self.lines:
            row.form.products = by_id
            row.form.product_id.choices = self.product_options

    def filled_rows(self):
        return [row.form for row in self.lines if not row.form.is_blank()]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if len(self.lines) > MAX_LINE_ROWS:
            self.form_errors.append(_l("At most %(n)s lines per document.", n=MAX_LINE_ROWS))
            return False
        if not self.filled_rows() and not self.lines.errors:
            self.form_errors.append(_l("Add at least one product line."))
            return False
        return ok

    @property
    def total_fen(self):
        amounts = [row.amount_fen for row in self.filled_rows()]
        return sum(amounts) if amounts and None not in amounts else None


class ShipmentForm(LinesForm):
    override_reason = StringField(_l("Reason for exceeding the credit limit"), filters=[_strip],
                                  validators=[Optional(), Length(max=500)])


class ReturnForm(LinesForm):
    pass


def _amount_field():
    return MoneyField(_l("Amount (¥)"), validators=[InputRequired(message=_l("Enter the amount.")), _positive])


class PaymentForm(DocumentForm):
    amount = _amount_field()
    payment_method = SelectField(_l("Payment method"),
                                 validators=[InputRequired(message=_l("Choose the payment method."))],
                                 invalid_choice_message=_l("Choose the payment method."))
    bank_ref = StringField(_l("Bank reference"), filters=[_strip], validators=[Optional(), Length(max=64)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.payment_method.choices = [SelectChoice(k, v) for k, v in LABELS["payment_method"].items()]


class RebateForm(DocumentForm):
    amount = _amount_field()


class DirectionForm(DocumentForm):
    amount = _amount_field()
    direction = RadioField(_l("Debit or credit"),
                           validators=[InputRequired(message=_l("Choose debit or credit."))],
                           invalid_choice_message=_l("Choose debit or credit."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.direction.choices = _direction_choices()


class AdjustmentForm(DirectionForm):
    reason = StringField(_l("Reason"), filters=[_strip],
                         validators=[DataRequired(message=_l("Give the reason for the adjustment.")), Length(max=500)])


class OpeningForm(DirectionForm):
    pass


FORMS = {"shipment": ShipmentForm, "return": ReturnForm, "payment": PaymentForm,
         "rebate": RebateForm, "adjustment": AdjustmentForm, "opening": OpeningForm}


class ReverseForm(FlaskForm):
    reason = StringField(_l("Reason for the reversal"), filters=[_strip],
                         validators=[DataRequired(message=_l("Give the reason for the reversal.")), Length(max=500)])
    date = DateField(_l("Date of the reversal"),
                     validators=[InputRequired(message=_l("Enter the date.")), _valid_date])


class ReopenForm(FlaskForm):
    reason = StringField(_l("Reason for reopening"), filters=[_strip],
                         validators=[DataRequired(message=_l("Give the reason for reopening the month.")),
                                     Length(max=500)])
