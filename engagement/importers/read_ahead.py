"""Reading a source in a second process while this one writes: the two halves of an import take about
the same time (parsing, validating and cleaning a comment; writing it), so on two cores the import takes
the longer of them instead of their sum.

The reader is a forked child that sends records in batches through a bounded queue, so memory stays
flat whatever the file: it is at most ``QUEUED_BATCHES`` batches (two of the writer's) ahead. Progress
and errors come back the same way, in order: a file that turns out broken halfway raises here, where the
records stop, as it would have read in this process. The child never touches the database (its
connections are the parent's); it ends with the stream, or is ended when the import stops early.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable, Iterator
from typing import Any

from engagement.errors import ApiError
from engagement.importers.pipeline import BATCH_SIZE, Record, Source

BATCH = 50  # records a message: small ones keep both processes' heaps from fragmenting
# Two of the pipeline's batches: it writes in bursts of BATCH_SIZE comments, and a reader allowed only 200
# records ahead stopped a few tenths of the way into each burst, then the writer waited for the rest (100,000
# comments: 4,840 -> 5,900 comments/s on SQLite, 3,250 -> 3,720 on PostgreSQL; the same peak RSS).
QUEUED_BATCHES = 2 * BATCH_SIZE // BATCH


def read_ahead(source: Source, progress: Callable[[int], None]) -> Iterator[Record]:
    """``source.records(progress)``, read by a child process (in this one where fork is unavailable)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        yield from source.records(progress)
        return
    context = multiprocessing.get_context("fork")
    queue: Any = context.Queue(maxsize=QUEUED_BATCHES)
    reader = context.Process(target=_read, args=(source, queue), name="import-reader", daemon=True)
    reader.start()
    try:
        while True:
            kind, payload, done = queue.get()
            if done:
                progress(done)
            if kind == "records":
                yield from payload
            elif kind == "error":
                raise _error_from(payload)
            else:
                return
    finally:
        if reader.is_alive():
            reader.terminate()
        reader.join()
        queue.close()


def _read(source: Source, queue: Any) -> None:
    """The child: every record of the source, in batches, then the end (or the error that stopped it)."""
    done = 0

    def count(amount: int) -> None:
        nonlocal done
        done += amount

    batch: list[Record] = []
    try:
        for record in source.records(count):
            batch.append(record)
            if len(batch) >= BATCH:
                queue.put(("records", batch, done))
                batch, done = [], 0
        queue.put(("records", batch, done))
        queue.put(("end", None, 0))
    except BaseException as error:
        queue.put(("records", batch, done))
        queue.put(("error", _error_to(error), 0))
    queue.close()
    queue.join_thread()


def _error_to(error: BaseException) -> tuple[str, Any]:
    """What crosses the queue: an ApiError by its parts (its constructor is not pickle's), another
    error as itself when it pickles, else its text."""
    if isinstance(error, ApiError):
        return "api", (type(error), error.code, error.message, error.fields)
    try:
        pickle.dumps(error)
    except Exception:
        return "text", f"{type(error).__name__}: {error}"
    return "error", error


def _error_from(payload: tuple[str, Any]) -> BaseException:
    kind, value = payload
    if kind == "api":
        error_type, code, message, fields = value
        return error_type(code, message, fields=fields)
    if kind == "error":
        return value
    return RuntimeError(f"reading the import file failed: {value}")
