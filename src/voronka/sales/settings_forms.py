"""Forms of the funnel settings: a pipeline, a stage, a new stage and where it goes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from voronka.core.forms import StyledForm

from .models import StageKind


class PipelineForm(StyledForm, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    is_inbound = forms.BooleanField(
        label=_("Inbound: new leads from channels land here"), required=False
    )


class StageForm(StyledForm, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=StageKind.choices,
        help_text=_("Open stages are steps of the sale; won and lost close the deal."),
    )
    normal_days = forms.IntegerField(
        label=_("Normal duration, days"),
        min_value=0,
        max_value=3650,
        required=False,
        help_text=_("A deal longer than this in the stage is flagged as stalled. Empty: no limit."),
    )


class NewStageForm(StageForm):
    """A stage to add, and the place it takes among the pipeline's stages."""

    position = forms.TypedChoiceField(
        label=_("Place"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, stages=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("After the last open stage"))]
        last = 0
        for stage in stages:
            choices.append((stage.position, _("Before “%(name)s”") % {"name": stage.name}))
            last = max(last, stage.position)
        choices.append((last + 1, _("At the very end")))
        self.fields["position"].choices = choices


class StageEditForm(StageForm):
    is_archived = forms.BooleanField(
        label=_("Archived"),
        required=False,
        help_text=_("An archived stage leaves the board and takes no deals; its history stays."),
    )
