"""A NUL character in what a provider delivers or a person types.

PostgreSQL keeps no NUL in text, nor ``\\u0000`` in jsonb; SQLite keeps both. A provider's free
text now and then holds one (a caller's name, a message): the event is kept without it, on both
databases, whichever way it is stored (processed at once, stored for the worker, or through the
front's group commit), and bad input around it still gets its 400 and dead letter, never a 500.
"""

import json
import time

from voronka.api.tests.caller import Caller
from voronka.clients.models import Contact
from voronka.inbox.actions import (
    do_comment_communication,
    do_create_message_template,
    do_log_communication,
)
from voronka.inbox.channels.generic_pbx import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from voronka.inbox.channels.generic_pbx import provider as pbx_provider
from voronka.inbox.groupcommit import store_many
from voronka.inbox.ingest import process_pending, store
from voronka.inbox.models import Communication, DeadLetter, MessageTemplate, ReceivedEvent
from voronka.inbox.rules import without_nul
from voronka.testing.factories import make_deal

from . import test_generic_pbx as pbx
from . import test_telegram as tg
from . import test_whatsapp as wa
from .inbox_world import chat_with, telegram_channel

NUL = "\x00"
pbx_channel = pbx.channel
tg_channel = tg.channel
wa_channel = wa.channel


def stored_texts():
    """Every text the delivery left in the database, as one string."""
    rows = [
        *Communication.objects.values_list("body", "counterpart", "line", "external_id"),
        *Contact.objects.values_list("first_name", "last_name"),
        *ReceivedEvent.objects.values_list("event_id"),
        *(
            [json.dumps(p), json.dumps(e)]
            for p, e in ReceivedEvent.objects.values_list("payload", "event")
        ),
        *DeadLetter.objects.values_list("reason"),
    ]
    return " ".join(str(value) for row in rows for value in row)


def signed_call(**fields):
    return json.dumps(pbx.call(**fields)).encode()


def test_without_nul_leaves_clean_values_as_they_are_and_cleans_nested_ones():
    clean = {"a": ["x", 1, None, {"b": 2.5}]}
    assert without_nul(clean) is clean
    assert without_nul({"k\x00": ["a\x00b", {"c": "\x00"}], "n": 3}) == {
        "k": ["ab", {"c": ""}],
        "n": 3,
    }


def test_a_pbx_call_with_nul_in_the_callers_name_is_kept_without_it(client, org, pbx_channel):
    body = signed_call(client_name="Иван\u0000 Петров", call_id="88\u000041")
    assert b"\\u0000" in body

    response = pbx.deliver(client, pbx_channel, body)

    assert response.status_code == 200, response.content
    comm = Communication.objects.get()
    assert comm.external_id == "8841"
    assert (comm.contact.first_name, comm.contact.last_name) == ("Иван", "Петров")
    record = ReceivedEvent.objects.get()
    assert record.payload["client_name"] == "Иван Петров"
    assert NUL not in stored_texts()


def test_event_ids_that_differ_only_by_a_nul_stay_two_events(client, org, pbx_channel):
    first = pbx.deliver(client, pbx_channel, signed_call(event_id="end-1", call_id="1"))
    second = pbx.deliver(client, pbx_channel, signed_call(event_id="end-\u00001", call_id="2"))
    again = pbx.deliver(client, pbx_channel, signed_call(event_id="end-\u00001", call_id="2"))

    assert [r.status_code for r in (first, second, again)] == [200, 200, 200]
    assert (second.json()["stored"], again.json()["duplicates"]) == (1, 1)
    assert ReceivedEvent.objects.count() == 2 and Communication.objects.count() == 2


def test_a_pbx_body_with_nul_that_cannot_be_read_is_a_400_and_a_dead_letter(
    client, org, pbx_channel
):
    body = json.dumps(pbx.call(**{"from": "\u0000", "\u0000": "\u0000"})).encode()

    response = pbx.deliver(client, pbx_channel, body)

    assert response.status_code == 400, response.content
    letter = DeadLetter.objects.get()
    assert bytes(letter.body) == body and "phone number" in letter.reason
    assert NUL not in letter.reason and not Communication.objects.exists()


def test_a_telegram_message_with_nul_is_kept_without_it(client, org, tg_channel):
    payload = tg.update(7001, username="iri\u0000na", text="Сколько\u0000 стоит?")
    payload["message"]["from"]["first_name"] = "Ири\u0000на"

    response = tg.deliver(client, tg_channel, payload)

    assert response.status_code == 200, response.content
    comm = Communication.objects.get()
    assert comm.body == "Сколько стоит?"
    assert comm.contact.first_name == "Ирина" and comm.contact.telegram == "irina"
    assert NUL not in stored_texts()


def test_a_whatsapp_message_with_nul_is_kept_without_it(client, org, wa_channel):
    payload = wa.envelope(
        messages=[wa.text_message(body="Добрый\u0000 день")],
        contacts=[{"profile": {"name": "Ирина\u0000 Соколова"}, "wa_id": wa.WA_ID}],
    )

    response = wa.deliver(client, wa_channel, payload)

    assert response.status_code == 200, response.content
    comm = Communication.objects.get()
    assert comm.body == "Добрый день" and comm.contact.last_name == "Соколова"
    assert NUL not in stored_texts()


def test_events_with_nul_stored_for_the_worker_are_kept_and_processed(org, pbx_channel):
    events = pbx_provider.parse(pbx_channel, signed_call(client_name="Анна\u0000 Ли"))

    assert store(pbx_channel, events).stored == 1
    assert process_pending() == 1

    assert Communication.objects.get().contact.last_name == "Ли"
    assert NUL not in stored_texts()


def test_the_group_commit_stores_events_with_nul(org, pbx_channel):
    deliveries = [
        (pbx_channel, pbx_provider.parse(pbx_channel, signed_call(event_id=f"g\u0000{n}")))
        for n in range(2)
    ]

    results = store_many(deliveries)

    assert [r.stored for r in results] == [1, 1]
    record = ReceivedEvent.objects.order_by("id").first()
    assert NUL not in json.dumps(record.payload) and NUL not in stored_texts()


def test_a_signed_body_with_nul_through_the_property_tests_route_is_never_a_500(
    client, org, pbx_channel
):
    """The example hypothesis once found: NUL in a key and a value beside a valid call."""
    body = json.dumps({**pbx.call(event_id="!"), " ": "\u0000"}).encode()
    stamp = str(int(time.time()))
    headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(pbx.SECRET, stamp, body)}

    response = client.post(
        f"/hooks/generic_pbx/{pbx_channel.webhook_key}/",
        body,
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 200, response.content
    assert ReceivedEvent.objects.get().payload[" "] == ""


# --- What people type ----------------------------------------------------------------------------


def test_the_api_refuses_a_comment_with_nul_naming_the_field(org):
    deal = make_deal(org.manager1, org.pipeline)
    comm = do_log_communication(org.manager1, kind="call", deal=deal, comment="Позвонить")
    caller = Caller(org.manager1)

    logged = caller.post(
        "/communications", {"kind": "call", "deal_id": deal.id, "comment": "Да\u0000"}
    )
    patched = caller.patch(f"/communications/{comm.id}", {"comment": "Нет\u0000"})

    assert (logged.status_code, set(logged.json()["fields"])) == (422, {"comment"})
    assert (patched.status_code, set(patched.json()["fields"])) == (422, {"comment"})
    comm.refresh_from_db()
    assert comm.comment == "Позвонить" and Communication.objects.count() == 1


def test_the_communication_forms_refuse_nul_naming_the_comment(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    comm = do_log_communication(org.manager1, kind="call", deal=deal, comment="Позвонить")
    client.force_login(org.manager1)

    logged = client.post(
        "/communications/new/",
        {"deal": deal.id, "kind": "call", "direction": "out", "comment": "Да\x00"},
        headers={"HX-Request": "true"},
    )
    commented = client.post(
        f"/communications/{comm.id}/comment/",
        {"comment": "Нет\x00"},
        headers={"HX-Request": "true"},
    )

    assert logged.status_code in (400, 422) and commented.status_code in (400, 422)
    comm.refresh_from_db()
    assert comm.comment == "Позвонить" and Communication.objects.count() == 1


def test_the_actions_take_nul_out_of_what_is_written(org):
    deal = make_deal(org.manager1, org.pipeline)

    comm = do_log_communication(org.manager1, kind="call", deal=deal, comment="Пе\x00резвонить")
    do_comment_communication(org.manager1, comm, comment="Счёт\x00 завтра")
    template = do_create_message_template(org.head, name="При\x00вет", body="Добрый\x00 день")

    comm.refresh_from_db()
    template.refresh_from_db()
    assert comm.comment == "Счёт завтра"
    assert (template.name, template.body) == ("Привет", "Добрый день")


def test_a_reply_with_nul_is_sent_and_kept_without_it(client, org, provider_api):
    channel = telegram_channel(org)
    chat = chat_with(channel, org.manager1, 1)
    client.force_login(org.manager1)

    response = client.post(
        f"/inbox/{chat.id}/reply/", {"text": "Счёт\x00 отправлен"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200, response.content
    [sent] = provider_api.requests
    assert sent.json()["text"] == "Счёт отправлен"
    assert Communication.objects.get(conversation=chat, direction="out").body == "Счёт отправлен"


def test_a_template_typed_with_nul_on_the_settings_page_is_saved_without_it(client, org):
    client.force_login(org.head)

    response = client.post(
        "/settings/message-templates/", {"name": "Прайс\x00", "body": "Прайс\x00 во вложении"}
    )

    assert response.status_code == 302
    template = MessageTemplate.objects.get()
    assert (template.name, template.body) == ("Прайс", "Прайс во вложении")


def test_a_review_note_typed_with_nul_is_saved_without_it(client, org):
    from voronka.activities.models import ReviewFlag

    deal = make_deal(org.manager1, org.pipeline)
    comm = do_log_communication(org.manager1, kind="call", deal=deal, comment="Обсудили цену")
    client.force_login(org.head)

    response = client.post(
        f"/communications/{comm.id}/review-flag/",
        {"note": "Возра\x00жение"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert ReviewFlag.objects.get(communication=comm).note == "Возражение"
