"""Fixtures every test module may use (pytest plugin, loaded with ``-p``).

``org`` is a small company: an owner, a head, two teams each led by a senior with two managers,
an assistant and a quality controller, and one pipeline with the standard stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the plugin loads before Django is set up; models are imported late
    from voronka.accounts.models import Team, User
    from voronka.core.models import Workspace
    from voronka.sales.models import Pipeline


#: The ten people of ``org`` by attribute name, highest role first: parametrize a walk over every
#: role with it (``getattr(org, role)``).
ROLES = (
    "owner",
    "head",
    "senior1",
    "senior2",
    "manager1",
    "manager2",
    "manager3",
    "manager4",
    "assistant",
    "qc",
)


@dataclass
class Org:
    workspace: Workspace
    owner: User
    head: User
    senior1: User
    senior2: User
    manager1: User  # team 1
    manager2: User  # team 1
    manager3: User  # team 2
    manager4: User  # team 2
    assistant: User
    qc: User
    team1: Team
    team2: Team
    pipeline: Pipeline

    def stage(self, name: str):
        return self.pipeline.stages.get(name=name)

    @property
    def people(self) -> list[User]:
        return [getattr(self, role) for role in ROLES]


def build_org(name: str = "Ромашка") -> Org:
    from voronka.accounts.models import Role

    from . import factories

    ws = factories.make_workspace(name)
    mk = factories.make_user
    owner = mk(ws, Role.OWNER, username=f"owner-{ws.id}")
    head = mk(ws, Role.HEAD, username=f"head-{ws.id}")
    senior1 = mk(ws, Role.SENIOR, username=f"senior1-{ws.id}")
    senior2 = mk(ws, Role.SENIOR, username=f"senior2-{ws.id}")
    team1 = factories.make_team(ws, senior1, "Team 1")
    team2 = factories.make_team(ws, senior2, "Team 2")
    senior1.team = team1
    senior1.save()
    senior2.team = team2
    senior2.save()
    m1 = mk(ws, Role.MANAGER, team=team1, username=f"manager1-{ws.id}")
    m2 = mk(ws, Role.MANAGER, team=team1, username=f"manager2-{ws.id}")
    m3 = mk(ws, Role.MANAGER, team=team2, username=f"manager3-{ws.id}")
    m4 = mk(ws, Role.MANAGER, team=team2, username=f"manager4-{ws.id}")
    assistant = mk(ws, Role.ASSISTANT, username=f"assistant-{ws.id}")
    qc = mk(ws, Role.QC, username=f"qc-{ws.id}")
    pipeline = factories.make_pipeline(ws)
    return Org(
        ws, owner, head, senior1, senior2, m1, m2, m3, m4, assistant, qc, team1, team2, pipeline
    )


@pytest.fixture
def org(db) -> Org:
    return build_org()


@pytest.fixture
def other_org(db) -> Org:
    """A second company in the same database, whose data must never show up in ``org``."""
    return build_org("Чужая")


def pytest_configure(config):
    # Argon2 is deliberately slow; tests hash hundreds of passwords. A test in accounts checks
    # that the real setting keeps Argon2 first.
    from django.conf import settings

    settings.VORONKA_PASSWORD_HASHERS = list(settings.PASSWORD_HASHERS)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
