"""The website chat widget's endpoints: CORS, the visitor's token, limits, and the visitor's
messages, contacts and offline requests on the same path as every channel's."""

import gzip
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.urls import reverse

from voronka.activities.models import Task
from voronka.clients.models import Contact
from voronka.inbox.actions import do_send_reply
from voronka.inbox.channels.sitechat import is_online, normalise_origin
from voronka.inbox.models import ChannelConfig, Communication, Conversation, DeadLetter
from voronka.sales.models import Deal

from .sitechat_world import SITE, Visitor, site_chat


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def channel(org):
    return site_chat(org)


def conversation_of(channel) -> Conversation:
    return Conversation.objects.select_related("contact", "deal").get(channel=channel)


# --- CORS and sessions ---------------------------------------------------------------------------


def test_an_allowed_site_gets_its_origin_reflected_and_no_cookie(channel):
    response = Visitor(channel).get("config")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in response["Vary"]
    assert not response.cookies
    assert response.json()["strings"]["send"] == "Отправить"


def test_a_foreign_site_or_none_is_refused_with_403(channel):
    foreign = Visitor(channel, origin="https://evil.example.net")
    for response in (foreign.get("config"), foreign.post("session", {})):
        assert response.status_code == 403
        assert "Access-Control-Allow-Origin" not in response
    nobody = Visitor(channel, origin="")
    assert nobody.client.get(nobody.url("config")).status_code == 403


def test_the_preflight_is_answered_for_an_allowed_site_only(channel):
    visitor = Visitor(channel)
    request = {
        "Origin": SITE,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-visitor-token",
    }
    response = visitor.client.options(visitor.url("message"), headers=request)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "X-Visitor-Token" in response["Access-Control-Allow-Headers"]
    assert "POST" in response["Access-Control-Allow-Methods"]
    request["Origin"] = "http://localhost:9999"
    assert visitor.client.options(visitor.url("message"), headers=request).status_code == 403


def test_an_origin_is_compared_in_its_normal_form(org):
    channel = site_chat(org, allowed_origins=[normalise_origin("HTTPS://Shop.Example.com:443/")])
    assert Visitor(channel, origin="https://shop.example.com").get("config").status_code == 200


def test_a_page_opened_from_disk_may_try_the_widget_once_null_is_allowed(org, channel):
    assert Visitor(channel, origin="null").get("config").status_code == 403
    trial = site_chat(org, allowed_origins=["null"])
    response = Visitor(trial, origin="null").get("config")
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "null"


def test_an_unknown_or_switched_off_channel_is_not_found(org, channel):
    channel.enabled = False
    channel.save()
    assert Visitor(channel).get("config").status_code == 404


def test_a_forged_or_foreign_token_is_not_a_session(org, channel):
    other = site_chat(org)
    stranger = Visitor(other)
    stranger.start()
    visitor = Visitor(channel)
    visitor.token = stranger.token  # signed, but for another channel
    assert visitor.say("Здравствуйте").status_code == 401
    visitor.token = "eyJ2IjoiYWFhYWFhYWFhYWFhYWFhYWFhYSJ9:forged"
    assert visitor.get("poll").status_code == 401


def test_a_session_is_resumed_with_the_conversation_so_far(channel):
    visitor = Visitor(channel)
    visitor.start()
    visitor.say("Первое сообщение")
    again = Visitor(channel)
    again.token = visitor.token
    history = again.start()["messages"]
    assert [m["text"] for m in history] == ["Первое сообщение"]
    assert history[0]["from"] == "visitor"


# --- Messages on the ingest path -----------------------------------------------------------------


def test_a_visitors_message_becomes_a_lead_of_the_manager_on_duty(org, channel):
    visitor = Visitor(channel)
    visitor.start()
    response = visitor.say("Сколько стоит доставка в Казань?")
    assert response.status_code == 201, response.content
    conversation = conversation_of(channel)
    assert conversation.assignee in org.people
    assert conversation.unread_count == 1
    comm = Communication.objects.get(conversation=conversation)
    assert (comm.channel, comm.direction, comm.body) == (
        "site_chat",
        "in",
        "Сколько стоит доставка в Казань?",
    )
    deal = conversation.deal
    assert deal.contact == conversation.contact and deal.owner == conversation.assignee
    assert Task.objects.filter(deal=deal).exists()


def test_a_message_repeated_by_the_widget_is_stored_once(channel):
    visitor = Visitor(channel)
    visitor.start()
    assert visitor.say("Алло", client_id="same-1").status_code == 201
    assert visitor.say("Алло", client_id="same-1").status_code == 201
    assert Communication.objects.filter(conversation__channel=channel).count() == 1


def test_the_managers_reply_reaches_the_visitor_by_the_long_poll(org, channel, settings):
    settings.VORONKA_SITECHAT_POLL_SECONDS = 0.5
    visitor = Visitor(channel)
    visitor.start()
    visitor.say("Есть ли скидки?")
    seen = visitor.get("poll", after=0).json()["messages"]
    assert [m["from"] for m in seen] == ["visitor"]
    conversation = conversation_of(channel)
    do_send_reply(conversation.assignee, conversation, text="Да, 10% до пятницы")
    answer = visitor.get("poll", after=seen[-1]["id"]).json()
    assert [(m["from"], m["text"]) for m in answer["messages"]] == [
        ("manager", "Да, 10% до пятницы")
    ]
    assert answer["messages"][0]["name"] == conversation.assignee.first_name


def test_a_poll_with_nothing_new_waits_the_hold_and_answers_empty(channel, settings):
    settings.VORONKA_SITECHAT_POLL_SECONDS = 0.3
    visitor = Visitor(channel)
    visitor.start()
    started = datetime.now(UTC)
    response = visitor.get("poll", after=0)
    assert response.status_code == 200
    assert response.json()["messages"] == []
    assert (datetime.now(UTC) - started).total_seconds() >= 0.3


def test_a_message_over_the_size_limit_is_refused_with_a_reason(channel):
    visitor = Visitor(channel)
    visitor.start()
    response = visitor.say("я" * 2001)
    assert response.status_code == 413
    assert response.json()["error"] == "too_long"
    assert "2000" in response.json()["reason"]
    huge = visitor.post("message", None, raw=b'{"text": "' + b"a" * 20_000 + b'"}')
    assert huge.status_code == 413
    assert not Communication.objects.exists()


def test_an_empty_message_or_broken_json_is_400_with_a_reason(channel):
    visitor = Visitor(channel)
    visitor.start()
    assert visitor.say("   ").status_code == 400
    broken = visitor.post("message", None, raw=b"{not json")
    assert broken.status_code == 400 and broken.json()["reason"]


def test_a_workspace_with_nobody_to_take_the_lead_keeps_the_message_as_a_dead_letter(org, channel):
    from voronka.accounts.models import User

    User.objects.filter(workspace_id=org.workspace.id).update(is_active=False)
    visitor = Visitor(channel)
    visitor.start()
    response = visitor.say("Есть кто?")
    assert response.status_code == 202
    assert DeadLetter.objects.filter(channel=channel).count() == 1


# --- Limits --------------------------------------------------------------------------------------


def test_a_flood_from_one_visitor_gets_429_with_retry_after(channel, settings):
    settings.VORONKA_SITECHAT_LIMITS = {"visitor": (5, 60)}
    visitor = Visitor(channel)
    visitor.start()
    codes = [visitor.say(f"спам {i}").status_code for i in range(8)]
    assert codes[:5] == [201] * 5
    assert codes[5:] == [429] * 3
    refused = visitor.say("ещё")
    assert int(refused["Retry-After"]) >= 1
    assert refused["Access-Control-Allow-Origin"] == SITE
    assert Communication.objects.count() == 5


def test_a_flood_from_one_address_gets_429_whoever_it_claims_to_be(channel, settings):
    settings.VORONKA_SITECHAT_LIMITS = {"ip_write": (4, 60)}
    codes = [Visitor(channel, ip="198.51.100.9").post("session", {}).status_code for _ in range(6)]
    assert codes == [200] * 4 + [429] * 2
    assert Visitor(channel, ip="198.51.100.10").post("session", {}).status_code == 200


def test_the_inbox_answers_while_the_widget_is_flooded(client, org, channel, settings):
    settings.VORONKA_SITECHAT_LIMITS = {"ip": (10, 60)}
    visitor = Visitor(channel)
    assert {visitor.get("config").status_code for _ in range(30)} == {200, 429}
    client.force_login(org.manager1)
    assert client.get(reverse("inbox:inbox")).status_code == 200


# --- Escaping ------------------------------------------------------------------------------------


def test_a_script_in_a_message_is_text_in_the_inbox_and_in_the_widgets_feed(client, channel):
    visitor = Visitor(channel)
    visitor.start()
    visitor.say('<script>alert("x")</script><b>жирный</b>')
    conversation = conversation_of(channel)
    client.force_login(conversation.assignee)
    page = client.get(reverse("inbox:conversation", args=[conversation.id])).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;жирный&lt;/b&gt;" in page
    assert '<script>alert("x")' not in page
    feed = visitor.get("poll", after=0)
    assert feed["Content-Type"] == "application/json"
    assert feed.json()["messages"][0]["text"] == '<script>alert("x")</script><b>жирный</b>'


# --- Contacts and the offline form ---------------------------------------------------------------


def test_a_chatting_visitor_who_leaves_a_phone_is_matched_to_the_known_client(org, channel):
    known = Contact.objects.create(
        workspace_id=org.workspace.id,
        first_name="Ольга",
        last_name="Смирнова",
        owner=org.manager2,
        phone="+79161234567",
    )
    visitor = Visitor(channel)
    visitor.start()
    visitor.say("Хочу уточнить заказ")
    anonymous = conversation_of(channel).contact
    assert anonymous != known
    response = visitor.post("contact", {"id": "c1", "phone": "8 (916) 123-45-67"})
    assert response.status_code == 201, response.content
    conversation = conversation_of(channel)
    assert conversation.contact == known
    feed = visitor.get("poll", after=0).json()["messages"]
    assert [m["text"] for m in feed] == ["Хочу уточнить заказ"]  # the CRM's note stays in the CRM
    assert conversation.deal.contact == known
    assert set(
        Communication.objects.filter(conversation=conversation).values_list("contact", flat=True)
    ) == {known.id}


def test_a_visitor_who_leaves_an_unknown_email_keeps_it_on_their_new_contact(org, channel):
    visitor = Visitor(channel)
    visitor.start()
    visitor.say("Пришлите прайс")
    response = visitor.post("contact", {"id": "c1", "email": "Buyer@Example.COM "})
    assert response.status_code == 201
    contact = conversation_of(channel).contact
    assert contact.email == "buyer@example.com"
    assert Contact.objects.filter(workspace_id=org.workspace.id, email=contact.email).count() == 1


def test_a_bad_phone_is_refused_with_the_field_named(channel):
    visitor = Visitor(channel)
    visitor.start()
    response = visitor.post("contact", {"id": "c1", "phone": "12"})
    assert response.status_code == 400
    assert response.json()["fields"]["phone"] == "Похоже, это не номер телефона."


def test_the_offline_form_becomes_a_lead_with_the_visitors_details(org, channel):
    visitor = Visitor(channel)
    visitor.start()
    response = visitor.post(
        "offline",
        {"id": "o1", "name": "Пётр Иванов", "phone": "+7 916 555-11-22", "text": "Перезвоните"},
    )
    assert response.status_code == 201, response.content
    conversation = conversation_of(channel)
    contact = conversation.contact
    assert (contact.first_name, contact.last_name, contact.phone) == (
        "Пётр",
        "Иванов",
        "+79165551122",
    )
    assert Deal.objects.filter(contact=contact).count() == 1
    body = Communication.objects.get(conversation=conversation).body
    assert "Перезвоните" in body and "+79165551122" in body


def test_the_offline_form_of_a_known_client_by_email_lands_on_their_deal(org, channel):
    from voronka.testing.factories import make_deal

    known = Contact.objects.create(
        workspace_id=org.workspace.id,
        first_name="Анна",
        owner=org.manager3,
        email="client@example.com",
    )
    deal = make_deal(org.head, org.pipeline, owner=org.manager3, contact=known)
    visitor = Visitor(channel)
    visitor.start()
    response = visitor.post(
        "offline", {"id": "o1", "email": "client@example.com", "text": "Где мой счёт?"}
    )
    assert response.status_code == 201
    conversation = conversation_of(channel)
    assert conversation.contact == deal.contact
    assert conversation.deal == deal


def test_the_offline_form_needs_a_phone_or_an_email_and_a_question(channel):
    visitor = Visitor(channel)
    visitor.start()
    response = visitor.post("offline", {"id": "o1", "name": "Аноним", "text": ""})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"phone", "text"}
    assert not Conversation.objects.exists()


# --- Settings, the script, working hours ---------------------------------------------------------


def test_the_head_configures_the_widget_and_copies_the_script_tag(client, org):
    client.force_login(org.head)
    url = reverse("inbox:settings_channel_create") + "?kind=site_chat"
    response = client.post(
        url,
        {
            "kind": "site_chat",
            "name": "Чат на сайте",
            "enabled": "on",
            "option_allowed_origins": "https://shop.example.com/\nhttp://localhost:8080",
            "option_colour": "#D63939",
            "option_greeting": "Здравствуйте! Чем помочь?",
            "option_position": "left",
            "option_language": "en",
            "option_hours_from": "09:00",
            "option_hours_to": "18:00",
            "option_work_days": ["0", "1", "2", "3", "4"],
        },
    )
    assert response.status_code == 302, response.content.decode()
    channel = ChannelConfig.objects.get(kind="site_chat")
    assert channel.options == {
        "allowed_origins": ["https://shop.example.com", "http://localhost:8080"],
        "colour": "#d63939",
        "greeting": "Здравствуйте! Чем помочь?",
        "position": "left",
        "language": "en",
        "hours_from": "09:00",
        "hours_to": "18:00",
        "work_days": [0, 1, 2, 3, 4],
    }
    page = client.get(response["Location"]).content.decode()
    tag = f'&lt;script src="http://testserver/widget/{channel.webhook_key}.js" async&gt;'
    assert tag in page
    assert "09:00" in page and "#d63939" in page
    assert "перед закрывающим тегом &lt;/body&gt;" in page
    assert 'value="5" id="id_option_work_days_5">' in page  # Saturday, not a working day


def test_a_path_is_not_an_allowed_origin(client, org):
    client.force_login(org.head)
    response = client.post(
        reverse("inbox:settings_channel_create"),
        {
            "kind": "site_chat",
            "name": "Чат",
            "option_allowed_origins": "https://shop.example.com/contacts",
            "option_colour": "#206bc4",
            "option_position": "right",
            "option_language": "ru",
        },
    )
    assert response.status_code == 422
    assert "https://shop.example.com/contacts" in response.content.decode()


def test_the_script_is_served_with_caching_headers(channel):
    visitor = Visitor(channel)
    response = visitor.client.get(reverse("inbox:widget_script", args=[channel.webhook_key]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "max-age=3600" in response["Cache-Control"]
    assert b"innerHTML" not in response.content
    packed = visitor.client.get(
        reverse("inbox:widget_script", args=[channel.webhook_key]),
        headers={"Accept-Encoding": "gzip, deflate, br"},
    )
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == response.content
    assert len(packed.content) < 4096
    again = visitor.client.get(
        reverse("inbox:widget_script", args=[channel.webhook_key]),
        headers={"If-None-Match": response["ETag"]},
    )
    assert again.status_code == 304
    styles = visitor.get("config").json()["styles"]
    css = visitor.client.get(styles.replace("http://testserver", ""))
    assert css.status_code == 200 and "immutable" not in css["Cache-Control"]
    assert "max-age=31536000" in css["Cache-Control"]
    assert visitor.client.get("/widget/no-such-key.js").status_code == 404


def test_the_widget_speaks_the_channels_language(org):
    channel = site_chat(org, language="en", greeting="")
    strings = Visitor(channel).get("config").json()["strings"]
    assert strings["send"] == "Send"
    assert strings["greeting"].startswith("Hello")


def test_offline_hours_are_told_to_the_widget(org):
    channel = site_chat(org, hours_from="00:00", hours_to="00:01", work_days=[])
    assert Visitor(channel).get("config").json()["online"] is False


@pytest.mark.parametrize(
    ("hours", "days", "at", "online"),
    [
        (("", ""), [0, 1, 2, 3, 4, 5, 6], "2026-11-28T03:00", True),  # no hours: all day
        (("09:00", "18:00"), [0, 1, 2, 3, 4], "2026-11-26T10:00", True),  # Thursday morning
        (("09:00", "18:00"), [0, 1, 2, 3, 4], "2026-11-26T18:00", False),
        (("09:00", "18:00"), [0, 1, 2, 3, 4], "2026-11-28T10:00", False),  # Saturday
        (("20:00", "02:00"), [4], "2026-11-27T23:00", True),  # Friday night
        (("20:00", "02:00"), [4], "2026-11-28T01:30", True),  # ...running into Saturday
        (("20:00", "02:00"), [4], "2026-11-27T01:30", False),  # Thursday's night is off
    ],
)
def test_working_hours_in_the_workspaces_time_zone(hours, days, at, online):
    moscow = datetime.fromisoformat(at + "+03:00")
    options = {"hours_from": hours[0], "hours_to": hours[1], "work_days": days}
    assert is_online(options, "Europe/Moscow", moscow) is online
