"""A workspace at scale: 50 managers in five teams, thousands of clients, a million deals and
ten million events (stage changes and communications) over two years.

People, pipelines, clients and loss reasons go through the ORM (a few thousand rows); deals,
their stage history, tasks, communications and snoozes are written in bulk, bypassing the ORM:
``executemany`` on SQLite and ``COPY`` on PostgreSQL, with the tables' secondary indexes dropped
during the load and built again afterwards, and the foreign-key checks off while loading (every
id written is one this module made).

Deals walk the same funnel as the demo company's (``voronka.core.demo``): created over two
years, moving stage by stage with the demo's conversions and normal durations (an eighth of the
stays far longer: rotting deals), won, lost with a reason from the head's list, or still open.
Every stay in a stage has its communications (calls in and out, some missed, messages, emails,
meetings with durations, notes; most with a real comment, some with none or a word) and, for
half of the finished stays, a task done; the closing stay has the closing conversation. Open
deals mostly have a next step (a quarter of them overdue, some too far ahead), some none;
a few are snoozed. The number of communications per stay is set so that stage changes and
communications together come to ``events`` (ten per deal by default).
"""

from __future__ import annotations

import bisect
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

BENCH_PASSWORD = "bench-password-1"
WORKSPACE_NAME = "ООО «Масштаб»"
HOUR = 3600
DAY = 86400
HISTORY_DAYS = 730
#: Deals per batch of rows (with their history, about ten times as many rows).
CHUNK = 20_000


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
    seniors: list[str] = field(default_factory=list)
    deals: int = 0
    open_deals: int = 0
    stage_changes: int = 0
    communications: int = 0
    tasks: int = 0
    snoozes: int = 0
    companies: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def events(self) -> int:
        return self.stage_changes + self.communications


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
    from voronka.clients.models import Company, Contact, Segment
    from voronka.core.demo import (
        CITIES,
        DEMO_PRODUCTS,
        DEMO_SEGMENTS,
        FEMALE_FIRST,
        LAST_NAMES,
        LOSS_REASONS_EARLY,
        LOSS_REASONS_LATE,
        MALE_FIRST,
        PIPELINES,
        female_last_name,
    )
    from voronka.core.models import Workspace
    from voronka.sales.models import LossReason, Pipeline, Product, Stage, StageKind

    ws = Workspace.objects.create(name=WORKSPACE_NAME)
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

    names = dict.fromkeys(n for n, _w in LOSS_REASONS_EARLY + LOSS_REASONS_LATE)
    LossReason.objects.bulk_create(
        [LossReason(workspace=ws, name=n, position=i) for i, n in enumerate(names, 1)]
    )

    # The demo's products and client segments, drawn from a random stream of their own so
    # that the rest of the data is the same as without them.
    side = random.Random(7919)
    products = [
        (Product.objects.create(workspace=ws, name=name, position=i, is_archived=archived).id, band)
        for i, (name, band, archived) in enumerate(DEMO_PRODUCTS, 1)
    ]
    segments = [
        Segment.objects.create(workspace=ws, name=name, position=i)
        for i, name in enumerate(DEMO_SEGMENTS, 1)
    ]
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
                segment=None if side.random() < 0.1 else side.choice(segments),
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
    return (
        ws,
        head,
        owner,
        seniors,
        managers,
        pipelines,
        open_stages,
        stage_specs,
        companies,
        contacts,
        products,
    )


def _walk(rng: random.Random, normal_days: list[int], conversions: list[float]):
    """(stage index or -1 won / -2 lost, seconds before now) steps, as the demo walks them."""
    t = rng.random() * HISTORY_DAYS * DAY
    path = [(0, t)]
    i = 0
    last = len(normal_days) - 1
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


def _weighted(pairs) -> list:
    """A list to draw from with ``rng.choice``: each value as often as its weight says."""
    return [value for value, weight in pairs for _ in range(weight)]


def _product(rng: random.Random, products, amount: int) -> int | None:
    """A product whose amount band fits the deal (as the demo gives them); a few deals have
    none."""
    if rng.random() < 0.08:
        return None
    fits = [pid for pid, (low, high) in products if low <= amount < high]
    return fits[rng.randrange(len(fits))] if fits else products[3][0]


def _poisson_table(mean: float) -> list[float]:
    """Cumulative probabilities of 0, 1, 2, … events for a Poisson draw with ``bisect``."""
    out, p, total, k = [], math.exp(-mean), 0.0, 0
    while total < 0.999999 and k < 60:
        total += p
        out.append(total)
        k += 1
        p *= mean / k
    return out


def _steps_per_deal(prepared, seed: int, sample: int = 20_000) -> float:
    """How many stage changes a deal has on average (sampled walks, a generator of its own)."""
    rng = random.Random(seed + 1)
    share0 = prepared[0]["share"]
    total = 0
    for _ in range(sample):
        p = prepared[0] if rng.random() < share0 else prepared[1]
        total += len(_walk(rng, p["normal"], p["conv"]))
    return total / sample


# -- What the rows say ---------------------------------------------------------------------------

PRODUCTS = (
    "Поставка ноутбуков",
    "Сервисный контракт",
    "Лицензии 1С",
    "Внедрение CRM",
    "Видеонаблюдение",
    "Монтаж СКС",
    "Обучение персонала",
    "IP-телефония",
)
GOALS = (
    ("call", "Договориться о встрече"),
    ("call", "Уточнить потребность"),
    ("meeting", "Провести встречу"),
    ("proposal", "Отправить КП"),
    ("call", "Обсудить КП"),
    ("bank_details", "Получить реквизиты"),
    ("contract", "Получить подписанный договор"),
    ("message", "Напомнить об оплате"),
)
RESULTS = (
    "Сделано, клиент подтвердил.",
    "Созвонились, договорились о следующем шаге.",
    "Отправлено, клиент получил.",
    "Встреча прошла, ждём решения.",
)
COMMENTS = {
    "call": (
        "Обсудили потребность: 25 рабочих мест, сроки до конца квартала. Перезвоню в четверг.",
        "Клиент сравнивает с двумя поставщиками, просит скидку 5%. Согласую с руководителем.",
        "Поговорил с ИТ-директором, техническое задание пришлют завтра на почту.",
        "Уточнили состав поставки и сроки. Бюджет согласован, ждут КП до пятницы.",
        "Входящий звонок: просят перенести встречу на следующую неделю, согласились.",
        "Напомнил про счёт, оплата запланирована на понедельник, бухгалтерия в курсе.",
    ),
    "message": (
        "Отправил в WhatsApp презентацию и кейсы из их отрасли, клиент посмотрит к среде.",
        "Клиент написал в Telegram: вопросы по гарантии, ответил, ждёт договор.",
        "Переписка по срокам монтажа: готовы начать с 15-го, подтвердили письменно.",
    ),
    "meeting": (
        "Встреча в офисе клиента: показали решение директору и главбуху, решение через неделю.",
        "Провели демонстрацию, замечаний нет, просят КП с рассрочкой платежа на 3 месяца.",
        "Обсудили договор с юристом клиента, правки по срокам приняты, подписание в пятницу.",
    ),
    "email": (
        "Ответил на запрос цен и сроков, приложил прайс и сертификаты.",
        "Отправил КП и проект договора, клиент подтвердил получение.",
    ),
    "note": (
        "Клиент просил не звонить до обеда: совещания каждый день с 9 до 12.",
        "ЛПР — финансовый директор, закупщик только собирает предложения.",
    ),
}
SHORT = ("Ок", "Перезвонить", "Ждём", "Не ответил", "КП")
MISSED = "Не дозвонился, перезвоню завтра утром."
#: (kind, weight, directions, channels): what a communication is, and how often.
KINDS = (
    ("call", 50, ("out", "out", "out", "in"), ("phone",)),
    ("message", 20, ("out", "in"), ("whatsapp", "telegram", "whatsapp", "site_chat")),
    ("email", 14, ("out", "in"), ("email",)),
    ("meeting", 8, ("",), ("in_person",)),
    ("note", 8, ("",), ("",)),
)
SNOOZE_REASONS = (
    "ЛПР в отпуске до конца месяца",
    "Клиент ждёт утверждения бюджета",
    "Тендер перенесли, решение после праздников",
)


def _working(epoch: float, now_ts: float) -> float:
    """The same day's moment folded into working hours (9:00–19:00 Moscow), not after now."""
    day = epoch - epoch % DAY
    at = day + 6 * HOUR + (epoch % DAY) * (10 / 24)
    return min(at, now_ts - 600)


class _Ids:
    def __init__(self):
        self.deal = self.change = self.task = self.comm = self.snooze = 0


def _rows(rng, n_deals: int, now_ts: float, ws_id: int, pg: bool, ctx, per_stay: float):
    """Deals with their stage changes, tasks, communications and snoozes, CHUNK at a time."""
    prepared, owners, reasons_early, reasons_late, products = ctx
    side = random.Random(7927)  # the products' own stream: the rest stays as without them
    share0 = prepared[0]["share"]
    poisson = _poisson_table(per_stay)
    kinds = _weighted(((k, d, c), w) for k, w, d, c in KINDS)
    ids = _Ids()
    ts = _ts

    def comms_for(deal_id, owner_id, contact_id, t_from, t_to, out):
        """Communications between t_from and t_to seconds before now (t_from > t_to)."""
        for _ in range(bisect.bisect_left(poisson, rng.random())):
            kind, directions, channels = kinds[rng.randrange(len(kinds))]
            at_epoch = _working(now_ts - t_from + rng.random() * (t_from - t_to), now_ts)
            at = ts(at_epoch, pg)
            direction = directions[rng.randrange(len(directions))]
            duration = None
            roll = rng.random()
            if kind == "call":
                if direction == "out" and roll < 0.12:
                    duration = 0
                else:
                    duration = rng.randrange(40, 900)
            elif kind == "meeting":
                duration = (30, 45, 60, 60, 90, 120)[rng.randrange(6)] * 60
            if roll > 0.92:
                comment = ""
            elif roll > 0.88:
                comment = SHORT[rng.randrange(len(SHORT))]
            elif duration == 0:
                comment = MISSED
            else:
                pool = COMMENTS[kind]
                comment = pool[rng.randrange(len(pool))]
            ids.comm += 1
            out.append(
                (
                    ids.comm,
                    ws_id,
                    at,
                    at,
                    kind,
                    direction,
                    channels[rng.randrange(len(channels))],
                    at,
                    duration,
                    comment,
                    owner_id,
                    contact_id,
                    deal_id,
                    "",
                )
            )

    while ids.deal < n_deals:
        deals, changes, tasks, comms, snoozes = [], [], [], [], []
        for _ in range(min(CHUNK, n_deals - ids.deal)):
            ids.deal += 1
            deal_id = ids.deal
            p = prepared[0] if rng.random() < share0 else prepared[1]
            open_ids = p["open"]
            company_id, owner_id, contact_id = owners[rng.randrange(len(owners))]
            path = _walk(rng, p["normal"], p["conv"])
            end = path[-1][0]
            prev = None
            for j, (idx, t) in enumerate(path):
                stage = p["won"] if idx == -1 else p["lost"] if idx == -2 else open_ids[idx]
                at = ts(now_ts - t, pg)
                ids.change += 1
                changes.append((ids.change, ws_id, at, at, deal_id, prev, stage, at, owner_id))
                prev = stage
                if j + 1 < len(path):
                    t_from, t_to = t, path[j + 1][1]
                elif end >= 0:
                    t_from, t_to = t, 0.0
                else:  # the closing conversation, in the days before the close
                    t_from, t_to = t + min(3 * DAY, path[j - 1][1] - t), t
                comms_for(deal_id, owner_id, contact_id, t_from, t_to, comms)
                if idx >= 0 and j + 1 < len(path) and rng.random() < 0.5:
                    # A step done in this stay.
                    span = t_from - t_to
                    made = now_ts - t_from
                    due = made + span * rng.uniform(0.2, 0.8)
                    done = due + rng.uniform(-0.3, 0.5) * DAY
                    done = max(made + 60, min(done, now_ts - t_to))
                    task_type, goal = GOALS[rng.randrange(len(GOALS))]
                    ids.task += 1
                    tasks.append(
                        (
                            ids.task, ws_id, ts(made, pg), ts(done, pg), task_type, goal,
                            ts(due, pg), owner_id, deal_id, contact_id, owner_id, ts(done, pg),
                            RESULTS[rng.randrange(len(RESULTS))],
                        )
                    )  # fmt: skip
            created = ts(now_ts - path[0][1], pg)
            entered_epoch = now_ts - path[-1][1]
            entered = ts(entered_epoch, pg)
            amount = int(math.exp(rng.gauss(12.15, 0.65)) // 1000 * 1000)
            amount = min(max(amount, 50_000), 900_000)
            reached_invoice = any(idx == len(open_ids) - 1 for idx, _t in path) or end == -1
            reason = ""
            if end == -2:
                lost_at = path[-2][0]
                pool = reasons_early if lost_at <= 1 else reasons_late
                reason = pool[rng.randrange(len(pool))]
            deals.append(
                (
                    deal_id, ws_id, created, entered,
                    f"{PRODUCTS[deal_id % len(PRODUCTS)]} №{deal_id}", p["id"], prev, entered,
                    company_id, contact_id, owner_id, None, amount, "RUB",
                    p["sources"][rng.randrange(len(p["sources"]))],
                    _date(entered_epoch + 14 * DAY) if end >= 0 else _date(entered_epoch),
                    reason, entered if end < 0 else None,
                    f"СЧ-{deal_id}" if reached_invoice else "",
                    amount if reached_invoice else None,
                    _product(side, products, amount),
                    None,  # next_step_due (last): its open task's due time, set below
                )
            )  # fmt: skip
            if end < 0:
                continue
            # An open deal: its next step (overdue, today or ahead; sometimes none), a snooze.
            roll = rng.random()
            if roll < 0.85:
                if roll < 0.22:
                    due = now_ts - rng.uniform(HOUR, 10 * DAY)
                elif roll < 0.35:
                    due = now_ts + rng.uniform(0, 8 * HOUR)
                else:
                    due = now_ts + rng.uniform(DAY, 25 * DAY)
                task_type, goal = GOALS[rng.randrange(len(GOALS))]
                ids.task += 1
                tasks.append(
                    (
                        ids.task, ws_id, entered, entered, task_type, goal, ts(due, pg),
                        owner_id, deal_id, contact_id, owner_id, None, "",
                    )
                )  # fmt: skip
                # The deal's one open task is its next step (``sync_next_step_due``'s rule).
                deals[-1] = deals[-1][:-1] + (ts(due, pg),)
            if rng.random() < 0.03:
                made = now_ts - rng.uniform(0, 20 * DAY)
                until = made + rng.uniform(3, 30) * DAY  # some have run out
                ids.snooze += 1
                snoozes.append(
                    (
                        ids.snooze, ws_id, ts(made, pg), ts(made, pg), deal_id, ts(until, pg),
                        SNOOZE_REASONS[rng.randrange(len(SNOOZE_REASONS))], owner_id, None,
                    )
                )  # fmt: skip
        yield deals, changes, tasks, comms, snoozes


DEAL_FIELDS = [
    "id", "workspace", "created_at", "updated_at", "title", "pipeline", "stage",
    "stage_entered_at", "company", "contact", "owner", "assistant", "amount", "currency",
    "source", "expected_close", "loss_reason", "closed_at", "invoice_no", "invoice_amount",
    "product", "next_step_due",
]  # fmt: skip
CHANGE_FIELDS = [
    "id", "workspace", "created_at", "updated_at", "deal", "from_stage", "to_stage",
    "changed_at", "changed_by",
]  # fmt: skip
TASK_FIELDS = [
    "id", "workspace", "created_at", "updated_at", "type", "goal", "due_at", "owner", "deal",
    "contact", "created_by", "done_at", "result",
]  # fmt: skip
COMM_FIELDS = [
    "id", "workspace", "created_at", "updated_at", "kind", "direction", "channel",
    "occurred_at", "duration_seconds", "comment", "author", "contact", "deal", "recording",
]  # fmt: skip
SNOOZE_FIELDS = [
    "id", "workspace", "created_at", "updated_at", "deal", "until", "reason", "created_by",
    "ended_at",
]  # fmt: skip


def generate(
    n_deals: int,
    *,
    events: int | None = None,
    seed: int = 1,
    log: Callable[[str], None] = print,
) -> Dataset:
    """Build the workspace, its deals and their history; return what the measurements need.

    ``events``: stage changes and communications together (default ten per deal).
    """
    from voronka.activities.models import Task
    from voronka.control.models import Snooze
    from voronka.core.demo import LOSS_REASONS_EARLY, LOSS_REASONS_LATE
    from voronka.inbox.models import Communication
    from voronka.sales.models import Deal, StageChange

    events = 10 * n_deals if events is None else events
    rng = random.Random(seed)
    now = timezone.now()
    started = time.monotonic()
    t0 = time.monotonic()
    with transaction.atomic():
        made = _people_and_clients(rng, n_deals, now)
    made, products = made[:-1], made[-1]
    ws, head, owner, seniors, managers, pipelines, open_stages, specs, companies, contacts = made
    timings = {"people_and_clients": time.monotonic() - t0}

    prepared = []
    for pipeline in pipelines:
        spec, opens, won, lost = specs[pipeline.id]
        prepared.append(
            {
                "id": pipeline.id,
                "open": [s.id for s in opens],
                "normal": [s.normal_days for s in opens],
                "conv": [s.conversion for s in spec.open_stages],
                "won": won.id,
                "lost": lost.id,
                "share": spec.share,
                "sources": _weighted(spec.sources),
            }
        )
    steps = _steps_per_deal(prepared, seed)
    per_stay = max(0.0, events / max(n_deals, 1) - steps) / steps
    owners = [(c.id, c.owner_id, ct.id) for c, ct in zip(companies, contacts, strict=True)]
    ctx = (
        prepared,
        owners,
        _weighted(LOSS_REASONS_EARLY),
        _weighted(LOSS_REASONS_LATE),
        products,
    )

    models = [Deal, StageChange, Task, Communication, Snooze]
    tables = [m._meta.db_table for m in models]
    pg = connection.vendor == "postgresql"
    connection.ensure_connection()
    raw = connection.connection
    t0 = time.monotonic()
    saved = _drop_indexes(tables)
    if pg:
        with raw.cursor() as cur:
            # Foreign-key triggers off while loading rows whose ids this module made.
            cur.execute("SET session_replication_role = replica")
    else:
        raw.execute("PRAGMA foreign_keys = OFF")
        raw.execute("PRAGMA cache_size = -1000000")
    writer = _Writer(raw, connection.vendor)
    layouts = [
        _columns(model, names, pg)
        for model, names in zip(
            models,
            [DEAL_FIELDS, CHANGE_FIELDS, TASK_FIELDS, COMM_FIELDS, SNOOZE_FIELDS],
            strict=True,
        )
    ]
    counts = [0] * len(models)
    open_deals = 0
    with transaction.atomic():
        for batch in _rows(rng, n_deals, now.timestamp(), ws.id, pg, ctx, per_stay):
            for i, rows in enumerate(batch):
                writer.write(tables[i], *layouts[i], rows)
                counts[i] += len(rows)
            open_deals += sum(1 for d in batch[0] if d[17] is None)
            log(
                f"  … {counts[0]:,} deals, {counts[1] + counts[3]:,} events "
                f"({counts[1]:,} stage changes, {counts[3]:,} communications), "
                f"{counts[2]:,} tasks, {time.monotonic() - started:.0f} s"
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
                    f"GREATEST(1, (SELECT max(id) FROM {table})))"
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
        seniors=[s.username for s in seniors],
        deals=counts[0],
        open_deals=open_deals,
        stage_changes=counts[1],
        tasks=counts[2],
        communications=counts[3],
        snoozes=counts[4],
        companies=len(companies),
        timings=timings,
    )


def existing() -> Dataset | None:
    """The workspace an earlier run generated in this database (``BENCH_REUSE``), or None.

    The counts are read back; the generation's timings are those the run saved beside the
    database, if any.
    """
    from voronka.accounts.models import Role, User
    from voronka.activities.models import Task
    from voronka.clients.models import Company
    from voronka.control.models import Snooze
    from voronka.core.models import Workspace
    from voronka.inbox.models import Communication
    from voronka.sales.models import Deal, Pipeline, Stage, StageChange, StageKind

    ws = Workspace.objects.filter(name=WORKSPACE_NAME).order_by("id").first()
    if ws is None:
        return None
    users = User.objects.filter(workspace=ws).order_by("id")
    managers = list(users.filter(role=Role.MANAGER).values_list("username", "id"))
    pipelines = list(Pipeline.objects.filter(workspace=ws).order_by("position", "id"))
    open_stages = {
        p.id: list(
            Stage.objects.filter(pipeline=p, kind=StageKind.OPEN)
            .order_by("position", "id")
            .values_list("id", flat=True)
        )
        for p in pipelines
    }
    mine = {"workspace_id": ws.id}
    return Dataset(
        workspace_id=ws.id,
        head=users.get(role=Role.HEAD).username,
        owner=users.get(role=Role.OWNER).username,
        managers=[u for u, _id in managers],
        manager_ids=dict(managers),
        pipelines=[p.id for p in pipelines],
        open_stages=open_stages,
        seniors=list(users.filter(role=Role.SENIOR).values_list("username", flat=True)),
        deals=Deal.objects.filter(**mine).count(),
        open_deals=Deal.objects.filter(**mine, closed_at__isnull=True).count(),
        stage_changes=StageChange.objects.filter(**mine).count(),
        communications=Communication.objects.filter(**mine).count(),
        tasks=Task.objects.filter(**mine).count(),
        snoozes=Snooze.objects.filter(**mine).count(),
        companies=Company.objects.filter(**mine).count(),
    )
