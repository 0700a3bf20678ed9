"""The forms of the channel settings pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from voronka.core.forms import StyledForm
from voronka.sales.access import visible_pipelines


class ChannelForm(StyledForm, forms.Form):
    """A channel's name, state and credentials; a credential left empty keeps its value."""

    name = forms.CharField(label=_("Name"), max_length=120)
    enabled = forms.BooleanField(label=_("Enabled: take in events"), required=False, initial=True)

    def __init__(self, *args, provider, channel=None, **kwargs):
        super().__init__(*args, **kwargs)
        masked = channel.masked_credentials if channel is not None else {}
        for f in provider.credential_fields:
            current = masked.get(f.name, "")
            help_text = f.help
            if current:
                help_text = _("Now: %(masked)s. Leave empty to keep it.") % {"masked": current}
            self.fields[f"credential_{f.name}"] = forms.CharField(
                label=f.label,
                required=f.required and not f.generated and channel is None,
                max_length=1000,
                help_text=help_text,
                widget=forms.PasswordInput(
                    render_value=False, attrs={"autocomplete": "off", "class": "form-control"}
                ),
            )
        initial = provider.options_initial(channel.options if channel is not None else {})
        for name, field in provider.option_fields().items():
            self.fields[f"option_{name}"] = field
            if name in initial:
                self.initial.setdefault(f"option_{name}", initial[name])
        self.provider = provider

    def options(self) -> dict:
        """The provider's settings that are not secret, ready for ``channel.options``."""
        return self.provider.clean_options(
            {
                name: self.cleaned_data.get(f"option_{name}")
                for name in self.provider.option_fields()
            }
        )

    def credentials(self) -> dict:
        return {
            f.name: self.cleaned_data.get(f"credential_{f.name}", "")
            for f in self.provider.credential_fields
        }


class InboxSettingsForm(StyledForm, forms.Form):
    inbound_pipeline = forms.ModelChoiceField(
        label=_("Pipeline for new inbound leads"),
        queryset=None,
        required=False,
        empty_label=_("The first inbound pipeline"),
    )
    answer_within_minutes = forms.IntegerField(
        label=_("First answer within, minutes"),
        min_value=1,
        max_value=24 * 60,
        help_text=_("The new lead's first task, «answer», is due this long after the message."),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inbound_pipeline"].queryset = visible_pipelines(actor)
