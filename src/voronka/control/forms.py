"""Forms of the control app: the control screen's filters, a snooze, the rules' settings."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from voronka.accounts.models import Team, User
from voronka.core.forms import StyledForm

from .actions import (
    DAILY_REPORT_ROLES,
    MAX_SNOOZE_DAYS,
    NUMBER_LIMITS,
    REASON_MAX,
    parse_work_days,
)
from .kinds import KINDS, LABELS
from .models import RuleSettings

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class PersonField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class ControlFilterForm(StyledForm, forms.Form):
    """Narrow the control screen to a team or a manager the person controls."""

    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("All teams")
    )
    manager = PersonField(
        label=_("Manager"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Everyone"),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("Every kind")), *((k.value, LABELS[k]) for k in KINDS)],
    )

    def __init__(self, *args, teams, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["manager"].queryset = people
        for name in ("team", "manager", "kind"):
            self.fields[name].widget.attrs["class"] += " form-select-sm"


class SnoozeForm(StyledForm, forms.Form):
    """Until which day a deal's stall flags wait, and why."""

    until = forms.DateField(
        label=_("Flags come back on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Choose the date the flags come back.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("E.g. the client's director is on holiday until the 10th")}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["until"].widget.attrs.update(
            {
                "min": (today + timedelta(days=1)).isoformat(),
                "max": (today + timedelta(days=MAX_SNOOZE_DAYS - 1)).isoformat(),
            }
        )
        self.initial.setdefault("until", today + timedelta(days=7))

    def until_moment(self):
        """The start of the chosen day in the person's time zone: the flags return that morning."""
        day = self.cleaned_data["until"]
        return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _number(name: str, **kw) -> forms.IntegerField:
    low, high = NUMBER_LIMITS[name]
    return forms.IntegerField(min_value=low, max_value=high, **kw)


TIME_WIDGET = {"type": "time"}


class RuleSettingsForm(StyledForm, forms.Form):
    """The workspace's rules of work, as the head sets them."""

    call_comment_grace_minutes = _number(
        "call_comment_grace_minutes",
        label=_("Comment after a call within, minutes"),
        help_text=_("After the call ends; later, a call without a comment is a violation."),
    )
    meeting_comment_grace_minutes = _number(
        "meeting_comment_grace_minutes",
        label=_("Comment after a meeting within, minutes"),
        help_text=_("After the meeting ends."),
    )
    message_comment_grace_minutes = _number(
        "message_comment_grace_minutes",
        label=_("Comment after a conversation in a messenger within, minutes"),
        help_text=_("WhatsApp, Telegram, the website chat and other messengers."),
    )
    min_comment_length = _number(
        "min_comment_length",
        label=_("Shortest comment that counts, characters"),
        help_text=_("«Ok» or «called» says nothing: a shorter comment counts as none."),
    )
    next_contact_gap_days = _number(
        "next_contact_gap_days",
        required=False,
        label=_("Longest gap to the next contact, days"),
        help_text=_(
            "A deal whose next task is further ahead is flagged. Leave empty to use, for each "
            "stage, the median time deals of the pipeline spend in it."
        ),
    )
    reminder_lead_minutes = _number(
        "reminder_lead_minutes",
        label=_("Remind the client of a meeting, minutes before"),
        help_text=_("Moved into the client's working hours when it would fall outside them."),
    )
    work_start = forms.TimeField(
        label=_("Working day starts at"),
        widget=forms.TimeInput(attrs=TIME_WIDGET, format="%H:%M"),
        help_text=_("The hours when it is decent to contact a client."),
    )
    work_end = forms.TimeField(
        label=_("Working day ends at"),
        widget=forms.TimeInput(attrs=TIME_WIDGET, format="%H:%M"),
        help_text=_("Must be later than the start."),
    )
    work_days = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one working day.")},
        help_text=_("Digests go out on these days."),
    )
    digest_time = forms.TimeField(
        label=_("Send the daily digest at"),
        widget=forms.TimeInput(attrs=TIME_WIDGET, format="%H:%M"),
        help_text=_("Each manager gets their own violations and tasks; the head gets everyone's."),
    )
    daily_report_on = forms.BooleanField(
        label=_("Send the daily report by email"),
        required=False,
        help_text=_(
            "The working day before: activity against plan, deals moved, won and lost, payments."
        ),
    )
    daily_report_time = forms.TimeField(
        label=_("Send the daily report at"),
        required=False,
        widget=forms.TimeInput(attrs=TIME_WIDGET, format="%H:%M"),
        help_text=_("In each recipient's own time zone, on working days."),
    )
    daily_report_to = forms.TypedMultipleChoiceField(
        label=_("The daily report goes to"),
        required=False,
        choices=[
            ("manager", _("managers: their own")),
            ("senior", _("seniors: their team's")),
            ("head", _("the head: everyone's")),
            ("owner", _("the owner: everyone's")),
        ],
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, rules: RuleSettings, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored = {name: getattr(rules, name) for name in self.fields}
        try:
            self.stored["work_days"] = parse_work_days(rules.work_days)
        except ValueError:
            self.stored["work_days"] = []
        self.stored["daily_report_to"] = [
            r for r in DAILY_REPORT_ROLES if r in (rules.daily_report_to or "").split(",")
        ]
        for name, value in self.stored.items():
            self.initial.setdefault(name, value)
        # Checkboxes, not a text input.
        self.fields["work_days"].widget.attrs["class"] = "form-check-input"
        self.fields["daily_report_to"].widget.attrs["class"] = "form-check-input"
        self.fields["daily_report_on"].widget.attrs["class"] = "form-check-input"

    def clean_daily_report_time(self):
        """An emptied time keeps the one set before."""
        return self.cleaned_data.get("daily_report_time") or self.stored["daily_report_time"]

    def clean(self):
        data = super().clean()
        start, end = data.get("work_start"), data.get("work_end")
        if start is not None and end is not None and end <= start:
            self.add_error("work_end", _("The working day must end after it starts."))
        return data

    def changes(self) -> dict:
        """The fields whose value differs from what is stored."""
        data = dict(self.cleaned_data)
        data["work_days"] = sorted(set(data["work_days"]))
        data["daily_report_to"] = [r for r in DAILY_REPORT_ROLES if r in data["daily_report_to"]]
        return {k: v for k, v in data.items() if self.stored.get(k) != v}
