import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from voronka.core.forms import StyledForm

from .models import User

COMMON_TIMEZONES = [
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Yakutsk",
    "Asia/Vladivostok",
    "Asia/Magadan",
    "Asia/Kamchatka",
    "Europe/Minsk",
    "Asia/Almaty",
    "Asia/Tashkent",
    "Europe/Berlin",
    "Europe/London",
    "UTC",
]


def timezone_choices():
    rest = sorted(zoneinfo.available_timezones() - set(COMMON_TIMEZONES))
    return [(tz, tz) for tz in COMMON_TIMEZONES] + [(tz, tz) for tz in rest]


class ProfileForm(StyledForm, forms.ModelForm):
    timezone = forms.ChoiceField(label=_("time zone"), choices=timezone_choices)

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "phone", "language", "timezone"]


class PasswordForm(StyledForm, forms.Form):
    old_password = forms.CharField(label=_("Current password"), widget=forms.PasswordInput)
    new_password = forms.CharField(label=_("New password"), widget=forms.PasswordInput)


class TokenForm(StyledForm, forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100)
