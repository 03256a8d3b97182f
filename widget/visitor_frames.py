"""The chat socket's frames beside questions: `email`, `summary` and `feedback`
(docs/protocol.md), with their rate limits. Mixed into `widget.consumers.ChatConsumer`, whose
state they read and keep (site, visitor, conversation, `has_lead`, the message window) and
whose `send_json` / `send_error` they answer with; the same rules as there apply (DB calls in
the chat DB pool, nothing about the client's address).
"""

from __future__ import annotations

from conversations.chat.feedback import FeedbackError, message_feedback_set
from conversations.chat.limits import MESSAGES_PER_MINUTE, SlidingWindow, visitor_rate_hit
from conversations.chat.threads import chat_db
from conversations.leads import leads
from conversations.leads.summaries import SummaryRefused, summary_queue
from conversations.models import Lead

# Summary e-mails go to an address the visitor types: keep the chat from being a mail cannon.
SUMMARIES_PER_WINDOW = 3
SUMMARY_WINDOW_SECONDS = 600
# Thumbs up/down: a one-row update each, changeable; generous for a person, not a firehose.
FEEDBACK_PER_MINUTE = 30


class VisitorFrames:
    def visitor_frames_init(self) -> None:
        """Per connection (from `connect`)."""
        self.summary_window = SlidingWindow(SUMMARIES_PER_WINDOW, SUMMARY_WINDOW_SECONDS)
        self.feedback_window = SlidingWindow(FEEDBACK_PER_MINUTE, 60)

    async def _limited(self, window: SlidingWindow, kind: str, limit: int, seconds: int) -> bool:
        """True (after telling the client) if this frame is over a rate limit."""
        wait = window.hit()
        if not wait:
            wait = await visitor_rate_hit(
                self.site.schema_name, str(self.visitor_id), limit, kind=kind, window=seconds
            )
        if wait:
            await self.send_error(
                "rate_limited", "Too many requests; wait a moment.", retry_after=int(wait) + 1
            )
        return bool(wait)

    async def on_email(self, frame: dict):
        # E-mail frames share the message budget: each one is a DB write.
        if await self._limited(self.window, "msg", MESSAGES_PER_MINUTE, 60):
            return
        consent_text = self.widget_settings.get("consent_text", "")
        try:
            lead = await chat_db(leads.lead_save)(
                self.site,
                visitor_id=self.visitor_id,
                conversation_id=self.conversation_id,
                email=frame.get("email"),
                marketing_consent=frame.get("marketing_consent") is True,
                consent_text=consent_text,
                source=Lead.Source.WIDGET,
            )
        except leads.LeadError as exc:
            await self.send_error(exc.code, exc.message)
            return
        self.has_lead = True
        await self.send_json(
            {
                "type": "email_saved",
                "email": lead["email"],
                "marketing_consent": lead["marketing_consent"],
            }
        )

    async def on_summary(self, frame: dict):
        if await self._limited(self.window, "msg", MESSAGES_PER_MINUTE, 60):
            return
        if self.conversation_id is None:
            await self.send_error("no_conversation", "There is no conversation to summarise yet.")
            return
        try:
            email = await chat_db(leads.summary_address)(
                self.site,
                visitor_id=self.visitor_id,
                conversation_id=self.conversation_id,
                email=frame.get("email"),
            )
        except leads.LeadError as exc:
            await self.send_error(exc.code, exc.message)
            return
        self.has_lead = self.has_lead or frame.get("email") is not None
        if not email:
            await self.send_error("email_required", "Give an e-mail address for the summary.")
            return
        # Counted only for e-mails actually sent.
        if await self._limited(
            self.summary_window, "summary", SUMMARIES_PER_WINDOW, SUMMARY_WINDOW_SECONDS
        ):
            return
        try:
            # Per address (whoever asks) and per site: the chat is no mail cannon.
            await summary_queue(self.site.schema_name, self.conversation_id, email, self.language)
        except SummaryRefused as exc:
            await self.send_error(exc.code, exc.message, **exc.extra)
            return
        await self.send_json({"type": "summary_sent", "email": email})

    async def on_feedback(self, frame: dict):
        """Thumbs up/down (or null to clear) on one of this visitor's answers."""
        message_id, value = frame.get("message_id"), frame.get("value")
        # Errors name the message (when its id is a number), so a client can tell them
        # from errors about a question it is waiting on.
        echo = {"message_id": message_id} if type(message_id) is int else {}
        wait = self.feedback_window.hit()
        if wait:
            await self.send_error(
                "rate_limited",
                "Too many requests; wait a moment.",
                retry_after=int(wait) + 1,
                **echo,
            )
            return
        try:
            stored = await chat_db(message_feedback_set)(
                self.site, visitor_id=self.visitor_id, message_id=message_id, value=value
            )
        except FeedbackError as exc:
            await self.send_error(exc.code, exc.message, **echo)
            return
        await self.send_json(
            {"type": "feedback_saved", "message_id": message_id, "value": stored or None}
        )
