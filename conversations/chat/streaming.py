"""Turning a model's streamed pieces into `delta` frames (see docs/protocol.md)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class DeltaBatcher:
    """Streams answer pieces as `delta` frames: the first at once, then at most one frame per
    `interval` seconds holding everything that arrived meanwhile.

    A fast model sends tokens far quicker than a reader reads; each WebSocket frame costs a
    system call and JSON work, so frames are batched. Order is kept: every flush takes the
    buffer and sends under one lock, and `close()` flushes the rest before the `answer`.
    """

    def __init__(
        self,
        send: Callable[[dict], Awaitable[None]],
        cmid,
        interval: float = 0.04,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.send = send
        self.cmid = cmid
        self.interval = interval
        self.clock = clock  # injectable: tests decide what "fast" and "slow" pieces are
        self.buffer: list[str] = []
        self.lock = asyncio.Lock()
        self.last_flush = float("-inf")  # nothing sent yet: the first piece goes at once
        self.timer: asyncio.TimerHandle | None = None
        self.pending: set[asyncio.Task] = set()

    async def add(self, piece: str) -> None:
        self.buffer.append(piece)
        wait = self.last_flush + self.interval - self.clock()
        if wait <= 0:
            await self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(wait, self._flush_later)

    def _flush_later(self) -> None:
        self.timer = None
        task = asyncio.ensure_future(self.flush())
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def flush(self) -> None:
        async with self.lock:
            if not self.buffer:
                return
            text, self.buffer = "".join(self.buffer), []
            self.last_flush = self.clock()
            await self.send({"type": "delta", "text": text, "client_message_id": self.cmid})

    async def close(self) -> None:
        """Send what is left; after this the caller may send the `answer` frame."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        for task in list(self.pending):
            await task
        await self.flush()

    def discard(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.buffer = []


# Around the marker a model may put whitespace or markdown emphasis ("`NO_ANSWER`", "**NO_ANSWER**.").
MARKER_WRAPPING = " \t\r\n`*_.\"'"


class MarkerHold:
    """Holds a streamed answer's first characters back until they can no longer be `marker`
    (prompt rule 4's NO_ANSWER, compared without case and without MARKER_WRAPPING around it),
    then lets every piece through as it comes.

    `feed(piece)` returns the text to show now ("" while held); after the stream, `end()`
    returns what is still held unless the reply was the marker, and `said_marker` tells
    whether it was (the reply began with the marker: what follows it is dropped too).
    """

    def __init__(self, marker: str):
        self.marker = marker.upper()
        self.held = ""
        self.passing = False

    def _head(self) -> str:
        return self.held.lstrip(MARKER_WRAPPING).upper()

    def feed(self, piece: str) -> str:
        if self.passing:
            return piece
        self.held += piece
        head = self._head()
        if self.marker.startswith(head) or head.startswith(self.marker):
            return ""
        self.passing = True
        shown, self.held = self.held, ""
        return shown

    @property
    def said_marker(self) -> bool:
        return not self.passing and self._head().startswith(self.marker)

    def end(self) -> str:
        if self.passing or self.said_marker:
            return ""
        shown, self.held = self.held, ""
        return shown
