"""The hub's intake of uploads: one worker thread that accepts them in groups (group commit).

A route hands its upload over once (:meth:`Intake.submit`) and awaits the answer; the worker
takes everything handed over since it last looked (up to ``max_group``) and accepts it as
one group with :meth:`ExchangeService.submit_many`: one transaction and one wave of fsyncs
for the group (see :mod:`exchange.hub.accept`), then one wake-up of the event loop to
answer them all. An upload is answered only after the commit that holds it is on disk, so
every acknowledgement stays durable; concurrent uploads share the commit instead of each
paying for its own. Alone, an upload is a group of one and waits for nothing.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Sequence

from exchange.hub.accept import Answer, Submission
from exchange.hub.store.models import DocumentPublic

#: the most uploads one group holds (its answers wait for the slowest of them)
MAX_GROUP = 32

_Item = tuple[Submission, asyncio.Future[DocumentPublic], asyncio.AbstractEventLoop]


class Intake:
    """Accepts uploads on one worker thread, in groups, with *accept* (``submit_many``)."""

    def __init__(self, accept: Callable[[Sequence[Submission]], list[Answer]], *, max_group: int = MAX_GROUP) -> None:
        if max_group < 1:
            raise ValueError("max_group must be at least 1")
        self._accept = accept
        self.max_group = max_group
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="hub-intake", daemon=True)
        self._thread.start()

    async def submit(self, submission: Submission) -> DocumentPublic:
        """Accept *submission* in the next group; returns or raises what ``submit`` would."""
        if self._closed:
            raise RuntimeError("the hub's intake is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[DocumentPublic] = loop.create_future()
        self._queue.put((submission, future, loop))
        # A request cancelled meanwhile cancels only its wait: the group still records the upload.
        return await future

    def close(self, *, timeout: float = 30.0) -> None:
        """Finish the uploads handed over, then stop the worker."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join(timeout)

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            while len(group) < self.max_group:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                group.append(item)
            try:
                answers: Sequence[Answer | BaseException] = self._accept([s for s, _, _ in group])
            except BaseException as exc:  # the whole group failed: each request raises it (a 500)
                answers = [exc] * len(group)
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[DocumentPublic], Answer | BaseException]]] = {}
            for (_, future, loop), answer in zip(group, answers, strict=True):
                by_loop.setdefault(loop, []).append((future, answer))
            for loop, settled in by_loop.items():  # one wake-up per event loop and group
                try:
                    loop.call_soon_threadsafe(_settle, settled)
                except RuntimeError:  # that loop has closed: nobody waits for these answers
                    pass


def _settle(settled: list[tuple[asyncio.Future[DocumentPublic], Answer | BaseException]]) -> None:
    for future, answer in settled:
        if future.done():
            continue
        if isinstance(answer, BaseException):
            future.set_exception(answer)
        else:
            future.set_result(answer)
