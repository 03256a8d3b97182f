"""The chat WebSocket at /ws/chat/<site_id>/ (protocol: docs/protocol.md).

A thin shell: it checks the handshake and the limits, then calls the conversations app's
functions. Rules it keeps (docs/chat.md, "Tenancy and threads", says why):
- every DB call is a small sync function that enters the site's schema itself; they run in
  the chat DB pool (`conversations.chat.threads`), not on Channels' single DB thread, so a burst of
  chats does not queue behind one connection's commits;
- the model is awaited on the event loop, never inside a DB call; retrieval runs in its own
  thread pool (conversations.chat.answer);
- the client address in the ASGI scope is never read, stored or logged;
- no channel layer: a chat needs no cross-process messages, and without it no Redis receive
  loop runs per idle socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from uvicorn.protocols.utils import ClientDisconnected

from conversations.chat import chat
from conversations.chat.answer import answer_question
from conversations.chat.claims import answer_claim, answer_release
from conversations.chat.limits import SlidingWindow, daily_quota_hit, visitor_rate_hit
from conversations.chat.streaming import DeltaBatcher
from conversations.chat.text import language_detect
from conversations.chat.threads import chat_db
from conversations.models import Phase
from widget.chat_data import forget, hello_load
from widget.frames import (
    FrameError,
    answer_frame,
    db_unavailable,
    error_frame,
    failure_reply,
    frame_decode,
    message_frame_check,
    stored_answer_frame,
)
from widget.tenancy import origin_allowed, scope_origin, site_resolve
from widget.visitor_frames import VisitorFrames

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 8 * 1024
CLOSE_TOO_BIG = 1009
# A hello costs a few reads; a client needs one per connection (a few after `forget`).
HELLOS_PER_MINUTE = 10
# Streamed pieces arriving within this interval share one `delta` frame (the first goes at once).
DELTA_INTERVAL = 0.04
CLOSE_IDLE = 4000
CLOSE_TRY_AGAIN = 1013  # the database is unreachable: the client reconnects with backoff


class ChatConsumer(VisitorFrames, AsyncWebsocketConsumer):
    # An alias with no configuration: Channels then attaches no channel layer.
    channel_layer_alias = "cloop-chat-no-layer"
    # The visitor message being stored (a chat DB call that cancelling the answer cannot stop):
    # `forget` waits for it, so it cannot land after the erasure.
    storing: asyncio.Future | None = None

    async def connect(self):
        self.site = None
        self.visitor_id: uuid.UUID | None = None
        self.conversation_id: int | None = None
        self.phase = Phase.EXPLORING.value
        self.has_lead = False
        self.answered = 0  # answers (not refusals or failures) in the current conversation
        self.page_url = ""
        self.language = "en"
        self.widget_settings: dict = {}
        self.quota = 0
        self.window = SlidingWindow()
        self.hello_window = SlidingWindow(HELLOS_PER_MINUTE, 60)
        self.visitor_frames_init()
        self.answer_task: asyncio.Task | None = None
        self.idle_task: asyncio.Task | None = None
        self.last_activity = time.monotonic()
        self.kept_message = False  # whether the current answer's question was stored

        site_id = self.scope["url_route"]["kwargs"]["site_id"]
        try:
            site = await site_resolve(site_id)
        except Exception as exc:
            if not db_unavailable(exc):
                raise
            # A browser cannot see a handshake's HTTP status, but it sees a close code: accept,
            # then close with 1013 "try again later" (nothing is read or sent in between).
            log.warning("chat handshake for site %s: database unavailable", site_id)
            await self.accept()
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        if site is None or not origin_allowed(site, scope_origin(self.scope)):
            # Closing before accepting makes the server answer the handshake with 403. One
            # line, without the Origin (it is the client's text).
            why = "unknown site" if site is None else "origin not allowed"
            log.info("chat handshake refused for site %s: %s", site_id, why)
            await self.close()
            return
        self.site = site
        self.language = site.language if site.language in ("en", "fi") else "en"
        await self.accept()
        self.idle_task = asyncio.create_task(self._idle_watch())

    async def disconnect(self, code):
        for task in (self.answer_task, self.idle_task):
            if task is not None and not task.done():
                task.cancel()

    # --- framing ------------------------------------------------------------------------

    async def send_json(self, payload: dict) -> None:
        # The visitor may have left (closed the tab) before uvicorn told us: there is nobody
        # to tell, and it is not an error. disconnect() follows and stops any answer in progress.
        with contextlib.suppress(ClientDisconnected):
            await self.send(text_data=json.dumps(payload, ensure_ascii=False))

    async def send_error(self, code: str, message: str, **extra) -> None:
        await self.send_json(error_frame(code, message, **extra))

    async def receive(self, text_data=None, bytes_data=None):
        self.last_activity = time.monotonic()
        if bytes_data is not None:
            if len(bytes_data) > MAX_FRAME_BYTES:
                await self.close(code=CLOSE_TOO_BIG)
                return
            await self.send_error("bad_frame", "Send JSON text frames.")
            return
        if len((text_data or "").encode("utf-8")) > MAX_FRAME_BYTES:
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            frame = frame_decode(text_data or "")
        except FrameError as exc:
            await self.send_error(exc.code, exc.message, **exc.extra)
            return
        try:
            await self._dispatch(frame)
        except Exception as exc:
            # Every frame gets a reply; a handler's failure is reported, never silent.
            await self._frame_failed(exc, frame["type"])

    async def _dispatch(self, frame: dict) -> None:
        kind = frame["type"]
        if kind == "ping":
            await self.send_json({"type": "pong"})
            return
        if kind == "hello":
            await self.on_hello(frame)
            return
        handler = {
            "message": self.on_message,
            "email": self.on_email,
            "summary": self.on_summary,
            "forget": self.on_forget,
            "feedback": self.on_feedback,
        }.get(kind)
        if handler is None:
            await self.send_error("unknown_type", f"Unknown frame type {kind[:40]!r}.")
            return
        if self.visitor_id is None:
            await self.send_error("hello_required", "Send hello first.")
            return
        await handler(frame)

    async def _frame_failed(self, exc: Exception, kind: str) -> None:
        """Tell the client a frame failed. Without the database there is no chat: close with 1013
        so the client reconnects with backoff (and resends what was not stored)."""
        code, message = failure_reply(exc)
        if db_unavailable(exc):
            log.warning("chat %r frame on site %s: database unavailable", kind, self.site.site_id)
        else:
            log.exception("chat %r frame failed on site %s", kind, self.site.site_id)
        await self.send_error(code, message, retryable=True)
        if db_unavailable(exc):
            await self.close(code=CLOSE_TRY_AGAIN)

    async def _idle_watch(self):
        idle = float(settings.CLOOP_WS_IDLE_SECONDS)
        while True:
            remaining = self.last_activity + idle - time.monotonic()
            if remaining <= 0:
                if self.answer_task is None or self.answer_task.done():
                    await self.close(code=CLOSE_IDLE)
                    return
                remaining = idle
            await asyncio.sleep(remaining)

    # --- hello --------------------------------------------------------------------------

    async def on_hello(self, frame: dict):
        if self.answer_task is not None and not self.answer_task.done():
            await self.send_error("busy", "Wait for the current answer to finish.")
            return
        wait = self.hello_window.hit()
        if wait:
            await self.send_error(
                "rate_limited", "Too many hello frames; wait a moment.", retry_after=int(wait) + 1
            )
            return
        given = frame.get("visitor_id")
        vid = chat.visitor_id_parse(given) if given else uuid.uuid4()
        if vid is None:
            await self.send_error("bad_visitor_id", "visitor_id must be a UUID.")
            return
        lang = frame.get("language")
        if lang in ("en", "fi"):
            self.language = lang
        page_url = frame.get("page_url")
        self.page_url = page_url if isinstance(page_url, str) else ""
        data = await chat_db(hello_load)(self.site, vid)
        self.visitor_id = vid
        self.conversation_id = data["conversation_id"]
        self.phase = data["phase"]
        self.has_lead = data["has_lead"]
        self.answered = data["answered"]
        self.widget_settings = data["settings"]
        self.quota = data["quota"]
        await self.send_json(
            {
                "type": "ready",
                "visitor_id": str(vid),
                "conversation_id": self.conversation_id,
                "phase": self.phase,
                "has_email": self.has_lead,
                "history": data["history"],
                "settings": self.widget_settings,
            }
        )

    # --- message → delta… → answer ------------------------------------------------------

    async def on_message(self, frame: dict):
        try:
            text, cmid = message_frame_check(frame)
        except FrameError as exc:
            await self.send_error(exc.code, exc.message, **exc.extra)
            return
        if self.answer_task is not None and not self.answer_task.done():
            await self.send_error(
                "busy", "Wait for the current answer to finish.", client_message_id=cmid
            )
            return
        wait = self.window.hit()
        if not wait:
            wait = await visitor_rate_hit(self.site.schema_name, str(self.visitor_id))
        if wait:
            await self.send_error(
                "rate_limited",
                "Too many messages; wait a moment.",
                client_message_id=cmid,
                retry_after=int(wait) + 1,
            )
            return
        if await daily_quota_hit(self.site.schema_name, self.quota):
            await self.send_error(
                "quota_exceeded",
                "This chat has answered all the questions it can today. Try again tomorrow.",
                client_message_id=cmid,
            )
            return
        self.answer_task = asyncio.create_task(self._answer(text, cmid))

    async def _answer(self, text: str, cmid: str | None):
        self.kept_message = False
        try:
            await self._answer_inner(text, cmid)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if db_unavailable(exc):
                log.warning("chat answer on site %s: database unavailable", self.site.site_id)
            else:
                log.exception("chat answer failed on site %s", self.site.site_id)
            # Says "kept" only if question_store committed the message.
            code, message = failure_reply(exc, kept=self.kept_message)
            await self.send_error(code, message, client_message_id=cmid, retryable=True)
            if db_unavailable(exc):
                await self.close(code=CLOSE_TRY_AGAIN)

    async def _answer_inner(self, text: str, cmid: str | None):
        stored = await self._question_store(text, cmid)
        if stored.duplicate and stored.reply is not None:
            # A resend of an answered message: the stored answer again, no second answer.
            await self.send_json(self._stored_answer(stored.reply, cmid))
            return
        if not await self._claim(stored, cmid):
            return
        try:
            final = await self._answer_claimed(text, cmid, stored)
        finally:
            if stored.message_id is not None:
                await answer_release(self.site.schema_name, stored.message_id)
        # Sent last: once the client has it, this task is done and the next message is welcome.
        await self.send_json(final)

    async def _question_store(self, text: str, cmid: str | None):
        """Store the visitor's message before any model is called (chat.question_store); it
        lands even if the answer is cancelled meanwhile (`forget` waits for it)."""
        self.storing = asyncio.ensure_future(
            chat_db(chat.question_store)(
                self.site,
                visitor_id=self.visitor_id,
                conversation_id=self.conversation_id,
                text=text,
                client_message_id=cmid,
                page_url=self.page_url,
            )
        )
        stored = await asyncio.shield(self.storing)
        self.kept_message = stored.stored
        if stored.conversation_id is not None and stored.conversation_id != self.conversation_id:
            if self.conversation_id is not None:
                # The previous conversation was erased meanwhile; this one starts afresh.
                self.phase, self.answered = Phase.EXPLORING.value, 0
            self.conversation_id = stored.conversation_id
        return stored

    async def _claim(self, stored, cmid: str | None) -> bool:
        """Whether this socket answers the message: the same message on another socket at
        this moment is answered there only (the client is told, and may send it again)."""
        if stored.message_id is None or await answer_claim(
            self.site.schema_name, stored.message_id
        ):
            return True
        await self.send_error(
            "in_progress",
            "This message is being answered in another window; send it again to see "
            "the answer here.",
            client_message_id=cmid,
            retryable=True,
        )
        return False

    def _stored_answer(self, reply: dict, cmid: str | None) -> dict:
        return stored_answer_frame(
            reply, conversation_id=self.conversation_id, client_message_id=cmid, phase=self.phase
        )

    async def _answer_claimed(self, text: str, cmid: str | None, stored) -> dict:
        """Stream the model's answer and store it; returns the final frame to send."""
        language = language_detect(text, self.language)
        result = await self._answer_streamed(text, cmid, stored, language)
        saved = await chat_db(chat.answer_store)(
            self.site,
            conversation_id=stored.conversation_id,
            reply_to_id=stored.message_id,
            question=text,
            language=language,
            result=result,
            current_phase=self.phase,
            answered_before=self.answered,
            has_lead=self.has_lead,
        )
        return self._answer_final(result, saved, cmid)

    async def _answer_streamed(self, text: str, cmid: str | None, stored, language: str):
        """The model's answer (AnswerResult), its text sent in `delta` frames as it comes."""
        deltas = DeltaBatcher(self.send_json, cmid, DELTA_INTERVAL)
        try:
            result = await answer_question(
                text,
                conversation=stored.conversation_id,
                language=language,
                on_delta=deltas.add,
                site=self.site,
            )
        except BaseException:
            deltas.discard()  # cancelled (forget, disconnect) or failed: send nothing more
            raise
        await deltas.close()
        return result

    def _answer_final(self, result, saved, cmid: str | None) -> dict:
        """The frame that ends an answer, from what `chat.answer_store` did with it; keeps
        this socket's view of the conversation (phase, answers) in step."""
        if saved.erased:
            # Erased on another socket (or by an erasure request) while this one answered.
            self.conversation_id, self.phase, self.answered = None, Phase.EXPLORING.value, 0
            return error_frame(
                "erased",
                "This conversation was erased meanwhile; the answer was not kept.",
                client_message_id=cmid,
            )
        if saved.duplicate:
            # Another socket answered the same message first: its stored answer, not ours.
            self.phase = saved.phase
            return self._stored_answer(saved.reply, cmid)
        if result.error:
            return error_frame(
                result.error, result.error_message, client_message_id=cmid, retryable=True
            )
        self.phase = saved.phase
        if not result.refused:
            self.answered += 1
        return answer_frame(
            message_id=saved.message_id,
            conversation_id=self.conversation_id,
            client_message_id=cmid,
            text=result.text,
            sources=result.sources,
            refused=result.refused,
            phase=saved.phase,
            ask_email=saved.ask_email,
        )

    # --- forget (email, summary, feedback: widget.visitor_frames) ------------------------

    async def on_forget(self, frame: dict):
        if self.answer_task is not None and not self.answer_task.done():
            self.answer_task.cancel()
        if self.storing is not None and not self.storing.done():
            # The message being stored lands first, then the erasure removes it too. An
            # answer being stored needs no wait: `chat.answer_store` and the erasure lock the
            # conversation row, so the answer is erased with it or not stored at all.
            await asyncio.wait([self.storing])
        counts = await chat_db(forget)(self.site, self.visitor_id)
        self.conversation_id = None
        self.phase = Phase.EXPLORING.value
        self.has_lead = False
        self.answered = 0
        await self.send_json({"type": "forgotten", "counts": counts})
