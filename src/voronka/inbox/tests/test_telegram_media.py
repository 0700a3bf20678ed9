"""Telegram files (photos, documents, voice notes) are fetched by the worker once their message
is stored, tried again with growing waits, and opened from our own copy."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from voronka.inbox.actions import do_create_channel
from voronka.inbox.media import MAX_ATTEMPTS, fetch
from voronka.inbox.models import Attachment

from .test_telegram import BOT_TOKEN, SECRET, deliver, update

PHOTO = b"\xff\xd8\xff\xe0" + b"\x00JFIF" + b"\x10" * 200


@pytest.fixture
def channel(org):
    return do_create_channel(
        org.head,
        kind="telegram",
        name="Бот отдела продаж",
        credentials={"bot_token": BOT_TOKEN, "secret_token": SECRET},
    )


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def photo_update(update_id=81):
    return update(
        update_id,
        text=None,
        caption="Вот фото склада",
        photo=[
            {"file_id": "photo-large", "file_unique_id": "b", "file_size": 210, "width": 1280,
             "height": 960},
        ],
    )  # fmt: skip


def queued():
    return list(
        DBTaskResult.objects.filter(task_path="voronka.inbox.media.fetch_attachment")
        .order_by("enqueued_at")
        .values_list("args_kwargs", "run_after")
    )


def test_the_worker_is_asked_to_fetch_a_photo_once_its_message_is_stored(
    client, org, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, channel, photo_update()).status_code == 200
    attachment = Attachment.objects.get()
    [(args, run_after)] = queued()
    assert args["args"] == [attachment.id, 1]
    assert run_after.year == 9999  # django-tasks' "no delay": at once


def test_a_text_message_or_our_reply_asks_for_no_fetch(
    client, org, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, channel, update(82))
    assert queued() == []


def test_the_photo_is_fetched_stored_and_opened_from_our_copy(
    client, org, channel, provider_api, media_root
):
    deliver(client, channel, photo_update())
    attachment = Attachment.objects.get()
    provider_api.answer(200, {"ok": True, "result": {"file_path": "photos/file_7.jpg"}})
    provider_api.answer(200, PHOTO)
    assert fetch(attachment.id) == "done"
    get_file, download = provider_api.requests
    assert get_file.path == f"/bot{BOT_TOKEN}/getFile"
    assert get_file.json() == {"file_id": "photo-large"}
    assert download.path == f"/file/bot{BOT_TOKEN}/photos/file_7.jpg"
    attachment.refresh_from_db()
    assert attachment.file.read() == PHOTO and attachment.size == len(PHOTO)
    assert fetch(attachment.id) == "nothing to do"

    client.force_login(attachment.communication.conversation.assignee)
    response = client.get(f"/inbox/attachments/{attachment.id}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PHOTO
    assert len(provider_api.requests) == 2  # the provider was not asked again


def test_a_failed_fetch_is_tried_again_later_and_given_up_in_the_end(
    client, org, channel, provider_api, media_root, caplog
):
    deliver(client, channel, photo_update())
    attachment = Attachment.objects.get()
    provider_api.answer(502, {"ok": False, "description": "Bad Gateway"})
    assert fetch(attachment.id) == "retry"
    [(args, run_after)] = queued()
    assert args["args"] == [attachment.id, 2]
    assert timezone.now() < run_after < timezone.now() + timedelta(minutes=2)
    provider_api.answer(502, {"ok": False, "description": "Bad Gateway"})
    with caplog.at_level("WARNING", logger="voronka.inbox.media"):
        assert fetch(attachment.id, MAX_ATTEMPTS) == "gave up"
    assert "not fetched after" in caplog.text
    attachment.refresh_from_db()
    assert not attachment.file
