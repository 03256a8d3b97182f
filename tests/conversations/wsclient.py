"""A real WebSocket client for the chat protocol (the `websockets` package), for tests and benches."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect


def ws_url(server, site_id: str) -> str:
    return f"ws://127.0.0.1:{server.port}/ws/chat/{site_id}/"


def cloop_origin(server) -> str:
    """Cloop's own origin in tests (public_base_url, set by the live_server fixture)."""
    return f"http://localhost:{server.port}"


class ChatClient:
    def __init__(self, ws):
        self.ws = ws
        self.frames: list[dict] = []

    @classmethod
    def connect(cls, server, site_id: str, *, origin: str | None = "cloop", **kwargs):
        if origin == "cloop":
            origin = cloop_origin(server)
        return _Connect(cls, ws_url(server, site_id), origin, kwargs)

    async def send(self, **frame) -> None:
        await self.ws.send(json.dumps(frame))

    async def recv(self, timeout: float = 15) -> dict:
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def until(self, *types: str, timeout: float = 20) -> tuple[dict, list[dict]]:
        """Receive until a frame of one of `types` (or an error); returns it and those before."""
        before = []
        while True:
            frame = await self.recv(timeout)
            if frame["type"] in types or frame["type"] == "error":
                return frame, before
            before.append(frame)

    async def hello(self, visitor_id: str | None = None, page_url: str = "http://site-a.test/"):
        frame = {"type": "hello", "page_url": page_url}
        if visitor_id:
            frame["visitor_id"] = visitor_id
        await self.send(**frame)
        ready, _ = await self.until("ready")
        return ready

    async def ask(self, text: str, cmid: str | None = None) -> tuple[dict, list[dict]]:
        frame = {"type": "message", "text": text}
        if cmid:
            frame["client_message_id"] = cmid
        await self.send(**frame)
        return await self.until("answer")


class _Connect:
    def __init__(self, cls, url, origin, kwargs):
        self.cls, self.url, self.origin, self.kwargs = cls, url, origin, kwargs

    async def __aenter__(self) -> ChatClient:
        self._cm = connect(
            self.url,
            origin=self.origin,
            proxy=None,
            max_size=None,
            **{"open_timeout": 10, **self.kwargs},
        )
        ws = await self._cm.__aenter__()
        return self.cls(ws)

    async def __aexit__(self, *exc):
        return await self._cm.__aexit__(*exc)
