"""Sent mail on the timeline: its headers beside the communication, its Message-ID taken as
a received event (so that a copy of it fetched from a folder is never taken in twice)."""

from __future__ import annotations

from ..models import CommKind, EmailHeaders, ReceivedEvent
from .sending import Outgoing


def record_outgoing(channel, comm, sent: Outgoing) -> None:
    changed = ["updated_at"]
    if comm.kind != CommKind.EMAIL:
        comm.kind = CommKind.EMAIL
        changed.append("kind")
    if comm.counterpart != sent.to[:128]:
        comm.counterpart = sent.to[:128]
        changed.append("counterpart")
    comm.save(update_fields=changed)
    EmailHeaders.objects.create(
        workspace_id=comm.workspace_id,
        communication=comm,
        channel=channel,
        message_key=sent.key,
        message_id=sent.message_id,
        in_reply_to=sent.in_reply_to,
        references=" ".join(sent.references),
        subject=sent.subject[:255],
        from_address=(channel.options or {}).get("address", "")[:254],
        to_addresses=sent.to,
    )
    ReceivedEvent.objects.get_or_create(
        channel=channel,
        event_id=sent.key,
        defaults={"workspace_id": comm.workspace_id, "communication": comm},
    )
