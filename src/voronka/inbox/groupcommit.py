"""Group commit: the deliveries a busy server takes in are stored many at a time.

A commit is the dear part of storing an event: PostgreSQL writes and flushes its log (fsync) for
each one, SQLite its WAL. Under load, deliveries arrive while a commit is in flight, so one
thread per server process (``GroupCommit``) stores them together: every delivery queued since the
last commit goes into one multi-row ``INSERT … ON CONFLICT DO NOTHING`` and one commit, and only
then is each waiting request told (its future resolved), so that it answers 2xx after its events
are durable, as before. There is no waiting to fill a batch: a lone delivery is committed at once,
and the batch grows by itself with the load (what arrived during the previous commit).

A delivery's events stay together in one transaction; a repeated event id (within a batch too) is
stored once and counted a duplicate, as ``ingest.store`` does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import threading
from concurrent.futures import Future

from django.db import connection, transaction
from django.utils import timezone

from .ingest import _STORE_COLUMNS, IngestResult, _event_key, event_to_json
from .models import ReceivedEvent

log = logging.getLogger(__name__)

#: Rows per INSERT statement (a batch may hold several statements, one commit): well under
#: SQLite's 32,766 and PostgreSQL's 65,535 parameters at eight a row.
ROWS_PER_STATEMENT = 500


def _insert_sql(rows: int) -> str:
    """``ingest.store``'s statement for ``rows`` rows, telling which rows went in."""
    meta = ReceivedEvent._meta
    qn = connection.ops.quote_name
    columns = ", ".join(qn(meta.get_field(name).column) for name in _STORE_COLUMNS)
    unique = ", ".join(qn(meta.get_field(name).column) for name in ("channel", "event_id"))
    row = "(" + ", ".join(["%s"] * len(_STORE_COLUMNS)) + ")"
    return (
        f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES {', '.join([row] * rows)} "
        f"ON CONFLICT ({unique}) DO NOTHING RETURNING {unique}"
    )


def _recordset_sql() -> str:
    """PostgreSQL: the same statement over one JSON array of the rows, whatever their number.
    One text for every batch, so the driver converts it once (a statement of thousands of
    placeholders is parsed again on each call), and one string to quote instead of thousands."""
    meta = ReceivedEvent._meta
    qn = connection.ops.quote_name
    columns = ", ".join(qn(meta.get_field(name).column) for name in _STORE_COLUMNS)
    unique = ", ".join(qn(meta.get_field(name).column) for name in ("channel", "event_id"))
    return (
        f"INSERT INTO {qn(meta.db_table)} ({columns}) "
        "SELECT r.w, %s, %s, r.c, r.e, r.p, r.v, NULL "
        "FROM jsonb_to_recordset(%s::jsonb) AS r(w bigint, c bigint, e text, p jsonb, v jsonb) "
        f"ON CONFLICT ({unique}) DO NOTHING RETURNING {unique}"
    )


def _execute(cursor, rows: list[tuple], now) -> list[tuple]:
    """Insert ``rows`` (workspace, channel, event key, payload, parsed event); the
    (channel, event key) of those that went in."""
    if connection.vendor == "postgresql":
        recordset = json.dumps([{"w": w, "c": c, "e": e, "p": p, "v": v} for w, c, e, p, v in rows])
        cursor.execute(_recordset_sql(), [now, now, recordset])
        return cursor.fetchall()
    values = [
        value
        for w, c, e, p, v in rows
        for value in (w, now, now, c, e, json.dumps(p), json.dumps(v), None)
    ]
    cursor.execute(_insert_sql(len(rows)), values)
    return cursor.fetchall()


def store_many(deliveries: list[tuple[object, list]]) -> list[IngestResult]:
    """Store the events of several deliveries (``(channel, events)`` each) in one transaction;
    each delivery's ``IngestResult`` in order. Committed when this returns."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows: list[tuple] = []
    for channel, events in deliveries:
        for event in events:
            rows.append(
                (
                    channel.workspace_id,
                    channel.id,
                    _event_key(event.event_id),
                    event.raw,
                    event_to_json(event),
                )
            )
    inserted: set[tuple[int, str]] = set()
    chunks = [rows[i : i + ROWS_PER_STATEMENT] for i in range(0, len(rows), ROWS_PER_STATEMENT)]
    single = len(chunks) == 1 and connection.get_autocommit()
    with (
        _NoTransaction() if single else transaction.atomic(),
        connection.cursor() as cursor,
    ):
        for chunk in chunks:
            inserted.update((int(c), str(e)) for c, e in _execute(cursor, chunk, now))
    results = []
    for channel, events in deliveries:
        result = IngestResult()
        for event in events:
            key = (channel.id, _event_key(event.event_id))
            if key in inserted:
                inserted.discard(key)  # a second copy in the same batch is a duplicate
                result.stored += 1
            else:
                result.duplicates += 1
        results.append(result)
    return results


class _NoTransaction:
    """One statement in autocommit: committed on its own, without BEGIN and COMMIT."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class GroupCommit:
    """The committing thread of one server process and the deliveries waiting for it."""

    def __init__(self):
        self._pid = None
        self._start()

    def _start(self) -> None:
        self._pid = os.getpid()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _put(self, item) -> None:
        if self._pid != os.getpid():  # a forked server process: its own thread and queue
            self._start()
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="voronka-group-commit", daemon=True
                    )
                    self._thread.start()
        self._queue.put(item)

    def submit(self, channel, events: list) -> Future:
        """Queue a delivery's events; the future gives its ``IngestResult`` once committed, or
        the database's error (nothing of the delivery stored then)."""
        future: Future = Future()
        self._put((channel, events, future))
        return future

    def submit_async(self, channel, events: list) -> asyncio.Future:
        """``submit`` for a coroutine on the running event loop: an asyncio future, resolved on
        that loop (one call into it per commit, whatever the number of deliveries)."""
        future = asyncio.get_running_loop().create_future()
        self._put((channel, events, future))
        return future

    def store(self, channel, events: list, timeout: float = 60.0) -> IngestResult:
        """``ingest.store`` through the group commit: returns once the events are committed."""
        return self.submit(channel, events).result(timeout)

    def stop(self) -> None:
        """Commit what is queued, then end the thread and close its connection."""
        if self._thread is not None and self._pid == os.getpid():
            self._queue.put(None)
            self._thread.join(timeout=60)
            self._thread = None

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while batch[-1] is not None:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if batch[-1] is None:
                if batch[:-1]:
                    _settle(self._commit(batch[:-1]))
                connection.close()
                return
            try:
                outcomes = self._commit(batch)
            except Exception as exc:  # never lose the thread: every waiting delivery is told
                log.exception("group commit failed")
                outcomes = [(future, None, exc) for _channel, _events, future in batch]
            _settle(outcomes)

    def _commit(self, batch) -> list[tuple]:
        """(future, result, error) of each delivery of the batch."""
        try:
            results = store_many([(channel, events) for channel, events, _future in batch])
        except Exception:
            # One delivery the database refuses (its channel deleted a moment ago) must not
            # sink the others, and a dropped connection (the database restarted) is opened
            # again: each delivery on its own then. One that fails still answers 503, and its
            # provider delivers it again.
            log.warning("group commit of %s deliveries failed; one by one", len(batch))
            connection.close_if_unusable_or_obsolete()
            outcomes = []
            for channel, events, future in batch:
                try:
                    outcomes.append((future, store_many([(channel, events)])[0], None))
                except Exception as exc:
                    log.exception("channel %s: delivery not stored", channel.id)
                    connection.close_if_unusable_or_obsolete()
                    outcomes.append((future, None, exc))
            return outcomes
        return [
            (future, result, None)
            for (_channel, _events, future), result in zip(batch, results, strict=True)
        ]


def _settle(outcomes: list[tuple]) -> None:
    """Tell the waiting deliveries: threads at once, each event loop in one call."""
    loops: dict = {}
    for future, result, error in outcomes:
        if isinstance(future, Future):
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)
        else:
            loops.setdefault(future.get_loop(), []).append((future, result, error))
    for loop, settled in loops.items():
        try:
            loop.call_soon_threadsafe(_settle_on_loop, settled)
        except RuntimeError:
            pass  # that loop is closed: the server is stopping, nobody waits


def _settle_on_loop(settled: list[tuple]) -> None:
    for future, result, error in settled:
        if future.done():  # the request went away (cancelled)
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
