"""Forms of the funnel settings: pipelines, stages, their rules, custom fields, loss reasons and
task goals."""

from django import forms
from django.utils.translation import gettext_lazy as _

from voronka.core.forms import StyledForm
from voronka.core.models import CustomField

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


# --- Rules of the funnel ---------------------------------------------------------------------


class PipelineRulesForm(StyledForm, forms.Form):
    no_skipping = forms.BooleanField(
        label=_("No skipping stages forward"),
        required=False,
        help_text=_(
            "A deal moves to the next open stage only. Use it when every step matters, e.g. no "
            "invoice before a proposal. Closing a deal as won or lost is always allowed."
        ),
    )
    no_going_back = forms.BooleanField(
        label=_("No moving back"),
        required=False,
        help_text=_(
            "A deal never returns to an earlier stage, and a closed deal is never reopened. "
            "Use it to keep the stage history, and so the conversion figures, honest."
        ),
    )


class RequirementsForm(forms.Form):
    """The fields a deal must have filled to enter a stage (the template draws the boxes)."""

    required_fields = forms.MultipleChoiceField(
        label=_("Required to enter the stage"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["required_fields"].choices = list(choices)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class CustomFieldForm(StyledForm, forms.Form):
    """A new custom field: its label, key, type and, for choice types, the choices."""

    label = forms.CharField(label=_("Label"), max_length=120)
    key = forms.CharField(
        label=_("Key"),
        max_length=40,
        required=False,
        help_text=_(
            "Small Latin letters, digits and _; the API and imports name the field by it. "
            "Suggested from the label; it cannot change later."
        ),
    )
    type = forms.ChoiceField(label=_("Type"), choices=CustomField.Type.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For the types «Choice» and «Several choices»: one choice per line."),
    )

    def clean_choices(self):
        return _lines(self.cleaned_data["choices"])


class CustomFieldEditForm(StyledForm, forms.Form):
    label = forms.CharField(label=_("Label"), max_length=120)
    type = forms.ChoiceField(label=_("Type"), choices=CustomField.Type.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "One choice per line, in the order offered. Values already given keep their words "
            "when a choice is removed or renamed."
        ),
    )

    def __init__(self, *args, type_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if type_locked:
            self.fields["type"].disabled = True
            self.fields["type"].help_text = _(
                "The type cannot change: records already hold values of this field. Add a new "
                "field of the type you need instead."
            )

    def clean_choices(self):
        return _lines(self.cleaned_data["choices"])


class LossReasonForm(StyledForm, forms.Form):
    name = forms.CharField(label=_("Reason"), max_length=120)


class TaskGoalForm(StyledForm, forms.Form):
    text = forms.CharField(
        label=_("Goal"),
        max_length=255,
        help_text=_("What the next contact must achieve, e.g. «get the bank details»."),
    )
    stage = forms.TypedChoiceField(label=_("Stage"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, stages=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Any stage"))]
        groups: dict[str, list] = {}
        for stage in stages:
            groups.setdefault(stage.pipeline.name, []).append((stage.id, stage.name))
        choices.extend(groups.items())
        self.fields["stage"].choices = choices


class ProductForm(StyledForm, forms.Form):
    name = forms.CharField(
        label=_("Product"),
        max_length=120,
        help_text=_("A product or product line, e.g. «CRM implementation», «Sales audit»."),
    )


class SegmentForm(StyledForm, forms.Form):
    name = forms.CharField(
        label=_("Segment"),
        max_length=120,
        help_text=_("A kind of client, e.g. «Retail», «Wholesale», «Government»."),
    )
