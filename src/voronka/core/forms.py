"""Form helpers shared by every app: Tabler's classes on every widget."""

from django import forms


class StyledForm:
    """Mixin: give each widget the toolkit's class, and mark invalid fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            w = field.widget
            if isinstance(w, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(w, (forms.Select, forms.SelectMultiple)):
                css = "form-select"
            else:
                css = "form-control"
            if self.is_bound and name in self.errors:
                css += " is-invalid"
            w.attrs["class"] = (w.attrs.get("class", "") + " " + css).strip()
