"""Forms of the meeting pages: the meeting itself (date, time, place, title, invitees; the chair's
summary once held), an agenda item, an action item, who attended, and the follow-up of an action
item (resolve, reopen, re-assign). The month's targets are a grid of amounts read by the view.

Every form that changes a meeting or an action item carries the version the user saw (a hidden
field): the services refuse a stale one. Field names differ between the forms shown together on
the meeting page, so that their ids do too. Whether a step is allowed is decided by the services.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..i18n import label
from ..ledger.forms import _strip, _valid_date
from .models import AGENDA_KINDS
from .services import MAX_TEXT


def _version(form, field):
    if not (field.data or "").isdigit():
        raise ValidationError(_l("The form has expired. Reload the page and try again."))


def _ids(values):
    """Checkbox values as ids (anything else is dropped: the services check the rest)."""
    out = []
    for v in values or ():
        if isinstance(v, int) or (isinstance(v, str) and v.isdigit() and len(v) <= 9):
            out.append(int(v))
    return out


class IdsField(SelectMultipleField):
    """Ticked checkboxes (rendered by the template), kept as a list of ids."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        self.data = _ids(valuelist)

    def process_data(self, value):
        self.data = _ids(value)


class VersionForm(FlaskForm):
    """A button that acts on what the user saw (publish, delete, remove an agenda item)."""

    version = HiddenField(validators=[_version])

    @property
    def version_number(self) -> int:
        return int(self.version.data)


class MeetingForm(VersionForm):
    meeting_date = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter the date of the meeting.")),
                                                     _valid_date])
    meeting_time = TimeField(_l("Time"), validators=[Optional()])
    place = StringField(_l("Place"), filters=[_strip],
                        validators=[InputRequired(message=_l("Enter the place of the meeting.")), Length(max=200)],
                        render_kw={"placeholder": _l("e.g. the Beijing office, meeting room 2")})
    title = StringField(_l("Title"), filters=[_strip],
                        validators=[InputRequired(message=_l("Enter a title.")), Length(max=200)])
    summary = TextAreaField(_l("Chair's summary"), filters=[_strip], validators=[Optional(), Length(max=MAX_TEXT)])
    accounts = IdsField(_l("Accounts invited"))
    staff = IdsField(_l("Staff invited"))

    def __init__(self, *args, new=False, **kwargs):
        super().__init__(*args, **kwargs)
        if new:  # nothing seen yet: no version to carry
            self.version.validators = []


class AgendaForm(VersionForm):
    kind = SelectField(_l("Kind"), validate_choice=False,
                       validators=[InputRequired(message=_l("Choose the kind of agenda item."))])
    agenda_title = StringField(_l("Title"), filters=[_strip],
                               validators=[InputRequired(message=_l("Enter a title.")), Length(max=200)])
    body = TextAreaField(_l("Details"), filters=[_strip], validators=[Optional(), Length(max=MAX_TEXT)])
    promotion_id = SelectField(_l("Promotion announced"), validate_choice=False, validators=[Optional()])

    def __init__(self, *args, promotions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice(k, label(k, "agenda_kind")) for k in AGENDA_KINDS]
        self.promotion_id.choices = [SelectChoice("", _l("— none —"))] + [
            SelectChoice(str(p.id), f"{p.code} {p.name}") for p in promotions]
        self.promotions = {str(p.id): p for p in promotions}

    def validate_kind(self, field):
        if field.data not in AGENDA_KINDS:
            raise ValidationError(_l("Choose the kind of agenda item."))

    def validate_promotion_id(self, field):
        if field.data and field.data not in self.promotions:
            raise ValidationError(_l("Choose a promotion from the list."))
        if field.data and self.kind.data != "policy":
            raise ValidationError(_l("Only a policy item links a promotion."))

    @property
    def promotion(self):
        return self.promotions.get(self.promotion_id.data or "")


def _people(users):
    return [SelectChoice(str(u.id), f"{u.full_name} · {label(u.role, 'role')}") for u in users]


class ItemForm(VersionForm):
    """A problem raised at the meeting: an action item with an owner and a due date."""

    item_title = StringField(_l("Problem"), filters=[_strip],
                             validators=[InputRequired(message=_l("Enter a title.")), Length(max=200)])
    detail = TextAreaField(_l("Details"), filters=[_strip], validators=[Optional(), Length(max=MAX_TEXT)])
    account_id = SelectField(_l("Raised by"), validate_choice=False, validators=[Optional()])
    owner_id = SelectField(_l("Owner"), validate_choice=False,
                           validators=[InputRequired(message=_l("Choose the owner."))])
    due_on = DateField(_l("Due date"), validators=[Optional(), _valid_date])

    def __init__(self, *args, accounts=(), owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.account_id.choices = [SelectChoice("", _l("— no account —"))] + [
            SelectChoice(str(a.id), f"{a.code} {a.name}") for a in accounts]
        self.owner_id.choices = [SelectChoice("", _l("— choose —"))] + _people(owners)
        self.accounts = {str(a.id): a for a in accounts}
        self.owners = {str(u.id): u for u in owners}

    def validate_account_id(self, field):
        if field.data and field.data not in self.accounts:
            raise ValidationError(_l("Choose one of the invited accounts."))

    def validate_owner_id(self, field):
        if field.data not in self.owners:
            raise ValidationError(_l("Choose the owner."))

    @property
    def account(self):
        return self.accounts.get(self.account_id.data or "")

    @property
    def owner(self):
        return self.owners.get(self.owner_id.data or "")


class HoldForm(VersionForm):
    """The meeting took place: who was there."""

    present_accounts = IdsField(_l("Accounts present"))
    present_staff = IdsField(_l("Staff present"))


class ResolveForm(VersionForm):
    resolution = TextAreaField(_l("Resolution"), filters=[_strip],
                               validators=[InputRequired(message=_l("Say how the item was resolved.")),
                                           Length(max=MAX_TEXT)])


class ReopenForm(VersionForm):
    reason = TextAreaField(_l("Why it is reopened"), filters=[_strip],
                           validators=[InputRequired(message=_l("Say why the item is reopened.")),
                                       Length(max=MAX_TEXT)])


class ItemUpdateForm(VersionForm):
    """Re-assign or re-schedule an open action item."""

    owner_id = SelectField(_l("Owner"), validate_choice=False,
                           validators=[InputRequired(message=_l("Choose the owner."))])
    due_on = DateField(_l("Due date"), validators=[Optional(), _valid_date])

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = _people(owners)
        self.owners = {str(u.id): u for u in owners}

    def validate_owner_id(self, field):
        if field.data not in self.owners:
            raise ValidationError(_l("Choose the owner."))

    @property
    def owner(self):
        return self.owners.get(self.owner_id.data or "")
