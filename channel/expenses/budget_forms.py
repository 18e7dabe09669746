"""Forms of the budget, settings and summary pages.

Amounts are yuan typed as text and kept as fen (masterdata's MoneyField: not negative, at most
two decimals, no letters); an empty budget cell or cap means none.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from ..core.expenses import CATEGORIES, CITY_TIERS
from ..core.periods import Month
from ..i18n import LABELS
from ..masterdata.forms import MoneyField, money_field_value
from .models import BUDGET_CATEGORIES

# Accommodation is capped per night by city tier, not per day.
PER_DAY_CATEGORIES = tuple(c for c in CATEGORIES if c != "accommodation")


def _month(form, field):
    try:
        Month.parse(field.data or "")
    except ValueError:
        raise ValidationError(_l("Choose a month.")) from None


def cell_name(region_id: int, category: str) -> str:
    return f"r{region_id}_{category}"


class BudgetGridForm(FlaskForm):
    """One amount per top region and category (built for the regions shown), and the state of
    the month's budgets the page was drawn from: saving over someone else's change is refused."""

    seen = HiddenField(validators=[DataRequired()])
    regions = ()

    def cell(self, region, category):
        return self[cell_name(region.id, category)]

    def amounts(self, region) -> dict:
        """{category: fen or None} as typed for the region."""
        return {c: self.cell(region, c).fen for c in BUDGET_CATEGORIES}


def budget_grid_form(regions, *, budgets: dict | None = None, seen: str = ""):
    """The grid for `regions`: drawn from `budgets` ({(region id, category): fen}) with `seen`,
    or, without budgets, read from the posted request."""
    fields = {cell_name(r.id, c): MoneyField(LABELS["expense_category"][c], render_kw={"inputmode": "decimal"})
              for r in regions for c in BUDGET_CATEGORIES}
    form_class = type("RegionBudgetGridForm", (BudgetGridForm,), fields)
    if budgets is None:
        form = form_class()
    else:
        data = {cell_name(r.id, c): money_field_value(budgets.get((r.id, c)))
                for r in regions for c in BUDGET_CATEGORIES}
        form = form_class(formdata=None, data={**data, "seen": seen})
    form.regions = regions
    return form


class CopyBudgetsForm(FlaskForm):
    month = HiddenField(validators=[DataRequired(), _month])


class BudgetImportForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx)"), validators=[FileRequired(_l("Choose a file."))],
                     render_kw={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})


class ExpenseSettingsForm(FlaskForm):
    """The second-approval amount and the policy caps; an empty cap means no cap."""

    second_approval_over = MoneyField(
        _l("Claims above this amount need a second approval (¥)"),
        validators=[InputRequired(message=_l("Enter the amount (0: every claim needs a second approval)."))],
        render_kw={"inputmode": "decimal"})

    def per_day(self):
        return [self[f"day_{c}"] for c in PER_DAY_CATEGORIES]

    def per_night(self):
        return [self[f"night_{t}"] for t in CITY_TIERS]

    def per_day_fen(self) -> dict:
        return {c: self[f"day_{c}"].fen for c in PER_DAY_CATEGORIES if self[f"day_{c}"].fen is not None}

    def per_night_fen(self) -> dict:
        return {t: self[f"night_{t}"].fen for t in CITY_TIERS if self[f"night_{t}"].fen is not None}

    @classmethod
    def initial(cls, settings):
        data = {"second_approval_over": money_field_value(settings.second_approval_over_fen)}
        data.update({f"day_{c}": money_field_value(settings.caps.per_day_fen.get(c)) for c in PER_DAY_CATEGORIES})
        data.update({f"night_{t}": money_field_value(settings.caps.per_night_fen.get(t)) for t in CITY_TIERS})
        return cls(formdata=None, data=data)


for _category in PER_DAY_CATEGORIES:
    setattr(ExpenseSettingsForm, f"day_{_category}",
            MoneyField(LABELS["expense_category"][_category], render_kw={"inputmode": "decimal"}))
for _tier in CITY_TIERS:
    setattr(ExpenseSettingsForm, f"night_{_tier}",
            MoneyField(LABELS["city_tier"][_tier], render_kw={"inputmode": "decimal"}))
