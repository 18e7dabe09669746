"""Forms of the promotion pages: the promotion itself (a draft's every term; a published one's
name, description and budgets only), enrolling an account with its targets, changing targets,
an execution report with photos, the supervisor's verdict, and the one-button forms that carry
the version the user saw.

Money is typed in yuan and kept as integer fen (MoneyField, parse_amount); a percentage is typed
as a percent ("1.5") and kept in basis points (150); quantities are whole numbers typed as text.
Whether an action is allowed is decided by the services, not here.
"""
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, FieldList, Form, FormField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.money import MoneyError, parse_amount
from ..core.promotions import TYPES
from ..i18n import label
from ..ledger.forms import WHOLE_NUMBER, _optional_int, _strip, _valid_date
from ..masterdata.forms import MoneyField, money_field_value
from .services import MAX_PHOTOS, MAX_TEXT

EMPTY_REGION_ROWS = 3  # blank budget rows a browser without JavaScript gets (promotions.js adds more)
MAX_REGION_ROWS = 50
MAX_WHOLE = 10**9
# The terms a published promotion keeps (its form shows them, read only).
TERMS = ("code", "kind", "rate", "min_quantity", "cap", "starts_on", "ends_on", "products")


def _version(form, field):
    if not (field.data or "").isdigit():
        raise ValidationError(_l("The form has expired. Reload the page and try again."))


WHOLE_MESSAGE = _l("Enter a whole number, 0 or more.")


class WholeField(StringField):
    """A whole number of 0 or more typed as text ("" is 0); the number in `value`."""

    value = None

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("filters", [_strip])
        kwargs.setdefault("render_kw", {"inputmode": "numeric", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)

    def pre_validate(self, form):
        self.value = None
        text = self.data or ""
        if not text:
            self.value = 0
            return
        if not WHOLE_NUMBER.fullmatch(text):
            raise ValidationError(WHOLE_MESSAGE)
        if int(text) > MAX_WHOLE:
            raise ValidationError(_l("The number is too large."))
        self.value = int(text)


def percent_to_basis_points(text: str) -> int:
    """ "1.5" (or "1.5%") -> 150: a percentage with at most two decimals, as whole basis points.
    Raises ValueError with the message to show (above 100 is left to the services to refuse)."""
    text = (text or "").strip().removesuffix("%").strip()
    if not text or any(c not in "0123456789." for c in text):
        raise ValueError(_l("Enter the percentage as a number, like 1.5."))
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(_l("Enter the percentage as a number, like 1.5.")) from None
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(_l("At most two decimals, like 1.25."))
    if value > 10**9:
        raise ValueError(_l("The number is too large."))
    return int(value * 100)  # over 100 %: the service says so (percent_over_100)


def basis_points_text(bp: int) -> str:
    """150 -> "1.5", 125 -> "1.25", 1000 -> "10": as a person types a percentage."""
    text = f"{Decimal(bp) / 100:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def rate_text(kind: str, rate: int | None) -> str:
    """The rate as the form shows it: yuan, or a percent for a percentage rebate."""
    if rate is None:
        return ""
    return basis_points_text(rate) if kind == "percent" else money_field_value(rate)


class BudgetRowForm(Form):
    """One region with its budget; a row left blank is ignored."""

    region_id = SelectField(_l("Region"), coerce=_optional_int, validate_choice=False)
    budget = MoneyField(_l("Budget (¥)"), render_kw={"inputmode": "decimal", "autocomplete": "off",
                                                   "placeholder": "20000.00"})

    regions = {}  # id -> Region, set by the parent form

    def is_blank(self):
        return self.region_id.data is None and not (self.budget.data or "").strip()

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.is_blank():
            for f in self:
                f.errors = []
            return True
        if self.region_id.data not in self.regions:
            self.region_id.errors.append(_l("Choose a region from the list."))
            ok = False
        if not (self.budget.data or "").strip():
            self.budget.errors.append(_l("Enter the budget (0 for none)."))
            ok = False
        return ok and not self.budget.errors


class PromotionForm(FlaskForm):
    """A promotion's terms, its products and its regions with their budgets. With fixed=True (a
    published promotion) only the name, the description and the budgets are fields; the regions
    of the rows come as hidden values."""

    version = HiddenField()
    code = StringField(_l("Code"), filters=[lambda v: v.strip().upper() if isinstance(v, str) else v],
                       validators=[InputRequired(message=_l("Enter the code.")), Length(max=32)],
                       render_kw={"placeholder": "PR-2026-03", "autocomplete": "off"})
    name = StringField(_l("Name"), filters=[_strip],
                       validators=[InputRequired(message=_l("Enter the name.")), Length(max=200)])
    description = TextAreaField(_l("Description of the promotion"), filters=[_strip],
                                validators=[Optional(), Length(max=MAX_TEXT)])
    kind = SelectField(_l("Type"), validators=[InputRequired(message=_l("Choose the type of promotion."))])
    rate = StringField(_l("Rate"), filters=[_strip],
                       validators=[InputRequired(message=_l("Enter the rate."))],
                       render_kw={"inputmode": "decimal", "autocomplete": "off"})
    min_quantity = WholeField(_l("Minimum quantity"))
    cap = MoneyField(_l("Cap per account (¥)"), validators=[Optional()],
                     render_kw={"inputmode": "decimal", "autocomplete": "off"})
    starts_on = DateField(_l("First day"), validators=[InputRequired(message=_l("Enter the date.")), _valid_date])
    ends_on = DateField(_l("Last day"), validators=[InputRequired(message=_l("Enter the date.")), _valid_date])
    products = SelectMultipleField(_l("Products"), coerce=int, widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput(), validate_choice=False)
    rows = FieldList(FormField(BudgetRowForm), min_entries=1)

    rate_value = None  # fen, or basis points for a percentage rebate
    row_errors = ()  # messages about the rows as a whole (a region twice, none given)

    def __init__(self, *args, products=(), regions=(), fixed=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed = fixed
        if fixed:
            for name in TERMS:
                delattr(self, name)
        else:
            self.kind.choices = [SelectChoice(k, label(k, "promotion_kind")) for k in TYPES]
            self.products.choices = [SelectChoice(p.id, f"{p.code} {p.name}") for p in products]
        self.region_options = [SelectChoice("", "—")] + [SelectChoice(str(r.id), r.path) for r in regions]
        self.regions = {r.id: r for r in regions}
        self._wire()

    def _wire(self):
        for row in self.rows:
            row.form.regions = self.regions
            row.form.region_id.choices = self.region_options

    def filled_rows(self):
        return [row.form for row in self.rows if not row.form.is_blank()]

    def pad(self, blank=EMPTY_REGION_ROWS):
        """Blank budget rows to fill in without JavaScript (none for a published promotion)."""
        if not self.fixed:
            for _n in range(max(blank - len(self.filled_rows()), 1)):
                self.rows.append_entry()
        self._wire()

    def validate_rate(self, field):
        self.rate_value = None
        if self.kind.data == "percent":
            try:
                self.rate_value = percent_to_basis_points(field.data)
            except ValueError as err:
                raise ValidationError(str(err.args[0])) from None
            return
        try:
            self.rate_value = parse_amount(field.data or "")
        except MoneyError as err:
            raise ValidationError({
                "negative": _l("The amount must not be negative."),
                "precision": _l("At most two decimals (fen)."),
                "range": _l("The amount is too large."),
            }.get(err.code, _l("Enter an amount such as 2.00 (no commas)."))) from None

    def validate_kind(self, field):
        if field.data not in TYPES:
            raise ValidationError(_l("Choose the type of promotion."))

    def validate_products(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one product."))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        self._wire()
        if len(self.rows) > MAX_REGION_ROWS:
            self.row_errors = [_l("At most %(n)s rows.", n=MAX_REGION_ROWS)]
            return False
        filled = self.filled_rows()
        errors = []
        if not filled:
            errors.append(_l("Give at least one region with its budget."))
        seen = set()
        for row in filled:
            rid = row.region_id.data
            if rid in seen and rid is not None:
                row.region_id.errors.append(_l("This region is listed twice."))
                ok = False
            seen.add(rid)
        self.row_errors = errors
        return ok and not errors

    @property
    def budgets(self) -> dict:
        """{region id: budget fen} of the filled rows (call after validate())."""
        return {row.region_id.data: row.budget.fen for row in self.filled_rows()}

    def fill_rows(self, promotion_regions):
        """The rows of an existing promotion's regions (for GET)."""
        while len(self.rows):
            self.rows.pop_entry()
        for pr in promotion_regions:
            self.rows.append_entry({"region_id": pr.region_id, "budget": money_field_value(pr.budget_fen)})
        self._wire()


class EnrolForm(FlaskForm):
    account_id = SelectField(_l("Account"), coerce=_optional_int, validate_choice=False)
    target_qty = WholeField(_l("Target quantity"))
    target_outlets = WholeField(_l("Target outlets"))

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.accounts = {a.id: a for a in accounts}
        self.account_id.choices = [SelectChoice("", _l("— choose —"))] + [
            SelectChoice(str(a.id), f"{a.code} {a.name}") for a in accounts]

    def validate_account_id(self, field):
        if field.data not in self.accounts:
            raise ValidationError(_l("Choose an account from the list."))


class TargetsForm(FlaskForm):
    """An enrolment's targets changed: both given (0 for none)."""

    target_qty = WholeField(_l("Target quantity"), validators=[InputRequired(message=WHOLE_MESSAGE)])
    target_outlets = WholeField(_l("Target outlets"), validators=[InputRequired(message=WHOLE_MESSAGE)])


class ReportForm(FlaskForm):
    """What field staff saw done at an enrolled account, with photos taken on the phone."""

    executed_on = DateField(_l("Date of execution"),
                            validators=[InputRequired(message=_l("Enter the date.")), _valid_date])
    outlets = WholeField(_l("Outlets stocked"))
    note = TextAreaField(_l("Note"), filters=[_strip], validators=[Optional(), Length(max=MAX_TEXT)],
                         render_kw={"placeholder": _l("Which outlets, what display, anything to follow up")})
    photos = MultipleFileField(_l("Photos"), render_kw={"accept": "image/*", "capture": "environment",
                                                       "multiple": True})

    @property
    def uploads(self):
        return [f for f in (self.photos.data or []) if f and getattr(f, "filename", "")]

    def validate_photos(self, field):
        if len(self.uploads) > MAX_PHOTOS:
            raise ValidationError(_l("At most %(limit)s photos per report.", limit=MAX_PHOTOS))


class VersionForm(FlaskForm):
    """A button that acts on what the user saw (publish, delete)."""

    version = HiddenField(validators=[_version])

    @property
    def version_number(self) -> int:
        return int(self.version.data)


class VerdictForm(FlaskForm):
    """A supervisor's verdict on an execution report: verified, or rejected with a reason."""

    version = HiddenField(validators=[_version])
    reason = TextAreaField(_l("Reason for rejecting"), filters=[_strip], validators=[Optional(), Length(max=MAX_TEXT)])

    @property
    def version_number(self) -> int:
        return int(self.version.data)
