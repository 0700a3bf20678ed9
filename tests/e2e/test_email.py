"""Email in the browser, as a new user tries it: the head connects a mailbox on the test IMAP
server (Dovecot on loopback), a client's mail becomes a lead, the manager answers it from the
inbox (sent through aiosmtpd, filed in Sent), and the client's reply lands on the same deal."""

import email

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from voronka.inbox.models import Communication, Conversation
from voronka.inbox.tests.mail.mailservers import (  # noqa: F401 (fixtures)
    IMAP_PASSWORD,
    SMTP_PASSWORD,
    SMTP_USER,
    imap_server,
    smtp_server,
    smtp_session,
)
from voronka.inbox.tests.mail.test_email import mail

SHOTS = "test-artifacts"


@pytest.mark.usefixtures("imap_server", "smtp_server")
def test_a_mailbox_is_connected_and_a_reply_thread_stays_on_its_deal(org, login, request):
    imap, smtp = request.getfixturevalue("imap_server"), request.getfixturevalue("smtp_server")
    account = imap.new_account()
    head = login(org.head)
    head.goto("/settings/channels/")
    head.get_by_role("link", name="Почта (IMAP и SMTP)").click()
    head.get_by_label("Название").fill("Отдел продаж")
    head.locator("#id_option_address").fill(account)
    head.get_by_label("Сервер IMAP").fill(imap.host)
    head.get_by_label("Порт IMAP").fill(str(imap.port))
    head.get_by_label("Защита IMAP").select_option("none")
    head.get_by_label("Пароль IMAP").fill(IMAP_PASSWORD)
    head.get_by_label("Сервер SMTP").fill(smtp.host)
    head.get_by_label("Порт SMTP").fill(str(smtp.port))
    head.get_by_label("Защита SMTP").select_option("none")
    head.get_by_label("Логин SMTP").fill(SMTP_USER)
    head.get_by_label("Пароль SMTP").fill(SMTP_PASSWORD)
    head.get_by_role("button", name="Подключить").click()
    expect(head.locator("#mailbox-status")).to_be_visible()

    first = mail(to=account, subject="Запрос цены", html="<p>Сколько стоит <b>внедрение</b>?</p>")
    imap.deliver(account, first.as_bytes())
    head.get_by_role("button", name="Прочитать ящик сейчас").click()
    expect(head.locator(".alert-success, .toast, [role=alert]").first).to_contain_text("1")
    head.screenshot(path=f"{SHOTS}/email-channel-settings.png", full_page=True)

    conversation = Conversation.objects.get(channel__name="Отдел продаж")
    manager = login(conversation.assignee, viewport=(390, 844))
    manager.goto("/inbox/")
    manager.get_by_test_id("conversation-row").first.click()
    expect(manager.get_by_test_id("email-subject")).to_have_text("Запрос цены")
    expect(manager.locator(".email-html b")).to_have_text("внедрение")
    manager.locator("#reply-text").fill("Добрый день! Внедрение — 100 000 ₽.")
    manager.get_by_role("button", name="Отправить через «Отдел продаж»").click()
    expect(manager.get_by_test_id("message").filter(has_text="100 000 ₽")).to_be_visible()

    (envelope,) = smtp.envelopes
    sent = email.message_from_bytes(envelope.original_content)
    assert sent["In-Reply-To"] == first["Message-ID"]
    assert len(imap.messages(account, "Sent")) == 1

    reply = mail(
        to=account, subject="Re: Запрос цены", text="Подходит, пришлите счёт.", reply_to=sent
    )
    imap.deliver(account, reply.as_bytes())
    head.get_by_role("button", name="Прочитать ящик сейчас").click()
    expect(manager.get_by_test_id("message").filter(has_text="пришлите счёт")).to_be_visible(
        timeout=15_000
    )
    manager.screenshot(path=f"{SHOTS}/email-conversation-phone.png", full_page=True)
    deals = {c.deal_id for c in Communication.objects.filter(conversation=conversation)}
    assert deals == {conversation.deal_id} and Conversation.objects.count() == 1
    assert timezone.now()
