"""The ingest path: events a provider delivered become communications on the right timeline.

``ingest(channel, events)`` does it in one transaction, so the webhook answers 2xx only once
everything is committed. Each event is stored once (``InboundEvent``'s unique provider id): a
repeated delivery finds it and changes nothing. The sender is matched to a contact by messenger
id, phone, email or username; an unknown one becomes a new contact and a new deal in the
workspace's inbound pipeline, given round robin to a manager, with a first task to answer.

Under load the webhook does less before it answers: ``store(channel, events)`` keeps each event
durably (its ``ReceivedEvent`` with the parsed event, ``processed_at`` empty) in one INSERT and
commit, and the worker's ``process_pending`` puts it on the timeline afterwards, in batches: one
transaction per batch, a savepoint per event (one with nowhere to go becomes a dead letter and
rolls back nothing of the others), exactly once (the rows are locked and ``processed_at`` set in
the same transaction as their effects). What every event would look up again (the people on
duty, the inbound pipeline, identities already remembered) is looked up once per batch, and the
rollups and the rules follow once for many batches instead of once per event. An event stored
but not processed (the server killed right after its answer) is found by the next run of the
worker, which sweeps every minute.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
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
from .media import FETCHED_CHANNELS, enqueue_fetches
from .models import (
    Attachment,
    ChannelConfig,
    CommKind,
    Communication,
    Conversation,
    ConversationState,
    DeadLetter,
    Direction,
    InboxSettings,
    MessengerIdentity,
    ReceivedEvent,
)
from .rules import without_nul

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
    return Lookups().on_duty(workspace_id)


def next_assignee(workspace_id: int, lookups: Lookups | None = None) -> User:
    """The next person in the round robin; the turn is kept in the database under a row lock,
    so concurrent webhooks on several servers still take turns fairly."""
    lookups = lookups or Lookups()
    row = inbox_settings(workspace_id, lock=True)
    ids = lookups.on_duty(workspace_id)
    if not ids:
        raise Invalid(_("There is nobody to give a new inbound lead to: add a manager."), {})
    after = row.last_assignee_id or 0
    chosen = next((i for i in ids if i > after), ids[0])
    row.last_assignee_id = chosen
    row.save(update_fields=["last_assignee", "updated_at"])
    return lookups.person(workspace_id, chosen)


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


class Lookups:
    """What the events of one batch (or one delivery) look up again and again, looked up once:
    the workspace's active people (who is on duty, who has which extension and number), the
    inbox settings' answer time, the inbound pipeline, and the messenger identities already
    remembered. Only what processing the events does not change; the round robin's turn is
    still read under its row lock for each new lead. A refusal (no pipeline) is not kept."""

    def __init__(self):
        self._people: dict[int, dict[int, User]] = {}
        self._minutes: dict[int, int] = {}
        self._pipelines: dict[int, object] = {}
        self._identities: set[tuple] = set()
        self._pending: list[tuple] = []

    def people(self, workspace_id: int) -> dict[int, User]:
        """The workspace's active people by id, in id order."""
        found = self._people.get(workspace_id)
        if found is None:
            found = self._people[workspace_id] = {
                u.id: u
                for u in User.objects.filter(workspace_id=workspace_id, is_active=True).order_by(
                    "id"
                )
            }
        return found

    def person(self, workspace_id: int, user_id: int | None) -> User | None:
        """An active person of the workspace, else None."""
        return self.people(workspace_id).get(user_id) if user_id else None

    def on_duty(self, workspace_id: int) -> list[int]:
        people = self.people(workspace_id).values()
        for roles in DUTY_ROLES:
            ids = [u.id for u in people if u.role in roles]
            if ids:
                return ids
        return []

    def answer_within_minutes(self, workspace_id: int) -> int:
        if workspace_id not in self._minutes:
            self._minutes[workspace_id] = inbox_settings(workspace_id).answer_within_minutes
        return self._minutes[workspace_id]

    def inbound_pipeline(self, workspace_id: int):
        if workspace_id not in self._pipelines:
            self._pipelines[workspace_id] = inbound_pipeline(workspace_id)
        return self._pipelines[workspace_id]

    def knows_identity(self, key: tuple) -> bool:
        return key in self._identities

    def remember_identity(self, key: tuple) -> None:
        """Known once the event that made it is kept (``event_done``)."""
        self._pending.append(key)

    def event_done(self, kept: bool) -> None:
        """The end of one event: what it made is known from now on if its savepoint was kept."""
        if kept:
            self._identities.update(self._pending)
        self._pending.clear()


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


def _remember_identity(channel: ChannelConfig, contact: Contact, sender, lookups: Lookups) -> None:
    if not sender.messenger_id:
        return
    key = (channel.workspace_id, channel.timeline_channel, _fit(sender.messenger_id, 128))
    if lookups.knows_identity(key):
        return
    MessengerIdentity.objects.get_or_create(
        workspace_id=key[0],
        messenger=key[1],
        external_id=key[2],
        defaults={"contact": contact, "handle": _fit(normalise_handle(sender.handle), 128)},
    )
    lookups.remember_identity(key)


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


def _new_deal(
    channel: ChannelConfig, contact: Contact, owner, event: InboundEvent, lookups: Lookups
):
    from voronka.activities.actions import do_create_task
    from voronka.sales.actions import do_create_deal

    pipeline = lookups.inbound_pipeline(channel.workspace_id)
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
        minutes = lookups.answer_within_minutes(channel.workspace_id)
        do_create_task(
            owner,
            deal=deal,
            owner=owner,
            type=TaskType.CALL if event.kind == "call" else TaskType.MESSAGE,
            goal=_("Answer the client's first request and agree the next step"),
            due_at=timezone.now() + timedelta(minutes=minutes),
        )
    return deal


def _manager_for_call(channel: ChannelConfig, event: InboundEvent, lookups: Lookups):
    """The manager a call event names, by extension or by our line's number."""
    people = lookups.people(channel.workspace_id).values()
    if event.extension:
        extension = _fit(event.extension, 16)
        found = next((p for p in people if p.extension == extension), None)
        if found is not None:
            return found
    line = normalise_phone(event.line) if event.line else None
    if line:
        # People's phones are kept as typed; a team is small enough to compare them normalised.
        for person in people:
            if person.phone and _normalised(person.phone) == line:
                return person
    return None


@functools.lru_cache(maxsize=1024)
def _normalised(phone: str) -> str | None:
    return normalise_phone(phone)


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


def _merge_call(
    channel: ChannelConfig, event: InboundEvent, record, result, lookups: Lookups
) -> bool:
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
    manager = _manager_for_call(channel, event, lookups) if event.kind == "call" else None
    if manager is not None and (
        comm.author_id is None or (event.extension and event.outcome == "answered")
    ):
        comm.author = manager
        changed.append("author")
    for name in ("counterpart", "line"):
        if not getattr(comm, name) and getattr(event, name):
            setattr(comm, name, _fit(getattr(event, name), 128))
            changed.append(name)
    comm.updated_at = timezone.now()
    # An UPDATE, not ``save``: no post_save, the rollups are refreshed for the whole batch.
    Communication.objects.filter(pk=comm.pk).update(
        **{name: getattr(comm, name) for name in changed}
    )
    schedule_recording(channel, comm, event)
    record.communication = comm
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


def _ingest_one(
    channel: ChannelConfig, event: InboundEvent, result: IngestResult, lookups: Lookups
) -> None:
    try:
        with transaction.atomic():
            record = _new_record(channel, event, processed=True)
            record.save(force_insert=True)
    except IntegrityError:
        result.duplicates += 1
        return
    result.stored += 1
    _process_one(channel, event, record, result, lookups)
    if record.communication_id:
        ReceivedEvent.objects.filter(pk=record.pk).update(communication_id=record.communication_id)


def _process_one(
    channel: ChannelConfig,
    event: InboundEvent,
    record: ReceivedEvent,
    result: IngestResult,
    lookups: Lookups,
) -> None:
    """Put one event on the timeline; ``record.communication`` is set (not saved) to what it
    made or updated, ``result.communications`` gets its id. Communications and attachments are
    inserted with ``bulk_create`` (no post_save): the caller refreshes the rollups and the rules
    for the communications it collected once (``_after_commit``), and the files a message
    brought are fetched because this enqueues them (``media``)."""
    ws = channel.workspace_id
    if event.kind == "status":
        _apply_delivery_status(channel, event)
        return
    if event.kind == "recording":
        # A recording names its call only by the provider's id: the call must be known.
        if not (event.external_id and _merge_call(channel, event, record, result, lookups)):
            raise Invalid(
                _("The recording's call is not on the timeline yet: replay this delivery later."),
                {},
            )
        return
    if event.kind not in ("message", "call"):
        return
    if (
        event.kind == "call"
        and event.external_id
        and _merge_call(channel, event, record, result, lookups)
    ):
        return

    chat_id = _fit(event.chat_id, 128)
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .filter(channel=channel, external_id=chat_id)
        .select_related("contact", "deal", "deal__stage")
        .first()
    )
    contact = conversation.contact if conversation is not None else None
    if contact is None:
        contact = match_contact(channel, event.sender)
    call_manager = _manager_for_call(channel, event, lookups) if event.kind == "call" else None
    deal = None
    if conversation is not None and conversation.deal_id and not conversation.deal.stage.is_closed:
        deal = conversation.deal
    if contact is None:
        owner = call_manager if _may_take(call_manager) else next_assignee(ws, lookups)
        contact = _new_contact(channel, event, owner)
    elif deal is None:
        deal = _open_deal_of(contact)
    if deal is None:
        owner = lookups.person(ws, contact.owner_id)
        owner = owner if _may_take(owner) else None
        owner = owner or (call_manager if _may_take(call_manager) else next_assignee(ws, lookups))
        deal = _new_deal(channel, contact, owner, event, lookups)
    _remember_identity(channel, contact, event.sender, lookups)

    occurred_at = min(event.occurred_at, timezone.now())
    if call_manager is not None:
        author_id = call_manager.id
    elif conversation is not None and conversation.assignee_id:
        author_id = conversation.assignee_id
    else:
        author_id = deal.owner_id
    if conversation is None:
        conversation = Conversation.objects.create(
            workspace_id=ws,
            channel=channel,
            external_id=chat_id,
            contact=contact,
            deal=deal,
            assignee_id=deal.owner_id,
            title=_fit(str(contact), 255),
        )
    comm = Communication(
        workspace_id=ws,
        kind=CommKind.CALL if event.kind == "call" else CommKind.MESSAGE,
        direction=event.direction if event.direction in ("in", "out") else "",
        channel=channel.timeline_channel,
        occurred_at=occurred_at,
        duration_seconds=event.duration_seconds,
        author_id=author_id,
        contact=contact,
        deal=deal,
        conversation=conversation,
        body=event.text or "",
        outcome=event.outcome if event.outcome in ("answered", "missed", "busy") else "",
        external_id=_fit(event.external_id, 128),
        counterpart=_fit(event.counterpart, 128),
        line=_fit(event.line, 128),
    )
    Communication.objects.bulk_create([comm])
    if event.attachments:
        attachments = Attachment.objects.bulk_create(
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
        if comm.direction == Direction.INCOMING and comm.channel in FETCHED_CHANNELS:
            # Fetched by the worker once this commits (dropped with the savepoint if not).
            wanted = [a.id for a in attachments if a.external_id]
            if wanted:
                transaction.on_commit(functools.partial(enqueue_fetches, wanted))
    schedule_recording(channel, comm, event)
    changed = ["contact", "deal", "state", "updated_at"]
    conversation.contact, conversation.deal = contact, deal
    conversation.state = ConversationState.OPEN
    if conversation.last_message_at is None or occurred_at >= conversation.last_message_at:
        conversation.last_message_at = occurred_at
        changed.append("last_message_at")
    if conversation.assignee_id is None:
        conversation.assignee_id = deal.owner_id
        changed.append("assignee")
    if event.direction == "in":
        conversation.unread_count += 1
        changed.append("unread_count")
    conversation.save(update_fields=changed)
    record.communication = comm
    result.communications.append(comm.id)


def _after_commit(workspace_id: int, communications: list[int]) -> None:
    """Once the transaction commits: the communications' rollups (one refresh for all of them;
    they were inserted without post_save) and the rules over them (gathered with whatever else
    the batch's actions asked to evaluate, when inside ``evaluate.gathered``)."""
    from voronka.control.evaluate import after_commit

    if not communications:
        return
    ids = list(communications)

    def refresh():
        from voronka.analytics import rollups

        try:
            rollups.refresh_communications(workspace_id, ids)
        except Exception:
            log.exception("refreshing the rollups failed (workspace %s)", workspace_id)

    transaction.on_commit(refresh)
    after_commit(workspace_id, communications=ids)


def ingest(channel: ChannelConfig, events: list[InboundEvent]) -> IngestResult:
    """Store a delivery's events once, in one transaction, and put each message or call on the
    contact's and the deal's timeline and in its conversation.

    Raises ``DomainError`` when an event has nowhere to go (no pipeline, nobody to assign, a
    stage gate of the inbound pipeline's first stage): nothing of the delivery is stored then,
    and the webhook keeps it as a dead letter to replay.
    """
    from voronka.control.evaluate import gathered

    result = IngestResult()
    lookups = Lookups()
    with (
        translation.override(settings.LANGUAGE_CODE),
        transaction.atomic(),
        gathered(),
    ):
        for event in events:
            _ingest_one(channel, event, result, lookups)
        _after_commit(channel.workspace_id, result.communications)
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


def _dead_letter(channel: ChannelConfig, record: ReceivedEvent, exc: DomainError) -> None:
    letter = DeadLetter.objects.create(
        workspace_id=channel.workspace_id,
        channel=channel,
        body=json.dumps({STORED_EVENT_KEY: record.id}).encode(),
        headers={},
        reason=without_nul(exc.message)[:2000],
    )
    log.warning("channel %s: dead letter %s: %s", channel.id, letter.id, exc.message)


def process_received(record_id: int, *, again: bool = False) -> IngestResult | None:
    """Put one stored event on the timeline, in its own transaction; None when it was
    processed already (or another worker has it now).

    An event with nowhere to go (``DomainError``: no pipeline, nobody to assign) is kept as a
    dead letter naming it, for the head to replay (``again``) once that is fixed.
    """
    from voronka.control.evaluate import gathered

    for attempt in range(1, 4):
        try:
            with (
                translation.override(settings.LANGUAGE_CODE),
                transaction.atomic(),
                gathered(),
            ):
                record = _lock_unprocessed(record_id, again=again)
                if record is None:
                    return None
                channel = record.channel
                result = IngestResult(stored=1)
                try:
                    with transaction.atomic():
                        _process_one(
                            channel,
                            event_from_json(record.event, record.payload),
                            record,
                            result,
                            Lookups(),
                        )
                except DomainError as exc:
                    if again:
                        raise
                    _dead_letter(channel, record, exc)
                    result = IngestResult(stored=1)
                    record.communication = None
                record.processed_at = timezone.now()
                record.save(update_fields=["processed_at", "communication", "updated_at"])
                _after_commit(channel.workspace_id, result.communications)
                return result
        except (IntegrityError, OperationalError):
            # A concurrent delivery made the same new chat first, or SQLite was busy: again.
            if attempt == 3:
                raise
    raise AssertionError("unreachable")


#: Events per batch of the worker: one transaction, one savepoint per event.
BATCH_SIZE = 200
#: A batch is committed once it has taken this long, however many events it has done: on
#: SQLite the webhooks' INSERTs wait for the worker's transaction, so its batches are short
#: (the rollups and the rules are not refreshed per batch, so a short one costs little more).
BATCH_SECONDS = {"sqlite": 0.2}
BATCH_SECONDS_DEFAULT = 1.0


def process_batch(
    record_ids: list[int], communications: dict[int, list[int]] | None = None
) -> tuple[int, list[int], int]:
    """Put these stored events on the timeline in one transaction, oldest first, each in a
    savepoint of its own; (how many were processed, the ids of those that failed, the last id
    reached: the time limit may stop a batch early).

    Exactly once: each row is locked (``SKIP LOCKED`` on PostgreSQL: another worker's rows are
    left to it; SQLite lets one writer in at a time) and found unprocessed, and its
    ``processed_at`` is set in the same transaction as its effects. An event with nowhere to go
    (``DomainError``) rolls back its own savepoint only and becomes a dead letter; one that
    fails otherwise rolls back its savepoint and is left for the caller to process on its own.
    The rollups and the rules are refreshed once for the batch after it commits, unless
    ``communications`` is given: then the ids of the communications it made or updated are
    added there, by workspace, for the caller to refresh (``_after_commit``) for many batches
    at once. Looked-up facts (``Lookups``) are shared by the batch's events.
    """
    from voronka.control.evaluate import gathered

    failed: list[int] = []
    reached = max(record_ids)
    deadline = time.monotonic() + BATCH_SECONDS.get(connection.vendor, BATCH_SECONDS_DEFAULT)
    with (
        translation.override(settings.LANGUAGE_CODE),
        transaction.atomic(),
        gathered(),
    ):
        qs = (
            ReceivedEvent.objects.filter(id__in=record_ids, processed_at__isnull=True)
            .only("id", "workspace_id", "channel_id", "event_id", "event", "communication_id")
            .order_by("id")
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        records = list(qs)
        channels = {
            c.id: c for c in ChannelConfig.objects.filter(id__in={r.channel_id for r in records})
        }
        lookups = Lookups()
        done: list[ReceivedEvent] = []
        later = communications is not None
        communications = communications if later else {}
        for record in records:
            if done and time.monotonic() > deadline:
                reached = record.id - 1
                break
            channel = channels[record.channel_id]
            result = IngestResult(stored=1)
            kept = False
            try:
                with transaction.atomic():
                    event = event_from_json(record.event, {})
                    _process_one(channel, event, record, result, lookups)
                kept = True
            except DomainError as exc:
                record.communication = None
                result = IngestResult(stored=1)
                _dead_letter(channel, record, exc)
            except Exception:
                # Its savepoint is rolled back; the caller tries it again on its own.
                log.warning(
                    "received event %s: left to be processed alone", record.id, exc_info=True
                )
                record.communication = None
                failed.append(record.id)
                continue
            finally:
                lookups.event_done(kept)
            record.processed_at = record.updated_at = timezone.now()
            done.append(record)
            communications.setdefault(channel.workspace_id, []).extend(result.communications)
        if done:
            ReceivedEvent.objects.bulk_update(
                done, ["processed_at", "communication", "updated_at"], batch_size=500
            )
        if not later:
            for workspace_id, ids in communications.items():
                _after_commit(workspace_id, ids)
    return len(done), failed, reached


#: The worker refreshes the rollups and evaluates the rules for what its batches made this
#: often (and when it runs out of events): each refresh reads whole days of the managers
#: concerned, whether it follows ten events or a thousand.
REFRESH_EVERY_SECONDS = 2.0


def process_pending(
    *, limit: int | None = None, batch: int = BATCH_SIZE, until: float | None = None
) -> int:
    """Process stored events the webhook left to the worker, oldest first, in one pass (events
    stored meanwhile included) or until ``time.monotonic()`` reaches ``until``; how many.

    In batches (``process_batch``); a batch that fails as a whole (SQLite busy, a concurrent
    delivery made the same new chat first) is tried again, and its events one by one
    (``process_received``) if it fails again. An event that fails on its own is logged and
    left for the next run. The rollups and the rules follow every ``REFRESH_EVERY_SECONDS``,
    once for all the batches committed meanwhile (a killed worker's last ones are read by the
    rollups' minute job and the scheduled evaluation)."""
    from voronka.control.evaluate import gathered

    done, after, more = 0, 0, True
    while more and (limit is None or done < limit) and (until is None or time.monotonic() < until):
        refresh_at = time.monotonic() + REFRESH_EVERY_SECONDS
        communications: dict[int, list[int]] = {}
        with gathered():
            while (limit is None or done < limit) and time.monotonic() < refresh_at:
                if until is not None and time.monotonic() >= until:
                    break
                size = batch if limit is None else min(batch, limit - done)
                ids = list(
                    ReceivedEvent.objects.filter(processed_at__isnull=True, id__gt=after)
                    .order_by("id")
                    .values_list("id", flat=True)[:size]
                )
                if not ids:
                    more = False
                    break
                n, after = _process_ids(ids, communications)
                done += n
            for workspace_id, ids in communications.items():
                _after_commit(workspace_id, ids)  # outside a transaction: at once
    return done


def _process_ids(ids: list[int], communications: dict[int, list[int]]) -> tuple[int, int]:
    """One batch of ``process_pending``, with its fallbacks; (how many, the last id reached)."""
    done, alone, reached = 0, [], ids[-1]
    for attempt in (1, 2):
        try:
            done, alone, reached = process_batch(ids, communications)
            break
        except (IntegrityError, OperationalError):
            if attempt == 2:
                log.warning("a batch of %s events failed twice: one by one", len(ids))
                alone = ids
    for record_id in alone:
        try:
            if process_received(record_id) is not None:
                done += 1
        except Exception:
            log.exception("processing received event %s failed", record_id)
    return done, reached
