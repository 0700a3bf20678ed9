"""Forms of the people settings: a user (new or existing), a team, the list's filters."""

from django import forms
from django.utils.translation import gettext_lazy as _

from voronka.core.forms import StyledForm

from .forms import timezone_choices
from .models import Role, User

LANGUAGES = User._meta.get_field("language").choices


def role_choices(actor, current: str | None = None):
    """Roles ``actor`` may give: only an owner makes an owner."""
    return [
        (value, label)
        for value, label in Role.choices
        if value != Role.OWNER or actor.role == Role.OWNER or current == Role.OWNER
    ]


class UserForm(StyledForm, forms.Form):
    """What the head sets for a person; the new-user form adds a login and a password."""

    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email address"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    extension = forms.CharField(
        label=_("PBX extension"),
        max_length=16,
        required=False,
        help_text=_("So that calls from the office PBX find this person."),
    )
    role = forms.ChoiceField(label=_("Role"))
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=None, required=False, empty_label=_("No team")
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGES)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices)

    def __init__(self, *args, actor, teams, current_role=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(actor, current_role)
        self.fields["team"].queryset = teams


class NewUserForm(UserForm):
    username = forms.CharField(label=_("Login"), max_length=150)
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters, not a common one and not like the login or name."),
    )
    password2 = forms.CharField(
        label=_("The password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    field_order = [
        "username",
        "first_name",
        "last_name",
        "email",
        "phone",
        "extension",
        "role",
        "team",
    ]

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("The passwords differ."))
        return data


class EditUserForm(UserForm):
    is_active = forms.BooleanField(
        label=_("Active: may sign in"),
        required=False,
        help_text=_("Switched off, the person cannot sign in; their clients and deals stay."),
    )

    def __init__(self, *args, editing_self: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing_self:
            for name in ("role", "is_active"):
                self.fields[name].disabled = True
            self.fields["is_active"].help_text = _("You cannot switch off your own access.")
            self.fields["role"].help_text = _("Another head of sales or the owner changes yours.")


class UserFilterForm(StyledForm, forms.Form):
    q = forms.CharField(label=_("Name or login"), required=False)
    role = forms.ChoiceField(label=_("Role"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    state = forms.ChoiceField(
        label=_("Access"),
        required=False,
        choices=[("", _("Active")), ("off", _("Switched off")), ("all", _("Everyone"))],
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("Any role")), *Role.choices]
        self.fields["team"].choices = [
            ("", _("Any team")),
            ("none", _("No team")),
            *[(str(t.id), t.name) for t in teams],
        ]


class TeamForm(StyledForm, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    lead = forms.ModelChoiceField(
        label=_("Lead"),
        queryset=None,
        required=False,
        empty_label=_("No lead"),
        help_text=_("A senior manager or a head of sales; the lead sees the team's work."),
    )

    def __init__(self, *args, leads, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = leads
