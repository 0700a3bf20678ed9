"""Small factories for tests and benchmarks: a workspace with people, a pipeline, deals."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from voronka.accounts.models import Role, Team, User
from voronka.core.models import Workspace
from voronka.sales.models import Pipeline, Stage, StageKind

_seq = itertools.count(1)

STANDARD_STAGES = [
    ("Новый лид", StageKind.OPEN, 2),
    ("Квалификация", StageKind.OPEN, 5),
    ("Встреча назначена", StageKind.OPEN, 7),
    ("КП отправлено", StageKind.OPEN, 10),
    ("Счёт выставлен", StageKind.OPEN, 14),
    ("Успешно", StageKind.WON, None),
    ("Проиграно", StageKind.LOST, None),
]


def make_workspace(name: str = "Тест") -> Workspace:
    return Workspace.objects.create(name=f"{name} {next(_seq)}")


def make_user(
    workspace: Workspace,
    role: str = Role.MANAGER,
    *,
    team: Team | None = None,
    username: str | None = None,
    password: str = "voronka-test-pass",
    **extra,
) -> User:
    user = User(
        workspace=workspace,
        role=role,
        team=team,
        username=username or f"{role}{next(_seq)}",
        **extra,
    )
    user.set_password(password)
    user.save()
    return user


def make_team(workspace: Workspace, lead: User | None = None, name: str | None = None) -> Team:
    return Team.objects.create(workspace=workspace, name=name or f"Team {next(_seq)}", lead=lead)


def make_pipeline(
    workspace: Workspace, name: str = "Входящие", stages=STANDARD_STAGES, is_inbound: bool = True
) -> Pipeline:
    pipeline = Pipeline.objects.create(workspace=workspace, name=name, is_inbound=is_inbound)
    for pos, (stage_name, kind, days) in enumerate(stages, 1):
        Stage.objects.create(
            workspace=workspace,
            pipeline=pipeline,
            name=stage_name,
            kind=kind,
            position=pos,
            normal_days=days,
        )
    return pipeline


def make_deal(
    actor: User,
    pipeline: Pipeline,
    *,
    owner: User | None = None,
    stage=None,
    days_ago: int = 0,
    **fields,
):
    from voronka.sales.actions import do_create_deal

    fields.setdefault("title", f"Сделка {next(_seq)}")
    at = timezone.now() - timedelta(days=days_ago)
    return do_create_deal(
        actor, pipeline=pipeline, owner=owner or actor, stage=stage, at=at, **fields
    )
