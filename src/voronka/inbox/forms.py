"""Forms for logging a communication and writing its comment."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from voronka.core.forms import StyledForm

from .models import Channel, CommKind, Direction

#: The kinds a person logs by hand, the most frequent first.
LOGGED_KINDS = [CommKind.CALL, CommKind.MEETING, CommKind.MESSAGE, CommKind.EMAIL, CommKind.NOTE]
DEFAULT_CHANNELS = {
    CommKind.CALL: Channel.PHONE,
    CommKind.MEETING: Channel.IN_PERSON,
    CommKind.EMAIL: Channel.EMAIL,
}
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


class CommunicationForm(StyledForm, forms.Form):
    """A call, meeting, message, email or note that happened, with the manager's comment."""

    deal = forms.IntegerField(widget=forms.HiddenInput, required=False)
    contact = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(label=_("kind"), choices=[(k.value, k.label) for k in LOGGED_KINDS])
    direction = forms.ChoiceField(
        label=_("direction"),
        choices=[
            (d.value, d.label) for d in (Direction.OUTGOING, Direction.INCOMING, Direction.NONE)
        ],
        required=False,
    )
    channel = forms.ChoiceField(
        label=_("channel"),
        choices=[("", _("By kind")), *Channel.choices],
        required=False,
        help_text=_("A call goes by phone, a meeting in person, unless you choose otherwise."),
    )
    occurred_at = forms.DateTimeField(
        label=_("when"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_MINUTE),
        help_text=_("Leave as is for a contact that has just ended."),
    )
    duration_minutes = forms.IntegerField(
        label=_("duration, minutes"), required=False, min_value=0, max_value=24 * 60
    )
    comment = forms.CharField(
        label=_("comment"),
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": _(
                    "What was discussed, what was agreed, when and why the next contact happens."
                ),
            }
        ),
        error_messages={"required": _("Write what was discussed and agreed.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault(
                "occurred_at", timezone.localtime().replace(second=0, microsecond=0)
            )
            self.initial.setdefault("kind", CommKind.CALL)
            self.initial.setdefault("direction", Direction.OUTGOING)

    def action_fields(self) -> dict:
        """The cleaned values as ``do_log_communication`` takes them."""
        data = self.cleaned_data
        minutes = data.get("duration_minutes")
        return {
            "kind": data["kind"],
            "direction": data.get("direction") or "",
            "channel": data.get("channel") or DEFAULT_CHANNELS.get(data["kind"], ""),
            "occurred_at": data.get("occurred_at") or timezone.now(),
            "duration_seconds": None if minutes is None else minutes * 60,
            "comment": data["comment"],
        }


class CommentForm(StyledForm, forms.Form):
    comment = forms.CharField(
        label=_("comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write what was discussed and agreed.")},
    )
