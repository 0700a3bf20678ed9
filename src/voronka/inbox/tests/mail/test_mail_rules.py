"""Reading raw mail and the back-off, as plain functions (no database, no server)."""

from datetime import timedelta
from email.message import EmailMessage

from voronka.inbox.mail.fetching import backoff
from voronka.inbox.mail.parsing import message_key, parse_email, reply_subject
from voronka.inbox.mail.sanitise import sanitise_html


def raw(**headers):
    msg = EmailMessage()
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Текст")
    return msg.as_bytes()


def test_the_nearest_message_answered_comes_first():
    parsed = parse_email(
        raw(
            From="Анна <Anna@Client.example>",
            Message_ID="<3@x>",
            In_Reply_To="<2@x>",
            References="<1@x> <2@x>",
        )
    )
    assert parsed.thread_ids == ["<2@x>", "<1@x>"]
    assert (parsed.from_name, parsed.from_address) == ("Анна", "anna@client.example")


def test_a_message_without_an_id_gets_the_same_one_each_time():
    body = raw(From="a@b.example", Subject="Без идентификатора")
    assert parse_email(body).message_id == parse_email(body).message_id != ""


def test_a_long_message_id_is_kept_by_its_digest():
    long_id = "<" + "a" * 200 + "@x>"
    assert message_key(long_id).startswith("sha256:") and len(message_key(long_id)) <= 128
    assert message_key("<short@x>") == "<short@x>"


def test_a_file_that_could_run_script_is_kept_as_a_plain_download():
    msg = EmailMessage()
    msg["From"] = "a@b.example"
    msg.set_content("см. вложение")
    msg.add_attachment(b"<svg onload='alert(1)'/>", maintype="image", subtype="svg+xml",
                       filename="logo.svg")  # fmt: skip
    (attachment,) = parse_email(msg.as_bytes()).attachments
    assert attachment.content_type == "application/octet-stream"


def test_reply_subjects_do_not_pile_up():
    assert reply_subject("Счёт") == "Re: Счёт"
    assert reply_subject("Re: Счёт") == "Re: Счёт"
    assert reply_subject("RE: Счёт") == "RE: Счёт"


def test_the_pause_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 7, 8, 50)] == [
        1, 2, 4, 8, 60, 60, 60,
    ]  # fmt: skip
    assert backoff(6) == timedelta(minutes=32)


def test_sanitised_html_keeps_the_text_and_drops_what_runs():
    clean = sanitise_html(
        '<div style="x" onclick="steal()">Цена<iframe src="https://evil"></iframe>'
        '<form action="/x"><input name="p"></form><a href="https://ok.example">сайт</a></div>'
    )
    assert "Цена" in clean and 'href="https://ok.example"' in clean
    for bad in ("onclick", "iframe", "<form", "<input", "style="):
        assert bad not in clean


def test_nul_characters_are_taken_out_of_a_messages_texts():
    msg = EmailMessage()
    msg["From"] = "Ирина <irina@client.example>"
    msg["Subject"] = "Запрос"
    msg.set_content("Здравствуйте!\x00 Сколько стоит?")
    msg.add_alternative("<p>Здравствуйте!\x00</p>", subtype="html")

    parsed = parse_email(msg.as_bytes())

    assert parsed.text.strip() == "Здравствуйте! Сколько стоит?"
    assert parsed.html.strip() == "<p>Здравствуйте!</p>"
