"""Domain errors as values: a code, a message for a person, and the fields concerned.

One place turns them into a 422 JSON body for the API (``voronka.api``) and into form
errors for pages (``DomainError.add_to_form``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DomainError(Exception):
    code: str
    message: str
    fields: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return str(self.message)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "message": str(self.message),
            "fields": {k: str(v) for k, v in self.fields.items()},
        }

    def add_to_form(self, form) -> None:
        if not self.fields:
            form.add_error(None, str(self.message))
            return
        for name, msg in self.fields.items():
            form.add_error(name if name in form.fields else None, str(msg))


class NotAllowed(DomainError):
    """The person may see the thing but may not do this to it."""

    def __init__(self, message, fields=None):
        super().__init__("not_allowed", message, fields or {})


class Invalid(DomainError):
    """The input breaks a rule; ``fields`` names what to fix."""

    def __init__(self, message, fields=None, code: str = "invalid"):
        super().__init__(code, message, fields or {})
