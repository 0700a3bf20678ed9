"""A workspace at scale: 50 managers in teams, thousands of clients, a million deals.

People, pipelines and clients go through the ORM (a few thousand rows); deals, their stage
history and their tasks are written in bulk, bypassing the ORM: ``executemany`` on SQLite and
``COPY`` on PostgreSQL, with the tables' secondary indexes dropped during the load and built
again afterwards, and the foreign-key checks off while loading (every id written is one this
module made). Deals walk the same funnel as the demo company's (``voronka.core.demo``), with
creation dates spread over two years.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

BENCH_PASSWORD = "bench-password-1"
DAY = 86400
HISTORY_DAYS = 730
CHUNK = 50_000


@dataclass
class Dataset:
    """What the measurements need to know about the generated workspace."""

    workspace_id: int
    head: str
    owner: str
    managers: list[str]
    manager_ids: dict[str, int]
    pipelines: list[int]
    open_stages: dict[int, list[int]]
    deals: int = 0
    stage_changes: int = 0
    tasks: int = 0
    companies: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def _ts(epoch: float, pg: bool) -> str:
    text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))
    return text + "+00" if pg else text


def _date(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def _columns(model, names: list[str], pg: bool) -> tuple[list[str], tuple]:
    """The columns this module writes, then every other column with its default value.

    The models grow fields the generator does not know about; a field that is nullable or
    has a default is filled with that, so the bench keeps working as the schema evolves.
    """
    from django.db import models

    columns = [model._meta.get_field(n).column for n in names]
    extra_columns, extra_values = [], []
    for f in model._meta.concrete_fields:
        if f.column in columns:
            continue
        if f.null:
            value = None
        elif f.has_default():
            value = f.get_default()
        elif f.blank and isinstance(f, models.CharField | models.TextField):
            value = ""
        else:
            raise RuntimeError(f"bench/generate.py does not fill {model.__name__}.{f.name}")
        if isinstance(f, models.JSONField) and value is not None:
            value = json.dumps(value)
        elif isinstance(value, bool) and not pg:
            value = int(value)
        extra_columns.append(f.column)
        extra_values.append(value)
    return columns + extra_columns, tuple(extra_values)


class _Writer:
    """Bulk rows into one table: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, raw, vendor: str):
        self.raw = raw
        self.pg = vendor == "postgresql"

    def write(self, table: str, columns: list[str], extra: tuple, rows: list[tuple]) -> None:
        if not rows:
            return
        if extra:
            rows = [row + extra for row in rows]
        cols = ", ".join(columns)
        if self.pg:
            with self.raw.cursor() as cur:
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.raw.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)


def _secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of a table's indexes that no constraint owns."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                """
                SELECT i.relname, pg_get_indexdef(i.oid)
                FROM pg_index x
                JOIN pg_class i ON i.oid = x.indexrelid
                JOIN pg_class t ON t.oid = x.indrelid
                WHERE t.relname = %s
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
                """,
                [table],
            )
        else:
            cur.execute(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
        return list(cur.fetchall())


def _drop_indexes(tables: list[str]) -> list[tuple[str, str]]:
    saved = []
    with connection.cursor() as cur:
        for table in tables:
            for name, sql in _secondary_indexes(table):
                cur.execute(f'DROP INDEX "{name}"')
                saved.append((name, sql))
    return saved


def _create_indexes(saved: list[tuple[str, str]]) -> None:
    with connection.cursor() as cur:
        for _name, sql in saved:
            cur.execute(sql)


def _people_and_clients(rng: random.Random, n_deals: int, now: datetime):
    from voronka.accounts.models import Role, Team, User
    from voronka.clients.models import Company, Contact
    from voronka.core.demo import (
        CITIES,
        FEMALE_FIRST,
        LAST_NAMES,
        MALE_FIRST,
        PIPELINES,
        female_last_name,
    )
    from voronka.core.models import Workspace
    from voronka.sales.models import Pipeline, Stage, StageKind

    ws = Workspace.objects.create(name="ООО «Масштаб»")
    password = make_password(BENCH_PASSWORD)

    def person(username: str, role: str, team=None) -> User:
        female = rng.random() < 0.5
        last = rng.choice(LAST_NAMES)
        return User(
            workspace=ws,
            username=username,
            password=password,
            role=role,
            team=team,
            first_name=rng.choice(FEMALE_FIRST if female else MALE_FIRST),
            last_name=female_last_name(last) if female else last,
            language="ru",
            timezone="Europe/Moscow",
        )

    head = person("bench-head", Role.HEAD)
    owner = person("bench-owner", Role.OWNER)
    seniors = [person(f"bench-senior{i}", Role.SENIOR) for i in range(1, 6)]
    User.objects.bulk_create([head, owner, *seniors])
    teams = []
    for i, senior in enumerate(seniors, 1):
        team = Team.objects.create(workspace=ws, name=f"Группа {i}", lead=senior)
        senior.team = team
        senior.save(update_fields=["team"])
        teams.append(team)
    managers = [
        person(f"bench-manager{i}", Role.MANAGER, teams[(i - 1) // 10]) for i in range(1, 51)
    ]
    User.objects.bulk_create(managers)
    sellers = managers + seniors

    pipelines, open_stages, stage_specs = [], {}, {}
    for pos, spec in enumerate(PIPELINES, 1):
        pipeline = Pipeline.objects.create(
            workspace=ws, name=spec.name, position=pos, is_inbound=spec.is_inbound
        )
        stages = [
            Stage.objects.create(
                workspace=ws,
                pipeline=pipeline,
                name=s.name,
                kind=s.kind,
                position=i,
                normal_days=s.normal_days,
            )
            for i, s in enumerate(spec.stages, 1)
        ]
        pipelines.append(pipeline)
        opens = [st for st in stages if st.kind == StageKind.OPEN]
        open_stages[pipeline.id] = [st.id for st in opens]
        stage_specs[pipeline.id] = (
            spec,
            opens,
            next(st for st in stages if st.kind == StageKind.WON),
            next(st for st in stages if st.kind == StageKind.LOST),
        )

    n_companies = max(500, n_deals // 250)
    companies, contacts = [], []
    for i in range(n_companies):
        city = rng.choice(CITIES)[0]
        companies.append(
            Company(
                workspace=ws,
                name=f"ООО «Клиент {i + 1}»",
                owner=rng.choice(sellers),
                city=city,
                inn=f"{rng.randrange(10**9, 10**10)}",
            )
        )
    Company.objects.bulk_create(companies, batch_size=2000)
    for company in companies:
        female = rng.random() < 0.5
        last = rng.choice(LAST_NAMES)
        contacts.append(
            Contact(
                workspace=ws,
                company=company,
                owner_id=company.owner_id,
                first_name=rng.choice(FEMALE_FIRST if female else MALE_FIRST),
                last_name=female_last_name(last) if female else last,
                phone=f"+79{rng.randrange(10**9):09d}",
            )
        )
    Contact.objects.bulk_create(contacts, batch_size=2000)
    return ws, head, owner, managers, pipelines, open_stages, stage_specs, companies, contacts


def _walk(rng: random.Random, opens: list, normal_days: list[int], conversions: list[float]):
    """(stage index or -1 won / -2 lost, seconds before now) steps, as the demo walks them."""
    t = rng.random() * HISTORY_DAYS * DAY
    path = [(0, t)]
    i = 0
    last = len(opens) - 1
    while True:
        onward = rng.random() < conversions[i]
        d = normal_days[i] * DAY * math.exp(rng.gauss(-0.16, 0.55))
        if rng.random() < 0.12:
            d *= rng.uniform(2.0, 8.0)
        if not onward:
            d *= 1.8
        if t - d <= 0:
            return path
        t -= d
        if not onward:
            path.append((-2, t))
            return path
        if i == last:
            path.append((-1, t))
            return path
        i += 1
        path.append((i, t))


def _rows(
    rng: random.Random, n_deals: int, now_ts: float, ws_id: int, pg: bool, ctx
) -> Iterator[tuple[list, list, list]]:
    """Deals, stage changes and tasks, CHUNK deals at a time."""
    pipelines, stage_specs, companies = ctx
    deal_id = 0
    change_id = 0
    task_id = 0
    products = (
        "Поставка ноутбуков",
        "Сервисный контракт",
        "Лицензии 1С",
        "Внедрение CRM",
        "Видеонаблюдение",
        "Монтаж СКС",
        "Обучение персонала",
        "IP-телефония",
    )
    sources = ("Сайт", "Рекомендация", "Реклама", "Выставка", "Холодный звонок")
    reasons = ("Дорого", "Выбрали конкурента", "Нет бюджета", "Не дозвонились")
    goals = ("Договориться о встрече", "Получить реквизиты", "Отправить КП", "Перезвонить")
    prepared = []
    for pipeline in pipelines:
        spec, opens, won, lost = stage_specs[pipeline.id]
        prepared.append(
            (
                pipeline.id,
                [s.id for s in opens],
                [s.normal_days for s in opens],
                [s.conversion for s in spec.open_stages],
                won.id,
                lost.id,
                spec.share,
            )
        )
    share0 = prepared[0][6]
    owners = [(c.id, c.owner_id, c._contact_id) for c in companies]
    while deal_id < n_deals:
        deals, changes, tasks = [], [], []
        for _ in range(min(CHUNK, n_deals - deal_id)):
            deal_id += 1
            p_id, open_ids, normal, conv, won_id, lost_id, _share = (
                prepared[0] if rng.random() < share0 else prepared[1]
            )
            company_id, owner_id, contact_id = owners[rng.randrange(len(owners))]
            path = _walk(rng, open_ids, normal, conv)
            prev = None
            for idx, t in path:
                stage = won_id if idx == -1 else lost_id if idx == -2 else open_ids[idx]
                at = _ts(now_ts - t, pg)
                change_id += 1
                changes.append((change_id, ws_id, at, at, deal_id, prev, stage, at, owner_id))
                prev = stage
            created = _ts(now_ts - path[0][1], pg)
            entered_epoch = now_ts - path[-1][1]
            entered = _ts(entered_epoch, pg)
            end = path[-1][0]
            closed = entered if end < 0 else None
            amount = int(math.exp(rng.gauss(12.15, 0.65)) // 1000 * 1000)
            amount = min(max(amount, 50_000), 900_000)
            deals.append(
                (
                    deal_id,
                    ws_id,
                    created,
                    entered,
                    f"{products[deal_id % len(products)]} №{deal_id}",
                    p_id,
                    prev,
                    entered,
                    company_id,
                    contact_id,
                    owner_id,
                    None,
                    amount,
                    "RUB",
                    sources[rng.randrange(len(sources))],
                    _date(entered_epoch + 14 * DAY) if end >= 0 else _date(entered_epoch),
                    reasons[rng.randrange(len(reasons))] if end == -2 else "",
                    closed,
                )
            )
            roll = rng.random()
            if end >= 0 and roll < 0.85:
                # The deal's next step: overdue, today or ahead.
                due = now_ts + rng.uniform(-10 * DAY, 12 * DAY)
                task_id += 1
                tasks.append(
                    (
                        task_id,
                        ws_id,
                        entered,
                        entered,
                        "call",
                        goals[task_id % len(goals)],
                        _ts(due, pg),
                        owner_id,
                        deal_id,
                        contact_id,
                        owner_id,
                        None,
                        "",
                    )
                )
            if roll < 0.5:
                # A step done earlier.
                task_id += 1
                tasks.append(
                    (
                        task_id,
                        ws_id,
                        created,
                        created,
                        "call",
                        goals[task_id % len(goals)],
                        created,
                        owner_id,
                        deal_id,
                        contact_id,
                        owner_id,
                        created,
                        "Сделано",
                    )
                )
        yield deals, changes, tasks


DEAL_FIELDS = [
    "id", "workspace", "created_at", "updated_at", "title", "pipeline", "stage",
    "stage_entered_at", "company", "contact", "owner", "assistant", "amount", "currency",
    "source", "expected_close", "loss_reason", "closed_at",
]  # fmt: skip
CHANGE_FIELDS = [
    "id", "workspace", "created_at", "updated_at", "deal", "from_stage", "to_stage",
    "changed_at", "changed_by",
]  # fmt: skip
TASK_FIELDS = [
    "id", "workspace", "created_at", "updated_at", "type", "goal", "due_at", "owner", "deal",
    "contact", "created_by", "done_at", "result",
]  # fmt: skip


def generate(n_deals: int, *, seed: int = 1, log: Callable[[str], None] = print) -> Dataset:
    """Build the workspace and its million deals; return what the measurements need."""
    from voronka.activities.models import Task
    from voronka.sales.models import Deal, StageChange

    rng = random.Random(seed)
    now = timezone.now()
    t0 = time.monotonic()
    with transaction.atomic():
        ws, head, owner, managers, pipelines, open_stages, specs, companies, contacts = (
            _people_and_clients(rng, n_deals, now)
        )
    for company, contact in zip(companies, contacts, strict=True):
        company._contact_id = contact.id
    timings = {"people_and_clients": time.monotonic() - t0}

    tables = [Deal._meta.db_table, StageChange._meta.db_table, Task._meta.db_table]
    pg = connection.vendor == "postgresql"
    connection.ensure_connection()
    raw = connection.connection
    t0 = time.monotonic()
    saved = _drop_indexes(tables)
    counts = {"deals": 0, "changes": 0, "tasks": 0}
    if pg:
        with raw.cursor() as cur:
            # Foreign-key triggers off while loading rows whose ids this module made.
            cur.execute("SET session_replication_role = replica")
    else:
        raw.execute("PRAGMA foreign_keys = OFF")
        raw.execute("PRAGMA cache_size = -1000000")
    writer = _Writer(raw, connection.vendor)
    deal_cols, deal_extra = _columns(Deal, DEAL_FIELDS, pg)
    change_cols, change_extra = _columns(StageChange, CHANGE_FIELDS, pg)
    task_cols, task_extra = _columns(Task, TASK_FIELDS, pg)
    with transaction.atomic():
        for deals, changes, tasks in _rows(
            rng, n_deals, now.timestamp(), ws.id, pg, (pipelines, specs, companies)
        ):
            writer.write(Deal._meta.db_table, deal_cols, deal_extra, deals)
            writer.write(StageChange._meta.db_table, change_cols, change_extra, changes)
            writer.write(Task._meta.db_table, task_cols, task_extra, tasks)
            counts["deals"] += len(deals)
            counts["changes"] += len(changes)
            counts["tasks"] += len(tasks)
            log(
                f"  … {counts['deals']:,} deals, {counts['changes']:,} stage changes, "
                f"{counts['tasks']:,} tasks"
            )
    timings["rows"] = time.monotonic() - t0
    t0 = time.monotonic()
    with transaction.atomic():
        _create_indexes(saved)
    timings["indexes"] = time.monotonic() - t0
    t0 = time.monotonic()
    with connection.cursor() as cur:
        if pg:
            cur.execute("SET session_replication_role = DEFAULT")
            for table in tables:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            # As autovacuum would leave it: statistics, and a visibility map for index-only scans.
            cur.execute("VACUUM ANALYZE")
        else:
            # No ANALYZE on SQLite: an installation never runs it, so the plans measured are
            # the ones its users get.
            raw.execute("PRAGMA foreign_keys = ON")
    timings["analyze"] = time.monotonic() - t0
    # The measurements start from a fresh connection with the settings' own pragmas.
    connection.close()
    return Dataset(
        workspace_id=ws.id,
        head=head.username,
        owner=owner.username,
        managers=[m.username for m in managers],
        manager_ids={m.username: m.id for m in managers},
        pipelines=[p.id for p in pipelines],
        open_stages=open_stages,
        deals=counts["deals"],
        stage_changes=counts["changes"],
        tasks=counts["tasks"],
        companies=len(companies),
        timings=timings,
    )
