"""The after-commit sender: a message due now leaves from the process that wrote it, a moment
after its transaction commits, without waiting for a worker to pick up a task.

A few threads per process (MESSAGE_SENDER_THREADS) take message ids from a bounded queue in
memory (MESSAGE_SENDER_QUEUE) and hand each batch they find to `send`: the outbox's claim, then
the same `_deliver` a worker uses. The web request only puts an id in the queue, so the
provider's round trip never delays a response.

Memory is enough because the database row is the record, not this queue:

    the process dies with ids in the queue      the rows are still `queued`: the worker's drain
                                                or the every-minute sweep sends them
    the process dies in the middle of a send    the row is `sending` with a lease: recovered
                                                like a dead worker's (the provider is asked)
    the queue is full, or the claim fails       `fallback` (one coalesced drain for the worker)
    ("database is locked", a lost connection)

The claim is the guard against a second send, whoever gets there first: this process, another
one, or a worker's drain.
"""

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

# A sender with nothing to do for this long lets go of its database connection.
IDLE_SECONDS = 30
_STOP = object()


class LocalSender:
    def __init__(
        self,
        send: Callable[[list[int]], object],
        fallback: Callable[[], object],
        *,
        threads: Callable[[], int],
        size: Callable[[], int],
        batch: int,
    ):
        self._send, self._fallback, self._batch = send, fallback, batch
        self._threads, self._size = threads, size
        self._lock, self._busy_lock = threading.Lock(), threading.Lock()
        self._pid: int | None = None
        self._queue: queue.Queue | None = None
        self._workers: list[threading.Thread] = []
        self._busy = 0
        self._closing = False

    def submit(self, message_id: int) -> bool:
        """Queue one message for this process's senders. False when they are full or shutting
        down: the caller hands the message to the worker instead."""
        if self._closing:
            return False
        try:
            self._started().put_nowait(message_id)
        except queue.Full:
            return False
        return True

    def stop(self, timeout: float = 10) -> None:
        """Stop the senders once they have sent what is queued, and close their connections
        (tests, before the test database is dropped). The next submit starts them again."""
        with self._lock:
            workers, self._workers = self._workers, []
            ids = self._queue if self._pid == os.getpid() else None
            self._pid = None
        if ids is not None:
            for _ in workers:
                ids.put(_STOP, timeout=timeout)  # behind what is queued: that is sent first
        for worker in workers:
            worker.join(timeout)

    def close(self, timeout: float, fallback: Callable[[], object] | None = None) -> None:
        """At process exit: take nothing new, let a send in progress finish (up to `timeout`),
        and hand whatever is still queued to the worker (`fallback`, else the usual one), so a
        restart loses no time."""
        self._closing = True
        if self._queue is None or self._pid != os.getpid():
            return
        left = False
        while True:
            try:
                left = self._queue.get_nowait() is not _STOP or left
            except queue.Empty:
                break
        deadline = time.monotonic() + timeout
        while self._busy and time.monotonic() < deadline:
            time.sleep(0.05)
        if left or self._busy:
            self._fall_back(fallback)

    def _started(self) -> queue.Queue:
        pid = os.getpid()
        if self._pid == pid:
            return self._queue
        with self._lock:
            # First use in this process, or a forked child (gunicorn): the parent's threads did
            # not come along, so this process starts its own.
            if self._pid != pid:
                self._queue = queue.Queue(maxsize=max(1, self._size()))
                self._workers = [
                    threading.Thread(
                        target=self._run,
                        args=(self._queue,),
                        name=f"outbox-sender-{n}",
                        daemon=True,
                    )
                    for n in range(max(1, self._threads()))
                ]
                for worker in self._workers:
                    worker.start()
                self._pid = pid
        return self._queue

    def _run(self, ids: queue.Queue) -> None:
        try:
            while True:
                try:
                    first = ids.get(timeout=IDLE_SECONDS)
                except queue.Empty:
                    connections.close_all()  # this thread's own connections only
                    continue
                if first is _STOP:
                    return
                batch = [first]
                while len(batch) < self._batch:
                    try:
                        more = ids.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        ids.put(_STOP)  # for this thread's next turn
                        break
                    batch.append(more)
                self._handle(batch)
        finally:
            connections.close_all()

    def _handle(self, batch: list[int]) -> None:
        with self._busy_lock:
            self._busy += 1
        try:
            close_old_connections()
            self._send(batch)
        except Exception:
            # The rows are still queued (a failed claim changes nothing), or `sending` with a
            # lease if the send itself broke: the worker takes over either way.
            logger.exception("outbox.local_sender: sending %s failed; left to the worker", batch)
            self._fall_back()
        finally:
            close_old_connections()
            with self._busy_lock:
                self._busy -= 1

    def _fall_back(self, fallback: Callable[[], object] | None = None) -> None:
        try:
            (fallback or self._fallback)()
        except Exception:
            logger.exception("outbox.local_sender: could not queue a drain; the sweep will")


def close_at_exit(
    sender: LocalSender, timeout: Callable[[], float], fallback: Callable[[], object]
) -> None:
    """At exit, `fallback` must act at once (not on a timer: the process is going)."""
    atexit.register(lambda: sender.close(timeout(), fallback))
