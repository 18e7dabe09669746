from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from ..i18n import choices

USERNAME_RE = r"^[A-Za-z0-9_.\-]+$"


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )


class LanguageForm(FlaskForm):
    # Plain values: the buttons in base.html carry the labels. (WTForms 3.3 deprecates
    # (value, label) tuples passed to the constructor, and the tests turn warnings into errors.)
    locale = SelectField(choices=["zh_CN", "en"])


def _coerce_optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class UserForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(min=3, max=64),
            Regexp(USERNAME_RE, message=_l("Letters, digits, dot, dash and underscore only.")),
        ],
    )
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    role = SelectField(_l("Role"), choices=[], validators=[DataRequired()])
    field_kind = SelectField(_l("Field staff kind"), choices=[], validators=[Optional()])
    region_id = SelectField(_l("Region (field staff)"), coerce=_coerce_optional_int,
                            validators=[Optional()])
    supervised = SelectMultipleField(_l("Supervised regions"), coerce=int, validators=[Optional()])
    account_id = SelectField(_l("Distributor account"), coerce=_coerce_optional_int,
                             validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)
    second_approver = BooleanField(_l("May give second approvals of expense claims (manager)"))

    def __init__(self, *args, regions=(), distributors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = choices("role")
        self.field_kind.choices = [("", "—")] + choices("field_kind")
        region_choices = [(r.id, r.path) for r in regions]
        self.region_id.choices = [(None, "—")] + region_choices
        self.supervised.choices = region_choices
        self.account_id.choices = [(None, "—")] + [(a.id, str(a)) for a in distributors]


class NewUserForm(UserForm):
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=8, max=200)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])


class ConfirmForm(FlaskForm):
    """An empty form: a button that posts with a CSRF token."""
