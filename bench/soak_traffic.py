"""The soak's loopback clients, all in one asyncio loop: idle widget sockets, chatting visitors,
an admin user walking every admin page, API token clients, /healthz, static files.

Every client records into one `Stats`; the sampler in bench/soak.py reads and resets its
per-window lists every 10 s.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from html import unescape

import httpx
from soak_platform import Platform
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

# Error frames a well-behaved client may still meet; counted, but not a failure.
EXPECTED_ERRORS = {"rate_limited", "busy"}
LOST_AFTER = 120.0  # a question with no answer or error frame after this is lost

QUESTIONS = [
    "What is the price of the E-Cruiser?",
    "Can I ride in winter?",
    "What does the warranty cover?",
    "How long is the warranty on the frame?",
    "Do you offer financing or leasing?",
    "How much does the City Commuter 7 cost?",
    "Which bike is best for carrying kids?",
    "How much can the Cargo Hauler carry?",
    "What sizes does the Kids Pedal 20 come in?",
    "Is the Trail Blazer good for beginners?",
    "What service plans do you have?",
    "How much is a basic service in the workshop?",
    "How do I book a test ride?",
    "Where are your stores?",
    "What are the opening hours of your stores?",
    "How long does delivery take?",
    "Do you ship abroad?",
    "How much does shipping cost?",
    "Can I return a bike I bought online?",
    "How many days do I have to return a bike?",
    "Which accessories do you sell?",
    "Do you sell helmets and locks?",
    "How far can the E-Cruiser go on one charge?",
    "How do I choose my first e-bike?",
    "What tyres should I use in winter?",
    "How do I contact customer service?",
    "Are you hiring?",
    "Who founded Northwind Bikes?",
    "Do you repair bikes bought elsewhere?",
    "Can I exchange a bike for another size?",
    "Is there a discount for students?",
    "What payment methods do you accept?",
    "How do I take care of the battery in cold weather?",
    "Do you have a blog with cycling tips?",
    "Does the warranty cover the battery?",
    "Can I pay in instalments?",
]

NO_FOLLOW = re.compile(r"logout|delete|erase|object|reject|extend|/act|password|history", re.I)
ID = re.compile(r"/(\d+|[0-9a-f-]{36})/")
HREF = re.compile(r'href="(/admin/[^"#]*)"')


@dataclass
class Stats:
    requests: Counter = field(default_factory=Counter)  # kind -> requests answered
    paths: Counter = field(default_factory=Counter)  # "admin /admin/conversations/<id>/change/"
    status_5xx: Counter = field(default_factory=Counter)  # kind -> 5xx answers
    http_failures: Counter = field(default_factory=Counter)  # kind -> no answer at all
    examples: list = field(default_factory=list)  # first few failures, for the report
    ws_sessions: int = 0  # hello -> ready completed
    ws_open: int = 0
    ws_refused: Counter = field(default_factory=Counter)  # handshake status / error class
    error_frames: Counter = field(default_factory=Counter)
    sent: int = 0
    answered: int = 0
    pending: dict = field(default_factory=dict)  # client_message_id -> sent at (monotonic)
    lost: int = 0
    window_ttfd: list = field(default_factory=list)  # seconds to first delta, this window
    commands: Counter = field(default_factory=Counter)  # "gdpr export ok", "crawl failed", ...

    def note(self, kind: str, what: str) -> None:
        if len(self.examples) < 50:
            self.examples.append({"t": round(time.time(), 1), "kind": kind, "what": what[:500]})

    def http(self, kind: str, response: httpx.Response | None, error: str = "") -> None:
        if response is None:
            self.http_failures[kind] += 1
            self.note(kind, error)
            return
        self.requests[kind] += 1
        self.paths[f"{kind} {ID.sub('/<id>/', response.request.url.path)}"] += 1
        if response.status_code >= 500:
            self.status_5xx[kind] += 1
            self.note(kind, f"{response.status_code} {response.request.url}: {_why(response.text)}")

    def lost_check(self) -> None:
        now = time.monotonic()
        for cmid, at in list(self.pending.items()):
            if now - at > LOST_AFTER:
                del self.pending[cmid]
                self.lost += 1
                self.note("chat", f"lost message {cmid}")


def _why(body: str) -> str:
    """The exception of a DEBUG error page (its title and value), else the body's start."""
    title = re.search(r"<title>\s*(.*?)\s*</title>", body, re.S)
    value = re.search(r'<pre class="exception_value">(.*?)</pre>', body, re.S)
    if title and value:
        return unescape(f"{' '.join(title.group(1).split())}: {value.group(1).strip()}")
    return body[:300]


async def get(client: httpx.AsyncClient, stats: Stats, kind: str, url: str, **kw):
    try:
        r = await client.get(url, **kw)
    except httpx.HTTPError as exc:
        stats.http(kind, None, f"{url}: {type(exc).__name__}: {exc}")
        return None
    stats.http(kind, r)
    return r


# --- WebSocket clients ------------------------------------------------------------------
async def ws_open(p: Platform, stats: Stats, visitor_id: str):
    """Open a chat socket and say hello; returns (socket, ready frame) or None if refused."""
    try:
        ws = await connect(p.ws_url, origin=p.origin, proxy=None, compression=None, open_timeout=60)
    except (OSError, TimeoutError, InvalidStatus) as exc:
        code = exc.response.status_code if isinstance(exc, InvalidStatus) else type(exc).__name__
        stats.ws_refused[str(code)] += 1
        stats.note("ws", f"handshake: {code} {exc}")
        return None
    try:
        await ws.send(
            json.dumps(
                {"type": "hello", "visitor_id": visitor_id, "page_url": p.base_url + "/demo/"}
            )
        )
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if frame["type"] == "ready":
                stats.ws_sessions += 1
                return ws, frame
            if frame["type"] == "error":
                error_frame(stats, frame)
    except (ConnectionClosed, TimeoutError) as exc:
        stats.ws_refused[type(exc).__name__] += 1
        stats.note("ws", f"hello: {type(exc).__name__} {exc}")
        await ws.close()
        return None


def error_frame(stats: Stats, frame: dict) -> None:
    code = frame.get("code", "?")
    stats.error_frames[code] += 1
    if code not in EXPECTED_ERRORS:
        stats.note("error frame", f"{code}: {frame.get('message', '')}")


async def idle_socket(p: Platform, stats: Stats, gate: asyncio.Semaphore, end: float) -> None:
    """A widget left open on a page: hello, then a ping every 1-5 minutes (the server closes a
    socket silent for 10); reconnects when closed."""
    visitor = str(uuid.uuid4())
    while time.monotonic() < end:
        async with gate:
            opened = await ws_open(p, stats, visitor)
        if opened is None:
            await asyncio.sleep(random.uniform(5, 15))
            continue
        ws, _ = opened
        stats.ws_open += 1
        try:
            while time.monotonic() < end:
                await asyncio.sleep(min(random.uniform(60, 300), max(0.0, end - time.monotonic())))
                if time.monotonic() >= end:
                    break
                await ws.send(json.dumps({"type": "ping"}))
                while (frame := json.loads(await asyncio.wait_for(ws.recv(), 60)))[
                    "type"
                ] != "pong":
                    if frame["type"] == "error":
                        error_frame(stats, frame)
        except (ConnectionClosed, TimeoutError) as exc:
            stats.note("ws", f"idle socket closed: {exc}")
        finally:
            stats.ws_open -= 1
            await ws.close()


async def chat_visitor(p: Platform, stats: Stats, end: float, think=(5.0, 20.0)) -> None:
    """hello -> message -> wait for its answer -> think -> next question. After a dropped
    socket it reconnects and resends the open question with the same client_message_id."""
    visitor = str(uuid.uuid4())
    question: tuple[str, str] | None = None  # (client_message_id, text) not yet answered
    await asyncio.sleep(random.uniform(0, think[1]))  # do not all start in the same second
    while time.monotonic() < end:
        opened = await ws_open(p, stats, visitor)
        if opened is None:
            await asyncio.sleep(random.uniform(2, 10))
            continue
        ws, _ = opened
        stats.ws_open += 1
        try:
            while time.monotonic() < end:
                if question is None:
                    question = (str(uuid.uuid4()), random.choice(QUESTIONS))
                    stats.sent += 1
                    stats.pending[question[0]] = time.monotonic()
                await ask(ws, stats, *question)
                question = None
                await asyncio.sleep(random.uniform(*think))
        except (ConnectionClosed, TimeoutError) as exc:
            stats.note("ws", f"chat socket closed: {exc}")
        finally:
            stats.ws_open -= 1
            await ws.close()


async def ask(ws, stats: Stats, cmid: str, text: str) -> dict:
    """Send one message and read frames until its answer or error frame."""
    started = time.monotonic()
    await ws.send(json.dumps({"type": "message", "text": text, "client_message_id": cmid}))
    first = True
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), LOST_AFTER + 30))
        if frame.get("client_message_id") not in (cmid, None):
            continue
        kind = frame["type"]
        if kind == "delta" and first:
            first = False
            stats.window_ttfd.append(time.monotonic() - started)
        elif kind in ("answer", "error"):
            if stats.pending.pop(cmid, None) is not None and kind == "answer":
                stats.answered += 1
            if kind == "error":
                error_frame(stats, frame)
            return frame


# --- HTTP clients -----------------------------------------------------------------------
async def admin_walker(p: Platform, stats: Stats, end: float, pause=(0.5, 2.0)) -> None:
    """A customer logged into the demo site's admin, walking the index, every list page it
    links to and a few detail pages of each, round after round."""
    async with httpx.AsyncClient(
        base_url=p.base_url, headers={"Host": p.site_host}, timeout=60, follow_redirects=True
    ) as client:
        while time.monotonic() < end:
            if not await admin_login(client, p, stats):
                await asyncio.sleep(10)
                continue
            index = await get(client, stats, "admin", "/admin/")
            if index is None or index.status_code != 200:
                await asyncio.sleep(5)
                continue
            # Every page the index links to (lists, the overview, settings, add forms); on a
            # list page (/admin/<app>/<model>/) also a few of the objects it lists.
            for url in sorted(set(_links(index.text)) - {"/admin/"}):
                if time.monotonic() >= end:
                    return
                page = await get(client, stats, "admin", url)
                await asyncio.sleep(random.uniform(*pause))
                if page is None or page.status_code != 200 or url.count("/") != 4:
                    continue
                details = {u for u in _links(page.text) if u.startswith(url) and u != url}
                for detail in random.sample(sorted(details), min(4, len(details))):
                    await get(client, stats, "admin", detail)
                    await asyncio.sleep(random.uniform(*pause))


def _links(html: str) -> list[str]:
    return [u for u in (unescape(h) for h in HREF.findall(html)) if not NO_FOLLOW.search(u)]


async def admin_login(client: httpx.AsyncClient, p: Platform, stats: Stats) -> bool:
    if "sessionid" in client.cookies:
        return True
    form = await get(client, stats, "admin", "/admin/login/")
    if form is None or form.status_code != 200:
        return False
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    data = {"username": "soak@demo.example", "password": p.password, "next": "/admin/"}
    try:
        r = await client.post("/admin/login/", data={**data, "csrfmiddlewaretoken": token.group(1)})
    except httpx.HTTPError as exc:
        stats.http("admin", None, f"login: {exc}")
        return False
    stats.http("admin", r)
    return "sessionid" in client.cookies


API_PATHS = [
    "conversations/",
    "leads/",
    "leads.csv",
    "data-requests/",
    "settings/",
    "crawl-runs/",
    "schema/",
]


async def api_client(p: Platform, stats: Stats, end: float, pause=(1.0, 3.0)) -> None:
    """A customer's script with an API token: every read endpoint, and transcripts."""
    headers = {"Host": p.site_host, "Authorization": f"Token {p.token}"}
    async with httpx.AsyncClient(
        base_url=p.base_url + "/api/v1/", headers=headers, timeout=60
    ) as c:
        while time.monotonic() < end:
            for path in API_PATHS:
                r = await get(c, stats, "api", path)
                if path == "conversations/" and r is not None and r.status_code == 200:
                    body = r.json()
                    rows = body.get("results", body) if isinstance(body, dict) else body
                    for row in random.sample(rows, min(2, len(rows))):
                        await get(c, stats, "api", f"conversations/{row['id']}/")
                await asyncio.sleep(random.uniform(*pause))


async def poller(p: Platform, stats: Stats, end: float, kind: str, paths: list[str], every: float):
    """/healthz, widget.js, the admin's CSS, the demo pages: anonymous GETs on Cloop's host."""
    async with httpx.AsyncClient(base_url=p.base_url, timeout=60) as c:
        while time.monotonic() < end:
            for path in paths:
                await get(c, stats, kind, path)
                await asyncio.sleep(every)
