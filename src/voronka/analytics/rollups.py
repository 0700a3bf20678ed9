"""Keeping the rollups (``analytics.models``) equal to what the raw history says.

How they update, and why this way:

- **At once, after the write commits.** A ``post_save`` receiver on ``Deal``, ``StageChange``
  and ``Communication`` (connected in ``apps.py``) schedules ``refresh_deals`` or
  ``refresh_communication_days`` with ``transaction.on_commit``. Every path that saves a row —
  the actions, the API, the import (which calls ``do_create_deal`` per row), a provider's
  ingest, a comment written later — is caught without the actions knowing about analytics, and
  the funnel shows a move a moment after it was made. A failure is logged and never undoes the
  person's change.
- **Every minute, past a high-water mark.** ``refresh_all`` (the worker's schedule) reads stage
  changes and communications with ids past the workspace's ``RollupMark``: rows written in bulk
  (``bulk_create`` in the demo, generators, future importers) send no signal, and a refresh that
  failed is retried here. The mark advances only over rows older than ``SETTLE`` so that a
  transaction that committed late with a smaller id is still read next time.
- **Both are idempotent.** A deal is refreshed by recomputing its footprint from its own stage
  history (a handful of rows, by the ``stagechange_deal_time`` index) and applying the
  difference with the footprint stored last time; a day of an author's communications is
  recomputed whole from the ``comm_author_time`` index. Reading a row twice changes nothing,
  and a deal's new owner, amount, source or company moves its figures with it.
- **A client's segment and a stage's kind.** A company saved with another segment moves the
  figures of its deals (``company_segment_read`` notes the change before the save,
  ``company_saved`` then moves the deals whose footprints say another segment). A stage whose
  kind changes (open, won, lost) restates every deal that passed through it: the workspace's
  mark is flagged ``stale`` and the next refresh rebuilds it whole.
- **A full rebuild** (``voronka rebuild_rollups``) recomputes each workspace's rollups with a
  few set-based statements (``analytics.rebuild``) in one transaction; it also runs when the
  workspace's time zone or the shortest comment that counts changed since the rollups were
  computed.

What is not caught: ``QuerySet.update()`` on deals or communications and deleted rows (nothing
in Voronka does either today); ``rebuild_rollups`` puts them right.
"""

from __future__ import annotations

import logging
import time as time_
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Length, Substr
from django.utils import timezone

from voronka.control.evaluate import COMMENTED
from voronka.control.models import RuleSettings
from voronka.control.rules import comment_counts
from voronka.core.models import Workspace
from voronka.inbox.models import CommKind, Communication
from voronka.sales.models import Deal, Stage, StageChange

from . import rules
from .models import (
    CommunicationDay,
    CommunicationPeriod,
    DealFootprint,
    DurationDay,
    DurationPeriod,
    RollupMark,
    StageEntryDay,
    StageEntryPeriod,
    StageExitDay,
    StageExitPeriod,
)

log = logging.getLogger("voronka.analytics")

#: Every table a workspace's rollups are kept in (what a full rebuild empties and refills).
ROLLUP_MODELS = (
    StageEntryDay,
    StageExitDay,
    DurationDay,
    StageEntryPeriod,
    StageExitPeriod,
    DurationPeriod,
    CommunicationDay,
    CommunicationPeriod,
    DealFootprint,
)

#: The job reads again the rows of the last few minutes: a transaction may commit late.
SETTLE = timedelta(minutes=2)
#: Rows per INSERT in bulk writes.
BATCH = 2000
#: Whether ``Communication`` has its ``outcome`` (answered, missed, busy) yet.
HAS_OUTCOME = any(f.name == "outcome" for f in Communication._meta.get_fields())


def cents(amount) -> int:
    return int((Decimal(amount or 0) * 100).to_integral_value())


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants a local day starts and ends at (the end excluded)."""
    start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    return start, end


# -- Deals ---------------------------------------------------------------------------------------

_TABLES = {
    "e": (
        StageEntryDay,
        ("stage_id", "from_stage_id", "loss_reason"),
        ("entered", "amount_cents", "later_won"),
    ),
    "x": (StageExitDay, ("stage_id", "to_stage_id"), ("left",)),
    "d": (DurationDay, ("stage_id", "metric", "hours"), ("count",)),
}


def _row_fields(key: tuple) -> tuple[type, dict]:
    model, names, _values = _TABLES[key[0]]
    _table, pipeline_id, owner_id, source, product_id, segment_id, day = key[: rules.DAY + 1]
    fields = {
        "pipeline_id": pipeline_id,
        "owner_id": owner_id,
        "source": source,
        "product_id": product_id,
        "segment_id": segment_id,
        "day": date.fromisoformat(day) if isinstance(day, str) else day,
    }
    fields.update(zip(names, key[rules.DAY + 1 :], strict=True))
    return model, fields


#: The period rollups of each daily table: the model, and the daily key's fields they keep.
_PERIOD_TABLES = {
    "e": (StageEntryPeriod, ("stage_id", "first", "loss_reason")),
    "x": (StageExitPeriod, ("stage_id", "to_stage_id")),
    "d": (DurationPeriod, ("stage_id", "metric", "hours")),
}


def period_delta(delta: dict[tuple, list[int]]) -> dict[tuple, list[int]]:
    """The daily delta summed into months, quarters and years: ("E"|"X"|"D", period,
    pipeline, owner, source or None, *the table's other key fields) → values; the periods keep
    neither products nor segments (a filter by them reads the daily rows)."""
    out: dict[tuple, list[int]] = {}
    for key, values in delta.items():
        table, pipeline_id, owner_id, source = key[:4]
        day, rest = key[rules.DAY], key[rules.DAY + 1 :]
        if table == "e":
            rest = (rest[0], rest[1] == 0, rest[2])
        if table == "d":
            source = None  # the period durations hold every source together
        day = date.fromisoformat(day) if isinstance(day, str) else day
        for period in rules.period_keys(day):
            pkey = (table.upper(), period, pipeline_id, owner_id, source, *rest)
            row = out.get(pkey)
            if row is None:
                out[pkey] = list(values)
            else:
                out[pkey] = [a + b for a, b in zip(row, values, strict=True)]
    return {k: v for k, v in out.items() if any(v)}


def _add(model, workspace_id: int, fields: dict, value_names, values) -> None:
    """Add ``values`` to the row of ``fields`` (created if missing, gone once all zero)."""
    changed = model.objects.filter(workspace_id=workspace_id, **fields).update(
        **{n: F(n) + v for n, v in zip(value_names, values, strict=True)}
    )
    if changed and any(v < 0 for v in values):
        # A row a deal has left entirely goes, so that no list shows a zero.
        model.objects.filter(
            workspace_id=workspace_id, **fields, **dict.fromkeys(value_names, 0)
        ).delete()
    if not changed:
        model.objects.create(
            workspace_id=workspace_id,
            **fields,
            **dict(zip(value_names, values, strict=True)),
        )


def apply_delta(workspace_id: int, delta: dict[tuple, list[int]]) -> None:
    """Add ``delta`` (rollup key → values, see ``rules.footprint_counts``) to the daily rollups
    and to their months, quarters and years."""
    for key in sorted(delta, key=repr):
        model, fields = _row_fields(key)
        _add(model, workspace_id, fields, _TABLES[key[0]][2], delta[key])
    periods = period_delta(delta)
    for key in sorted(periods, key=repr):
        table = key[0].lower()
        model, names = _PERIOD_TABLES[table]
        fields = {"period": key[1], "pipeline_id": key[2], "owner_id": key[3]}
        if key[4] is not None:
            fields["source"] = key[4]
        fields.update(zip(names, key[5:], strict=True))
        _add(model, workspace_id, fields, _TABLES[table][2], periods[key])


def stage_kinds(workspace_id: int) -> dict[int, str]:
    return dict(Stage.objects.filter(workspace_id=workspace_id).values_list("id", "kind"))


def _lock_rollups(workspace_id: int) -> None:
    """Inside a transaction: wait for any other refresh of this workspace's rollups to commit.

    Two refreshes committing at once (two webhook requests, a request and the worker) would
    otherwise both find a rollup row missing and both insert it, and the second would fail on
    the unique key. The workspace's ``RollupMark`` row is the lock (``SELECT … FOR UPDATE`` on
    PostgreSQL; SQLite lets one writer in at a time anyway). It is taken before any deal row, so
    every refresh locks in the same order.
    """
    RollupMark.objects.get_or_create(workspace_id=workspace_id)
    list(
        RollupMark.objects.select_for_update()
        .filter(workspace_id=workspace_id)
        .values_list("pk", flat=True)
    )


def refresh_deals(workspace_id: int, deal_ids) -> int:
    """Bring the rollups up to date with these deals' history and fields; returns how many
    deals' footprints changed."""
    deal_ids = sorted({int(i) for i in deal_ids if i})
    if not deal_ids:
        return 0
    workspace = Workspace.objects.get(pk=workspace_id)
    tz = ZoneInfo(workspace.timezone)
    kinds = stage_kinds(workspace_id)
    changed = 0
    for start in range(0, len(deal_ids), 500):
        chunk = deal_ids[start : start + 500]
        with transaction.atomic():
            _lock_rollups(workspace_id)
            deals = {
                d[0]: d
                for d in Deal.objects.select_for_update(of=("self",))
                .filter(workspace_id=workspace_id, id__in=chunk)
                .order_by("id")
                .values_list(
                    "id",
                    "pipeline_id",
                    "owner_id",
                    "source",
                    "amount",
                    "loss_reason",
                    "company_id",
                    "product_id",
                    "company__segment_id",
                )
            }
            history = defaultdict(list)
            for deal_id, at, from_id, to_id in (
                StageChange.objects.filter(deal_id__in=list(deals))
                .order_by("deal_id", "changed_at", "id")
                .values_list("deal_id", "changed_at", "from_stage_id", "to_stage_id")
            ):
                history[deal_id].append((at, from_id, to_id))
            stored = {
                f.deal_id: f
                for f in DealFootprint.objects.select_for_update().filter(
                    workspace_id=workspace_id, deal_id__in=chunk
                )
            }
            delta: dict[tuple, list[int]] = {}
            for deal_id in chunk:
                old = stored.get(deal_id)
                deal = deals.get(deal_id)
                new = None
                if deal is not None:
                    new = _footprint(deal, history.get(deal_id, []), kinds, tz)
                if old is not None and deal is not None and old.data == new:
                    if old.company_id != (deal[6] or 0):
                        old.company_id = deal[6] or 0
                        old.save(update_fields=["company_id"])
                    continue
                for key, values in rules.footprint_delta(old.data if old else None, new).items():
                    if key in delta:
                        delta[key] = [a + b for a, b in zip(delta[key], values, strict=True)]
                    else:
                        delta[key] = values
                changed += 1
                if deal is None:
                    old.delete()
                elif old is None:
                    DealFootprint.objects.create(
                        deal_id=deal_id,
                        workspace_id=workspace_id,
                        company_id=deal[6] or 0,
                        data=new,
                    )
                else:
                    old.data = new
                    old.company_id = deal[6] or 0
                    old.save(update_fields=["data", "company_id"])
            apply_delta(workspace_id, {k: v for k, v in delta.items() if any(v)})
    return changed


def _footprint(deal: tuple, changes: list, kinds: dict[int, str], tz: ZoneInfo) -> dict:
    _id, pipeline_id, owner_id, source, amount, loss_reason, _company, product, segment = deal
    return rules.deal_footprint(
        changes,
        kinds,
        tz=tz,
        pipeline_id=pipeline_id,
        owner_id=owner_id,
        source=source or "",
        amount_cents=cents(amount),
        loss_reason=loss_reason or "",
        product_id=product or 0,
        segment_id=segment or 0,
    )


# -- Communications ------------------------------------------------------------------------------


def call_outcome(kind: str, duration_seconds, outcome: str | None = None) -> str:
    """A call's outcome: the recorded one when communications carry it, otherwise "answered"
    for a call that lasted and "missed" for one that did not. Other kinds have none."""
    if kind != CommKind.CALL:
        return ""
    if outcome:
        return outcome
    return "answered" if (duration_seconds or 0) > 0 else "missed"


def _comm_values(qs, min_length: int):
    """(author_id, occurred_at, kind, direction, seconds, outcome, commented) of each row,
    reading only a prefix of long comments."""
    prefix = max(64, 3 * min_length)
    fields = ["id", "author_id", "occurred_at", "kind", "direction", "duration_seconds"]
    if HAS_OUTCOME:
        fields.append("outcome")
    rows = qs.annotate(head=Substr("comment", 1, prefix), length=Length("comment")).values_list(
        *fields, "head", "length"
    )
    unsure = {}
    for row in rows.iterator(chunk_size=5000):
        comm_id, author_id, at, kind, direction, seconds = row[:6]
        outcome = row[6] if HAS_OUTCOME else None
        head, length = row[-2], row[-1] or 0
        if length < min_length:
            commented = False
        elif comment_counts(head, min_length) or length <= prefix:
            commented = comment_counts(head, min_length)
        else:
            unsure[comm_id] = (author_id, at, kind, direction, seconds, outcome)
            continue
        yield author_id, at, kind, direction, seconds, outcome, commented
    if unsure:
        full = dict(Communication.objects.filter(id__in=list(unsure)).values_list("id", "comment"))
        for comm_id, (author_id, at, kind, direction, seconds, outcome) in unsure.items():
            commented = comment_counts(full.get(comm_id, ""), min_length)
            yield author_id, at, kind, direction, seconds, outcome, commented


def _comm_counts(rows, tz: ZoneInfo) -> dict[tuple, list[int]]:
    out: dict[tuple, list[int]] = {}
    for author_id, at, kind, direction, seconds, outcome, commented in rows:
        key = (
            rules.local_day(at, tz),
            author_id or 0,
            kind,
            direction or "",
            call_outcome(kind, seconds, outcome),
        )
        row = out.get(key)
        if row is None:
            row = out[key] = [0, 0, 0]
        row[0] += 1
        row[1] += seconds or 0
        row[2] += int(commented and kind in COMMENTED)
    return out


def refresh_communication_days(workspace_id: int, author_days) -> None:
    """Recompute the communications rollup of these (author_id, local day) pairs whole."""
    pairs = sorted({(a or 0, d) for a, d in author_days})
    if not pairs:
        return
    workspace = Workspace.objects.get(pk=workspace_id)
    tz = ZoneInfo(workspace.timezone)
    min_length = RuleSettings.for_workspace(workspace_id).min_comment_length
    with transaction.atomic():
        _lock_rollups(workspace_id)
        for author_id, day in pairs:
            start, end = day_bounds(day, tz)
            qs = Communication.objects.filter(
                workspace_id=workspace_id, occurred_at__gte=start, occurred_at__lt=end
            )
            qs = qs.filter(author__isnull=True) if not author_id else qs.filter(author_id=author_id)
            counts = _comm_counts(_comm_values(qs.order_by(), min_length), tz)
            day_rows = CommunicationDay.objects.filter(
                workspace_id=workspace_id, author_id=author_id, day=day
            )
            # The day's month, quarter and year change by what the day itself changes.
            change: dict[tuple, list[int]] = {key[2:]: list(v) for key, v in counts.items()}
            for *key, n, secs, commented in day_rows.values_list(
                "kind", "direction", "outcome", "count", "seconds", "commented"
            ):
                row = change.setdefault(tuple(key), [0, 0, 0])
                row[0] -= n
                row[1] -= secs
                row[2] -= commented
            for (kind, direction, outcome), values in sorted(change.items()):
                if not any(values):
                    continue
                for period in rules.period_keys(day):
                    fields = {
                        "period": period,
                        "author_id": author_id,
                        "kind": kind,
                        "direction": direction,
                        "outcome": outcome,
                    }
                    _add(
                        CommunicationPeriod,
                        workspace_id,
                        fields,
                        ("count", "seconds", "commented"),
                        values,
                    )
            day_rows.delete()
            CommunicationDay.objects.bulk_create(
                CommunicationDay(
                    workspace_id=workspace_id,
                    day=key[0],
                    author_id=key[1],
                    kind=key[2],
                    direction=key[3],
                    outcome=key[4],
                    count=v[0],
                    seconds=v[1],
                    commented=v[2],
                )
                for key, v in counts.items()
            )


def refresh_communications(workspace_id: int, comm_ids) -> None:
    workspace = Workspace.objects.get(pk=workspace_id)
    tz = ZoneInfo(workspace.timezone)
    pairs = {
        (author_id or 0, rules.local_day(at, tz))
        for author_id, at in Communication.objects.filter(
            workspace_id=workspace_id, id__in=list(comm_ids)
        ).values_list("author_id", "occurred_at")
    }
    refresh_communication_days(workspace_id, pairs)


# -- Right after a write -------------------------------------------------------------------------


def _refresh(workspace_id: int, deals, communications) -> None:
    try:
        refresh_deals(workspace_id, deals)
        if communications:
            refresh_communications(workspace_id, communications)
    except Exception:
        log.exception("refreshing the rollups failed (workspace %s)", workspace_id)


def _schedule(workspace_id: int, what: str, object_id: int) -> None:
    """Refresh a deal or communication saved now once the transaction commits (at once outside
    one). A deal saved twice in a transaction (a move saves the deal and its stage change) is
    refreshed twice; the second finds nothing to change."""
    deals = [object_id] if what == "deals" else []
    communications = [object_id] if what == "communications" else []
    transaction.on_commit(lambda: _refresh(workspace_id, deals, communications))


def deal_saved(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        _schedule(instance.workspace_id, "deals", instance.pk)


def stage_change_saved(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        _schedule(instance.workspace_id, "deals", instance.deal_id)


def communication_saved(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        _schedule(instance.workspace_id, "communications", instance.pk)


def refresh_company_deals(workspace_id: int, company_id: int, segment_id: int) -> int:
    """Move the figures of the company's deals to its segment (those counted under another)."""
    moved = [
        deal_id
        for deal_id, data in DealFootprint.objects.filter(
            workspace_id=workspace_id, company_id=company_id
        ).values_list("deal_id", "data")
        if (data or {}).get("g", 0) != segment_id
    ]
    return refresh_deals(workspace_id, moved)


def company_segment_read(sender, instance, raw=False, **kwargs) -> None:
    """Before a client is saved: remember whether its segment changes (one row by its key)."""
    if raw or instance.pk is None:
        return
    before = sender.objects.filter(pk=instance.pk).values_list("segment_id", flat=True)
    instance._segment_changed = list(before) != [instance.segment_id]


def company_saved(sender, instance, raw=False, **kwargs) -> None:
    """A client's new segment moves its deals' figures; a save that keeps it does nothing."""
    if raw or kwargs.get("created") or not getattr(instance, "_segment_changed", True):
        return
    ws, company_id, segment_id = instance.workspace_id, instance.pk, instance.segment_id or 0

    def refresh() -> None:
        try:
            refresh_company_deals(ws, company_id, segment_id)
        except Exception:
            log.exception("refreshing the rollups failed (workspace %s)", ws)

    transaction.on_commit(refresh)


def stage_kind_read(sender, instance, raw=False, **kwargs) -> None:
    """Before a stage is saved: remember whether its kind (open, won, lost) changes."""
    if raw or instance.pk is None:
        return
    before = Stage.objects.filter(pk=instance.pk).values_list("kind", flat=True).first()
    instance._kind_changed = before is not None and before != instance.kind


def stage_saved(sender, instance, raw=False, **kwargs) -> None:
    """A stage that became won, lost or open again restates every deal that passed through it:
    the workspace's rollups are rebuilt by the next refresh."""
    if not raw and getattr(instance, "_kind_changed", False):
        RollupMark.objects.filter(workspace_id=instance.workspace_id).update(stale=True)


# -- Every minute --------------------------------------------------------------------------------


def _mark(workspace: Workspace) -> RollupMark:
    mark, _ = RollupMark.objects.get_or_create(workspace=workspace)
    return mark


def refresh_workspace(workspace: Workspace, *, now: datetime | None = None) -> dict:
    """Read the stage changes and communications past the mark (see the module's docstring)."""
    now = now or timezone.now()
    mark = _mark(workspace)
    min_length = RuleSettings.for_workspace(workspace.id).min_comment_length
    if mark.stale or mark.timezone != workspace.timezone or mark.min_comment_length != min_length:
        rebuild_workspace(workspace)
        return {"rebuilt": True}
    settled = now - SETTLE
    outcome = {"deals": 0, "communications": 0}
    rows = list(
        StageChange.objects.filter(workspace_id=workspace.id, id__gt=mark.stage_change_id)
        .order_by("id")
        .values_list("id", "deal_id", "created_at")[:50000]
    )
    if rows:
        outcome["deals"] = refresh_deals(workspace.id, {r[1] for r in rows})
        done = [r[0] for r in rows if r[2] < settled]
        if done:
            RollupMark.objects.filter(pk=mark.pk).update(stage_change_id=max(done))
    comms = list(
        Communication.objects.filter(workspace_id=workspace.id, id__gt=mark.communication_id)
        .order_by("id")
        .values_list("id", "author_id", "occurred_at", "created_at")[:50000]
    )
    if comms:
        tz = ZoneInfo(workspace.timezone)
        refresh_communication_days(
            workspace.id, {(a or 0, rules.local_day(at, tz)) for _i, a, at, _c in comms}
        )
        outcome["communications"] = len(comms)
        done = [r[0] for r in comms if r[3] < settled]
        if done:
            RollupMark.objects.filter(pk=mark.pk).update(communication_id=max(done))
    return outcome


def refresh_all() -> None:
    for workspace in Workspace.objects.order_by("id"):
        try:
            outcome = refresh_workspace(workspace)
        except Exception:
            log.exception("refreshing the rollups of workspace %s failed", workspace.id)
            continue
        log.debug("rollups of workspace %s: %s", workspace.id, outcome)


# -- The full rebuild ----------------------------------------------------------------------------


def rebuild_workspace(workspace: Workspace, timings: dict | None = None) -> dict:
    """Recompute every rollup of the workspace from its raw history, set-based, in one
    transaction (``analytics.rebuild``), then clear the old rows it left (``rebuild.vacuum``);
    ``timings`` receives the seconds of each step."""
    from . import rebuild

    tz = ZoneInfo(workspace.timezone)
    min_length = RuleSettings.for_workspace(workspace.id).min_comment_length
    ws = workspace.id
    with transaction.atomic():
        _lock_rollups(ws)
        last_change = (
            StageChange.objects.filter(workspace_id=ws).order_by("-id").values_list("id", flat=True)
        ).first() or 0
        last_comm = (
            Communication.objects.filter(workspace_id=ws)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        ) or 0
        started = time_.monotonic()
        with rebuild.sqlite_cache():
            for model in ROLLUP_MODELS:
                rebuild.clear(model, ws)
            if timings is not None:
                timings["delete"] = time_.monotonic() - started
            deals = rebuild.rebuild_deals(ws, tz, timings)
            comm_rows = rebuild.rebuild_communications(ws, tz, min_length, timings)
        RollupMark.objects.update_or_create(
            workspace=workspace,
            defaults={
                "stage_change_id": last_change,
                "communication_id": last_comm,
                "timezone": workspace.timezone,
                "min_comment_length": min_length,
                "rebuilt_at": timezone.now(),
                "stale": False,
            },
        )
    started = time_.monotonic()
    if rebuild.vacuum(ROLLUP_MODELS) and timings is not None:
        timings["vacuum"] = time_.monotonic() - started
    return {
        "deals": deals["deals"],
        "rows": deals["rows"],
        "period_rows": deals["period_rows"],
        "communication_rows": comm_rows,
    }
