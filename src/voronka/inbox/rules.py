"""The inbox's decisions as plain functions: who may hand a conversation to whom, how a
message template is filled in for a conversation, and what of a provider's text is kept."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

#: The placeholders a message template may use, filled in for the conversation at hand.
PLACEHOLDERS = (
    "contact_name",
    "contact_first_name",
    "company_name",
    "deal_title",
    "manager_name",
    "manager_first_name",
)

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

#: The roles that hand any conversation to anyone.
EVERYONE_ROLES = frozenset({"owner", "head"})


NUL = "\x00"


def without_nul(value):
    """``value`` (a string, or JSON: dicts, lists, strings, numbers) with every NUL character
    taken out of its strings and keys; the very same object when it holds none.

    PostgreSQL stores no NUL in text, nor ``\\u0000`` in jsonb, and a provider now and then
    sends one in free text (a caller's name, a message). The event is worth more than an
    invisible control character: it is kept without it, rather than refused or lost."""
    if isinstance(value, str):
        return value.replace(NUL, "") if NUL in value else value
    if isinstance(value, dict):
        cleaned = None
        for i, (key, item) in enumerate(value.items()):
            new_key, new_item = without_nul(key), without_nul(item)
            if cleaned is None and (new_key is not key or new_item is not item):
                cleaned = dict(list(value.items())[:i])
            if cleaned is not None:
                cleaned[new_key] = new_item
        return value if cleaned is None else cleaned
    if isinstance(value, list):
        items = [without_nul(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def unknown_placeholders(body: str) -> list[str]:
    """The ``{names}`` in ``body`` that are not placeholders, in order, each once."""
    found: list[str] = []
    for name in _PLACEHOLDER.findall(body or ""):
        if name not in PLACEHOLDERS and name not in found:
            found.append(name)
    return found


def fill_template(body: str, values: Mapping[str, str]) -> str:
    """``body`` with each known placeholder replaced by its value (empty when unknown for this
    conversation); anything else in braces is left as written."""

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        return str(values.get(name) or "")

    return _PLACEHOLDER.sub(replace, body or "")


def may_hand_over(
    *,
    actor_role: str,
    actor_id: int,
    actor_group: Collection[int],
    assignee_id: int | None,
    target_id: int,
) -> bool:
    """Whether the actor may give a conversation now with ``assignee_id`` to ``target_id``.

    The head of sales and the owner hand any conversation to anyone. A senior manager hands the
    conversations of the group to anyone in the group (``actor_group``: the senior and the
    managers they lead). A manager hands only their own conversations, and only to someone of
    their team or its senior (``actor_group``: the team with its lead). Nobody else does.
    """
    if actor_role in EVERYONE_ROLES:
        return True
    if actor_role == "senior":
        return (assignee_id is None or assignee_id in actor_group) and target_id in actor_group
    if actor_role == "manager":
        return assignee_id == actor_id and target_id in actor_group
    return False
