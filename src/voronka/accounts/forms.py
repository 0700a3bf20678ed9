import functools
import zoneinfo
from datetime import UTC, datetime, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from voronka.core.forms import StyledForm

from .models import User

#: The time zones offered first, with their city's name in the person's language: Russia's
#: (west to east), then the neighbours and the most common others. Every other IANA zone
#: follows under its own name. The value stored is always the IANA name.
COMMON_TIMEZONES = {
    "Europe/Kaliningrad": _("Kaliningrad"),
    "Europe/Moscow": _("Moscow"),
    "Europe/Volgograd": _("Volgograd"),
    "Europe/Samara": _("Samara"),
    "Asia/Yekaterinburg": _("Yekaterinburg"),
    "Asia/Omsk": _("Omsk"),
    "Asia/Novosibirsk": _("Novosibirsk"),
    "Asia/Krasnoyarsk": _("Krasnoyarsk"),
    "Asia/Irkutsk": _("Irkutsk"),
    "Asia/Yakutsk": _("Yakutsk"),
    "Asia/Vladivostok": _("Vladivostok"),
    "Asia/Magadan": _("Magadan"),
    "Asia/Kamchatka": _("Petropavlovsk-Kamchatsky"),
    "Europe/Minsk": _("Minsk"),
    "Asia/Almaty": _("Almaty"),
    "Asia/Tashkent": _("Tashkent"),
    "Asia/Dubai": _("Dubai"),
    "Europe/Istanbul": _("Istanbul"),
    "Europe/Berlin": _("Berlin"),
    "Europe/London": _("London"),
    "UTC": _("Coordinated Universal Time"),
}


def utc_offset(name: str, at: datetime | None = None) -> timedelta:
    """The zone's offset from UTC now (or at ``at``), daylight saving included."""
    return (at or datetime.now(UTC)).astimezone(zoneinfo.ZoneInfo(name)).utcoffset()


def offset_label(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"(UTC{sign}{hours:02d}:{rest:02d})"


def timezone_label(name: str, at: datetime | None = None) -> str:
    """«(UTC+03:00) Москва»: the offset and the city in the active language (the IANA name,
    «Asia/Tokyo» as «Asia/Tokyo», for a zone without a name of ours)."""
    city = COMMON_TIMEZONES.get(name)
    shown = str(city) if city is not None else name.replace("_", " ")
    return f"{offset_label(utc_offset(name, at))} {shown}"


#: The Russian zones among the common ones (the first group of the list).
RUSSIAN_TIMEZONES = frozenset(list(COMMON_TIMEZONES)[:13])


@functools.lru_cache(maxsize=2)
def _zones_by_offset(hour: datetime) -> dict[str, list[tuple[str, timedelta]]]:
    """Each group's zones with their offset at ``hour``, ordered by offset then name (reading
    every zone's rules takes a good part of a second: once an hour, not for every form)."""

    def ordered(names):
        return sorted(((n, utc_offset(n, hour)) for n in names), key=lambda x: (x[1], x[0]))

    rest = zoneinfo.available_timezones() - set(COMMON_TIMEZONES) - {"localtime", "Factory"}
    return {
        "russia": ordered(RUSSIAN_TIMEZONES),
        "common": ordered(set(COMMON_TIMEZONES) - RUSSIAN_TIMEZONES),
        "rest": ordered(rest),
    }


def timezone_choices():
    """Russia's zones first, then the common others, then every other zone: each part in the
    order of its offset from UTC (west to east), labelled in the active language."""
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    groups = _zones_by_offset(hour)

    def labelled(key):
        out = []
        for name, offset in groups[key]:
            city = COMMON_TIMEZONES.get(name)
            shown = str(city) if city is not None else name.replace("_", " ")
            out.append((name, f"{offset_label(offset)} {shown}"))
        return out

    # One flat list (the contact form puts its «default» choice before it).
    return labelled("russia") + labelled("common") + labelled("rest")


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
