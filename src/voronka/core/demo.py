"""The demo company: a sales department with six months of believable history, from a seed.

``build_demo(seed=…)`` creates one workspace with its people, clients, two pipelines and deals
whose stage histories walk the funnel with conversions that fall off stage by stage and
durations drawn around each stage's normal duration. Everything random comes from one
``random.Random(seed)``, drawn in a fixed order, so the same seed gives the same company; only
the dates move with the day the demo is loaded (they are offsets from "now").

Rows are written with ``bulk_create`` (no change-history records: the demo's past is its stage
history, tasks and communications). Events fall in working hours (weekdays 9:00–19:00, Moscow),
via ``WorkClock``, which keeps their order.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from voronka.accounts.models import Role, Team, User
from voronka.activities.models import Task, TaskGoal
from voronka.clients.models import Company, Contact, Segment
from voronka.core.models import Workspace
from voronka.inbox.models import Communication
from voronka.sales.models import (
    Deal,
    LossReason,
    Pipeline,
    Product,
    Stage,
    StageChange,
    StageKind,
)

DEFAULT_SEED = 20240901
DEMO_PASSWORD = "voronka-demo"
WORKSPACE_NAME = "ООО «Демо»"
TIME_ZONE = "Europe/Moscow"
HISTORY_DAYS = 180

DAY = 86400.0
HOUR = 3600.0
MINUTE = 60.0

# ---------------------------------------------------------------------------------------------
# People

MALE_FIRST = (
    "Александр Алексей Андрей Антон Артём Борис Вадим Виктор Владимир Владислав Георгий Григорий "
    "Денис Дмитрий Евгений Егор Иван Игорь Илья Кирилл Константин Леонид Максим Михаил Никита "
    "Николай Олег Павел Пётр Роман Руслан Семён Сергей Станислав Степан Тимур Фёдор Юрий Ярослав"
).split()
FEMALE_FIRST = (
    "Алина Алла Анастасия Анна Валентина Валерия Вера Виктория Галина Дарья Евгения Екатерина "
    "Елена Елизавета Жанна Инна Ирина Карина Кристина Ксения Лариса Любовь Людмила Маргарита "
    "Марина Мария Надежда Наталья Нина Оксана Ольга Полина Светлана Софья Тамара Татьяна Ульяна "
    "Юлия Яна"
).split()
LAST_NAMES = (
    "Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов "
    "Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров "
    "Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев Кузьмин "
    "Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин Виноградов "
    "Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов Беляев "
    "Герасимов Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов Куликов Карпов Власов "
    "Мельников Денисов Гаврилов Тихонов Казаков Афанасьев Данилов Савельев Тимофеев Фомин Чернов "
    "Абрамов Мартынов Ефимов Федотов Щербаков Назаров Калинин Исаев Быков Маслов Родионов "
    "Коновалов Лазарев Воронин Климов Филатов Пономарёв Голубев Кудрявцев Прохоров Наумов Потапов "
    "Журавлёв Трофимов Леонов Соболев Ермаков Колесников Гончаров Емельянов Никифоров Грачёв "
    "Котов Гришин Ефремов Архипов Громов Кириллов Малышев Панов Моисеев Румянцев Акимов "
    "Кондратьев Бирюков Горбунов Анисимов Ерёмин Тихомиров Галкин Лукьянов Михеев Скворцов Юдин "
    "Белоусов Нестеров Симонов Прокофьев Харитонов Князев Цветков Левин Воронцов Аксёнов Мальцев "
    "Логинов Горшков Савин Краснов Майоров Демидов Елисеев Рыбаков Сафонов Плотников Хохлов "
    "Жданов Островский Вишневский Добровольский Покровский Залесский"
).split()
PATRONYMIC_INITIALS = "АБВГДЕИКЛМНОПРСФЮ"

POSITIONS = (
    ("Генеральный директор", 10),
    ("Коммерческий директор", 8),
    ("Финансовый директор", 5),
    ("Главный бухгалтер", 6),
    ("ИТ-директор", 8),
    ("Руководитель отдела закупок", 10),
    ("Менеджер по закупкам", 12),
    ("Системный администратор", 8),
    ("Главный инженер", 4),
    ("Офис-менеджер", 7),
    ("Директор по развитию", 4),
    ("Начальник АХО", 5),
    ("Специалист по тендерам", 3),
    ("Собственник", 3),
)

# ---------------------------------------------------------------------------------------------
# Companies

# city, INN region code, telephone area code, weight
CITIES = (
    ("Москва", "77", "495", 26),
    ("Москва", "77", "499", 6),
    ("Санкт-Петербург", "78", "812", 14),
    ("Новосибирск", "54", "383", 5),
    ("Екатеринбург", "66", "343", 6),
    ("Казань", "16", "843", 5),
    ("Нижний Новгород", "52", "831", 5),
    ("Самара", "63", "846", 4),
    ("Ростов-на-Дону", "61", "863", 4),
    ("Краснодар", "23", "861", 5),
    ("Челябинск", "74", "351", 3),
    ("Уфа", "02", "347", 3),
    ("Пермь", "59", "342", 3),
    ("Воронеж", "36", "473", 3),
    ("Волгоград", "34", "844", 2),
    ("Красноярск", "24", "391", 3),
    ("Тюмень", "72", "345", 2),
    ("Ярославль", "76", "485", 2),
    ("Тула", "71", "487", 2),
    ("Калининград", "39", "401", 1),
)
# The first team works the centre and the north-west, the second the other regions.
CENTRE = frozenset({"Москва", "Санкт-Петербург", "Ярославль", "Тула", "Калининград"})

NAME_WORDS = (
    "Вектор Горизонт Меридиан Атлант Орион Парус Рассвет Кристалл Магистраль Созвездие Эталон "
    "Форвард Импульс Сфера Континент Гефест Прогресс Альянс Фаворит Базис Квадрат Спектр Ориентир "
    "Аврора Полюс Тандем Капитал Монолит Статус Феникс Цитадель Каравай Ладога Дельта Омега Вега "
    "Арсенал Гранит Янтарь Лидер Карат Зенит Пульсар Акварель Бриз Маяк Ковчег Стрела"
).split()
NAME_PREFIXES = (
    "Техно Строй Агро Мед Энерго Пром Инвест Сиб Урал Волга Нева Балт Евро Гранд Профи Мега Транс "
    "Альфа Нефте Хим Тепло Электро Авто Эко Дон Кама Инфо Дата Фарм Бизнес Спец Регион"
).split()
NAME_SUFFIXES = (
    "Сервис Снаб Торг Групп Комплект Холдинг Проект Трейд Систем Лайн Маркет Пром Строй Логистик "
    "Монтаж Ресурс Альянс Плюс Софт Тех Инжиниринг Консалт Поставка Мастер"
).split()
NAME_TAILS = ("Плюс", "Групп", "Про", "М", "Центр")
LEGAL_FORMS = (("ООО", 70), ("АО", 8), ("ЗАО", 2), ("ПАО", 1), ("ИП", 19))

MAIL_DOMAINS = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "list.ru", "inbox.ru")
MOBILE_CODES = (
    "903 905 906 909 910 912 913 915 916 917 919 920 921 925 926 929 950 951 952 953 960 961 "
    "962 963 964 965 977 980 981 985 987 999"
).split()

PRODUCTS = (
    ("Поставка ноутбуков ({n} шт.)", (5, 40, 1)),
    ("Серверное оборудование", None),
    ("Годовой сервисный контракт", None),
    ("Лицензии 1С на {n} мест", (5, 55, 5)),
    ("Внедрение CRM", None),
    ("Видеонаблюдение на складе", None),
    ("Аудит ИТ-инфраструктуры", None),
    ("Обслуживание оргтехники", None),
    ("Монтаж СКС в офисе", None),
    ("Облачное хранилище на год", None),
    ("Обучение персонала", None),
    ("IP-телефония для офиса", None),
    ("Модернизация рабочих мест ({n} шт.)", (5, 60, 1)),
    ("Резервное копирование", None),
    ("Wi-Fi для офиса и склада", None),
    ("Антивирус на {n} рабочих мест", (10, 210, 10)),
    ("Переезд офиса: ИТ-часть", None),
    ("Сервер 1С и терминальный доступ", None),
)

# ---------------------------------------------------------------------------------------------
# Pipelines: stage name, kind, normal days, what the stage is about (key), conversion onward


#: The manager whose deals stall after the meeting, and the stages (by key) where they do: the
#: funnel analytics name this bottleneck on the demo.
WEAK_MANAGER = "manager4"
WEAK_STAGES = frozenset({"meeting", "presentation"})


@dataclass(frozen=True)
class StageSpec:
    name: str
    kind: str
    normal_days: int | None = None
    key: str = ""
    conversion: float = 0.0
    #: Fields a deal must have to enter the stage (the stage gate's requirement names).
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class PipelineSpec:
    name: str
    is_inbound: bool
    stages: tuple[StageSpec, ...]
    sources: tuple[tuple[str, int], ...]
    share: float

    @property
    def open_stages(self) -> tuple[StageSpec, ...]:
        return tuple(s for s in self.stages if s.kind == StageKind.OPEN)


PIPELINES = (
    PipelineSpec(
        "Входящие",
        True,
        (
            StageSpec("Новый лид", StageKind.OPEN, 2, "lead", 0.75),
            StageSpec("Квалификация", StageKind.OPEN, 7, "qualify", 0.65),
            StageSpec("Встреча назначена", StageKind.OPEN, 10, "meeting", 0.55),
            StageSpec("КП отправлено", StageKind.OPEN, 14, "proposal", 0.65),
            StageSpec(
                "Счёт выставлен",
                StageKind.OPEN,
                10,
                "invoice",
                0.85,
                required=("invoice_no", "invoice_amount"),
            ),
            StageSpec("Успешно", StageKind.WON),
            StageSpec("Проиграно", StageKind.LOST),
        ),
        (("Сайт", 45), ("Рекомендация", 20), ("Реклама", 25), ("Выставка", 10)),
        0.65,
    ),
    PipelineSpec(
        "Холодные",
        False,
        (
            StageSpec("Холодный контакт", StageKind.OPEN, 3, "cold", 0.55),
            StageSpec("Первый разговор", StageKind.OPEN, 5, "first_talk", 0.60),
            StageSpec("Выявлена потребность", StageKind.OPEN, 7, "need", 0.65),
            StageSpec("Презентация", StageKind.OPEN, 10, "presentation", 0.60),
            StageSpec("КП отправлено", StageKind.OPEN, 14, "proposal", 0.70),
            StageSpec(
                "Счёт выставлен",
                StageKind.OPEN,
                10,
                "invoice",
                0.85,
                required=("invoice_no", "invoice_amount"),
            ),
            StageSpec("Успешно", StageKind.WON),
            StageSpec("Отказ", StageKind.LOST),
        ),
        (("Холодный звонок", 85), ("Выставка", 15)),
        0.35,
    ),
)

LOSS_REASONS_EARLY = (
    ("Не дозвонились", 30),
    ("Нет потребности", 30),
    ("Не целевой клиент", 15),
    ("Нет бюджета", 15),
    ("Выбрали конкурента", 10),
)
LOSS_REASONS_LATE = (
    ("Дорого", 35),
    ("Выбрали конкурента", 30),
    ("Нет бюджета", 15),
    ("Отложили покупку", 12),
    ("Не устроили сроки", 8),
)

# ---------------------------------------------------------------------------------------------
# What managers write. {a} is the author's past-tense ending ("" or "а"), {sa} the reflexive one
# ("ся" or "ась"); {name} the contact's first name; {day} "в четверг", {on_day} "на четверг".

TASKS = {
    "lead": (
        ("call", "Квалифицировать лид: задача, сроки, бюджет"),
        ("call", "Перезвонить по заявке с сайта"),
        ("message", "Ответить на заявку и договориться о звонке"),
    ),
    "qualify": (
        ("call", "Договориться о встрече"),
        ("call", "Выйти на лицо, принимающее решение"),
        ("email", "Отправить презентацию и договориться о встрече"),
    ),
    "meeting": (
        ("meeting", "Провести встречу и выявить потребность"),
        ("call", "Подтвердить встречу накануне"),
    ),
    "proposal": (
        ("proposal", "Отправить КП"),
        ("call", "Обсудить КП и снять возражения"),
        ("call", "Получить обратную связь по КП"),
    ),
    "invoice": (
        ("bank_details", "Получить реквизиты"),
        ("contract", "Подписать договор"),
        ("call", "Проконтролировать оплату счёта"),
    ),
    "cold": (
        ("call", "Выйти на руководителя закупок"),
        ("email", "Отправить письмо-знакомство"),
        ("call", "Дозвониться до ЛПР"),
    ),
    "first_talk": (
        ("call", "Узнать текущего поставщика и чем он не устраивает"),
        ("call", "Договориться о следующем звонке"),
    ),
    "need": (
        ("call", "Договориться о презентации"),
        ("meeting", "Выявить потребность на встрече"),
    ),
    "presentation": (
        ("meeting", "Провести презентацию"),
        ("proposal", "Отправить КП по итогам презентации"),
    ),
    "assistant": (
        ("contract", "Подготовить договор"),
        ("other", "Проверить поступление оплаты"),
        ("other", "Собрать закрывающие документы"),
    ),
}

RESULTS = {
    "lead": (
        "Задача подтверждена, бюджет есть, ответственный — {name}",
        "Дозвонил{sa}, договорились о подробном звонке {day}",
        "Ответил{a} на заявку, клиент ждёт расчёт",
    ),
    "qualify": (
        "Встреча назначена {on_day}",
        "ЛПР — директор, встреча согласована",
        "Презентацию отправил{a}, встреча {on_day}",
    ),
    "meeting": (
        "Встреча проведена, потребность понятна",
        "Встречу подтвердили, будут директор и бухгалтер",
    ),
    "proposal": (
        "КП отправлено, клиент подтвердил получение",
        "Возражение по цене снято, ждём решения",
        "Обратная связь получена: просят скидку 5%",
    ),
    "invoice": (
        "Реквизиты получены, счёт выставлен",
        "Договор подписан с двух сторон",
        "Оплата поступила",
    ),
    "cold": (
        "Вышел{a} на руководителя закупок, интерес есть",
        "Письмо отправил{a}, получатель прочитал",
        "ЛПР — коммерческий директор, {name}",
    ),
    "first_talk": (
        "Работают с другим поставщиком, недовольны сроками",
        "Договорились созвониться {day}",
    ),
    "need": (
        "Презентация назначена {on_day}",
        "Потребность: оснастить новый филиал",
    ),
    "presentation": (
        "Презентация проведена, вопросы по интеграции с 1С",
        "КП отправил{a} по итогам презентации",
    ),
    "assistant": (
        "Договор подготовлен и отправлен клиенту",
        "Оплата поступила в полном объёме",
        "Акты и счёт-фактура получены",
    ),
}

# (kind, direction, channel, text); "" direction for meetings and notes.
COMMENTS = {
    "lead": (
        (
            "call",
            "out",
            "phone",
            "Перезвонил{a} по заявке. {name} отвечает за закупки, задача актуальна, бюджет "
            "согласуют в этом квартале. Договорились о звонке {day} вместе с ИТ-специалистом.",
        ),
        (
            "call",
            "in",
            "phone",
            "Входящий звонок с сайта. Решение нужно до конца месяца, просят примерную стоимость. "
            "Записал{a} требования, перезвоню {day}.",
        ),
        (
            "message",
            "in",
            "whatsapp",
            "Клиент написал в WhatsApp после рекламы. Уточнил{a} задачу и количество рабочих "
            "мест, {name} ждёт звонка {day}.",
        ),
        (
            "email",
            "in",
            "email",
            "Пришла заявка на почту: запрос цен и сроков. Ответил{a}, предложил{a} созвониться "
            "{day}.",
        ),
    ),
    "qualify": (
        (
            "call",
            "out",
            "phone",
            "Обсудили с {name} текущую инфраструктуру и планы. Решение принимает директор, "
            "бюджет около {amount}. Договорились о встрече {day} в офисе клиента.",
        ),
        (
            "call",
            "out",
            "phone",
            "Выяснил{a} потребность: {n} рабочих мест, сроки — до конца квартала. Предложил{a} "
            "встречу, {name} согласует время с руководством и ответит {day}.",
        ),
        (
            "message",
            "out",
            "telegram",
            "Отправил{a} в Telegram презентацию компании и кейсы из их отрасли. {name} посмотрит "
            "и ответит {day}.",
        ),
        (
            "email",
            "out",
            "email",
            "Отправил{a} опросный лист для расчёта. Жду заполненный {day}, после этого встреча.",
        ),
    ),
    "meeting": (
        (
            "meeting",
            "",
            "in_person",
            "Встреча в офисе клиента: были {name} и финансовый директор. Показал{a} решение, "
            "обсудили сроки внедрения и оплату частями. Договорились, что КП пришлю {day}.",
        ),
        (
            "meeting",
            "",
            "in_person",
            "Встреча у нас в офисе, показали демо-стенд. Клиенту важны сроки поставки и гарантия. "
            "Следующий шаг — КП с двумя вариантами {day}.",
        ),
        (
            "call",
            "out",
            "phone",
            "Созвонились накануне встречи, {name} подтверждает время. Попросили взять образец "
            "договора.",
        ),
        (
            "message",
            "in",
            "whatsapp",
            "Клиент просит перенести встречу {on_day}. Согласовал{a}, отправил{a} приглашение.",
        ),
    ),
    "proposal": (
        (
            "email",
            "out",
            "email",
            "Отправил{a} КП на {amount} с двумя вариантами комплектации. {name} обещает ответ "
            "после согласования с директором {day}.",
        ),
        (
            "call",
            "out",
            "phone",
            "Обсудили КП. Возражение: дорого, у конкурента на {pct}% дешевле. Объяснил{a} "
            "разницу в гарантии и сервисе, предложил{a} скидку 3% при оплате до конца месяца.",
        ),
        (
            "call",
            "in",
            "phone",
            "Клиент перезвонил по КП: просят убрать из расчёта монтаж, остальное устраивает. "
            "Исправленное КП пришлю {day}.",
        ),
        (
            "message",
            "in",
            "telegram",
            "В Telegram уточнили сроки поставки по КП. Ответил{a}: 10 рабочих дней с оплаты. "
            "Решение обещают {day}.",
        ),
    ),
    "invoice": (
        (
            "email",
            "out",
            "email",
            "Выставил{a} счёт на {amount}, отправил{a} договор на подпись. Оплату обещают {day}.",
        ),
        (
            "call",
            "out",
            "phone",
            "Уточнил{a} статус оплаты: счёт у бухгалтерии, платёж стоит в графике {on_day}.",
        ),
        (
            "message",
            "in",
            "whatsapp",
            "Прислали платёжное поручение в WhatsApp. Передал{a} в бухгалтерию на проверку.",
        ),
        (
            "call",
            "out",
            "phone",
            "Получил{a} реквизиты и подписанный договор. Ждём оплату, после неё отгрузка.",
        ),
    ),
    "cold": (
        (
            "call",
            "out",
            "phone",
            "Холодный звонок, вышел{a} на руководителя закупок. Интерес есть, попросили "
            "прислать информацию на почту.",
        ),
        (
            "call",
            "out",
            "phone",
            "Секретарь не соединяет, попросил{a} передать письмо директору. Перезвоню {day}.",
        ),
        (
            "email",
            "out",
            "email",
            "Отправил{a} письмо-знакомство с кейсами из отрасли клиента. Перезвоню {day}.",
        ),
    ),
    "first_talk": (
        (
            "call",
            "out",
            "phone",
            "Поговорили с {name}: работают с другим поставщиком, но недовольны сроками. "
            "Договорились созвониться {day} и обсудить их задачи.",
        ),
        (
            "call",
            "out",
            "phone",
            "{name} готов(а) обсуждать, но не раньше конца месяца. Отправил{a} каталог, звонок "
            "{on_day}.",
        ),
        (
            "message",
            "out",
            "telegram",
            "Написал{a} в Telegram после звонка: ссылка на кейсы и удобное время для разговора.",
        ),
    ),
    "need": (
        (
            "call",
            "out",
            "phone",
            "Выяснил{a}: через два месяца открывают новый филиал, нужно оснастить {n} рабочих "
            "мест. Договорились о презентации {day}.",
        ),
        (
            "email",
            "in",
            "email",
            "Клиент прислал требования и планировку офиса. Передал{a} инженеру для расчёта.",
        ),
    ),
    "presentation": (
        (
            "meeting",
            "",
            "other",
            "Презентация по видеосвязи для {name} и ИТ-директора. Вопросы по срокам и "
            "интеграции с 1С. Обещал{a} КП {day}.",
        ),
        (
            "meeting",
            "",
            "in_person",
            "Презентация в офисе клиента, были трое. Интерес к сервисному контракту, попросили "
            "два варианта по цене.",
        ),
        (
            "call",
            "out",
            "phone",
            "Подтвердил{a} презентацию {on_day}, {name} позовёт финансового директора.",
        ),
    ),
}
WON_COMMENTS = (
    "Оплата получена, передал{a} заказ в отгрузку. Клиенту всё понятно по срокам.",
    "Клиент подтвердил оплату и подписал акт. Договорились вернуться к расширению через квартал.",
    "Оплатили полностью. {name} просит выставлять закрывающие документы через ЭДО.",
)
LOST_COMMENTS = {
    "Дорого": "Ушли по цене: наше предложение дороже на {pct}%, больше скидки дать не можем.",
    "Выбрали конкурента": "Выбрали другого поставщика — у конкурента срок поставки короче.",
    "Нет бюджета": "Бюджет на этот год урезали, проект заморожен. Вернуться в новом году.",
    "Не дозвонились": "Пять попыток дозвониться за две недели, на письма не отвечают.",
    "Нет потребности": "Потребности нет: задачу решили своими силами.",
    "Не целевой клиент": "Слишком маленький объём, не наш клиент.",
    "Отложили покупку": "Покупку перенесли на следующий год, решение не принято.",
    "Не устроили сроки": "Нужна поставка за неделю, мы можем только за три.",
}
MISSED_CALL = "Не дозвонил{sa}, перезвоню {day}."

WEEKDAYS_IN = (
    "в понедельник",
    "во вторник",
    "в среду",
    "в четверг",
    "в пятницу",
    "в понедельник",
    "в понедельник",
)
WEEKDAYS_ON = (
    "на понедельник",
    "на вторник",
    "на среду",
    "на четверг",
    "на пятницу",
    "на понедельник",
    "на понедельник",
)

_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya".split(),
        strict=True,
    )
)


def translit(text: str) -> str:
    """Latin letters for a Russian word, for logins, e-mail addresses and domains."""
    out = []
    for ch in text.lower():
        if ch in _TRANSLIT:
            t = _TRANSLIT[ch]
            out.append("" if t == "-" else t)
        elif ch.isascii() and ch.isalnum():
            out.append(ch)
        elif ch in " -":
            out.append("-")
    return "".join(out).strip("-")


def female_last_name(last: str) -> str:
    if last.endswith(("ский", "цкий")):
        return last[:-2] + "ая"
    if last.endswith(("ов", "ев", "ёв", "ин")):
        return last + "а"
    return last


def inn_check(digits: str) -> str:
    """The INN with its check digit(s): 9 digits → 10 (a company), 10 → 12 (an entrepreneur)."""

    def digit(ds: str, weights: tuple[int, ...]) -> str:
        return str(sum(int(d) * w for d, w in zip(ds, weights, strict=True)) % 11 % 10)

    if len(digits) == 9:
        return digits + digit(digits, (2, 4, 10, 3, 5, 9, 4, 6, 8))
    if len(digits) == 10:
        d11 = digit(digits, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
        d12 = digit(digits + d11, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
        return digits + d11 + d12
    raise ValueError("an INN is built from 9 or 10 digits")


def inn_is_valid(inn: str) -> bool:
    """Whether ``inn`` is a 10- or 12-digit INN whose check digits add up."""
    if not inn.isdigit() or len(inn) not in (10, 12):
        return False
    return inn_check(inn[: 9 if len(inn) == 10 else 10]) == inn


# ---------------------------------------------------------------------------------------------
# Time


class WorkClock:
    """Maps calendar offsets from now onto working hours (weekdays 9:00–19:00 in ``tz``).

    The demo simulates in plain calendar seconds; this turns "x seconds before now" into a real
    moment so that the share of working time is the same, keeping every order of events and
    putting every event into office hours. Offsets far beyond the prepared range go on linearly.
    """

    RATIO = (5 * 10) / (7 * 24)

    def __init__(self, now: datetime, tz: ZoneInfo, days_back: int = 400, days_ahead: int = 90):
        self.now = now
        self.tz = tz
        now_ts = now.timestamp()
        today = now.astimezone(tz).date()
        self._back: list[tuple[float, float]] = []
        for i in range(days_back):
            s, e = self._window(today - timedelta(days=i))
            if s is None or s >= now_ts:
                continue
            self._back.append((s, min(e, now_ts)))
        self._ahead: list[tuple[float, float]] = []
        for i in range(days_ahead):
            s, e = self._window(today + timedelta(days=i))
            if s is None or e <= now_ts:
                continue
            self._ahead.append((max(s, now_ts), e))
        self._back_cum = self._cumulative(self._back)
        self._ahead_cum = self._cumulative(self._ahead)
        # Today's working hours, or None on a weekend.
        self.today_start = None if today.weekday() >= 5 else datetime.combine(today, time(9), tz)
        self.today_end = datetime.combine(today, time(19), tz)

    def _window(self, d: date) -> tuple[float | None, float | None]:
        if d.weekday() >= 5:
            return None, None
        s = datetime.combine(d, time(9), self.tz).timestamp()
        e = datetime.combine(d, time(19), self.tz).timestamp()
        return s, e

    @staticmethod
    def _cumulative(windows: list[tuple[float, float]]) -> list[float]:
        cum = [0.0]
        for s, e in windows:
            cum.append(cum[-1] + (e - s))
        return cum

    def past(self, seconds_before: float) -> datetime:
        w = max(0.0, seconds_before) * self.RATIO
        cum, wins = self._back_cum, self._back
        k = bisect_right(cum, w) - 1
        if k >= len(wins):
            ts = wins[-1][0] - (w - cum[-1]) / self.RATIO
        else:
            ts = wins[k][1] - (w - cum[k])
        return datetime.fromtimestamp(int(ts), UTC)

    def future(self, seconds_after: float) -> datetime:
        w = max(0.0, seconds_after) * self.RATIO
        cum, wins = self._ahead_cum, self._ahead
        k = bisect_right(cum, w) - 1
        if k >= len(wins):
            ts = wins[-1][1] + (w - cum[-1]) / self.RATIO
        else:
            ts = wins[k][0] + (w - cum[k])
        return datetime.fromtimestamp(int(ts), UTC)


@contextmanager
def _own_timestamps(*models):
    """Let bulk inserts keep the ``created_at``/``updated_at`` the demo gives them.

    ``auto_now``/``auto_now_add`` would stamp every row with the moment of loading, which would
    make a deal from March look created today.
    """
    saved = []
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


# ---------------------------------------------------------------------------------------------
# The result


@dataclass
class DemoSummary:
    workspace: Workspace
    seed: int
    people: list[User]
    counts: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        c = self.counts
        return [
            f"people {c['people']}, teams {c['teams']}, companies {c['companies']}, "
            f"contacts {c['contacts']}, pipelines {c['pipelines']}",
            f"deals {c['deals']} (open {c['deals_open']}, won {c['deals_won']}, "
            f"lost {c['deals_lost']}), stage changes {c['stage_changes']}",
            f"tasks {c['tasks']} (open {c['tasks_open']}: overdue {c['tasks_overdue']}, "
            f"due later today {c['tasks_today']}; open deals without a next task "
            f"{c['deals_without_task']})",
            f"communications {c['communications']} (without a comment "
            f"{c['communications_uncommented']})",
        ]


# ---------------------------------------------------------------------------------------------
# The builder


def _weighted(rng: random.Random, pairs):
    items = [p[0] for p in pairs]
    weights = [p[1] for p in pairs]
    return rng.choices(items, weights=weights, k=1)[0]


def _stay(rng: random.Random, normal_days: float) -> float:
    """A stay in a stage: most deals a little under the norm, some over, a few stuck for long."""
    d = normal_days * DAY * math.exp(rng.gauss(math.log(0.85), 0.55))
    if rng.random() < 0.12:
        d *= rng.uniform(2.0, 8.0)
    return max(d, 10 * MINUTE)


def _created_offset(rng: random.Random) -> float:
    """When a deal was created, in seconds before now: over the last six months, with four
    times as many deals lately as at the start (the business grows).

    The density falls linearly from 4 (now) to 1 (HISTORY_DAYS ago); this inverts its CDF.
    """
    skew, span = 4.0, HISTORY_DAYS
    a = (skew - 1) / (2 * span)
    total = span * (skew + 1) / 2
    days = (skew - math.sqrt(skew * skew - 4 * a * rng.random() * total)) / (2 * a)
    return days * DAY


def _money(value: Decimal | int) -> str:
    return f"{int(value):,}".replace(",", "\u00a0") + "\u00a0₽"


class _Builder:
    def __init__(self, seed: int, scale: float, now: datetime):
        self.rng = random.Random(seed)
        self.seed = seed
        self.scale = scale
        self.now = now
        self.tz = ZoneInfo(TIME_ZONE)
        self.clock = WorkClock(now, self.tz)
        self.counts: Counter = Counter()

    # -- people --------------------------------------------------------------------------------

    def person(self, used: set | None = None) -> tuple[str, str, bool]:
        rng = self.rng
        while True:
            female = rng.random() < 0.5
            first = rng.choice(FEMALE_FIRST if female else MALE_FIRST)
            last = rng.choice(LAST_NAMES)
            if female:
                last = female_last_name(last)
            if used is None or (first, last) not in used:
                if used is not None:
                    used.add((first, last))
                return first, last, female

    def mobile(self) -> str:
        rng = self.rng
        return f"+7{rng.choice(MOBILE_CODES)}{rng.randrange(10**7):07d}"

    def build_people(self, ws: Workspace) -> dict[str, User]:
        password = make_password(DEMO_PASSWORD)
        used: set = set()
        plan = [
            ("owner", Role.OWNER),
            ("head", Role.HEAD),
            ("senior1", Role.SENIOR),
            ("senior2", Role.SENIOR),
            *[(f"manager{i}", Role.MANAGER) for i in range(1, 9)],
            ("assistant", Role.ASSISTANT),
            ("qc", Role.QC),
        ]
        joined = self.now - timedelta(days=HISTORY_DAYS + 20)
        people = {}
        for username, role in plan:
            first, last, female = self.person(used)
            people[username] = User(
                workspace=ws,
                username=username,
                password=password,
                first_name=first,
                last_name=last,
                email=f"{translit(first)[0]}.{translit(last)}@demo.example",
                role=role,
                language="ru",
                timezone=TIME_ZONE,
                phone=self.mobile(),
                is_staff=role == Role.OWNER,
                is_superuser=role == Role.OWNER,
                date_joined=joined,
            )
            people[username]._female = female
        User.objects.bulk_create(people.values())
        team1 = Team.objects.create(
            workspace=ws, name="Центр и Северо-Запад", lead=people["senior1"]
        )
        team2 = Team.objects.create(workspace=ws, name="Регионы", lead=people["senior2"])
        for name in ("senior1", "manager1", "manager2", "manager3", "manager4"):
            people[name].team = team1
        for name in ("senior2", "manager5", "manager6", "manager7", "manager8"):
            people[name].team = team2
        User.objects.bulk_update(people.values(), ["team"])
        self.teams = (team1, team2)
        self.counts["people"] = len(people)
        self.counts["teams"] = 2
        return people

    # -- pipelines -----------------------------------------------------------------------------

    def build_pipelines(self, ws: Workspace) -> list[tuple[PipelineSpec, Pipeline, list[Stage]]]:
        out = []
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
                    required_fields=list(s.required),
                )
                for i, s in enumerate(spec.stages, 1)
            ]
            out.append((spec, pipeline, stages))
        self.counts["pipelines"] = len(out)

        # The head's lists: loss reasons, and the goals offered for a task at each stage.
        reasons = dict.fromkeys(r for r, _w in (*LOSS_REASONS_LATE, *LOSS_REASONS_EARLY))
        LossReason.objects.bulk_create(
            LossReason(workspace=ws, name=name, position=i) for i, name in enumerate(reasons, 1)
        )
        goals = [
            TaskGoal(workspace=ws, stage=None, text=goal, position=i)
            for i, (_type, goal) in enumerate(TASKS["assistant"], 1)
        ]
        for spec, _pipeline, stages in out:
            for stage_spec, stage in zip(spec.stages, stages, strict=True):
                for i, (_type, goal) in enumerate(TASKS.get(stage_spec.key, ()), 1):
                    goals.append(TaskGoal(workspace=ws, stage=stage, text=goal, position=i))
        TaskGoal.objects.bulk_create(goals)
        return out

    # -- clients -------------------------------------------------------------------------------

    def company_name(self, used: set) -> tuple[str, str]:
        """A legal name and the short name it is known by (for domains and deal titles)."""
        rng = self.rng
        while True:
            form = _weighted(rng, LEGAL_FORMS)
            if form == "ИП":
                first, last, _female = self.person()
                initials = f"{first[0]}. {rng.choice(PATRONYMIC_INITIALS)}."
                name, short = f"ИП {last} {initials}", last
            else:
                style = rng.random()
                if style < 0.35:
                    short = rng.choice(NAME_WORDS)
                elif style < 0.45:
                    short = f"{rng.choice(NAME_WORDS)} {rng.choice(NAME_TAILS)}"
                elif style < 0.8:
                    p, s = rng.choice(NAME_PREFIXES), rng.choice(NAME_SUFFIXES)
                    short = p + s.lower()
                else:
                    p, s = rng.choice(NAME_PREFIXES), rng.choice(NAME_SUFFIXES)
                    short = f"{p}-{s}"
                name = f"{form} «{short}»"
            if short.casefold() not in used:
                used.add(short.casefold())
                return name, short

    def build_clients(self, ws: Workspace, people: dict[str, User]):
        rng = self.rng
        n_companies = max(10, round(500 * self.scale))
        n_contacts = max(n_companies + 5, round(800 * self.scale))
        sellers = {
            True: [people[n] for n in ("senior1", "manager1", "manager2", "manager3", "manager4")],
            False: [people[n] for n in ("senior2", "manager5", "manager6", "manager7", "manager8")],
        }
        # Seniors sell too, about half as much; some managers are busier than others.
        weights = {
            team: [0.5 if u.role == Role.SENIOR else rng.uniform(0.9, 1.1) for u in members]
            for team, members in sellers.items()
        }
        used: set = set()
        companies = []
        for _ in range(n_companies):
            name, short = self.company_name(used)
            city, region, area, _w = _weighted(rng, [(c, c[3]) for c in CITIES])
            is_ip = name.startswith("ИП ")
            if is_ip:
                inn = inn_check(region + f"{rng.randrange(10**8):08d}")
            else:
                inn = inn_check(region + f"{rng.randrange(1, 99):02d}{rng.randrange(10**5):05d}")
            domain = ""
            if not is_ip and rng.random() < 0.7:
                domain = translit(short) + rng.choice((".ru", ".ru", ".ru", ".com", ".рф"))
                if domain.endswith(".рф"):
                    domain = domain[:-3] + ".ru"
            team_key = city in CENTRE
            owner = rng.choices(sellers[team_key], weights=weights[team_key], k=1)[0]
            company = Company(
                workspace=ws,
                name=name,
                owner=owner,
                inn=inn if rng.random() < 0.9 else "",
                phone=f"+7{area}{rng.choice('2345679')}{rng.randrange(10**6):06d}"
                if rng.random() < 0.85
                else "",
                email=f"{rng.choice(('info', 'office', 'zakaz', 'mail'))}@{domain}"
                if domain and rng.random() < 0.8
                else "",
                website=domain,
                city=city,
            )
            company._short = short
            company._domain = domain
            company._weight = min(rng.paretovariate(2.5), 6.0)
            company._contacts = []
            companies.append(company)

        contacts = []
        for i in range(n_contacts):
            if i < n_companies:
                company = companies[i]
            elif rng.random() < 0.9:
                company = rng.choice(companies)
            else:
                company = None
            first, last, female = self.person()
            if company is not None and company.name.startswith("ИП ") and not company._contacts:
                position = "Индивидуальный предприниматель"
            else:
                position = _weighted(rng, POSITIONS)
            email = ""
            if rng.random() < 0.8:
                if company is not None and company._domain:
                    email = f"{translit(first)[0]}.{translit(last)}@{company._domain}"
                else:
                    email = f"{translit(last)}.{translit(first)[0]}@{rng.choice(MAIL_DOMAINS)}"
            phone = self.mobile() if rng.random() < 0.95 else ""
            telegram = ""
            if rng.random() < 0.35:
                telegram = f"{translit(first)}_{translit(last)}"[:28]
                if rng.random() < 0.4:
                    telegram += str(rng.randrange(10, 99))
            contact = Contact(
                workspace=ws,
                company=company,
                first_name=first,
                last_name=last,
                position=position,
                owner=company.owner if company is not None else rng.choice(sellers[True]),
                phone=phone,
                email=email,
                telegram=telegram,
                whatsapp=phone if phone and rng.random() < 0.4 else "",
            )
            contact._female = female
            if company is not None:
                company._contacts.append(contact)
            contacts.append(contact)
        return companies, contacts

    # -- deals ---------------------------------------------------------------------------------

    def walk(
        self, spec: PipelineSpec, owner: User | None = None
    ) -> tuple[list[tuple[int | str, float]], str]:
        """A deal's path: (open stage index, or "won"/"lost", seconds before now) and its end.

        The weak manager's deals stall after the meeting (the bottleneck the funnel names)."""
        rng = self.rng
        stages = spec.open_stages
        t = _created_offset(rng)
        path: list[tuple[int | str, float]] = [(0, t)]
        i = 0
        weak = owner is not None and owner.username == WEAK_MANAGER
        while True:
            slow = weak and stages[i].key in WEAK_STAGES
            onward = rng.random() < stages[i].conversion * (0.45 if slow else 1)
            d = _stay(rng, stages[i].normal_days) * (2.5 if slow else 1)
            if not onward:
                # A deal heading for a loss lingers: nobody hurries to admit it.
                d *= 1.8
            if t - d <= 0:
                return path, "open"
            t -= d
            if not onward:
                path.append(("lost", t))
                return path, "lost"
            if i + 1 == len(stages):
                path.append(("won", t))
                return path, "won"
            i += 1
            path.append((i, t))

    def text(self, template: str, author: User, contact: Contact | None, deal: Deal) -> str:
        rng = self.rng
        wd = rng.randrange(5)
        female = getattr(author, "_female", False)
        return template.format(
            a="а" if female else "",
            sa="ась" if female else "ся",
            name=contact.first_name if contact is not None else "клиент",
            day=WEEKDAYS_IN[wd],
            on_day=WEEKDAYS_ON[wd],
            amount=_money(deal.amount),
            n=rng.randrange(5, 65, 5),
            pct=rng.choice((5, 7, 8, 10, 12, 15, 20)),
        )

    def title(self) -> str:
        rng = self.rng
        template, span = rng.choice(PRODUCTS)
        n = rng.randrange(*span) if span else 0
        return template.format(n=n)

    def build_deals(self, ws, people, pipelines, companies):
        rng = self.rng
        n_deals = max(20, round(1500 * self.scale))
        company_weights = [c._weight for c in companies]
        deals, changes, tasks, comms = [], [], [], []
        for _ in range(n_deals):
            spec, pipeline, stages = (
                pipelines[0] if rng.random() < PIPELINES[0].share else pipelines[1]
            )
            open_stages = [s for s in stages if s.kind == StageKind.OPEN]
            won = next(s for s in stages if s.kind == StageKind.WON)
            lost = next(s for s in stages if s.kind == StageKind.LOST)
            company = rng.choices(companies, weights=company_weights, k=1)[0]
            contact = rng.choice(company._contacts) if company._contacts else None
            if contact is not None and rng.random() < 0.05:
                contact = None
            owner = company.owner
            amount = math.exp(rng.gauss(math.log(190_000), 0.65))
            amount = Decimal(int(min(max(amount, 50_000), 900_000) / 1000) * 1000)
            path, end = self.walk(spec, owner)
            deal = Deal(
                workspace=ws,
                title=self.title(),
                pipeline=pipeline,
                company=company,
                contact=contact,
                owner=owner,
                amount=amount,
                currency="RUB",
                source=_weighted(rng, spec.sources),
            )
            last_index = max(i for i, _t in path if isinstance(i, int))
            if last_index >= len(open_stages) - 2 and rng.random() < 0.25:
                deal.assistant = people["assistant"]
            if end == "lost":
                pool = LOSS_REASONS_EARLY if last_index < 2 else LOSS_REASONS_LATE
                deal.loss_reason = _weighted(rng, pool)
            invoiced = [t for i, t in path if isinstance(i, int) and spec.open_stages[i].required]
            if invoiced:
                # Numbered below in the order the invoices were issued.
                deal._invoiced_offset = invoiced[0]
                discount = rng.choice((0, 0, 0, 3, 5, 7)) / 100
                deal.invoice_amount = (deal.amount * Decimal(1 - discount)).quantize(Decimal("1"))

            # Stage changes, at real moments.
            moments = [self.clock.past(t) for _i, t in path]
            previous = None
            for (i, _t), at in zip(path, moments, strict=True):
                stage = won if i == "won" else lost if i == "lost" else open_stages[i]
                changes.append(
                    StageChange(
                        workspace=ws,
                        deal=deal,
                        from_stage=previous,
                        to_stage=stage,
                        changed_at=at,
                        changed_by=owner,
                        created_at=at,
                        updated_at=at,
                    )
                )
                previous = stage
            deal.stage = previous
            deal.stage_entered_at = moments[-1]
            deal.created_at = moments[0]
            deal._offset = path[0][1]
            deal.updated_at = moments[-1]
            deal.closed_at = moments[-1] if end != "open" else None
            if rng.random() < 0.85:
                if end == "open":
                    left = sum(s.normal_days for s in open_stages[last_index:])
                    deal.expected_close = (
                        self.clock.future(left * DAY * rng.uniform(0.5, 1.2)).astimezone(self.tz)
                    ).date()
                else:
                    deal.expected_close = moments[-1].astimezone(self.tz).date()
            deals.append(deal)
            self.counts[f"deals_{end}"] += 1

            # What happened in each stage: communications and the tasks that led onward.
            first_task = len(tasks)
            for k, (i, t_in) in enumerate(path):
                if not isinstance(i, int):
                    continue
                t_out = path[k + 1][1] if k + 1 < len(path) else 0.0
                key = spec.open_stages[i].key
                self.stage_activity(
                    ws, deal, owner, contact, key, t_in, t_out, k + 1 == len(path), tasks, comms
                )
            if end in ("won", "lost"):
                t_end = path[-1][1]
                template = (
                    rng.choice(WON_COMMENTS) if end == "won" else LOST_COMMENTS[deal.loss_reason]
                )
                at = self.clock.past(t_end + rng.uniform(5, 90) * MINUTE)
                comms.append(self.comm(ws, deal, owner, contact, "call", "out", "phone", at))
                comms[-1].comment = self.text(template, owner, contact, deal)
            if deal.assistant_id is not None:
                self.assistant_task(
                    ws, deal, people["assistant"], contact, path, end, tasks, first_task
                )
        issued = sorted(
            (d for d in deals if hasattr(d, "_invoiced_offset")),
            key=lambda d: -d._invoiced_offset,
        )
        for n, deal in enumerate(issued, 1):
            deal.invoice_no = f"СЧ-{n:04d}"
        self.counts["invoices"] = len(issued)
        return deals, changes, tasks, comms

    def comm(self, ws, deal, author, contact, kind, direction, channel, at) -> Communication:
        rng = self.rng
        duration = None
        if kind == "call":
            duration = rng.randrange(40, 600) if direction == "out" else rng.randrange(60, 900)
        elif kind == "meeting":
            duration = rng.choice((30, 45, 60, 60, 90, 120)) * 60
        return Communication(
            workspace=ws,
            kind=kind,
            direction=direction,
            channel=channel,
            occurred_at=at,
            duration_seconds=duration,
            author=author,
            contact=contact,
            deal=deal,
            created_at=at,
            updated_at=at,
        )

    def stage_activity(self, ws, deal, owner, contact, key, t_in, t_out, current, tasks, comms):
        """Communications and tasks while a deal sat in one stage (t_in → t_out seconds ago)."""
        rng = self.rng
        span = t_in - t_out
        n = rng.choice((1, 1, 2, 2, 2, 3)) if span > HOUR else 1
        offsets = sorted((t_out + span * rng.uniform(0.05, 0.95) for _ in range(n)), reverse=True)
        for off in offsets:
            kind, direction, channel, template = rng.choice(COMMENTS[key])
            if channel == "telegram" and not (contact and contact.telegram):
                channel = "whatsapp"
            missed = kind == "call" and direction == "out" and rng.random() < 0.12
            at = self.clock.past(off)
            c = self.comm(ws, deal, owner, contact, kind, direction, channel, at)
            if missed:
                c.duration_seconds = 0
                template = MISSED_CALL
            if rng.random() < 0.10:
                c.comment = ""
            else:
                c.comment = self.text(template, owner, contact, deal)
            comms.append(c)

        task_type, goal = rng.choice(TASKS[key])
        created_off = t_in - min(span * 0.02, 20 * MINUTE)
        if not current:
            due_off = t_in - span * rng.uniform(0.3, 1.0)
            done_off = max(t_out + 60, due_off - rng.uniform(-0.3, 0.5) * DAY)
            done_off = min(done_off, created_off - 60)
            tasks.append(
                self.task(ws, deal, owner, contact, task_type, goal, created_off, done_off)
            )
            task = tasks[-1]
            task.due_at = self.clock.past(max(due_off, 0.0))
            task.result = self.text(rng.choice(RESULTS[key]), owner, contact, deal)
            return
        if span > 2 * DAY and rng.random() < 0.5:
            # A step already done in this stage, then the current one.
            t_mid = t_in - span * rng.uniform(0.2, 0.6)
            first_type, first_goal = rng.choice(TASKS[key])
            done = self.task(ws, deal, owner, contact, first_type, first_goal, created_off, t_mid)
            done.due_at = self.clock.past(min(t_mid + rng.uniform(0, 0.5) * DAY, created_off - 60))
            done.result = self.text(rng.choice(RESULTS[key]), owner, contact, deal)
            tasks.append(done)
            created_off = t_mid - 60
        if rng.random() >= 0.85:
            self.counts["deals_without_task"] += 1
            return
        task = self.task(ws, deal, owner, contact, task_type, goal, created_off, None)
        roll = rng.random()
        if roll < 0.25:
            due_off = rng.uniform(0.0, min(max(created_off - 60, 0.0), 10 * DAY))
            task.due_at = self.clock.past(due_off)
            if task.due_at >= self.now:
                task.due_at = self.now - timedelta(minutes=rng.randrange(5, 120))
        elif roll < 0.45 and self.clock.today_start is not None:
            # Due today, in working hours: earlier today (not done yet) or still ahead.
            start = max(self.clock.today_start, task.created_at + timedelta(minutes=10))
            span = (self.clock.today_end - start).total_seconds()
            share = rng.random()
            if span > 0:
                task.due_at = start + timedelta(seconds=int(share * span))
            else:
                task.due_at = self.clock.future(DAY)
        else:
            task.due_at = self.clock.future(rng.uniform(1 * DAY, 12 * DAY))
        if task.due_at < task.created_at:
            task.created_at = task.updated_at = task.due_at - timedelta(hours=1)
        tasks.append(task)

    def task(self, ws, deal, owner, contact, task_type, goal, created_off, done_off) -> Task:
        created = self.clock.past(created_off)
        done = self.clock.past(done_off) if done_off is not None else None
        return Task(
            workspace=ws,
            type=task_type,
            goal=goal,
            owner=owner,
            deal=deal,
            contact=contact,
            created_by=deal.owner,
            done_at=done,
            created_at=created,
            updated_at=done or created,
        )

    def assistant_task(self, ws, deal, assistant, contact, path, end, tasks, first):
        """The assistant's part in a deal handed to them (``tasks[first:]`` are the deal's).

        In an open deal the assistant takes over its next step, so the deal still has exactly
        one; in a closed one they did the paperwork before it closed.
        """
        rng = self.rng
        task_type, goal = rng.choice(TASKS["assistant"])
        if end == "open":
            for task in tasks[first:]:
                if task.done_at is None:
                    task.owner = assistant
                    task.type, task.goal = task_type, goal
            return
        t_in, t_end = path[-2][1], path[-1][1]
        created_off = t_in - min(30 * MINUTE, (t_in - t_end) / 4)
        done_off = t_end + (created_off - t_end) * rng.uniform(0.1, 0.6)
        task = self.task(ws, deal, assistant, contact, task_type, goal, created_off, done_off)
        task.due_at = min(task.done_at + timedelta(hours=rng.randrange(1, 24)), self.now)
        task.result = rng.choice(RESULTS["assistant"])
        tasks.append(task)


def _plan_this_month(ws: Workspace, head: User, now: datetime) -> None:
    """This month's company target: a tenth above the revenue won over the last 30 days, so the
    plan and plan-vs-fact pages are alive from the first run."""
    from django.db.models import Sum

    from voronka.planning.actions import do_set_target

    won = Deal.objects.filter(
        workspace=ws, stage__kind=StageKind.WON, closed_at__gte=now - timedelta(days=30)
    ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    amount = max(
        Decimal(1_000_000), (won * Decimal("1.1") / 100_000).quantize(Decimal(1)) * 100_000
    )
    do_set_target(
        head,
        period_kind="month",
        period_start=now.astimezone(ZoneInfo(ws.timezone)).date(),
        scope="company",
        amount=amount,
        split_method="past",
    )


#: The demo's products: name, the deal amounts it is sold at (a band), archived.
DEMO_PRODUCTS = (
    ("Аудит отдела продаж", (0, 150_000), False),
    ("Обучение менеджеров", (100_000, 260_000), False),
    ("Внедрение CRM", (180_000, 10**9), False),
    ("Подбор менеджеров", (0, 10**9), False),
    ("Разовая консультация", (0, 90_000), True),
)
#: The demo's client segments, in the head's order.
DEMO_SEGMENTS = ("Малый бизнес", "Средний бизнес", "Крупный бизнес", "Госзаказчики")


def _products_and_segments(ws: Workspace, seed: int, deals, companies) -> None:
    """The head's products and client segments, with the deals and companies spread across
    them so that the funnel's filters show different pictures: products by the deal's amount
    (an audit is small, a CRM implementation large), segments by the client's size.

    A random stream of its own, so the rest of the demo is the same as without them.
    """
    rng = random.Random(seed * 7919 + 17)
    products = [
        Product.objects.create(workspace=ws, name=name, position=i, is_archived=archived)
        for i, (name, _band, archived) in enumerate(DEMO_PRODUCTS, 1)
    ]
    segments = [
        Segment.objects.create(workspace=ws, name=name, position=i)
        for i, name in enumerate(DEMO_SEGMENTS, 1)
    ]
    for deal in deals:
        if rng.random() < 0.08:
            continue  # some deals were never given a product
        fits = [
            p
            for p, (_name, (low, high), archived) in zip(products, DEMO_PRODUCTS, strict=True)
            if low <= deal.amount < high and (not archived or deal._offset > 200 * DAY)
        ]
        deal.product = rng.choice(fits) if fits else products[3]
    small, middle, large, gov = segments
    for company in companies:
        if rng.random() < 0.1:
            continue
        if company.name.startswith("ИП "):
            company.segment = small
        elif rng.random() < 0.07:
            company.segment = gov
        elif company._weight > 2.0:
            company.segment = large
        else:
            company.segment = middle if rng.random() < 0.6 else small


def build_demo(
    *, seed: int = DEFAULT_SEED, scale: float = 1.0, now: datetime | None = None
) -> DemoSummary:
    """Create the demo company in one transaction and say what was made.

    ``scale`` multiplies the numbers of companies, contacts and deals (people stay the same):
    tests use a tenth.
    """
    now = now or timezone.now()
    b = _Builder(seed, scale, now)
    with transaction.atomic():
        ws = Workspace.objects.create(name=WORKSPACE_NAME, timezone=TIME_ZONE, currency="RUB")
        Workspace.objects.filter(pk=ws.pk).update(
            created_at=now - timedelta(days=HISTORY_DAYS + 20)
        )
        people = b.build_people(ws)
        pipelines = b.build_pipelines(ws)
        companies, contacts = b.build_clients(ws, people)
        deals, changes, tasks, comms = b.build_deals(ws, people, pipelines, companies)
        _products_and_segments(ws, seed, deals, companies)

        # A client appears in the CRM shortly before its first deal, or some time in the period
        # (offsets are seconds before now, so "earlier" is "larger").
        first_deal: dict[int, float] = {}
        for deal in deals:
            key = id(deal.company)
            first_deal[key] = max(first_deal.get(key, 0.0), deal._offset)
        rng = b.rng
        for company in companies:
            off = first_deal.get(id(company))
            if off is None:
                off = rng.uniform(0, HISTORY_DAYS) * DAY
            else:
                off += rng.uniform(2 * HOUR, 3 * DAY)
            company._offset = off
            company.created_at = company.updated_at = b.clock.past(off)
        for contact in contacts:
            if contact.company is not None:
                off = contact.company._offset - rng.uniform(MINUTE, HOUR)
            else:
                off = rng.uniform(0, HISTORY_DAYS) * DAY
            contact.created_at = contact.updated_at = b.clock.past(off)

        with _own_timestamps(Company, Contact, Deal, StageChange, Task, Communication):
            Company.objects.bulk_create(companies, batch_size=500)
            Contact.objects.bulk_create(contacts, batch_size=500)
            Deal.objects.bulk_create(deals, batch_size=500)
            for row in (*changes, *tasks, *comms):
                row.deal_id = row.deal.pk
            StageChange.objects.bulk_create(changes, batch_size=1000)
            Task.objects.bulk_create(tasks, batch_size=1000)
            Communication.objects.bulk_create(comms, batch_size=1000)
        # The deals' next steps as the board sorts them, from the tasks written in bulk.
        from voronka.sales.next_steps import sync_next_step_due

        sync_next_step_due(workspace_id=ws.id)

    # The analytics' rollups, computed from the history written in bulk above.
    from voronka.analytics.rollups import rebuild_workspace

    rebuild_workspace(ws)

    # The rules of work: today's violations, and a month of daily snapshots for the trend.
    from voronka.control.evaluate import evaluate_workspace, take_snapshot
    from voronka.control.replay import backfill_snapshots

    evaluate_workspace(ws.id, now=now)
    take_snapshot(ws, now=now)
    backfill_snapshots(ws, now=now)
    _plan_this_month(ws, people["head"], now)

    c = b.counts
    c["companies"], c["contacts"], c["deals"] = len(companies), len(contacts), len(deals)
    c["stage_changes"], c["tasks"], c["communications"] = len(changes), len(tasks), len(comms)
    open_tasks = [t for t in tasks if t.done_at is None]
    c["tasks_open"] = len(open_tasks)
    c["tasks_overdue"] = sum(1 for t in open_tasks if t.due_at < now)
    today = now.astimezone(b.tz).date()
    c["tasks_today"] = sum(
        1 for t in open_tasks if t.due_at >= now and t.due_at.astimezone(b.tz).date() == today
    )
    c["communications_uncommented"] = sum(1 for m in comms if not m.comment)
    return DemoSummary(workspace=ws, seed=seed, people=list(people.values()), counts=c)
