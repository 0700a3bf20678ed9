"""Email against real servers started on loopback: Dovecot for IMAP, aiosmtpd for SMTP.

Nothing of imaplib or smtplib is replaced: the worker's code logs in, fetches, sends and
APPENDs exactly as it would against a company's mail server.
"""

import email
import logging
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from voronka.activities.models import Task
from voronka.clients.models import Contact
from voronka.inbox.actions import do_create_channel, do_send_reply, do_update_channel
from voronka.inbox.mail.actions import do_fetch_mailbox_now, do_set_mailbox_owner
from voronka.inbox.mail.fetching import backoff, claim_due, fetch_mailbox
from voronka.inbox.models import (
    Attachment,
    CommKind,
    Communication,
    Conversation,
    EmailHeaders,
    Mailbox,
)
from voronka.sales.models import Deal

from .mailservers import IMAP_PASSWORD, SMTP_PASSWORD, SMTP_USER


@pytest.fixture
def account(imap_server):
    return imap_server.new_account()


@pytest.fixture
def mailbox(org, imap_server, smtp_server, account):
    """The sales team's shared mailbox on the test servers."""
    return do_create_channel(
        org.head,
        kind="email",
        name="Отдел продаж",
        credentials={"imap_password": IMAP_PASSWORD, "smtp_password": SMTP_PASSWORD},
        options={
            "address": account,
            "display_name": "Отдел продаж",
            "imap_host": imap_server.host,
            "imap_port": imap_server.port,
            "imap_security": "none",
            "smtp_host": smtp_server.host,
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
            "smtp_user": SMTP_USER,
            "inbox_folder": "INBOX",
            "sent_folder": "Sent",
        },
    )


def mail(
    *,
    to,
    sender="Ирина Соколова <irina@client.example>",
    subject="Запрос цены",
    text="Здравствуйте! Сколько стоит внедрение?",
    html=None,
    reply_to=None,
    files=(),
):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = make_msgid(domain="client.example")
    if reply_to is not None:
        msg["In-Reply-To"] = reply_to["Message-ID"]
        refs = (reply_to.get("References") or "").split()
        msg["References"] = " ".join([*refs, reply_to["Message-ID"]])
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    for name, content, maintype, subtype in files:
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg


def test_mail_from_an_unknown_sender_becomes_a_lead_in_the_inbox(
    org, mailbox, imap_server, account
):
    imap_server.deliver(account, mail(to=account).as_bytes())

    result = fetch_mailbox(mailbox)

    assert result.taken == 1 and not result.error
    contact = Contact.objects.get(email="irina@client.example")
    assert (contact.first_name, contact.last_name) == ("Ирина", "Соколова")
    deal = Deal.objects.get(contact=contact)
    assert deal.owner.role == "manager"
    assert Task.objects.filter(deal=deal, owner=deal.owner, done_at__isnull=True).exists()
    comm = Communication.objects.get(deal=deal)
    assert comm.kind == CommKind.EMAIL and comm.channel == "email" and comm.direction == "in"
    assert "Сколько стоит внедрение?" in comm.body
    assert comm.email.subject == "Запрос цены"
    assert comm.conversation.assignee == deal.owner and comm.conversation.unread_count == 1
    mailbox_row = Mailbox.objects.get(channel=mailbox)
    assert mailbox_row.last_success_at is not None and mailbox_row.failures == 0


def test_a_reply_lands_on_the_same_conversation_and_deal(org, mailbox, imap_server, account):
    first = mail(to=account)
    imap_server.deliver(account, first.as_bytes())
    fetch_mailbox(mailbox)
    conversation = Conversation.objects.get(channel=mailbox)
    answer = do_send_reply(conversation.assignee, conversation, text="Добрый день! 100 000 ₽.")
    sent = email.message_from_bytes(imap_server.messages(account, "Sent")[0])

    reply = mail(
        to=account, subject="Re: Запрос цены", text="Подходит, пришлите счёт.", reply_to=sent
    )
    imap_server.deliver(account, reply.as_bytes())
    fetch_mailbox(mailbox)

    comms = list(conversation.communications.order_by("id"))
    assert [c.direction for c in comms] == ["in", "out", "in"]
    assert comms[1] == answer
    assert {c.deal_id for c in comms} == {conversation.deal_id}
    assert Conversation.objects.filter(channel=mailbox).count() == 1
    assert Deal.objects.filter(contact__email="irina@client.example").count() == 1


def test_fetching_again_takes_nothing_twice(org, mailbox, imap_server, account):
    message = mail(to=account)
    imap_server.deliver(account, message.as_bytes())
    fetch_mailbox(mailbox)
    # The same message delivered a second time (a forward rule, a re-sync) and the cursor lost.
    imap_server.deliver(account, message.as_bytes())
    Mailbox.objects.filter(channel=mailbox).update(cursors={})

    again = fetch_mailbox(mailbox)

    assert again.taken == 0 and again.duplicates == 2
    assert Communication.objects.filter(conversation__channel=mailbox).count() == 1
    assert fetch_mailbox(mailbox).taken == 0


def test_html_mail_is_shown_without_scripts_or_handlers(org, client, mailbox, imap_server, account):
    html = (
        "<p>Цена <b>в приложении</b></p><script>alert('x')</script>"
        '<img src="x" onerror="alert(1)"><a href="javascript:alert(2)">ссылка</a>'
    )
    imap_server.deliver(account, mail(to=account, html=html).as_bytes())
    fetch_mailbox(mailbox)
    conversation = Conversation.objects.get(channel=mailbox)

    client.force_login(conversation.assignee)
    page = client.get(reverse("inbox:conversation", args=[conversation.id])).content.decode()

    assert "<b>в приложении</b>" in page
    assert "alert" not in page and "onerror" not in page and "javascript:" not in page


def test_an_attachment_is_kept_and_opens_only_for_those_who_see_the_deal(
    org, client, mailbox, imap_server, account
):
    pdf = b"%PDF-1.4 price list"
    message = mail(to=account, files=[("Прайс.pdf", pdf, "application", "pdf")])
    imap_server.deliver(account, message.as_bytes())
    fetch_mailbox(mailbox)
    attachment = Attachment.objects.get(communication__conversation__channel=mailbox)
    owner = attachment.communication.deal.owner
    stranger = next(m for m in (org.manager1, org.manager3) if m.id != owner.id)
    url = reverse("inbox:attachment", args=[attachment.id])

    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf
    assert attachment.name == "Прайс.pdf"

    client.force_login(stranger)
    assert client.get(url).status_code == 404


def test_a_reply_goes_over_smtp_with_thread_headers_and_is_filed_in_sent(
    org, mailbox, imap_server, smtp_server, account
):
    first = mail(to=account, subject="Коммерческое предложение")
    imap_server.deliver(account, first.as_bytes())
    fetch_mailbox(mailbox)
    conversation = Conversation.objects.get(channel=mailbox)

    comm = do_send_reply(conversation.assignee, conversation, text="Во вложении КП.")

    (envelope,) = smtp_server.envelopes
    assert envelope.rcpt_tos == ["irina@client.example"]
    assert envelope.mail_from == account
    sent = email.message_from_bytes(envelope.original_content)
    assert sent["In-Reply-To"] == first["Message-ID"]
    assert sent["References"] == first["Message-ID"]
    assert str(email.header.make_header(email.header.decode_header(sent["Subject"]))) == (
        "Re: Коммерческое предложение"
    )
    filed = [email.message_from_bytes(m) for m in imap_server.messages(account, "Sent")]
    assert [m["Message-ID"] for m in filed] == [sent["Message-ID"]]
    assert comm.kind == CommKind.EMAIL and comm.direction == "out"
    assert comm.email.message_id == sent["Message-ID"]
    assert comm.counterpart == "irina@client.example"
    # Its copy in a folder is the same mail: a fetch does not take it in again.
    imap_server.deliver(account, imap_server.messages(account, "Sent")[0])
    assert fetch_mailbox(mailbox).taken == 0


def test_a_new_email_from_the_deal_page_starts_a_thread(
    org, client, mailbox, imap_server, smtp_server, account
):
    from voronka.testing.factories import make_deal

    deal = make_deal(org.manager1, org.pipeline, owner=org.manager1)
    contact = Contact.objects.create(
        workspace=org.workspace, first_name="Олег", email="oleg@client.example", owner=org.manager1
    )
    Deal.objects.filter(pk=deal.pk).update(contact=contact)
    client.force_login(org.manager1)
    form = client.get(reverse("inbox:deal_email", args=[deal.id])).content.decode()
    assert 'value="oleg@client.example"' in form

    response = client.post(
        reverse("inbox:deal_email", args=[deal.id]),
        {
            "channel": mailbox.id,
            "to": "oleg@client.example",
            "subject": "Встреча в четверг",
            "text": "Олег, подтверждаю встречу.",
        },
    )

    assert response.status_code == 302
    (envelope,) = smtp_server.envelopes
    assert envelope.rcpt_tos == ["oleg@client.example"]
    comm = Communication.objects.get(deal=deal, kind=CommKind.EMAIL)
    assert comm.conversation.deal_id == deal.id and comm.author == org.manager1
    assert len(imap_server.messages(account, "Sent")) == 1
    page = client.get(reverse("sales:deal_detail", args=[deal.id])).content.decode()
    assert "Встреча в четверг" in page


def test_a_wrong_password_shows_the_error_and_backs_off(org, client, mailbox, caplog):
    do_update_channel(org.head, mailbox, credentials={"imap_password": "wrong-password"})
    caplog.set_level(logging.INFO, logger="voronka.inbox.mail")

    first = fetch_mailbox(mailbox)
    second = fetch_mailbox(mailbox)

    assert first.error == (
        "Сервер не принял вход (проверьте логин и пароль): "
        "[AUTHENTICATIONFAILED] Authentication failed."
    )
    assert second.error == first.error
    row = Mailbox.objects.get(channel=mailbox)
    assert row.failures == 2 and row.failing_since is not None and row.last_success_at is None
    pause = row.next_attempt_at - row.last_attempt_at
    assert pause.total_seconds() == backoff(2).total_seconds() == 120
    assert claim_due(timezone.now()) == []  # not retried before its pause is over
    assert len([r for r in caplog.records if r.name == "voronka.inbox.mail"]) == 1
    client.force_login(org.head)
    settings_page = client.get(reverse("inbox:settings_channel_edit", args=[mailbox.id]))
    assert escape(first.error) in settings_page.content.decode()
    listing = client.get(reverse("inbox:settings_channels")).content.decode()
    assert 'data-testid="mailbox-failing"' in listing
    control = client.get(reverse("control:screen")).content.decode()
    assert "Отдел продаж" in control and "data-failing-channel" in control

    do_update_channel(org.head, mailbox, credentials={"imap_password": IMAP_PASSWORD})
    assert not do_fetch_mailbox_now(org.head, mailbox).error
    row.refresh_from_db()
    assert row.failures == 0 and row.last_error == "" and row.last_success_at is not None
    assert len([r for r in caplog.records if r.name == "voronka.inbox.mail"]) == 2


def test_mail_to_a_managers_own_mailbox_is_their_lead(org, mailbox, imap_server, account):
    do_set_mailbox_owner(org.head, mailbox, owner=org.manager3)
    imap_server.deliver(account, mail(to=account, sender="new@client.example").as_bytes())

    fetch_mailbox(mailbox)

    deal = Deal.objects.get(contact__email="new@client.example")
    assert deal.owner == org.manager3
    assert Conversation.objects.get(channel=mailbox).assignee == org.manager3


def test_mail_from_a_colleague_is_not_a_lead(org, mailbox, imap_server, account):
    org.manager2.email = "manager2@our.example"
    org.manager2.save()
    imap_server.deliver(account, mail(to=account, sender="manager2@our.example").as_bytes())

    assert fetch_mailbox(mailbox).taken == 0
    assert not Contact.objects.filter(email="manager2@our.example").exists()


def test_the_channel_url_takes_no_webhooks(client, mailbox):
    url = reverse("inbox:webhook", kwargs={"kind": "email", "key": mailbox.webhook_key})
    assert client.post(url, b"From: x@y", content_type="message/rfc822").status_code == 403


def test_the_settings_page_never_shows_the_passwords(org, client, mailbox):
    client.force_login(org.head)
    page = client.get(reverse("inbox:settings_channel_edit", args=[mailbox.id])).content.decode()
    assert IMAP_PASSWORD not in page and SMTP_PASSWORD not in page
    assert EmailHeaders.objects.count() == 0


def test_the_worker_reads_each_due_mailbox_once(org, mailbox, imap_server, account, settings):
    from voronka.inbox.mail.jobs import fetch_mailboxes, fetch_one

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    imap_server.deliver(account, mail(to=account).as_bytes())

    assert fetch_mailboxes.call() == 1  # claimed, and read by its own task
    assert Communication.objects.filter(conversation__channel=mailbox).count() == 1
    assert fetch_mailboxes.call() == 0  # not due again before its minute is over
    assert fetch_one.call(mailbox.id) == 0


def test_a_colleagues_deal_and_the_mailbox_settings_are_absent_for_a_manager(org, client, mailbox):
    from voronka.testing.factories import make_deal

    deal = make_deal(org.manager3, org.pipeline, owner=org.manager3)
    client.force_login(org.manager1)

    assert client.get(reverse("inbox:deal_email", args=[deal.id])).status_code == 404
    sent = client.post(
        reverse("inbox:deal_email", args=[deal.id]),
        {"channel": mailbox.id, "to": "x@client.example", "subject": "s", "text": "t"},
    )
    assert sent.status_code == 404
    for name in ("inbox:settings_mailbox_owner", "inbox:settings_mailbox_fetch"):
        assert client.post(reverse(name, args=[mailbox.id])).status_code == 404
    assert Mailbox.objects.filter(channel=mailbox, owner__isnull=False).count() == 0
