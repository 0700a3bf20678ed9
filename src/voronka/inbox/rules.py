"""The inbox's decisions as plain functions: who may hand a conversation to whom, and how a
message template is filled in for a conversation."""

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
