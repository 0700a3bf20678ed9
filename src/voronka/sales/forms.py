"""Forms of the deal pages: the deal itself, the list's filters and a move to another stage.

Every choice is limited to what the person filling the form may see.
"""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from voronka.accounts.access import assignable_users, owner_scope
from voronka.accounts.models import Role, Team, User
from voronka.clients.access import visible_companies, visible_contacts
from voronka.clients.models import Company, Contact
from voronka.core import custom_fields as cf
from voronka.core.forms import StyledForm
from voronka.core.models import CustomField

from .access import visible_pipelines, visible_stages
from .actions import DEAL_FIELDS
from .models import Deal, LossReason, Product, StageKind

CURRENCIES = ["RUB", "USD", "EUR", "KZT", "BYN", "UZS", "CNY"]


def visible_teams(user):
    """Teams ``user`` may filter by: all of them for the whole-workspace roles, led ones for a
    senior, none for the others."""
    qs = Team.objects.filter(workspace_id=user.workspace_id).order_by("name", "id")
    if owner_scope(user) is None:
        return qs
    if user.role == Role.SENIOR:
        return qs.filter(lead_id=user.id)
    return qs.none()


def team_member_ids(team) -> set[int]:
    """The people whose deals are the team's: its members and its lead."""
    ids = set(
        User.objects.filter(workspace_id=team.workspace_id, team_id=team.id).values_list(
            "id", flat=True
        )
    )
    if team.lead_id:
        ids.add(team.lead_id)
    return ids


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


def custom_form_field(field: CustomField, user, *, required: bool = False):
    """A form field for one custom field of a deal; None for a file (not filled on a page).

    Numbers and money stay text here: the custom-field cleaning reads «150 000,50» alike.
    """
    t = field.type
    common = {"label": field.label, "required": required}
    if t == CustomField.Type.TEXT:
        return forms.CharField(max_length=cf.TEXT_MAX_LENGTH, **common)
    if t in (CustomField.Type.NUMBER, CustomField.Type.MONEY):
        return forms.CharField(
            max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common
        )
    if t == CustomField.Type.DATE:
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common
        )
    if t == CustomField.Type.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in field.choices]], **common)
    if t == CustomField.Type.MULTI_CHOICE:
        return forms.MultipleChoiceField(choices=[(c, c) for c in field.choices], **common)
    if t == CustomField.Type.USER:
        people = assignable_users(user)
        return forms.ChoiceField(
            choices=[("", "—"), *[(str(u.id), str(u)) for u in people]], **common
        )
    return None


def offered_products(workspace_id: int, keep: int | None = None):
    """The products a deal may be given, in the head's order: those not archived, and the one
    the deal has already (``keep``) even if archived since."""
    condition = Q(is_archived=False)
    if keep is not None:
        condition |= Q(id=keep)
    return Product.objects.filter(condition, workspace_id=workspace_id).order_by("position", "id")


def custom_raw_value(value):
    """A form's cleaned value as the custom-field cleaning takes it."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class DealForm(StyledForm, forms.ModelForm):
    """A deal's own fields; its stage changes only by a move."""

    owner = PersonChoiceField(label=_("owner"), queryset=User.objects.none())
    assistant = PersonChoiceField(
        label=_("assistant"), queryset=User.objects.none(), required=False
    )
    currency = forms.ChoiceField(label=_("currency"))

    class Meta:
        model = Deal
        fields = [
            "title",
            "pipeline",
            "product",
            "company",
            "contact",
            "owner",
            "amount",
            "currency",
            "source",
            "expected_close",
            "invoice_no",
            "invoice_amount",
            "assistant",
        ]
        widgets = {
            "expected_close": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "amount": forms.NumberInput(attrs={"min": "0", "step": "any"}),
            "invoice_amount": forms.NumberInput(attrs={"min": "0", "step": "any"}),
        }

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        deal = self.instance
        editing = deal.pk is not None
        for name in list(self.fields):
            # Only what the deal actions take is offered (the stage moves by its own action).
            if name != "pipeline" and name not in DEAL_FIELDS:
                del self.fields[name]
        if editing:
            del self.fields["pipeline"]
            if deal.stage.kind == StageKind.LOST:
                self.fields["loss_reason"] = forms.CharField(
                    label=_("loss reason"),
                    max_length=255,
                    required=False,
                    widget=forms.TextInput(attrs={"class": "form-control"}),
                )
                self.initial["loss_reason"] = deal.loss_reason
        else:
            self.fields["pipeline"].queryset = visible_pipelines(user)
            self.fields["pipeline"].empty_label = None

        def keep_current(qs, model, current_id):
            # A deal may point at a client its editor does not own; keep it selectable.
            if current_id is None:
                return qs
            return model.objects.filter(Q(id__in=qs.values("id")) | Q(id=current_id))

        products = offered_products(user.workspace_id, keep=deal.product_id)
        if products.exists():
            self.fields["product"].queryset = products
            self.fields["product"].empty_label = "—"
            self.fields["product"].error_messages["invalid_choice"] = _(
                "Choose one of the products on the list."
            )
        else:
            del self.fields["product"]  # the head keeps no list of products: nothing to ask
        for name in ("company", "contact", "assistant"):
            self.fields[name].empty_label = "—"
        self.fields["company"].queryset = keep_current(
            visible_companies(user), Company, deal.company_id
        ).order_by("name", "id")
        contacts = keep_current(visible_contacts(user), Contact, deal.contact_id)
        self.fields["contact"].queryset = contacts.select_related("company").order_by(
            "last_name", "first_name", "id"
        )
        self.fields["owner"].queryset = User.objects.filter(
            Q(id__in=assignable_users(user).values("id")) | Q(id=deal.owner_id or 0)
        ).order_by("first_name", "last_name", "username")
        self.fields["assistant"].queryset = User.objects.filter(
            workspace_id=user.workspace_id, is_active=True, role=Role.ASSISTANT
        ).order_by("first_name", "last_name", "username")
        self.custom_keys = {}
        for field in cf.fields_for(user.workspace_id, CustomField.Entity.DEAL):
            form_field = custom_form_field(field, user)
            if form_field is None:
                continue
            name = cf.CUSTOM_PREFIX + field.key
            form_field.widget.attrs.setdefault("class", _css_for(form_field))
            self.fields[name] = form_field
            self.custom_keys[name] = field.key
            if editing and field.key in (deal.custom or {}):
                self.initial[name] = deal.custom[field.key]
        currencies = list(CURRENCIES)
        default_currency = user.workspace.currency if user.workspace_id else "RUB"
        for code in (default_currency, deal.currency):
            if code and code not in currencies:
                currencies.insert(0, code)
        self.fields["currency"].choices = [(c, c) for c in currencies]
        if not editing:
            self.fields["currency"].initial = default_currency
        self.fields["title"].widget.attrs["autofocus"] = True
        self.fields["amount"].required = False

    def clean_amount(self):
        return self.cleaned_data.get("amount") or 0

    def model_values(self, names) -> dict:
        """The deal's own fields among ``names``, as the deal actions take them."""
        return {n: self.cleaned_data[n] for n in names if n not in self.custom_keys}

    def custom_values(self, names) -> dict:
        """Custom values among ``names``, by key, as the deal actions take them."""
        return {
            self.custom_keys[n]: custom_raw_value(self.cleaned_data[n])
            for n in names
            if n in self.custom_keys
        }


def _css_for(form_field) -> str:
    """Tabler's class for a field added after ``StyledForm`` styled the others."""
    if isinstance(form_field.widget, forms.CheckboxInput):
        return "form-check-input"
    if isinstance(form_field.widget, forms.Select | forms.SelectMultiple):
        return "form-select"
    return "form-control"


class EntryFieldsForm(StyledForm, forms.Form):
    """The fields a stage requires that a deal lacks, asked when the deal is moved there.

    Field names are the requirement names (``invoice_no``, ``custom.payment``,
    ``loss_reason``); ``given()`` hands them to ``do_move_deal`` as its ``fields``.
    """

    def __init__(self, user, names, *args, **kwargs):
        kwargs.setdefault("prefix", "entry")
        super().__init__(*args, **kwargs)
        labels = cf.requirement_labels(user.workspace_id)
        custom = {
            cf.CUSTOM_PREFIX + f.key: f
            for f in cf.fields_for(user.workspace_id, CustomField.Entity.DEAL)
        }
        for name in names:
            form_field = self._field_for(user, name, custom)
            if form_field is None:
                continue
            form_field.required = True
            form_field.label = labels.get(name, name)
            form_field.widget.attrs.setdefault("class", _css_for(form_field))
            self.fields[name] = form_field

    @staticmethod
    def _field_for(user, name, custom):
        if name in custom:
            return custom_form_field(custom[name], user, required=True)
        if name in ("amount", "invoice_amount"):
            return forms.CharField(
                max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal"})
            )
        if name == "expected_close":
            return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
        if name == "company":
            return forms.ModelChoiceField(
                queryset=visible_companies(user).order_by("name", "id"), empty_label="—"
            )
        if name == "contact":
            return forms.ModelChoiceField(
                queryset=visible_contacts(user).order_by("last_name", "first_name", "id"),
                empty_label="—",
            )
        if name in ("source", "invoice_no"):
            return forms.CharField(max_length=120 if name == "source" else 64)
        if name == "loss_reason":
            reasons = list(
                LossReason.objects.filter(workspace_id=user.workspace_id, is_archived=False)
                .order_by("position", "id")
                .values_list("name", flat=True)
            )
            if reasons:
                return forms.ChoiceField(choices=[("", "—"), *[(r, r) for r in reasons]])
            return forms.CharField(max_length=255)
        return None

    def given(self) -> dict:
        """The cleaned values under the requirement names, the loss reason apart."""
        return {
            name: custom_raw_value(value) if name.startswith(cf.CUSTOM_PREFIX) else value
            for name, value in self.cleaned_data.items()
            if name != "loss_reason"
        }


STATUS_CHOICES = [
    ("", _("Any status")),
    ("open", _("Open")),
    ("won", _("Won")),
    ("lost", _("Lost")),
]

SORTS = {
    "stage_date": ("stage_entered_at",),
    "amount": ("amount",),
    "created": ("created_at",),
    "title": ("title",),
}


def sort_choices():
    labels = {
        "stage_date": _("In stage since"),
        "amount": _("Amount"),
        "created": _("Created"),
        "title": _("Title"),
    }
    choices = []
    for key, label in labels.items():
        choices.append((f"-{key}", _("%(field)s, descending") % {"field": label}))
        choices.append((key, _("%(field)s, ascending") % {"field": label}))
    return choices


class DealFilterForm(StyledForm, forms.Form):
    """The deal list's search, filters and sort order (GET; a wrong value is ignored)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    pipeline = forms.ModelChoiceField(
        label=_("pipeline"), queryset=None, required=False, empty_label=_("All pipelines")
    )
    stage = forms.ModelChoiceField(
        label=_("stage"), queryset=None, required=False, empty_label=_("All stages")
    )
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    owner = PersonChoiceField(
        label=_("owner"), queryset=None, required=False, empty_label=_("All owners")
    )
    team = forms.ModelChoiceField(
        label=_("team"), queryset=None, required=False, empty_label=_("All teams")
    )
    product = forms.ModelChoiceField(
        label=_("product"), queryset=None, required=False, empty_label=_("All products")
    )
    sort = forms.ChoiceField(label=_("Sort"), choices=sort_choices, required=False)

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"placeholder": _("Title or company"), "type": "search"}
        )
        pipelines = visible_pipelines(user)
        self.fields["pipeline"].queryset = pipelines
        stages = visible_stages(user).select_related("pipeline")
        pipeline_id = self.data.get("pipeline") if self.is_bound else None
        if pipeline_id and str(pipeline_id).isdigit():
            stages = stages.filter(pipeline_id=int(pipeline_id))
        self.fields["stage"].queryset = stages
        if not (pipeline_id and str(pipeline_id).isdigit()) and pipelines.count() > 1:
            self.fields["stage"].label_from_instance = lambda s: f"{s.pipeline.name} · {s.name}"
        self.fields["owner"].queryset = assignable_users(user)
        teams = visible_teams(user)
        self.fields["team"].queryset = teams
        if not teams.exists():
            del self.fields["team"]
        if owner_scope(user) is not None and len(owner_scope(user)) <= 1:
            del self.fields["owner"]
        # Archived products too: their deals are still there to be found.
        products = Product.objects.filter(workspace_id=user.workspace_id).order_by(
            "is_archived", "position", "id"
        )
        self.fields["product"].queryset = products
        if not products.exists():
            del self.fields["product"]

    def value(self, name):
        """The cleaned value of a field, or None when it was absent or wrong."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name) or None


class MoveForm(forms.Form):
    """A move of a deal to another stage of its pipeline."""

    stage = forms.ModelChoiceField(label=_("stage"), queryset=None)
    loss_reason = forms.CharField(label=_("loss reason"), required=False, max_length=255)

    def __init__(self, user, deal, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = visible_stages(user).filter(pipeline_id=deal.pipeline_id)
        self.fields["stage"].error_messages["invalid_choice"] = _(
            "Choose a stage of this deal's pipeline."
        )
