"""The demo company: the same seed gives the same company, and its history is consistent."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from voronka.accounts.models import Role, User
from voronka.activities.models import Task, TaskGoal
from voronka.clients.models import Company, Contact
from voronka.clients.phones import normalise_phone
from voronka.core.demo import DEMO_PASSWORD, build_demo, inn_check, inn_is_valid
from voronka.core.models import Workspace
from voronka.inbox.models import Communication
from voronka.sales.models import Deal, LossReason, Stage, StageChange, StageKind

pytestmark = pytest.mark.django_db

SCALE = 0.1


@pytest.fixture
def demo():
    return build_demo(seed=11, scale=SCALE)


def _fingerprint(seed: int) -> dict:
    """Build the demo, note what a person would notice, and roll it all back."""
    with transaction.atomic():
        summary = build_demo(seed=seed, scale=SCALE)
        ws = summary.workspace
        deals = Deal.objects.filter(workspace=ws).order_by("id")
        fingerprint = {
            "counts": dict(summary.counts),
            "people": [
                (u.username, u.first_name, u.last_name)
                for u in User.objects.filter(workspace=ws).order_by("username")
            ],
            "companies": list(
                Company.objects.filter(workspace=ws).order_by("id").values_list("name", "inn")
            ),
            "deals": list(deals.values_list("title", "amount", "stage__name", "loss_reason")),
            "changes": StageChange.objects.filter(workspace=ws).count(),
        }
        transaction.set_rollback(True)
    return fingerprint


def test_the_same_seed_builds_the_same_company():
    first = _fingerprint(5)
    assert Workspace.objects.count() == 0
    assert first == _fingerprint(5)


def test_another_seed_builds_another_company():
    assert _fingerprint(5)["deals"] != _fingerprint(6)["deals"]


def test_every_deals_last_stage_change_is_its_current_stage(demo):
    deals = Deal.objects.filter(workspace=demo.workspace).select_related("stage")
    history: dict[int, list[StageChange]] = {}
    for change in StageChange.objects.filter(workspace=demo.workspace).order_by(
        "deal_id", "changed_at", "id"
    ):
        history.setdefault(change.deal_id, []).append(change)
    for deal in deals:
        changes = history[deal.id]
        assert changes[0].from_stage_id is None
        assert changes[0].changed_at == deal.created_at
        for before, after in zip(changes, changes[1:], strict=False):
            assert after.from_stage_id == before.to_stage_id
            assert after.changed_at > before.changed_at
        assert changes[-1].to_stage_id == deal.stage_id
        assert changes[-1].changed_at == deal.stage_entered_at
        assert deal.stage_entered_at <= timezone.now()


def test_closed_deals_are_closed_when_they_entered_their_last_stage_and_lost_ones_say_why(demo):
    deals = list(Deal.objects.filter(workspace=demo.workspace).select_related("stage"))
    kinds = {d.stage.kind for d in deals}
    assert kinds == {StageKind.OPEN, StageKind.WON, StageKind.LOST}
    for deal in deals:
        if deal.stage.kind == StageKind.OPEN:
            assert deal.closed_at is None
            assert deal.loss_reason == ""
        else:
            assert deal.closed_at == deal.stage_entered_at
        if deal.stage.kind == StageKind.LOST:
            assert deal.loss_reason
        assert 50_000 <= deal.amount <= 900_000


def test_deals_meet_their_stages_requirements_and_reasons_are_on_the_heads_list(demo):
    reasons = set(
        LossReason.objects.filter(workspace=demo.workspace).values_list("name", flat=True)
    )
    gated = Stage.objects.filter(workspace=demo.workspace).exclude(required_fields=[])
    assert {s.name for s in gated} == {"Счёт выставлен"}
    reached = set(StageChange.objects.filter(to_stage__in=gated).values_list("deal_id", flat=True))
    assert reached
    for deal in Deal.objects.filter(workspace=demo.workspace):
        if deal.id in reached:
            assert deal.invoice_no.startswith("СЧ-")
            assert 0 < deal.invoice_amount <= deal.amount
        else:
            assert deal.invoice_no == ""
            assert deal.invoice_amount is None
        if deal.loss_reason:
            assert deal.loss_reason in reasons
    goals = TaskGoal.objects.filter(workspace=demo.workspace)
    task_goals = set(Task.objects.filter(workspace=demo.workspace).values_list("goal", flat=True))
    assert task_goals <= set(goals.values_list("text", flat=True))


def test_conversions_fall_off_along_the_funnel(demo):
    """More deals reach the first stages than the last ones, in both pipelines."""
    changes = StageChange.objects.filter(workspace=demo.workspace).select_related("to_stage")
    reached: dict[tuple[int, int], int] = {}
    for change in changes:
        stage = change.to_stage
        if stage.kind == StageKind.OPEN:
            key = (stage.pipeline_id, stage.position)
            reached[key] = reached.get(key, 0) + 1
    for pipeline_id in {p for p, _pos in reached}:
        counts = [n for (p, _pos), n in sorted(reached.items()) if p == pipeline_id]
        assert counts[0] > counts[-1]
        assert counts == sorted(counts, reverse=True)


def test_every_manager_and_senior_sells_and_teams_are_led_by_their_seniors(demo):
    people = {u.username: u for u in demo.people}
    owners = set(Deal.objects.filter(workspace=demo.workspace).values_list("owner_id", flat=True))
    for name in [f"manager{i}" for i in range(1, 9)] + ["senior1", "senior2"]:
        assert people[name].id in owners, name
    assert people["senior1"].team.lead_id == people["senior1"].id
    team1 = {u.username for u in User.objects.filter(team=people["senior1"].team)}
    assert team1 == {"senior1", "manager1", "manager2", "manager3", "manager4"}
    assert people["head"].role == Role.HEAD
    assert people["qc"].role == Role.QC
    for user in demo.people:
        assert user.check_password(DEMO_PASSWORD)
        assert (user.language, user.timezone) == ("ru", "Europe/Moscow")
        assert user.first_name and user.last_name


def test_deals_belong_to_their_clients_owner_and_contacts_to_the_company(demo):
    for deal in Deal.objects.filter(workspace=demo.workspace).select_related("company", "contact"):
        assert deal.owner_id == deal.company.owner_id
        if deal.contact is not None:
            assert deal.contact.company_id == deal.company_id
            assert deal.contact.created_at < deal.created_at
        assert deal.company.created_at < deal.created_at
    handed = Deal.objects.filter(workspace=demo.workspace, assistant__isnull=False)
    assert handed.exists()
    assistant = next(u for u in demo.people if u.role == Role.ASSISTANT)
    assert not Task.objects.filter(owner=assistant).exclude(deal__in=handed).exists()
    assert Task.objects.filter(owner=assistant).exists()
    handed_open_tasks = Task.objects.filter(
        deal__in=handed.filter(stage__kind=StageKind.OPEN), done_at__isnull=True
    )
    assert set(handed_open_tasks.values_list("owner_id", flat=True)) <= {assistant.id}


def test_phones_are_e164_and_tax_numbers_add_up(demo):
    contacts = Contact.objects.filter(workspace=demo.workspace)
    assert contacts.count() == round(800 * SCALE)
    for contact in contacts:
        if contact.phone:
            assert contact.phone.startswith("+79")
            assert normalise_phone(contact.phone) == contact.phone
        assert not contact.telegram.startswith("@")
    for company in Company.objects.filter(workspace=demo.workspace):
        if company.phone:
            assert normalise_phone(company.phone) == company.phone
        if company.inn:
            assert inn_is_valid(company.inn), company.inn
    assert contacts.exclude(telegram="").exists()


def test_inn_check_digits_match_published_examples():
    assert inn_check("770708389") == "7707083893"
    assert inn_check("5001007322") == "500100732259"
    assert inn_is_valid("7707083893")
    assert not inn_is_valid("7707083894")


def test_open_deals_have_at_most_one_next_task_and_some_have_none(demo):
    now = timezone.now()
    open_deals = Deal.objects.filter(workspace=demo.workspace, stage__kind=StageKind.OPEN)
    open_tasks = Task.objects.filter(
        workspace=demo.workspace, done_at__isnull=True, deal__in=open_deals
    )
    per_deal: dict[int, int] = {}
    for task in open_tasks:
        per_deal[task.deal_id] = per_deal.get(task.deal_id, 0) + 1
    assert max(per_deal.values()) == 1
    assert 0 < open_deals.count() - len(per_deal) < open_deals.count() / 3
    assert open_tasks.filter(due_at__lt=now).exists()
    assert open_tasks.filter(due_at__gt=now).exists()
    closed = Task.objects.filter(workspace=demo.workspace, deal__stage__kind__in=["won", "lost"])
    assert not closed.filter(done_at__isnull=True).exists()
    for task in Task.objects.filter(workspace=demo.workspace, done_at__isnull=False):
        assert task.result
        assert task.created_at <= task.done_at
        assert task.goal


def test_communications_have_comments_except_some_and_none_is_in_the_future(demo):
    comms = Communication.objects.filter(workspace=demo.workspace)
    total = comms.count()
    silent = comms.filter(comment="").count()
    assert 0 < silent < total * 0.2
    assert not comms.filter(occurred_at__gt=timezone.now()).exists()
    assert set(comms.values_list("kind", flat=True)) >= {"call", "message", "email", "meeting"}
    assert comms.filter(kind="call", duration_seconds__gt=0).exists()


def test_the_command_loads_the_demo_and_prints_the_logins():
    out = StringIO()
    call_command("demo", "--scale", str(SCALE), "--seed", "3", stdout=out)
    text = out.getvalue()
    assert Workspace.objects.count() == 1
    assert "voronka-demo" in text
    for username in ("owner", "head", "senior1", "senior2", "manager8", "assistant", "qc"):
        assert f"  {username} " in text


def test_if_empty_leaves_a_database_with_data_alone(org):
    out = StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "not loaded" in out.getvalue()
    assert Workspace.objects.count() == 1
    assert not Deal.objects.exists()


def test_if_empty_loads_the_demo_into_an_empty_database():
    call_command("demo", "--if-empty", "--scale", str(SCALE), stdout=StringIO())
    assert User.objects.filter(username="head").exists()
