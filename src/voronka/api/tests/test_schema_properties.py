"""Property tests over every operation of the published schema (schemathesis).

The schema is loaded from the application itself (``/api/v1/openapi.json`` over WSGI), and each
operation gets generated requests — valid ones and invalid ones — sent with a real token of the
head of sales. Whatever is sent, the API never fails with a 5xx and every answer matches what the
schema promises for its status. Ids in paths and bodies are pointed at real records so that the
valid requests reach the actions, not just the 404 of an unknown id.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from voronka.accounts.actions import do_create_token
from voronka.testing.fixtures import build_org, shared_copy

from .world import populate

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
schema.config.generation.update(max_examples=20, database="none")
# Generated (valid and invalid) requests keep the run under a minute. The coverage phase (every
# boundary value of every parameter, ~2,000 requests) passes too and takes longer:
# VORONKA_API_FUZZ_PHASES=examples,coverage,fuzzing runs it.
schema.config.phases.update(
    phases=os.environ.get("VORONKA_API_FUZZ_PHASES", "examples,fuzzing").split(",")
)

#: Which record a path or body id names.
ID_KINDS = {
    "company_id": "companies",
    "contact_id": "contacts",
    "deal_id": "deals",
    "task_id": "tasks",
    "communication_id": "communications",
    "pipeline_id": "pipelines",
    "stage_id": "stages",
    "owner_id": "users",
    "assistant_id": "users",
    "author_id": "users",
}


@pytest.fixture
def wsgi_in_the_test_transaction():
    """Requests go through the real WSGI handler, which closes the database connection after
    each one — and with it the test's transaction. Django's own test client holds it open the
    same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def module_real_ids(module_db):
    """The workspace every operation is called against, made once for the module; what each
    operation's requests write is rolled back after it (see ``module_db``)."""
    with module_db.unblock():
        org = build_org()
        world = populate(org)
        ids = {kind: [o.id for o in objs] for kind, objs in world.objects().items()}
        ids["pipelines"] = [org.pipeline.id]
        ids["stages"] = [s.id for s in org.pipeline.stages.all()]
        ids["users"] = [org.manager1.id, org.senior1.id, org.head.id]
        _, raw = do_create_token(org.head, org.head, name="schemathesis")
        return ids, raw


@pytest.fixture
def real_ids(db, module_real_ids, wsgi_in_the_test_transaction):
    return shared_copy(module_real_ids)


def _point_at_real_records(case, ids: dict) -> None:
    if case.path_parameters:
        for name, value in case.path_parameters.items():
            kind = ID_KINDS.get(name)
            if kind and isinstance(value, int):
                case.path_parameters[name] = ids[kind][value % len(ids[kind])]
    if isinstance(case.body, dict):
        for name, value in case.body.items():
            kind = ID_KINDS.get(name)
            if kind and isinstance(value, int) and not isinstance(value, bool):
                case.body[name] = ids[kind][value % len(ids[kind])]


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_operation_fails_or_breaks_its_schema(case, real_ids):
    ids, token = real_ids
    _point_at_real_records(case, ids)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
