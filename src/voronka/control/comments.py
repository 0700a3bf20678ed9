"""My day's parts from the rules of work: communications waiting for their author's comment (the
first section), and the person's stalled deals."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Length

from voronka.core.listing import capped_count
from voronka.inbox.access import visible_communications
from voronka.inbox.models import CommKind

from .evaluate import COMMENTED, FULL_COMMENT_WINDOW, conversation_comments_owed
from .models import RuleSettings, Violation
from .rules import ViolationKind, comment_counts

SECTION_LIMIT = 50
COUNT_CAP = 999


def waiting_for_comment(user, now: datetime, *, limit: int = SECTION_LIMIT) -> dict:
    """The person's own calls, meetings and conversations without a comment that counts, newest
    first: those of the last month with a short comment, and any older one still flagged.

    A conversation in a messenger is one row per exchange, on the person's last message of it
    (``rules.owed_conversation_comments``): the client's messages alone wait for nothing.
    Each row carries ``comment_due_at`` (the end of its grace period), ``comment_late`` and
    ``comment_short`` (a comment is there but shorter than the rules ask).
    """
    rules = RuleSettings.for_workspace(user.workspace_id)
    minimum = rules.min_comment_length
    flagged = Violation.objects.filter(
        workspace_id=user.workspace_id,
        resolved_at__isnull=True,
        kind=ViolationKind.MISSING_COMMENT,
        communication_id=OuterRef("pk"),
    )
    mine = visible_communications(user).filter(author_id=user.id)
    qs = (
        mine.filter(kind__in=[CommKind.CALL, CommKind.MEETING])
        .annotate(comment_length=Length("comment"))
        .filter(
            Q(occurred_at__gte=now - FULL_COMMENT_WINDOW, comment_length__lt=minimum)
            | Q(Exists(flagged))
        )
        .select_related("deal", "contact")
        .order_by("-occurred_at", "-id")
    )
    count, capped = capped_count(qs, COUNT_CAP)
    grace = {kind: timedelta(minutes=getattr(rules, name)) for kind, name in COMMENTED.items()}
    rows = []
    for comm in qs[:limit]:
        if comment_counts(comm.comment, minimum):
            continue  # flagged a moment ago and commented since: the next evaluation clears it
        comm.comment_due_at = comm.occurred_at + timedelta(seconds=comm.duration_seconds or 0)
        comm.comment_due_at += grace[comm.kind]
        rows.append(comm)

    # Conversations: the exchanges of the last month the person owes a comment for.
    messages = mine.filter(kind=CommKind.MESSAGE)
    owed = {
        o.message_id: o
        for o in conversation_comments_owed(
            user.workspace_id,
            [
                messages.filter(occurred_at__gte=now - FULL_COMMENT_WINDOW),
                messages.filter(Exists(flagged)),
            ],
            now,
        )
        if o.author_id == user.id and not o.commented
    }
    count += len(owed)
    if owed:
        newest = sorted(owed.values(), key=lambda o: o.ended_at, reverse=True)
        latest = [o.message_id for o in newest[: 2 * limit]]
        for comm in (
            visible_communications(user).filter(id__in=latest).select_related("deal", "contact")
        ):
            comm.comment_due_at = owed[comm.id].due_at
            rows.append(comm)
    if count > COUNT_CAP:
        count, capped = COUNT_CAP, True
    rows.sort(key=lambda c: (c.occurred_at, c.id), reverse=True)
    rows = rows[:limit]
    for comm in rows:
        comm.comment_late = comm.comment_due_at <= now
        comm.comment_short = bool(comm.comment.strip())
    return {"rows": rows, "count": count, "capped": capped, "min_length": minimum}


def my_stalled_deals(user, *, limit: int = 20) -> dict:
    """The person's own deals flagged as stalled or with the next contact too far ahead,
    longest flagged first (read from the open violations, as the control screen does)."""
    qs = (
        Violation.objects.filter(
            workspace_id=user.workspace_id,
            resolved_at__isnull=True,
            manager_id=user.id,
            kind__in=[ViolationKind.STALLED, ViolationKind.NEXT_CONTACT_GAP],
        )
        .select_related("deal", "deal__stage")
        .order_by("since", "id")
    )
    count, capped = capped_count(qs, COUNT_CAP)
    return {"rows": list(qs[:limit]), "count": count, "capped": capped}
