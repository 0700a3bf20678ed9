"""The forms of the planning pages: a target, an override, a split, and the period chooser."""

from django import forms
from django.utils.translation import gettext_lazy as _

from voronka.accounts.models import Role, Team, User
from voronka.core.forms import StyledForm
from voronka.sales.models import Pipeline, Product

from .models import WINDOW_CHOICES, PeriodKind, Scope, SplitMethod


class PeriodForm(StyledForm, forms.Form):
    kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices, required=False)
    start = forms.DateField(
        label=_("Any day of it"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class TargetForm(StyledForm, forms.Form):
    period_kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices)
    period_start = forms.DateField(
        label=_("Any day of the period"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    scope = forms.ChoiceField(label=_("For"), choices=Scope.choices)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    manager = forms.ModelChoiceField(
        label=_("Manager"), queryset=User.objects.none(), required=False
    )
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"),
        queryset=Pipeline.objects.none(),
        required=False,
        empty_label=_("Main pipeline"),
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.none(),
        required=False,
        empty_label=_("All products"),
    )
    amount = forms.CharField(
        label=_("Revenue target"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "500 000"}),
    )
    window_days = forms.TypedChoiceField(
        label=_("Conversions observed over"), choices=WINDOW_CHOICES, coerce=int, initial=90
    )
    split_method = forms.ChoiceField(
        label=_("Split among managers"), choices=SplitMethod.choices, initial=SplitMethod.PAST
    )

    def __init__(self, *args, workspace_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(workspace_id=workspace_id)
        self.fields["manager"].queryset = User.objects.filter(
            workspace_id=workspace_id,
            is_active=True,
            role__in=[Role.MANAGER, Role.SENIOR, Role.HEAD],
        ).order_by("last_name", "first_name", "username")
        self.fields["pipeline"].queryset = Pipeline.objects.filter(
            workspace_id=workspace_id, is_archived=False
        )
        self.fields["product"].queryset = Product.objects.filter(
            workspace_id=workspace_id, is_archived=False
        ).order_by("position", "id")
        if not self.fields["product"].queryset.exists():
            del self.fields["product"]  # no product list kept: nothing to choose


class OverrideForm(StyledForm, forms.Form):
    key = forms.CharField(widget=forms.HiddenInput)
    value = forms.CharField(
        label=_("Value"), required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )


class SplitForm(StyledForm, forms.Form):
    """The method and, for a split by share or capacity, a number per manager."""

    method = forms.ChoiceField(label=_("Split"), choices=SplitMethod.choices)

    def __init__(self, *args, people, initial_values=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.people = people
        for person in people:
            self.fields[f"value_{person.id}"] = forms.CharField(
                label=str(person),
                required=False,
                initial=(initial_values or {}).get(person.id),
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}),
            )

    def values(self) -> dict:
        return {p.id: self.cleaned_data.get(f"value_{p.id}") for p in self.people}

    def value_fields(self):
        return [(p, self[f"value_{p.id}"]) for p in self.people]
