"""The inbox: who sees which conversation, reading, replying through the channel, handing over,
closing, message templates and the live updates' cheap polls."""

import re

import pytest
from django.urls import reverse

from voronka.core.errors import Invalid, NotAllowed
from voronka.inbox.access import visible_conversations
from voronka.inbox.actions import (
    do_assign_conversation,
    do_close_conversation,
    do_create_message_template,
    do_reopen_conversation,
    do_update_message_template,
)
from voronka.inbox.models import (
    Attachment,
    Communication,
    Conversation,
    ConversationEvent,
    MessageTemplate,
)

from .inbox_world import BOT_TOKEN, chat_with, deliver, telegram_channel, telegram_update


@pytest.fixture
def channel(org):
    return telegram_channel(org)


@pytest.fixture
def chats(org, channel):
    """One conversation per manager, numbered like the managers."""
    managers = [org.manager1, org.manager2, org.manager3, org.manager4]
    return {m.id: chat_with(channel, m, n) for n, m in enumerate(managers, 1)}


def _page(client, user, url, **kwargs):
    client.force_login(user)
    return client.get(url, kwargs)


# --- Who sees what -------------------------------------------------------------------------------


def test_a_manager_sees_only_their_own_conversations(org, chats):
    assert set(visible_conversations(org.manager1)) == {chats[org.manager1.id]}


def test_a_senior_sees_their_group_and_the_head_sees_all(org, chats):
    team1 = {chats[org.manager1.id], chats[org.manager2.id]}
    assert set(visible_conversations(org.senior1)) == team1
    assert set(visible_conversations(org.head)) == set(chats.values())
    assert set(visible_conversations(org.owner)) == set(chats.values())


def test_nobody_sees_another_workspaces_conversations(org, other_org, chats):
    assert not visible_conversations(other_org.head).exists()


def test_a_manager_cannot_open_a_colleagues_conversation(client, org, chats):
    theirs = chats[org.manager2.id]
    client.force_login(org.manager1)
    for url in (
        reverse("inbox:conversation", args=[theirs.id]),
        reverse("inbox:conversation_poll", args=[theirs.id]),
    ):
        assert client.get(url).status_code == 404, url
    for name, data in (
        ("inbox:conversation_reply", {"text": "Здравствуйте"}),
        ("inbox:conversation_assign", {"assignee": org.manager1.id}),
        ("inbox:conversation_state", {"state": "closed"}),
    ):
        assert client.post(reverse(name, args=[theirs.id]), data).status_code == 404, name
    theirs.refresh_from_db()
    assert (theirs.assignee, theirs.state) == (org.manager2, "open")
    assert not Communication.objects.filter(conversation=theirs, direction="out").exists()


def test_the_inbox_lists_the_own_conversations_with_unread_count_and_preview(client, org, chats):
    html = _page(client, org.manager1, reverse("inbox:inbox")).content.decode()
    mine = chats[org.manager1.id]
    assert reverse("inbox:conversation", args=[mine.id]) in html
    assert "Здравствуйте, сколько стоит доставка?" in html
    assert re.search(r'data-testid="unread-count"[^>]*>1<', html)
    for other in chats.values():
        if other != mine:
            assert reverse("inbox:conversation", args=[other.id]) not in html


def test_the_inbox_filters_by_channel_manager_and_state(client, org, channel, chats):
    second = telegram_channel(org, name="Второй бот")
    client.force_login(org.head)
    rows = re.compile(r'href="/inbox/(\d+)/"')
    ids = lambda **q: {int(i) for i in rows.findall(client.get("/inbox/", q).content.decode())}  # noqa: E731
    assert ids() == {c.id for c in chats.values()}
    assert ids(channel=second.id) == set()
    assert ids(channel=channel.id) == {c.id for c in chats.values()}
    assert ids(manager=org.manager3.id) == {chats[org.manager3.id].id}
    do_close_conversation(org.head, chats[org.manager4.id])
    assert chats[org.manager4.id].id not in ids()
    assert ids(state="closed") == {chats[org.manager4.id].id}
    Conversation.objects.filter(id=chats[org.manager2.id].id).update(unread_count=0)
    assert ids(state="unread") == {c.id for c in chats.values()} - {chats[org.manager2.id].id}


def test_the_inbox_is_ordered_by_the_latest_message_and_paginated(client, org, channel):
    from voronka.inbox import inbox_views

    conversations = [chat_with(channel, org.manager1, n) for n in range(1, 5)]
    deliver(channel, telegram_update(50_001, 90_002, "client2", "Ещё вопрос", ago=0))
    client.force_login(org.manager1)
    rows = re.compile(r'href="/inbox/(\d+)/"')
    order = [int(i) for i in rows.findall(client.get("/inbox/").content.decode())]
    assert order[0] == conversations[1].id
    assert sorted(order) == sorted(c.id for c in conversations)
    old = inbox_views.PER_PAGE
    inbox_views.PER_PAGE = 3
    try:
        first = rows.findall(client.get("/inbox/").content.decode())
        second = rows.findall(client.get("/inbox/", {"page": 2}).content.decode())
    finally:
        inbox_views.PER_PAGE = old
    assert len(first) == 3 and len(second) == 1
    assert {int(i) for i in first + second} == {c.id for c in conversations}


# --- Reading -------------------------------------------------------------------------------------


def test_opening_the_conversation_reads_it_for_its_manager(client, org, chats):
    mine = chats[org.manager1.id]
    response = _page(client, org.manager1, reverse("inbox:conversation", args=[mine.id]))
    assert response.status_code == 200
    assert "Здравствуйте, сколько стоит доставка?" in response.content.decode()
    mine.refresh_from_db()
    assert mine.unread_count == 0


def test_the_head_looking_in_leaves_it_unread_for_the_manager(client, org, chats):
    theirs = chats[org.manager3.id]
    assert _page(client, org.head, f"/inbox/{theirs.id}/").status_code == 200
    theirs.refresh_from_db()
    assert theirs.unread_count == 1


def test_the_navigation_shows_the_unread_badge(client, org, chats):
    html = _page(client, org.manager1, reverse("activities:my_day")).content.decode()
    assert re.search(r'data-testid="inbox-badge">1<', html)
    client.get(reverse("inbox:conversation", args=[chats[org.manager1.id].id]))
    html = client.get(reverse("inbox:badge")).content.decode()
    assert "inbox-badge" in html and 'data-testid="inbox-badge"' not in html


def test_the_list_poll_answers_204_until_a_message_arrives(client, org, channel, chats):
    client.force_login(org.manager1)
    html = client.get("/inbox/").content.decode()
    fp = re.search(r"fp=([0-9a-f]+)", html).group(1)
    assert client.get("/inbox/poll/", {"fp": fp}).status_code == 204
    deliver(channel, telegram_update(60_001, 90_001, "client1", "Вы здесь?"))
    changed = client.get("/inbox/poll/", {"fp": fp})
    assert changed.status_code == 200
    body = changed.content.decode()
    assert "Вы здесь?" in body and 'id="inbox-badge"' in body and 'hx-swap-oob="true"' in body


def test_the_conversation_poll_brings_new_messages_and_reads_them(client, org, channel, chats):
    mine = chats[org.manager1.id]
    client.force_login(org.manager1)
    html = client.get(f"/inbox/{mine.id}/").content.decode()
    version = re.search(r"poll/\?v=([^\"]+)\"", html).group(1)
    from urllib.parse import unquote

    v = unquote(version)
    assert client.get(f"/inbox/{mine.id}/poll/", {"v": v}).status_code == 204
    deliver(channel, telegram_update(60_002, 90_001, "client1", "Жду ответа"))
    changed = client.get(f"/inbox/{mine.id}/poll/", {"v": v})
    assert changed.status_code == 200 and "Жду ответа" in changed.content.decode()
    mine.refresh_from_db()
    assert mine.unread_count == 0


def test_a_conversation_handed_away_sends_its_old_viewer_back_to_the_inbox(client, org, chats):
    mine = chats[org.manager1.id]
    do_assign_conversation(org.head, mine, assignee=org.manager3)
    client.force_login(org.manager1)
    response = client.get(f"/inbox/{mine.id}/poll/", {"v": "x"})
    assert response.status_code == 404 and response.headers["HX-Redirect"] == "/inbox/"


# --- Replying ------------------------------------------------------------------------------------


def test_a_reply_goes_out_through_the_telegram_bot_and_lands_on_the_timeline(
    client, org, chats, provider_api
):
    mine = chats[org.manager1.id]
    client.force_login(org.manager1)
    response = client.post(
        f"/inbox/{mine.id}/reply/",
        {"text": "Доставка бесплатная, Ирина!"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.content
    [sent] = provider_api.requests
    assert (sent.method, sent.path) == ("POST", f"/bot{BOT_TOKEN}/sendMessage")
    assert sent.json() == {"chat_id": 90_001, "text": "Доставка бесплатная, Ирина!"}
    out = Communication.objects.get(conversation=mine, direction="out")
    assert (out.body, out.author, out.deal, out.contact) == (
        "Доставка бесплатная, Ирина!",
        org.manager1,
        mine.deal,
        mine.contact,
    )
    assert out.channel == "telegram" and out.kind == "message"
    body = response.content.decode()
    assert "Доставка бесплатная, Ирина!" in body and 'name="text"' in body


def test_a_refused_reply_says_why_and_keeps_the_text(client, org, chats, provider_api):
    provider_api.answer(400, {"ok": False, "description": "Bad Request: chat not found"})
    mine = chats[org.manager1.id]
    client.force_login(org.manager1)
    response = client.post(
        f"/inbox/{mine.id}/reply/", {"text": "Пришлю счёт сегодня"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "chat not found" in body and "Пришлю счёт сегодня</textarea>" in body
    assert not Communication.objects.filter(conversation=mine, direction="out").exists()


def test_an_empty_reply_is_refused_naming_the_text(client, org, chats, provider_api):
    mine = chats[org.manager1.id]
    client.force_login(org.manager1)
    response = client.post(
        f"/inbox/{mine.id}/reply/", {"text": "  "}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422 and not provider_api.requests


def test_the_quality_controller_reads_but_does_not_answer(client, org, chats, provider_api):
    mine = chats[org.manager1.id]
    client.force_login(org.qc)
    html = client.get(f"/inbox/{mine.id}/").content.decode()
    assert "Здравствуйте, сколько стоит доставка?" in html and 'name="text"' not in html
    assert client.post(f"/inbox/{mine.id}/reply/", {"text": "x"}).status_code == 404
    assert not provider_api.requests


def test_a_file_reply_goes_as_a_document(client, org, chats, provider_api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    mine = chats[org.manager1.id]
    client.force_login(org.manager1)
    upload = SimpleUploadedFile("price.pdf", b"%PDF-1.4 price", content_type="application/pdf")
    response = client.post(f"/inbox/{mine.id}/reply/", {"text": "Прайс", "files": upload})
    assert response.status_code == 302
    [sent] = provider_api.requests
    assert sent.path.endswith("/sendDocument") and b"%PDF-1.4 price" in sent.body
    att = Attachment.objects.get(communication__conversation=mine)
    assert att.name == "price.pdf"
    # The file opens for the manager, and for nobody who cannot see the conversation.
    assert client.get(f"/inbox/attachments/{att.id}/").status_code == 200
    client.force_login(org.manager2)
    assert client.get(f"/inbox/attachments/{att.id}/").status_code == 404


def test_a_received_photo_is_fetched_from_telegram_when_opened(
    client, org, channel, chats, provider_api
):
    payload = telegram_update(70_001, 90_001, "client1", "")
    del payload["message"]["text"]
    payload["message"]["photo"] = [{"file_id": "AgAD-small", "file_size": 10, "width": 90}]
    deliver(channel, payload)
    att = Attachment.objects.get(external_id="AgAD-small")
    provider_api.answer(200, {"ok": True, "result": {"file_path": "photos/file_1.jpg"}})
    provider_api.answer(200, b"\xff\xd8\xff jpeg bytes")
    client.force_login(org.manager3)
    assert client.get(f"/inbox/attachments/{att.id}/").status_code == 404
    assert not provider_api.requests
    client.force_login(org.manager1)
    response = client.get(f"/inbox/attachments/{att.id}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\xff\xd8\xff jpeg bytes"
    assert [r.path for r in provider_api.requests] == [
        f"/bot{BOT_TOKEN}/getFile",
        f"/file/bot{BOT_TOKEN}/photos/file_1.jpg",
    ]


# --- Hand-over, closing --------------------------------------------------------------------------


def test_the_manager_hands_their_conversation_to_a_teammate(org, chats):
    mine = chats[org.manager1.id]
    do_assign_conversation(org.manager1, mine, assignee=org.manager2)
    mine.refresh_from_db()
    assert mine.assignee == org.manager2
    event = ConversationEvent.objects.get(conversation=mine)
    assert (event.kind, event.actor, event.from_user, event.to_user) == (
        "assigned",
        org.manager1,
        org.manager1,
        org.manager2,
    )


def test_a_manager_may_not_hand_over_outside_the_team(org, chats):
    with pytest.raises(NotAllowed) as refused:
        do_assign_conversation(org.manager1, chats[org.manager1.id], assignee=org.manager3)
    assert set(refused.value.fields) == {"assignee"}
    assert not ConversationEvent.objects.exists()


def test_a_senior_hands_over_within_the_group_only(org, chats):
    do_assign_conversation(org.senior1, chats[org.manager1.id], assignee=org.manager2)
    with pytest.raises(NotAllowed):
        do_assign_conversation(org.senior1, chats[org.manager2.id], assignee=org.manager3)
    with pytest.raises(NotAllowed):
        do_assign_conversation(org.senior1, chats[org.manager3.id], assignee=org.manager1)


def test_the_head_hands_any_conversation_to_anyone(org, chats):
    do_assign_conversation(org.head, chats[org.manager1.id], assignee=org.manager4)
    do_assign_conversation(org.head, chats[org.manager3.id], assignee=org.senior1)
    assert Conversation.objects.get(id=chats[org.manager1.id].id).assignee == org.manager4


def test_nobody_hands_a_conversation_to_an_assistant_or_to_its_own_manager(org, chats):
    with pytest.raises(Invalid) as refused:
        do_assign_conversation(org.head, chats[org.manager1.id], assignee=org.assistant)
    assert set(refused.value.fields) == {"assignee"}
    with pytest.raises(Invalid):
        do_assign_conversation(org.head, chats[org.manager1.id], assignee=org.manager1)


def test_the_hand_over_page_offers_only_whom_the_person_may_choose(client, org, chats):
    html = _page(client, org.manager1, f"/inbox/{chats[org.manager1.id].id}/").content.decode()
    offered = set(re.findall(r'<option value="(\d+)">', html))
    assert offered == {str(org.manager2.id), str(org.senior1.id)}
    response = client.post(
        f"/inbox/{chats[org.manager1.id].id}/assign/", {"assignee": org.manager2.id}
    )
    assert response.status_code == 302 and response.url == "/inbox/"
    html = _page(client, org.manager2, f"/inbox/{chats[org.manager1.id].id}/").content.decode()
    assert 'data-testid="conversation-event"' in html


def test_closing_and_reopening_are_recorded(client, org, chats):
    mine = chats[org.manager1.id]
    do_close_conversation(org.manager1, mine)
    with pytest.raises(Invalid) as again:
        do_close_conversation(org.manager1, mine)
    assert set(again.value.fields) == {"state"}
    do_reopen_conversation(org.manager1, mine)
    assert list(ConversationEvent.objects.values_list("kind", flat=True)) == [
        "closed",
        "reopened",
    ]
    client.force_login(org.manager1)
    response = client.post(f"/inbox/{mine.id}/state/", {"state": "closed"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.state == "closed"


def test_a_new_message_reopens_a_closed_conversation(org, channel, chats):
    mine = chats[org.manager1.id]
    do_close_conversation(org.manager1, mine)
    deliver(channel, telegram_update(80_001, 90_001, "client1", "Ещё вопрос"))
    mine.refresh_from_db()
    assert mine.state == "open"


# --- Message templates ---------------------------------------------------------------------------


def test_the_head_writes_a_template_and_the_reply_box_offers_it_filled_in(client, org, chats):
    do_create_message_template(
        org.head,
        name="Приветствие",
        body="Здравствуйте, {contact_first_name}! Я {manager_first_name}, ваш менеджер.",
    )
    do_create_message_template(org.head, name="Старый", body="Не используется", is_active=False)
    mine = chats[org.manager1.id]
    html = _page(client, org.manager1, f"/inbox/{mine.id}/").content.decode()
    first = org.manager1.first_name or org.manager1.username
    assert f'data-text="Здравствуйте, Клиент1! Я {first}, ваш менеджер."' in html
    assert "Не используется" not in html


def test_a_template_with_an_unknown_placeholder_is_refused_naming_the_text(org):
    with pytest.raises(Invalid) as refused:
        do_create_message_template(org.head, name="Счёт", body="Счёт № {invoice}")
    assert set(refused.value.fields) == {"body"} and "{invoice}" in refused.value.fields["body"]
    with pytest.raises(Invalid) as empty:
        do_create_message_template(org.head, name="", body="")
    assert set(empty.value.fields) == {"name", "body"}


def test_only_the_head_and_the_owner_manage_templates(client, org):
    with pytest.raises(NotAllowed):
        do_create_message_template(org.manager1, name="Мой", body="Текст")
    template = do_create_message_template(org.owner, name="Реквизиты", body="ИНН 7700000000")
    with pytest.raises(NotAllowed):
        do_update_message_template(
            org.senior1, template, name="Реквизиты", body="x", is_active=True
        )
    for user in (org.manager1, org.senior1, org.qc, org.assistant):
        client.force_login(user)
        assert client.get("/settings/message-templates/").status_code == 404
        assert client.get(f"/settings/message-templates/{template.id}/").status_code == 404
        assert (
            client.post("/settings/message-templates/", {"name": "x", "body": "y"}).status_code
            == 404
        )
    assert MessageTemplate.objects.count() == 1


def test_the_templates_page_adds_and_edits(client, org):
    client.force_login(org.head)
    response = client.post(
        "/settings/message-templates/",
        {"name": "Прайс", "body": "{contact_name}, прайс во вложении"},
    )
    assert response.status_code == 302
    template = MessageTemplate.objects.get()
    response = client.post(
        f"/settings/message-templates/{template.id}/", {"name": "Прайс", "body": "Прайс: {oops}"}
    )
    assert response.status_code == 422 and "{oops}" in response.content.decode()
    response = client.post(
        f"/settings/message-templates/{template.id}/", {"name": "Прайс 2025", "body": "Ок"}
    )
    template.refresh_from_db()
    assert (template.name, template.body, template.is_active) == ("Прайс 2025", "Ок", False)


def test_the_templates_are_a_settings_tab_with_archive_and_a_confirmed_delete(client, org, chats):
    keep = do_create_message_template(org.head, name="Приветствие", body="Добрый день!")
    old = do_create_message_template(org.head, name="Акция лета", body="Скидка 10% до августа")
    client.force_login(org.head)
    settings_page = client.get("/settings/channels/").content.decode()
    assert 'href="/settings/message-templates/"' in settings_page
    page = client.get(f"/settings/message-templates/{old.id}/").content.decode()
    assert 'aria-current="page">Шаблоны сообщений' in page
    assert 'onsubmit="return confirm(this.dataset.confirm)"' in page
    assert "Удалить шаблон «Акция лета»" in page or "Удалить шаблон “Акция лета”" in page

    # Archived: out of the reply box, still on the settings page, and it can come back.
    client.post(f"/settings/message-templates/{old.id}/", {"form": "archive"})
    old.refresh_from_db()
    assert not old.is_active
    mine = chats[org.manager1.id]
    reply_box = _page(client, org.manager1, f"/inbox/{mine.id}/").content.decode()
    assert "Добрый день!" in reply_box and "Скидка 10%" not in reply_box
    client.force_login(org.head)
    assert "Акция лета" in client.get("/settings/message-templates/").content.decode()
    client.post(f"/settings/message-templates/{old.id}/", {"form": "archive"})
    old.refresh_from_db()
    assert old.is_active

    # Deleted: gone for good; nobody else may delete.
    client.force_login(org.manager1)
    assert client.post(f"/settings/message-templates/{keep.id}/delete/").status_code == 404
    client.force_login(org.head)
    assert client.get(f"/settings/message-templates/{old.id}/delete/").status_code == 405
    response = client.post(f"/settings/message-templates/{old.id}/delete/")
    assert response.status_code == 302
    assert list(MessageTemplate.objects.values_list("name", flat=True)) == ["Приветствие"]
    reply_box = _page(client, org.manager1, f"/inbox/{mine.id}/").content.decode()
    assert "Акция лета" not in reply_box


def test_an_empty_inbox_without_channels_says_why_and_sends_the_head_to_connect_one(client, org):
    client.force_login(org.head)
    page = client.get(reverse("inbox:inbox")).content.decode()
    assert "Ни один канал ещё не подключён" in page
    assert f'href="{reverse("inbox:settings_channels")}"' in page
    assert "Подключить канал" in page


def test_an_empty_inbox_tells_a_manager_who_connects_the_channels_without_a_link(client, org):
    client.force_login(org.manager1)
    page = client.get(reverse("inbox:inbox")).content.decode()
    assert "Ни один канал ещё не подключён" in page
    assert "Каналы подключает руководитель отдела продаж" in page
    assert reverse("inbox:settings_channels") not in page


def test_an_empty_inbox_with_a_channel_says_nothing_has_come_in_yet(client, org):
    telegram_channel(org)
    client.force_login(org.owner)
    page = client.get(reverse("inbox:inbox")).content.decode()
    assert "Ни один канал ещё не подключён" not in page
    assert "Пока ничего не пришло" in page
    assert "Настройки каналов" in page
