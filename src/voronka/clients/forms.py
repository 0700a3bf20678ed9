"""Forms of the companies and contacts pages: they parse input; the actions decide."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from voronka.accounts.access import assignable_users, is_assistant, owner_scope, visible_users
from voronka.accounts.forms import timezone_choices
from voronka.accounts.models import User
from voronka.core.forms import StyledForm

from .access import visible_companies
from .models import Company, Segment
from .phones import display_phone

CONFIRM_LABEL = _("Create anyway: this is a different client")
TIMEZONE_UNKNOWN = _(
    "«%(value)s» is not a time zone: choose one from the list, e.g. Europe/Moscow."
)


def owner_choices(user, current_owner_id: int | None = None):
    """People ``user`` may give a client to, plus the present owner so an edit keeps them."""
    q = Q(pk__in=assignable_users(user).values("pk"))
    if current_owner_id:
        q |= Q(pk=current_owner_id)
    return User.objects.filter(q).order_by("first_name", "last_name", "username")


def owner_filter_choices(user):
    """The people whose clients ``user`` can see, to filter a list by owner."""
    people = visible_users(user).order_by("first_name", "last_name", "username")
    scope = owner_scope(user)
    if scope is not None and not is_assistant(user):
        people = people.filter(id__in=scope)
    return people


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class CompanyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.city}" if obj.city else obj.name


class CompanyForm(StyledForm, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255)
    owner = UserChoiceField(
        label=pgettext_lazy("person responsible", "Owner"),
        queryset=User.objects.none(),
        empty_label=None,
    )
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.CharField(
        label=pgettext_lazy("contact detail", "Email"), max_length=254, required=False
    )
    inn = forms.CharField(label=_("Tax number (INN)"), max_length=12, required=False)
    segment = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=Segment.objects.none(),
        required=False,
        empty_label="—",
        error_messages={"invalid_choice": _("Choose one of the segments on the list.")},
    )
    city = forms.CharField(label=_("City"), max_length=120, required=False)
    website = forms.CharField(label=_("Website"), max_length=255, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    confirm_duplicates = forms.BooleanField(label=CONFIRM_LABEL, required=False)

    #: The fields the action receives (the confirmation is the page's business).
    model_fields = ("name", "owner", "phone", "email", "inn", "segment", "city", "website", "notes")

    def __init__(self, *args, user, instance=None, **kwargs):
        if instance is not None:
            kwargs.setdefault("initial", initial_from(instance, self.model_fields))
        else:
            kwargs.setdefault("initial", {"owner": user.pk})
        super().__init__(*args, **kwargs)
        segments = offered_segments(
            user.workspace_id, instance.segment_id if instance is not None else None
        )
        if segments.exists():
            self.fields["segment"].queryset = segments
        else:
            del self.fields["segment"]  # the head keeps no segments: nothing to ask
            self.model_fields = tuple(f for f in self.model_fields if f != "segment")
        self.fields["owner"].queryset = owner_choices(
            user, instance.owner_id if instance is not None else None
        )
        self.fields["phone"].widget.attrs.update(
            {"type": "tel", "autocomplete": "off", "placeholder": "+7 916 123-45-67"}
        )
        self.fields["email"].widget.attrs.update({"type": "email", "autocomplete": "off"})
        self.fields["name"].widget.attrs.update({"autocomplete": "off"})
        if instance is not None:
            del self.fields["confirm_duplicates"]

    def changes(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.model_fields if k in self.changed_data}


class ContactForm(StyledForm, forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=120)
    last_name = forms.CharField(label=_("Last name"), max_length=120, required=False)
    company = CompanyChoiceField(
        label=_("Company"),
        queryset=Company.objects.none(),
        required=False,
        empty_label=_("— no company —"),
    )
    position = forms.CharField(label=_("Position"), max_length=120, required=False)
    owner = UserChoiceField(
        label=pgettext_lazy("person responsible", "Owner"),
        queryset=User.objects.none(),
        empty_label=None,
    )
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.CharField(
        label=pgettext_lazy("contact detail", "Email"), max_length=254, required=False
    )
    whatsapp = forms.CharField(label=_("WhatsApp number"), max_length=40, required=False)
    telegram = forms.CharField(label=_("Telegram username"), max_length=64, required=False)
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Meeting reminders reach the client in their working hours in this zone."),
        error_messages={"invalid_choice": TIMEZONE_UNKNOWN},
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    confirm_duplicates = forms.BooleanField(label=CONFIRM_LABEL, required=False)

    model_fields = (
        "first_name",
        "last_name",
        "company",
        "position",
        "owner",
        "phone",
        "email",
        "whatsapp",
        "telegram",
        "timezone",
        "notes",
    )

    def __init__(self, *args, user, instance=None, **kwargs):
        if instance is not None:
            kwargs.setdefault("initial", initial_from(instance, self.model_fields))
        else:
            kwargs.setdefault("initial", {"owner": user.pk})
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_choices(
            user, instance.owner_id if instance is not None else None
        )
        companies = visible_companies(user)
        if instance is not None and instance.company_id:
            # Keep the present company even if it belongs to someone the editor cannot see.
            companies = Company.objects.filter(
                Q(pk__in=companies.values("pk")) | Q(pk=instance.company_id)
            )
        self.fields["company"].queryset = companies.order_by("name", "id")
        for name in ("phone", "whatsapp"):
            self.fields[name].widget.attrs.update(
                {"type": "tel", "autocomplete": "off", "placeholder": "+7 916 123-45-67"}
            )
        self.fields["email"].widget.attrs.update({"type": "email", "autocomplete": "off"})
        self.fields["telegram"].widget.attrs.update({"placeholder": "@username"})
        workspace_zone = user.workspace.timezone
        self.fields["timezone"].choices = [
            ("", _("Default: %(zone)s") % {"zone": workspace_zone}),
            *timezone_choices(),
        ]
        if instance is not None:
            del self.fields["confirm_duplicates"]

    def changes(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.model_fields if k in self.changed_data}


def offered_segments(workspace_id: int, keep: int | None = None):
    """The segments a company may be given, in the head's order: those not archived, and the
    one the company has already (``keep``) even if archived since."""
    condition = Q(is_archived=False)
    if keep is not None:
        condition |= Q(id=keep)
    return Segment.objects.filter(condition, workspace_id=workspace_id).order_by("position", "id")


def initial_from(instance, names) -> dict:
    initial = {}
    for name in names:
        if name in ("owner", "company", "segment"):
            initial[name] = getattr(instance, f"{name}_id")
        elif name in ("phone", "whatsapp"):
            initial[name] = display_phone(getattr(instance, name))
        else:
            initial[name] = getattr(instance, name)
    return initial


SORT_LABELS = {
    "name": _("Name A–Z"),
    "-name": _("Name Z–A"),
    "-created": _("Newest first"),
    "created": _("Oldest first"),
}


CONTACT_SORT_LABELS = {
    "name": _("Last name A–Z"),
    "-name": _("Last name Z–A"),
    "-created": _("Newest first"),
    "created": _("Oldest first"),
}


class CompanyFilterForm(StyledForm, forms.Form):
    q = forms.CharField(required=False, label=_("Search"))
    owner = UserChoiceField(
        label=pgettext_lazy("person responsible", "Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Any owner"),
    )
    city = forms.ChoiceField(label=_("City"), required=False)
    segment = forms.ModelChoiceField(
        label=_("Segment"), queryset=Segment.objects.none(), required=False, empty_label=None
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=list(SORT_LABELS.items()))

    def __init__(self, *args, user, cities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_filter_choices(user)
        # Archived segments too: their companies are still there to be found.
        segments = Segment.objects.filter(workspace_id=user.workspace_id).order_by(
            "is_archived", "position", "id"
        )
        if segments.exists():
            self.fields["segment"].queryset = segments
            self.fields["segment"].empty_label = _("Any segment")
        else:
            del self.fields["segment"]
        self.fields["city"].choices = [("", _("Any city"))] + [(c, c) for c in cities]
        self.fields["q"].widget.attrs.update(
            {"placeholder": _("Name, phone, email or INN"), "type": "search"}
        )


class ContactFilterForm(StyledForm, forms.Form):
    q = forms.CharField(required=False, label=_("Search"))
    owner = UserChoiceField(
        label=pgettext_lazy("person responsible", "Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Any owner"),
    )
    company = forms.IntegerField(required=False, widget=forms.HiddenInput)
    company_name = forms.CharField(required=False, label=_("Company"))
    sort = forms.ChoiceField(
        label=_("Sort"), required=False, choices=list(CONTACT_SORT_LABELS.items())
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_filter_choices(user)
        self.fields["q"].widget.attrs.update(
            {"placeholder": _("Name, phone or email"), "type": "search"}
        )
        self.fields["company_name"].widget.attrs.update({"placeholder": _("Company name")})
