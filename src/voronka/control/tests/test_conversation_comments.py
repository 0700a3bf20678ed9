"""A conversation in a messenger owes one comment per exchange, by the manager who answered;
the client's messages alone owe nothing."""

from datetime import UTC, datetime, timedelta

from django.test import Client
from django.utils import timezone

from voronka.control.evaluate import evaluate_objects, evaluate_workspace
from voronka.control.models import DailySnapshot, Violation
from voronka.control.replay import backfill_snapshots
from voronka.control.rules import MessageFacts, owed_conversation_comments
from voronka.inbox.actions import do_comment_communication, do_create_channel
from voronka.inbox.models import Communication, Conversation
from voronka.testing.factories import make_deal

GRACE = timedelta(minutes=30)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def msg(i, minutes, ours, author=7, commented=False):
    return MessageFacts(i, T0 + timedelta(minutes=minutes), ours, author, commented)


# -- the rule, as plain Python --------------------------------------------------------------------


def test_the_clients_messages_alone_owe_no_comment():
    assert owed_conversation_comments([msg(1, 0, False), msg(2, 5, False)], GRACE) == []


def test_an_answered_exchange_owes_one_comment_on_the_managers_last_message():
    owed = owed_conversation_comments(
        [msg(1, 0, False), msg(2, 3, True), msg(3, 6, False), msg(4, 9, True), msg(5, 12, False)],
        GRACE,
    )
    assert len(owed) == 1
    assert owed[0].message_id == 4
    assert owed[0].author_id == 7
    assert owed[0].ended_at == T0 + timedelta(minutes=12)  # the client's thanks ends it
    assert owed[0].due_at == T0 + timedelta(minutes=42)
    assert not owed[0].commented


def test_a_pause_as_long_as_the_grace_period_starts_a_new_exchange():
    owed = owed_conversation_comments(
        [msg(1, 0, False), msg(2, 5, True), msg(3, 5 + 30, False), msg(4, 40, True)], GRACE
    )
    assert [o.message_id for o in owed] == [2, 4]


def test_a_comment_on_any_message_of_the_exchange_covers_it():
    owed = owed_conversation_comments(
        [msg(1, 0, False), msg(2, 3, True, commented=True), msg(3, 9, True)], GRACE
    )
    assert [(o.message_id, o.commented) for o in owed] == [(3, True)]


def test_a_message_without_an_author_owes_nothing():
    assert owed_conversation_comments([msg(1, 0, True, author=None)], GRACE) == []


# -- evaluated over the database ------------------------------------------------------------------


def conversation(org, deal, chat="555"):
    channel = do_create_channel(
        org.head,
        kind="telegram",
        name=f"Бот {chat}",
        credentials={"bot_token": "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"},
    )
    return Conversation.objects.create(
        workspace=org.workspace,
        channel=channel,
        external_id=chat,
        contact=deal.contact,
        deal=deal,
        assignee=deal.owner,
    )


def message(conv, direction, minutes_ago, text="Добрый день"):
    return Communication.objects.create(
        workspace_id=conv.workspace_id,
        kind="message",
        direction=direction,
        channel="telegram",
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
        author=conv.assignee,
        contact=conv.contact,
        deal=conv.deal,
        conversation=conv,
        body=text,
    )


def open_comment_violations():
    return list(
        Violation.objects.filter(kind="missing_comment", resolved_at__isnull=True).values_list(
            "communication_id", "manager_id"
        )
    )


def waiting_rows(user) -> list[str]:
    c = Client()
    c.force_login(user)
    html = c.get("/my-day/").content.decode()
    return html.split('data-testid="waiting-comment"')[1:]


def test_an_inbound_message_left_unanswered_is_no_missing_comment(org):
    deal = make_deal(org.manager1, org.pipeline)
    conv = conversation(org, deal)
    first = message(conv, "in", 180)
    message(conv, "in", 170)
    evaluate_workspace(org.workspace.id)
    evaluate_objects(org.workspace.id, communications=[first.id])
    assert open_comment_violations() == []
    assert waiting_rows(org.manager1) == []


def test_a_replied_conversation_without_a_comment_is_flagged_once_not_per_message(org):
    deal = make_deal(org.manager1, org.pipeline, title="Доставка на склад")
    conv = conversation(org, deal)
    message(conv, "in", 200)
    message(conv, "out", 195)
    message(conv, "in", 190)
    last_reply = message(conv, "out", 185)
    message(conv, "in", 180, "Спасибо!")
    evaluate_workspace(org.workspace.id)
    assert open_comment_violations() == [(last_reply.id, org.manager1.id)]
    rows = waiting_rows(org.manager1)
    assert len(rows) == 1
    assert "Доставка на склад" in rows[0]
    assert f'action="/communications/{last_reply.id}/comment/"' in rows[0]
    # Evaluated again, per message as the ingest does: still one.
    ids = list(conv.communications.values_list("id", flat=True))
    evaluate_objects(org.workspace.id, communications=ids)
    assert open_comment_violations() == [(last_reply.id, org.manager1.id)]


def test_a_conversation_still_going_on_is_not_yet_due(org):
    deal = make_deal(org.manager1, org.pipeline)
    conv = conversation(org, deal)
    message(conv, "in", 50)
    message(conv, "out", 40)
    message(conv, "in", 20)  # the exchange goes on: the grace runs from here
    evaluate_workspace(org.workspace.id)
    assert open_comment_violations() == []
    rows = waiting_rows(org.manager1)
    assert len(rows) == 1 and "комментарий до" in rows[0]


def test_a_comment_on_the_conversation_clears_it(org, django_capture_on_commit_callbacks):
    deal = make_deal(org.manager1, org.pipeline)
    conv = conversation(org, deal)
    message(conv, "in", 200)
    first_reply = message(conv, "out", 195)
    last_reply = message(conv, "out", 185)
    evaluate_workspace(org.workspace.id)
    assert open_comment_violations() == [(last_reply.id, org.manager1.id)]
    # A comment on an earlier reply of the same exchange settles it too.
    with django_capture_on_commit_callbacks(execute=True):
        do_comment_communication(
            org.manager1,
            first_reply,
            comment="Клиент спросил о сроках доставки, отправил расчёт, созвон в пятницу.",
        )
    assert open_comment_violations() == []
    assert waiting_rows(org.manager1) == []
    evaluate_workspace(org.workspace.id)
    assert open_comment_violations() == []


def test_the_next_exchange_owes_its_own_comment(org):
    deal = make_deal(org.manager1, org.pipeline)
    conv = conversation(org, deal)
    message(conv, "in", 600)
    monday = message(conv, "out", 590)
    Communication.objects.filter(id=monday.id).update(comment="Отправил прайс и условия доставки.")
    message(conv, "in", 120)
    tuesday = message(conv, "out", 110)
    evaluate_workspace(org.workspace.id)
    assert open_comment_violations() == [(tuesday.id, org.manager1.id)]


def test_the_replayed_days_judge_conversations_the_same_way(org):
    deal = make_deal(org.manager1, org.pipeline, days_ago=5)
    conv = conversation(org, deal)
    for minutes in (3 * 1440, 3 * 1440 - 5, 3 * 1440 - 10):
        message(conv, "in", minutes)  # an unanswered client: nothing owed
    message(conv, "in", 2 * 1440)
    message(conv, "out", 2 * 1440 - 5)
    message(conv, "out", 2 * 1440 - 10)
    backfill_snapshots(org.workspace, days=5)
    rows = DailySnapshot.objects.filter(kind="missing_comment", manager=org.manager1)
    assert rows.exists()
    assert max(rows.values_list("count", flat=True)) == 1
