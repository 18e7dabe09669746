"""Forms of the plan pages: the plan itself (market notes by product, planned shipment lines,
planned payment, competitor activity, problems; the reason when a supervisor changes a locked
plan), the supervisor's decision, the variance note.

Quantities are whole numbers typed as text, amounts yuan typed as text kept as fen (MoneyField);
a row left blank is ignored. Whether a step is allowed is decided by the services, not here.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ..ledger.forms import WHOLE_NUMBER, LineForm, _optional_int, _strip, _valid_date, product_choices
from ..masterdata.forms import MoneyField
from .services import MAX_QUANTITY, MAX_TEXT, PlanInput

EMPTY_LINE_ROWS = 3  # blank rows a browser without JavaScript gets (plans.js adds more)
EMPTY_STOCK_ROWS = 2
MAX_ROWS = 200


def _whole(field) -> int | None:
    """The whole number typed in `field` (0 when blank), or None with an error on the field."""
    text = (field.data or "").strip()
    if not text:
        return 0
    if not WHOLE_NUMBER.fullmatch(text):
        field.errors.append(_l("Enter a whole number."))
        return None
    if int(text) > MAX_QUANTITY:
        field.errors.append(_l("At most %(n)s.", n=f"{MAX_QUANTITY:,}"))
        return None
    return int(text)


class StockForm(Form):
    """Market notes for one product: stock on hand at the account, sold last period."""

    product_id = SelectField(_l("Product"), coerce=_optional_int, validate_choice=False)
    stock = StringField(_l("Stock on hand"), validators=[Length(max=20)])
    sellout = StringField(_l("Sold last period"), validators=[Length(max=20)])

    products = {}
    values = None

    def is_blank(self):
        return self.product_id.data is None and not (self.stock.data or "").strip() and not (
            self.sellout.data or "").strip()

    def validate(self, extra_validators=None):
        self.values = None
        ok = super().validate(extra_validators)
        if self.is_blank():
            for f in self:
                f.errors = []
            return True
        if self.product_id.data is None or self.product_id.data not in self.products:
            self.product_id.errors.append(_l("Choose a product from the list."))
            ok = False
        stock, sellout = _whole(self.stock), _whole(self.sellout)
        if ok and stock is not None and sellout is not None:
            self.values = (self.product_id.data, stock, sellout)
            return True
        return False


class PlanForm(FlaskForm):
    lines = FieldList(FormField(LineForm), min_entries=1)
    stock = FieldList(FormField(StockForm), min_entries=1)
    payment = MoneyField(_l("Planned payment (¥)"),
                         render_kw={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"})
    payment_on = DateField(_l("Expected payment date"), validators=[Optional(), _valid_date])
    competitor_notes = TextAreaField(_l("Competitor activity"), filters=[_strip],
                                     validators=[Optional(), Length(max=MAX_TEXT)])
    problems = TextAreaField(_l("Problems"), filters=[_strip], validators=[Optional(), Length(max=MAX_TEXT)])
    reason = TextAreaField(_l("Reason for the change"), filters=[_strip], validators=[Optional(), Length(max=MAX_TEXT)])

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.products = {p.id: p for p in products}
        # Active products are offered; one already on the plan stays shown (the service refuses
        # a discontinued product on a changed plan, with the message on its row).
        self.product_options = product_choices(products)
        self._wire()

    def filled_lines(self):
        return [row.form for row in self.lines if not row.form.is_blank()]

    def filled_stock(self):
        return [row.form for row in self.stock if not row.form.is_blank()]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if len(self.lines) > MAX_ROWS or len(self.stock) > MAX_ROWS:
            self.form_errors.append(_l("At most %(n)s rows.", n=MAX_ROWS))
            return False
        if ok and not (self.filled_lines() or self.filled_stock() or self.payment.fen
                       or self.competitor_notes.data or self.problems.data):
            self.form_errors.append(_l("The plan is empty: plan a shipment or a payment, or write the market "
                                       "notes."))
            return False
        return ok

    @property
    def total_fen(self):
        amounts = [row.amount_fen for row in self.filled_lines()]
        return sum(amounts) if None not in amounts else None

    def data_input(self) -> PlanInput:
        """What the services take (call after validate())."""
        return PlanInput(
            lines=[(r.product_id.data, r.quantity_value, r.price_fen) for r in self.filled_lines()],
            stock=[r.values for r in self.filled_stock()],
            payment_fen=self.payment.fen or 0, payment_on=self.payment_on.data,
            competitor_notes=self.competitor_notes.data or "", problems=self.problems.data or "")

    def pad(self):
        """Blank rows to fill in without JavaScript."""
        for _n in range(max(EMPTY_LINE_ROWS - len(self.filled_lines()), 1)):
            self.lines.append_entry()
        for _n in range(max(EMPTY_STOCK_ROWS - len(self.filled_stock()), 1)):
            self.stock.append_entry()
        self._wire()

    def _wire(self):
        for rows in (self.lines, self.stock):
            for row in rows:
                row.form.products = self.products
                row.form.product_id.choices = self.product_options


class DecisionForm(FlaskForm):
    """A supervisor approves (the comment is optional) or sends back (it is required)."""

    comment = TextAreaField(_l("Comment"), filters=[_strip], validators=[Optional(), Length(max=MAX_TEXT)])


class VarianceForm(FlaskForm):
    variance_note = TextAreaField(_l("Why below plan"), filters=[_strip],
                                  validators=[Optional(), Length(max=MAX_TEXT)])
