"""Form helpers shared by every app: Tabler's classes on every widget."""

from django import forms


class StyledForm:
    """Mixin: give each widget the toolkit's class, and mark invalid fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            w = field.widget
            if isinstance(w, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(w, (forms.Select, forms.SelectMultiple)):
                css = "form-select"
            else:
                css = "form-control"
            w.attrs["class"] = (w.attrs.get("class", "") + " " + css).strip()

    # Invalid fields are marked when validation runs, not in __init__: subclasses set their
    # querysets and choices after this __init__, and validating here would check the empty ones.
    def full_clean(self):
        super().full_clean()
        self._mark_invalid()

    def add_error(self, field, error):
        super().add_error(field, error)
        self._mark_invalid()

    def _mark_invalid(self) -> None:
        for name in self._errors or {}:
            if name in self.fields:
                w = self.fields[name].widget
                css = w.attrs.get("class", "")
                if "is-invalid" not in css.split():
                    w.attrs["class"] = (css + " is-invalid").strip()
