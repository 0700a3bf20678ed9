"""Click-to-call from a contact's or a deal's page: Twilio's Calls API and Mango's callback
command, checked byte for byte on a local server; the call then lands by the webhooks."""

import base64
import json
from urllib.parse import unquote, urlencode

import pytest
from django.urls import reverse
from django.utils import translation

from voronka.clients.models import Contact
from voronka.core.errors import DomainError
from voronka.inbox.calls import do_place_call
from voronka.inbox.channels.mango import encode, sign
from voronka.inbox.models import Communication
from voronka.testing.factories import make_deal

from .telephony import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    MANGO_KEY,
    MANGO_SALT,
    TWILIO_NUMBER,
    mango_summary,
    post_mango,
    post_twilio,
    status_callback,
)

CALL_SID = "CA" + "5" * 32


@pytest.fixture
def deal(org):
    contact = Contact.objects.create(
        workspace=org.workspace, first_name="Ирина", owner=org.manager1, phone="+79161234567"
    )
    return make_deal(org.manager1, org.pipeline, contact=contact)


def test_a_twilio_call_rings_the_client_and_connects_the_manager(
    client, org, twilio, deal, provider_server
):
    org.manager1.phone = "+7 916 000-11-22"
    org.manager1.save()
    provider_server.answer(201, {"sid": CALL_SID, "status": "queued"})
    placed = do_place_call(
        org.manager1, contact=deal.contact, deal=deal, base_url="https://crm.example.com"
    )
    [request] = provider_server.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {auth}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    hook = f"https://crm.example.com/hooks/twilio/{twilio.webhook_key}/"
    twiml = f'<Response><Dial callerId="{TWILIO_NUMBER}">+79160001122</Dial></Response>'
    assert (
        request.body
        == urlencode(
            [
                ("To", "+79161234567"),
                ("From", TWILIO_NUMBER),
                ("Twiml", twiml),
                ("StatusCallback", hook),
                ("StatusCallbackMethod", "POST"),
                ("StatusCallbackEvent", "initiated"),
                ("StatusCallbackEvent", "ringing"),
                ("StatusCallbackEvent", "answered"),
                ("StatusCallbackEvent", "completed"),
            ]
        ).encode()
    )
    comm = placed.communication
    assert (comm.direction, comm.author, comm.deal, comm.external_id, comm.outcome) == (
        "out",
        org.manager1,
        deal,
        CALL_SID,
        "",
    )
    # Twilio's callbacks for that call update the same communication.
    outgoing = {"Direction": "outbound-api", "From": TWILIO_NUMBER, "To": "+79161234567"}
    for status in ("initiated", "ringing", "in-progress", "completed"):
        params = status_callback(call_sid=CALL_SID, status=status, **outgoing)
        assert post_twilio(client, twilio, params).status_code == 200
    comm = Communication.objects.get()
    assert (comm.author, comm.deal, comm.outcome, comm.duration_seconds) == (
        org.manager1,
        deal,
        "answered",
        185,
    )


def test_a_mango_callback_rings_the_managers_extension_then_the_client(
    client, org, mango, deal, provider_server
):
    org.manager1.extension = "101"
    org.manager1.save()
    provider_server.answer(200, {"result": 1000})
    placed = do_place_call(org.manager1, contact=deal.contact, deal=deal, base_url="http://x")
    [request] = provider_server.requests
    assert request.path == "/vpbx/commands/callback"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    data = encode(
        {"command_id": placed.reference, "from": {"extension": "101"}, "to_number": "79161234567"}
    )
    assert (
        request.body
        == urlencode(
            {"vpbx_api_key": MANGO_KEY, "sign": sign(MANGO_KEY, data, MANGO_SALT), "json": data}
        ).encode()
    )
    assert placed.communication is None  # the call arrives by the events
    summary = mango_summary(
        1,
        direction=2,
        **{"from": {"extension": "101", "number": "74951110000"}, "to": {"number": "79161234567"}},
    )
    post_mango(client, mango, "summary", summary)
    comm = Communication.objects.get()
    assert (comm.author, comm.deal, comm.direction, comm.outcome) == (
        org.manager1,
        deal,
        "out",
        "answered",
    )


@pytest.mark.parametrize(
    "answer",
    [
        (401, {"code": 20003, "message": "Authenticate", "status": 401}),
        (200, b"not json"),
    ],
)
def test_a_refused_twilio_call_is_not_on_the_timeline(org, twilio, deal, provider_server, answer):
    org.manager1.phone = "+79160001122"
    org.manager1.save()
    provider_server.answer(*answer)
    with pytest.raises(DomainError):
        do_place_call(org.manager1, contact=deal.contact, deal=deal, base_url="http://x")
    assert not Communication.objects.exists()


def test_a_manager_without_an_extension_is_told_what_to_ask_for(org, mango, deal, provider_server):
    with translation.override("en"), pytest.raises(DomainError, match="extension"):
        do_place_call(org.manager1, contact=deal.contact, deal=deal, base_url="http://x")
    assert not provider_server.requests


def test_the_call_button_shows_only_with_a_telephony_channel_and_a_phone(client, org, deal):
    from voronka.inbox.actions import do_create_channel

    client.force_login(org.manager1)
    page = reverse("sales:deal_detail", args=[deal.id])
    contact_page = reverse("clients:contact_detail", args=[deal.contact_id])
    action = reverse("inbox:place_call")
    assert action not in client.get(page).content.decode()
    do_create_channel(
        org.head, kind="mango", name="Манго", credentials={"api_key": "k", "api_salt": "s"}
    )
    assert action in client.get(page).content.decode()
    assert action in client.get(contact_page).content.decode()
    deal.contact.phone = ""
    deal.contact.save()
    assert action not in client.get(page).content.decode()


def test_the_button_calls_and_says_so(client, org, mango, deal, provider_server):
    org.manager1.extension = "101"
    org.manager1.save()
    provider_server.answer(200, {"result": 1000})
    client.force_login(org.manager1)
    response = client.post(
        reverse("inbox:place_call"),
        {"contact": deal.contact_id, "deal": deal.id},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert "voronka:toast" in json.loads(response["HX-Trigger"])
    provider_server.answer(200, {"result": 4001})
    refused = client.post(
        reverse("inbox:place_call"), {"contact": deal.contact_id}, HTTP_HX_REQUEST="true"
    )
    assert refused.status_code == 400 and "4001" in unquote(refused["X-Voronka-Message"])


def test_nobody_calls_a_colleagues_client(client, org, mango, deal, provider_server):
    client.force_login(org.manager3)
    response = client.post(reverse("inbox:place_call"), {"contact": deal.contact_id})
    assert response.status_code == 404
    assert not provider_server.requests
