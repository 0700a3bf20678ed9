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


#: What makes pytest-django run a test as a TransactionTestCase (commits, flushes the tables).
_TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return bool(_TRANSACTIONAL_FIXTURES & set(getattr(item, "fixturenames", ())))


@pytest.fixture(scope="module")
def module_db(request, django_db_setup, django_db_blocker):
    """A transaction around a whole test module, rolled back when the module ends: Django's
    ``TestCase.setUpTestData``, for pytest.

    A module-scoped fixture makes its data once inside it (``with module_db.unblock(): ...``),
    and every test of the module sees that data. Each test still runs in its own savepoint
    (pytest-django's ``db``), rolled back after it, so whatever a test writes is gone before the
    next one; hand the tests a copy of the shared objects (``shared_copy``) so that what a test
    changes in memory is gone too. For modules whose tests all run in a transaction (``db``):
    a transactional test would commit or flush the tables under the shared data."""
    from django.db import transaction

    transactional = [
        item.nodeid
        for item in request.session.items
        if getattr(item, "module", None) is request.module and _is_transactional(item)
    ]
    if transactional:
        pytest.fail(f"module_db in a module with transactional tests: {transactional}")
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        # As Django marks its class-wide atomic of setUpTestData: a durable block in the code
        # under test is allowed right inside it.
        atomic._from_testcase = True
        atomic.__enter__()
    try:
        yield django_db_blocker
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def shared_copy(value):
    """A test's own copy of data made once for its module (the way Django hands each test a deep
    copy of ``setUpTestData``'s objects), with the process cache emptied: what an earlier test
    cached about the same rows (the board caches a stage's typical stay by id) is not read."""
    import copy

    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        cache.clear()
    return copy.deepcopy(value)


@pytest.fixture(scope="module")
def module_orgs(module_db) -> tuple[Org, Org]:
    """``org`` and ``other_org`` made once for a module (see ``module_db``); take them through
    ``shared_orgs``."""
    with module_db.unblock():
        return build_org(), build_org("Чужая")


@pytest.fixture
def shared_orgs(db, module_orgs) -> tuple[Org, Org]:
    """``(org, other_org)`` as the ``org`` and ``other_org`` fixtures give them, made once per
    module: every write of the test is rolled back after it."""
    return shared_copy(module_orgs)


@pytest.fixture(scope="module")
def module_worlds(module_db):
    """The two populated workspaces of the role walks (``api.tests.world.populate``), made once
    for the module: every test only reads them or writes in its own savepoint, rolled back after
    it (see ``module_db``); take them through ``worlds``."""
    from voronka.api.tests.world import populate

    with module_db.unblock():
        return populate(build_org()), populate(build_org("Чужая"))


@pytest.fixture
def worlds(db, module_worlds):
    return shared_copy(module_worlds)


def pytest_configure(config):
    # Argon2 is deliberately slow; tests hash hundreds of passwords. A test in accounts checks
    # that the real setting keeps Argon2 first.
    from django.conf import settings

    settings.VORONKA_PASSWORD_HASHERS = list(settings.PASSWORD_HASHERS)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Outside production WhiteNoise serves the static files through the finders. Without
    # autorefresh (it follows DEBUG, which tests turn off) every new middleware stack, i.e. every
    # test client, first indexes all ~1,000 files: 0.1 s a client, minutes a run. With it, as
    # under the development server, a static URL is looked up when it is asked for.
    settings.WHITENOISE_AUTOREFRESH = True
