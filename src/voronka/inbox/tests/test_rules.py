"""The inbox's rules as plain functions: no database."""

import pytest

from voronka.inbox.rules import fill_template, may_hand_over, unknown_placeholders


def test_a_template_is_filled_for_the_conversation_and_other_braces_stay():
    body = "Здравствуйте, {contact_first_name}! {manager_name}, {x} {json: 1}"
    values = {"contact_first_name": "Ирина", "manager_name": "Олег"}
    assert fill_template(body, values) == "Здравствуйте, Ирина! Олег, {x} {json: 1}"


def test_a_placeholder_without_a_value_here_becomes_empty():
    assert fill_template("Компания: {company_name}.", {}) == "Компания: ."


def test_unknown_placeholders_are_named_once_each():
    assert unknown_placeholders("{a} {contact_name} {a} {b}") == ["a", "b"]
    assert unknown_placeholders("") == []


TEAM = frozenset({1, 2, 10})  # managers 1 and 2 and their senior 10


@pytest.mark.parametrize(
    ("role", "actor", "assignee", "target", "allowed"),
    [
        ("manager", 1, 1, 2, True),  # the assignee, to a teammate
        ("manager", 1, 1, 10, True),  # …or to the team's senior
        ("manager", 1, 1, 3, False),  # not outside the team
        ("manager", 1, 2, 1, False),  # not someone else's conversation
        ("senior", 10, 1, 2, True),  # the senior, within the group
        ("senior", 10, None, 2, True),  # a conversation nobody has yet, into the group
        ("senior", 10, 3, 1, False),  # not another group's conversation
        ("senior", 10, 1, 3, False),  # not out of the group
        ("head", 20, 3, 1, True),
        ("owner", 21, None, 4, True),
        ("assistant", 30, 1, 2, False),
        ("qc", 31, 1, 2, False),
    ],
)
def test_who_may_hand_a_conversation_to_whom(role, actor, assignee, target, allowed):
    assert (
        may_hand_over(
            actor_role=role,
            actor_id=actor,
            actor_group=TEAM,
            assignee_id=assignee,
            target_id=target,
        )
        is allowed
    )
