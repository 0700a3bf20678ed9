"""The ingest path: events a provider delivered become communications on the right timeline.

``ingest(channel, events)`` does it in one transaction, so the webhook answers 2xx only once
everything is committed. Each event is stored once (``InboundEvent``'s unique provider id): a
repeated delivery finds it and changes nothing. The sender is matched to a contact by messenger
id, phone, email or username; an unknown one becomes a new contact and a new deal in the
workspace's inbound pipeline, given round robin to a manager, with a first task to answer.

Under load the webhook does less before it answers: ``store(channel, events)`` keeps each event
durably (its ``ReceivedEvent`` with the parsed event, ``processed_at`` empty) in one INSERT and
commit, and the worker's ``process_pending`` puts it on the timeline afterwards, one event per
transaction, exactly once (the row is locked and ``processed_at`` set in the same transaction).
An event stored but not processed (the server killed right after its answer) is found by the
next run of the worker, which sweeps every minute.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from voronka.accounts.models import Role, User
from voronka.activities.models import TaskType
from voronka.clients.models import Contact
from voronka.clients.phones import normalise_phone
from voronka.clients.rules import normalise_email, normalise_handle
from voronka.core.errors import DomainError, Invalid

from .channels.base import InboundAttachment, InboundEvent, Sender
from .models import (
    Attachment,
    ChannelConfig,
    CommKind,
    Communication,
    Conversation,
    ConversationState,
    DeadLetter,
    InboxSettings,
    MessengerIdentity,
    ReceivedEvent,
)

log = logging.getLogger(__name__)

#: Who takes new inbound leads in turn, in this order of preference: managers; failing any, the
#: senior managers; failing those, the head or the owner.
DUTY_ROLES = ((Role.MANAGER,), (Role.SENIOR,), (Role.HEAD, Role.OWNER))


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    communications: list[int] = field(default_factory=list)


def _fit(value, length: int) -> str:
    return str(value or "")[:length]


def _event_key(event_id: str) -> str:
    """The provider's id as stored: a longer one than the column is kept by its digest."""
    event_id = str(event_id)
    if len(event_id) <= 128:
        return event_id
    return "sha256:" + hashlib.sha256(event_id.encode()).hexdigest()


def inbox_settings(workspace_id: int, *, lock: bool = False) -> InboxSettings:
    """The workspace's inbox settings row, made on first use."""
    qs = InboxSettings.objects.filter(workspace_id=workspace_id)
    if lock:
        qs = qs.select_for_update()
    row = qs.first()
    if row is None:
        InboxSettings.objects.get_or_create(workspace_id=workspace_id)
        row = qs.get()
    return row


def on_duty(workspace_id: int) -> list[int]:
    """The ids of the people who take new inbound leads now: the active managers, in id order."""
    for roles in DUTY_ROLES:
        ids = list(
            User.objects.filter(workspace_id=workspace_id, is_active=True, role__in=roles)
            .order_by("id")
            .values_list("id", flat=True)
        )
        if ids:
            return ids
    return []


def next_assignee(workspace_id: int) -> User:
    """The next person in the round robin; the turn is kept in the database under a row lock,
    so concurrent webhooks on several servers still take turns fairly."""
    row = inbox_settings(workspace_id, lock=True)
    ids = on_duty(workspace_id)
    if not ids:
        raise Invalid(_("There is nobody to give a new inbound lead to: add a manager."), {})
    after = row.last_assignee_id or 0
    chosen = next((i for i in ids if i > after), ids[0])
    row.last_assignee_id = chosen
    row.save(update_fields=["last_assignee", "updated_at"])
    return User.objects.get(pk=chosen)


def inbound_pipeline(workspace_id: int):
    """The pipeline new inbound leads start in: the one the head chose, else the first inbound
    one, else the first."""
    from voronka.sales.models import Pipeline

    row = inbox_settings(workspace_id)
    if row.inbound_pipeline_id and not row.inbound_pipeline.is_archived:
        return row.inbound_pipeline
    pipelines = Pipeline.objects.filter(workspace_id=workspace_id, is_archived=False)
    pipeline = (
        pipelines.filter(is_inbound=True).order_by("position", "id").first()
        or pipelines.order_by("position", "id").first()
    )
    if pipeline is None:
        raise Invalid(_("There is no pipeline for new inbound leads: create one."), {})
    return pipeline


def match_contact(channel: ChannelConfig, sender) -> Contact | None:
    """The contact this sender is: by messenger id, then phone, email and username."""
    ws = channel.workspace_id
    contacts = Contact.objects.filter(workspace_id=ws)
    if sender.messenger_id:
        identity = (
            MessengerIdentity.objects.filter(
                workspace_id=ws,
                messenger=channel.timeline_channel,
                external_id=_fit(sender.messenger_id, 128),
            )
            .select_related("contact")
            .first()
        )
        if identity is not None:
            return identity.contact
    phone = normalise_phone(sender.phone) if sender.phone else None
    if phone:
        found = contacts.filter(Q(phone=phone) | Q(whatsapp=phone)).order_by("id").first()
        if found is not None:
            return found
    email = normalise_email(sender.email)
    if email:
        found = contacts.filter(email=email).order_by("id").first()
        if found is not None:
            return found
    handle = normalise_handle(sender.handle)
    if handle and channel.timeline_channel == "telegram":
        found = contacts.filter(telegram__iexact=handle).order_by("id").first()
        if found is not None:
            return found
    return None


def _remember_identity(channel: ChannelConfig, contact: Contact, sender) -> None:
    if not sender.messenger_id:
        return
    MessengerIdentity.objects.get_or_create(
        workspace_id=channel.workspace_id,
        messenger=channel.timeline_channel,
        external_id=_fit(sender.messenger_id, 128),
        defaults={"contact": contact, "handle": _fit(normalise_handle(sender.handle), 128)},
    )


def _may_take(user) -> bool:
    return user is not None and user.is_active and user.role != Role.QC and user.role != "assistant"


def _new_contact(channel: ChannelConfig, event: InboundEvent, owner) -> Contact:
    from voronka.clients.actions import do_create_contact

    s = event.sender
    phone = normalise_phone(s.phone) if s.phone else None
    handle = normalise_handle(s.handle)
    name = " ".join((s.name or "").split())
    first, _space, last = name.partition(" ")
    if not first:
        first = handle or (phone or "") or _("Client from %(channel)s") % {"channel": channel.name}
    fields = {"last_name": _fit(last, 120)}
    if phone:
        fields["phone"] = phone
        if channel.timeline_channel == "whatsapp":
            fields["whatsapp"] = phone
    email = normalise_email(s.email)
    if email and "@" in email and " " not in email and len(email) <= 254:
        fields["email"] = email
    if handle and channel.timeline_channel == "telegram":
        fields["telegram"] = _fit(handle, 64)
    return do_create_contact(owner, first_name=_fit(first, 120), owner=owner, **fields)


def _open_deal_of(contact: Contact):
    from voronka.sales.models import Deal

    return (
        Deal.objects.filter(workspace_id=contact.workspace_id, contact=contact)
        .filter(stage__kind="open")
        .order_by("-created_at", "-id")
        .first()
    )


def _new_deal(channel: ChannelConfig, contact: Contact, owner, event: InboundEvent):
    from voronka.activities.actions import do_create_task
    from voronka.sales.actions import do_create_deal

    pipeline = inbound_pipeline(channel.workspace_id)
    deal = do_create_deal(
        owner,
        pipeline=pipeline,
        title=_fit(_("%(client)s: inbound request") % {"client": contact}, 255),
        owner=owner,
        contact=contact,
        company=contact.company,
        source=_fit(channel.get_kind_display(), 120),
    )
    if event.direction == "in":
        minutes = inbox_settings(channel.workspace_id).answer_within_minutes
        do_create_task(
            owner,
            deal=deal,
            owner=owner,
            type=TaskType.CALL if event.kind == "call" else TaskType.MESSAGE,
            goal=_("Answer the client's first request and agree the next step"),
            due_at=timezone.now() + timedelta(minutes=minutes),
        )
    return deal


def _manager_for_call(channel: ChannelConfig, event: InboundEvent):
    """The manager a call event names, by extension or by our line's number."""
    people = User.objects.filter(workspace_id=channel.workspace_id, is_active=True)
    if event.extension:
        found = people.filter(extension=_fit(event.extension, 16)).order_by("id").first()
        if found is not None:
            return found
    line = normalise_phone(event.line) if event.line else None
    if line:
        # People's phones are kept as typed; a team is small enough to compare them normalised.
        for person in people.exclude(phone="").order_by("id"):
            if normalise_phone(person.phone) == line:
                return person
    return None


#: Statuses only move forward: a late "delivered" does not undo "read".
DELIVERY_ORDER = {"": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


def _apply_delivery_status(channel: ChannelConfig, event: InboundEvent) -> None:
    """Mark our outgoing message ``event.external_id`` in the chat ``event.chat_id`` as sent,
    delivered, read or failed, unless it already got further."""
    status = event.delivery_status
    if status not in DELIVERY_ORDER or not status or not event.external_id:
        return
    behind = [s for s, rank in DELIVERY_ORDER.items() if rank < DELIVERY_ORDER[status]]
    Communication.objects.filter(
        workspace_id=channel.workspace_id,
        conversation__channel=channel,
        conversation__external_id=_fit(event.chat_id, 128),
        direction="out",
        external_id=_fit(event.external_id, 128),
        delivery_status__in=behind,
    ).update(delivery_status=status, updated_at=timezone.now())


def _merge_call(channel: ChannelConfig, event: InboundEvent, record, result) -> bool:
    """A later event of a call already on the timeline (its next status, its summary, its
    recording) updates that one communication instead of adding another; False when the call
    is new."""
    calls = Communication.objects.select_for_update(of=("self",)).filter(
        workspace_id=channel.workspace_id,
        conversation__channel=channel,
        kind=CommKind.CALL,
        external_id=_fit(event.external_id, 128),
    )
    if event.chat_id:  # the same call is with the same client
        calls = calls.filter(conversation__external_id=_fit(event.chat_id, 128))
    comm = calls.order_by("id").first()
    if comm is None:
        return False
    changed = ["updated_at"]
    if event.duration_seconds is not None:
        comm.duration_seconds = event.duration_seconds
        changed.append("duration_seconds")
    if event.outcome in ("answered", "missed", "busy"):
        comm.outcome = event.outcome
        changed.append("outcome")
    # The one who answered is the call's manager (a call may ring at several extensions first).
    manager = _manager_for_call(channel, event) if event.kind == "call" else None
    if manager is not None and (
        comm.author_id is None or (event.extension and event.outcome == "answered")
    ):
        comm.author = manager
        changed.append("author")
    for name in ("counterpart", "line"):
        if not getattr(comm, name) and getattr(event, name):
            setattr(comm, name, _fit(getattr(event, name), 128))
            changed.append(name)
    comm.save(update_fields=changed)
    schedule_recording(channel, comm, event)
    record.communication = comm
    record.save(update_fields=["communication", "updated_at"])
    result.communications.append(comm.id)
    return True


def schedule_recording(channel: ChannelConfig, comm: Communication, event: InboundEvent) -> None:
    """When the event says the call's recording is ready, have the worker fetch it."""
    if event.recording_ref:
        from .recordings import schedule_download

        schedule_download(channel, comm, event.recording_ref)


def event_to_json(event: InboundEvent) -> dict:
    """The parsed event as kept on its ``ReceivedEvent`` for the worker (the raw payload is
    kept beside it). Field by field: ``dataclasses.asdict`` deep-copies, which is slower."""
    data = {f.name: getattr(event, f.name) for f in _EVENT_FIELDS}
    data["occurred_at"] = event.occurred_at.isoformat()
    data["sender"] = vars(event.sender).copy()
    data["attachments"] = [vars(a).copy() for a in event.attachments]
    return data


_EVENT_FIELDS = [f for f in dataclasses.fields(InboundEvent) if f.name != "raw"]


def event_from_json(data: dict, raw) -> InboundEvent:
    values = dict(data)
    values["occurred_at"] = datetime.fromisoformat(values["occurred_at"])
    values["sender"] = Sender(**(values.get("sender") or {}))
    values["attachments"] = [InboundAttachment(**a) for a in values.get("attachments") or []]
    return InboundEvent(**values, raw=raw if isinstance(raw, dict) else {})


def _new_record(channel: ChannelConfig, event: InboundEvent, *, processed: bool) -> ReceivedEvent:
    return ReceivedEvent(
        workspace_id=channel.workspace_id,
        channel=channel,
        event_id=_event_key(event.event_id),
        payload=event.raw,
        event={} if processed else event_to_json(event),
        processed_at=timezone.now() if processed else None,
    )


def _ingest_one(channel: ChannelConfig, event: InboundEvent, result: IngestResult) -> None:
    try:
        with transaction.atomic():
            record = _new_record(channel, event, processed=True)
            record.save(force_insert=True)
    except IntegrityError:
        result.duplicates += 1
        return
    result.stored += 1
    _process_one(channel, event, record, result)


def _process_one(
    channel: ChannelConfig, event: InboundEvent, record: ReceivedEvent, result: IngestResult
) -> None:
    ws = channel.workspace_id
    if event.kind == "status":
        _apply_delivery_status(channel, event)
        return
    if event.kind == "recording":
        # A recording names its call only by the provider's id: the call must be known.
        if not (event.external_id and _merge_call(channel, event, record, result)):
            raise Invalid(
                _("The recording's call is not on the timeline yet: replay this delivery later."),
                {},
            )
        return
    if event.kind not in ("message", "call"):
        return
    if event.kind == "call" and event.external_id and _merge_call(channel, event, record, result):
        return

    chat_id = _fit(event.chat_id, 128)
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .filter(channel=channel, external_id=chat_id)
        .select_related("contact", "deal", "deal__stage", "assignee")
        .first()
    )
    contact = conversation.contact if conversation is not None else None
    if contact is None:
        contact = match_contact(channel, event.sender)
    call_manager = _manager_for_call(channel, event) if event.kind == "call" else None
    deal = None
    if conversation is not None and conversation.deal_id and not conversation.deal.stage.is_closed:
        deal = conversation.deal
    if contact is None:
        owner = call_manager if _may_take(call_manager) else next_assignee(ws)
        contact = _new_contact(channel, event, owner)
    elif deal is None:
        deal = _open_deal_of(contact)
    if deal is None:
        owner = contact.owner if _may_take(contact.owner) else None
        owner = owner or (call_manager if _may_take(call_manager) else next_assignee(ws))
        deal = _new_deal(channel, contact, owner, event)
    _remember_identity(channel, contact, event.sender)

    occurred_at = min(event.occurred_at, timezone.now())
    author = call_manager or (conversation.assignee if conversation else None) or deal.owner
    if conversation is None:
        conversation = Conversation.objects.create(
            workspace_id=ws,
            channel=channel,
            external_id=chat_id,
            contact=contact,
            deal=deal,
            assignee=deal.owner,
            title=_fit(str(contact), 255),
        )
    comm = Communication.objects.create(
        workspace_id=ws,
        kind=CommKind.CALL if event.kind == "call" else CommKind.MESSAGE,
        direction=event.direction if event.direction in ("in", "out") else "",
        channel=channel.timeline_channel,
        occurred_at=occurred_at,
        duration_seconds=event.duration_seconds,
        author=author,
        contact=contact,
        deal=deal,
        conversation=conversation,
        body=event.text or "",
        outcome=event.outcome if event.outcome in ("answered", "missed", "busy") else "",
        external_id=_fit(event.external_id, 128),
        counterpart=_fit(event.counterpart, 128),
        line=_fit(event.line, 128),
    )
    Attachment.objects.bulk_create(
        [
            Attachment(
                workspace_id=ws,
                communication=comm,
                name=_fit(a.name, 255),
                content_type=_fit(a.content_type, 127),
                size=a.size if isinstance(a.size, int) and 0 <= a.size < 2**62 else None,
                external_id=_fit(a.external_id, 255),
            )
            for a in event.attachments
        ]
    )
    schedule_recording(channel, comm, event)
    changes = {"contact": contact, "deal": deal, "state": ConversationState.OPEN}
    if conversation.last_message_at is None or occurred_at >= conversation.last_message_at:
        changes["last_message_at"] = occurred_at
    if conversation.assignee_id is None:
        changes["assignee"] = deal.owner
    for k, v in changes.items():
        setattr(conversation, k, v)
    if event.direction == "in":
        conversation.unread_count += 1
    conversation.save()
    record.communication = comm
    record.save(update_fields=["communication", "updated_at"])
    result.communications.append(comm.id)


def ingest(channel: ChannelConfig, events: list[InboundEvent]) -> IngestResult:
    """Store a delivery's events once, in one transaction, and put each message or call on the
    contact's and the deal's timeline and in its conversation.

    Raises ``DomainError`` when an event has nowhere to go (no pipeline, nobody to assign, a
    stage gate of the inbound pipeline's first stage): nothing of the delivery is stored then,
    and the webhook keeps it as a dead letter to replay.
    """
    from voronka.control.evaluate import after_commit

    result = IngestResult()
    with (
        translation.override(settings.LANGUAGE_CODE),
        transaction.atomic(),
    ):
        for event in events:
            _ingest_one(channel, event, result)
        if result.communications:
            after_commit(channel.workspace_id, communications=list(result.communications))
    return result


_STORE_COLUMNS = (
    "workspace",
    "created_at",
    "updated_at",
    "channel",
    "event_id",
    "payload",
    "event",
    "processed_at",
)


def _store_sql() -> str:
    meta = ReceivedEvent._meta
    qn = connection.ops.quote_name
    columns = ", ".join(qn(meta.get_field(name).column) for name in _STORE_COLUMNS)
    unique = ", ".join(qn(meta.get_field(name).column) for name in ("channel", "event_id"))
    marks = ", ".join(["%s"] * len(_STORE_COLUMNS))
    return (
        f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({marks}) "
        f"ON CONFLICT ({unique}) DO NOTHING"
    )


def _store_params(channel: ChannelConfig, event: InboundEvent, now) -> list:
    meta = ReceivedEvent._meta
    values = (
        channel.workspace_id,
        now,
        now,
        channel.id,
        _event_key(event.event_id),
        event.raw,
        event_to_json(event),
        None,
    )
    return [
        meta.get_field(name).get_db_prep_save(value, connection)
        for name, value in zip(_STORE_COLUMNS, values, strict=True)
    ]


def store(channel: ChannelConfig, events: list[InboundEvent]) -> IngestResult:
    """Keep a delivery's events durably for the worker to process, and nothing more: one
    INSERT … ON CONFLICT DO NOTHING per event (a repeated event is a duplicate, as in
    ``ingest``), all in one commit. Committed when this returns, so the webhook may answer 2xx.

    Plain SQL rather than ``Model.save``: this is the whole of the webhook's work under load,
    and the ORM's compiling and signals cost more than the INSERT itself."""
    result = IngestResult()
    now = timezone.now()
    sql = _store_sql()
    # One event: one statement, committed on its own (no BEGIN/COMMIT round trips).
    single = len(events) == 1 and connection.get_autocommit()
    with (
        contextlib.nullcontext() if single else transaction.atomic(),
        connection.cursor() as cursor,
    ):
        for event in events:
            cursor.execute(sql, _store_params(channel, event, now))
            if cursor.rowcount == 1:
                result.stored += 1
            else:
                result.duplicates += 1
    return result


#: The body of a dead letter the worker kept: which stored event had nowhere to go.
STORED_EVENT_KEY = "voronka:received_event"


def stored_event_of(body: bytes) -> int | None:
    """The ``ReceivedEvent`` a dead letter kept by the worker names, else None."""
    if not body.startswith(b'{"' + STORED_EVENT_KEY.encode()):
        return None
    try:
        value = json.loads(body).get(STORED_EVENT_KEY)
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _lock_unprocessed(record_id: int, *, again: bool):
    qs = ReceivedEvent.objects.select_related("channel").filter(pk=record_id)
    qs = qs.filter(communication__isnull=True) if again else qs.filter(processed_at__isnull=True)
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return qs.first()


def process_received(record_id: int, *, again: bool = False) -> IngestResult | None:
    """Put one stored event on the timeline, in its own transaction; None when it was
    processed already (or another worker has it now).

    An event with nowhere to go (``DomainError``: no pipeline, nobody to assign) is kept as a
    dead letter naming it, for the head to replay (``again``) once that is fixed.
    """
    from voronka.control.evaluate import after_commit

    for attempt in range(1, 4):
        try:
            with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
                record = _lock_unprocessed(record_id, again=again)
                if record is None:
                    return None
                channel = record.channel
                result = IngestResult(stored=1)
                try:
                    with transaction.atomic():
                        _process_one(
                            channel, event_from_json(record.event, record.payload), record, result
                        )
                except DomainError as exc:
                    if again:
                        raise
                    letter = DeadLetter.objects.create(
                        workspace_id=channel.workspace_id,
                        channel=channel,
                        body=json.dumps({STORED_EVENT_KEY: record.id}).encode(),
                        headers={},
                        reason=exc.message[:2000],
                    )
                    log.warning(
                        "channel %s: dead letter %s: %s", channel.id, letter.id, exc.message
                    )
                    result = IngestResult(stored=1)
                record.processed_at = timezone.now()
                record.save(update_fields=["processed_at", "updated_at"])
                if result.communications:
                    after_commit(channel.workspace_id, communications=list(result.communications))
                return result
        except (IntegrityError, OperationalError):
            # A concurrent delivery made the same new chat first, or SQLite was busy: again.
            if attempt == 3:
                raise
    raise AssertionError("unreachable")


def process_pending(
    *, limit: int | None = None, batch: int = 200, until: float | None = None
) -> int:
    """Process stored events the webhook left to the worker, oldest first, in one pass (events
    stored meanwhile included) or until ``time.monotonic()`` reaches ``until``; how many. One
    that fails is logged and left for the next run."""
    done, after = 0, 0
    while (limit is None or done < limit) and (until is None or time.monotonic() < until):
        size = batch if limit is None else min(batch, limit - done)
        ids = list(
            ReceivedEvent.objects.filter(processed_at__isnull=True, id__gt=after)
            .order_by("id")
            .values_list("id", flat=True)[:size]
        )
        if not ids:
            break
        for record_id in ids:
            try:
                if process_received(record_id) is not None:
                    done += 1
            except Exception:
                log.exception("processing received event %s failed", record_id)
        after = ids[-1]
    return done
