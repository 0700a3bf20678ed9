"""A small living workspace for API tests: every seller has a company, a contact, a deal with a
task and a call; one deal is handed to the assistant; one task crosses owners."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from voronka.accounts.models import Role
from voronka.activities.actions import do_create_task
from voronka.clients.actions import do_create_company, do_create_contact
from voronka.inbox.actions import do_log_communication
from voronka.testing.factories import make_deal


@dataclass
class World:
    org: object
    companies: list = field(default_factory=list)
    contacts: list = field(default_factory=list)
    deals: list = field(default_factory=list)
    tasks: list = field(default_factory=list)
    communications: list = field(default_factory=list)

    @property
    def sellers(self):
        o = self.org
        return [o.head, o.senior1, o.senior2, o.manager1, o.manager2, o.manager3, o.manager4]

    def deal_of(self, owner):
        return next(d for d in self.deals if d.owner_id == owner.id and d.assistant_id is None)

    def objects(self) -> dict[str, list]:
        return {
            "companies": self.companies,
            "contacts": self.contacts,
            "deals": self.deals,
            "tasks": self.tasks,
            "communications": self.communications,
        }


def populate(org) -> World:
    world = World(org)
    actor = org.head
    now = timezone.now()
    for n, seller in enumerate(world.sellers, 1):
        company = do_create_company(actor, name=f"Компания {seller.username}", owner=seller)
        contact = do_create_contact(
            actor,
            first_name="Иван",
            last_name=f"Клиент{n}",
            owner=seller,
            company=company,
            phone=f"+7 916 000-00-{n:02d}",
        )
        deal = make_deal(
            actor, org.pipeline, owner=seller, company=company, contact=contact, days_ago=n
        )
        world.companies.append(company)
        world.contacts.append(contact)
        world.deals.append(deal)
    handed = make_deal(
        actor,
        org.pipeline,
        owner=org.manager3,
        assistant=org.assistant,
        company=world.companies[5],
        contact=world.contacts[5],
        title="Документы для клиента",
    )
    world.deals.append(handed)
    for deal in world.deals:
        world.tasks.append(
            do_create_task(
                actor, goal="Договориться о встрече", due_at=now + timedelta(days=1), deal=deal
            )
        )
        world.communications.append(
            do_log_communication(
                actor,
                kind="call",
                deal=deal,
                author=deal.owner,
                comment="Обсудили условия",
                occurred_at=now - timedelta(hours=1),
            )
        )
    # A senior asks a manager to help on a teammate's deal: both of them see the task.
    world.tasks.append(
        do_create_task(
            org.senior1,
            goal="Подготовить КП",
            due_at=now + timedelta(days=2),
            owner=org.manager1,
            deal=world.deal_of(org.manager2),
        )
    )
    world.tasks.append(
        do_create_task(org.assistant, goal="Собрать акты", due_at=now + timedelta(days=3))
    )
    world.communications.append(
        do_log_communication(
            actor, kind="note", contact=world.contacts[6], comment="Заметка о клиенте"
        )
    )
    return world


def team_of(user, org) -> set[int] | None:
    """Whose records ``user`` sees by the product's rules; None is the whole workspace."""
    if user.role in (Role.OWNER, Role.HEAD, Role.QC):
        return None
    if user.role == Role.SENIOR:
        team = org.team1 if user.id == org.senior1.id else org.team2
        return {user.id} | {m.id for m in team.members.all()}
    return {user.id}


def expected_visible(user, world: World) -> dict[str, set[int]]:
    """The ids of each kind of record ``user`` must see, and no others."""
    org = world.org
    everything = {kind: {o.id for o in objs} for kind, objs in world.objects().items()}
    if user.workspace_id != org.workspace.id:
        return {kind: set() for kind in everything}
    if user.role == Role.ASSISTANT:
        handed = [d for d in world.deals if d.assistant_id == user.id]
        handed_ids = {d.id for d in handed}
        return {
            "deals": handed_ids,
            "companies": {d.company_id for d in handed},
            "contacts": {d.contact_id for d in handed},
            "tasks": {
                t.id for t in world.tasks if t.owner_id == user.id or t.deal_id in handed_ids
            },
            "communications": {
                c.id
                for c in world.communications
                if c.author_id == user.id or c.deal_id in handed_ids
            },
        }
    scope = team_of(user, org)
    if scope is None:
        return everything
    deal_owner = {d.id: d.owner_id for d in world.deals}
    contact_owner = {c.id: c.owner_id for c in world.contacts}
    return {
        "companies": {c.id for c in world.companies if c.owner_id in scope},
        "contacts": {c.id for c in world.contacts if c.owner_id in scope},
        "deals": {d.id for d in world.deals if d.owner_id in scope},
        "tasks": {
            t.id for t in world.tasks if t.owner_id in scope or deal_owner.get(t.deal_id) in scope
        },
        "communications": {
            c.id
            for c in world.communications
            if c.author_id in scope
            or deal_owner.get(c.deal_id) in scope
            or contact_owner.get(c.contact_id) in scope
        },
    }
