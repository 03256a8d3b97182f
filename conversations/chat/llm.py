"""Streaming a model answer through litellm, with the time limits a chat can live with.

Call only from async code on the event loop (never inside `database_sync_to_async`: that
would hold the process's single DB thread for the whole answer). Any litellm model name works
(`settings.CLOOP_LLM_MODEL`); the default is the offline provider in `offline.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import litellm
from django.conf import settings

from conversations.chat.offline import PROVIDER as OFFLINE_PROVIDER
from conversations.chat.offline import offline_register

log = logging.getLogger(__name__)

MAX_TOKENS = 400

litellm.drop_params = True  # provider-specific params are dropped rather than failing a chat
litellm.suppress_debug_info = True
# Message text never goes to litellm's logging callbacks, and streams skip its per-chunk
# logging bookkeeping (Cloop registers no callbacks; the work is pure overhead per token).
litellm.turn_off_message_logging = True
litellm.disable_streaming_logging = True
offline_register()


class LLMError(Exception):
    """The model could not give an answer. `code` goes to the visitor; a retry may succeed."""

    def __init__(self, code: str, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


def llm_model() -> str:
    return settings.CLOOP_LLM_MODEL


def llm_decides(model: str) -> bool:
    """Whether `model` reads the passages and says itself when they hold no answer (prompt
    rule 4's NO_ANSWER): any real model. The offline answerer only copies sentences, so for
    it Cloop keeps deciding before the call (conversations.chat.answer.answer_refused)."""
    return not model.startswith(f"{OFFLINE_PROVIDER}/")


def _timeouts() -> tuple[float, float]:
    return float(settings.CLOOP_LLM_FIRST_TOKEN_TIMEOUT), float(settings.CLOOP_LLM_TOTAL_TIMEOUT)


async def llm_stream(
    messages: list[dict], *, model: str | None = None, max_tokens: int = MAX_TOKENS
) -> AsyncIterator[str]:
    """Yield the answer's text pieces as they arrive (at most `max_tokens` of them).

    Raises LLMError("model_timeout") if no text arrives within the first-token limit (15 s) or
    the whole answer takes longer than the total limit (60 s), and LLMError("model_error") for
    any provider failure. Provider error details are logged by type only (they can echo input).
    """
    model = model or llm_model()
    first_limit, total_limit = _timeouts()
    loop = asyncio.get_running_loop()
    started = loop.time()
    first_deadline = started + first_limit
    total_deadline = started + total_limit
    stream = None
    got_text = False
    try:
        try:
            async with asyncio.timeout_at(min(first_deadline, total_deadline)):
                stream = await litellm.acompletion(
                    model=model,
                    messages=messages,
                    stream=True,
                    timeout=total_limit,
                    max_tokens=max_tokens,
                    temperature=0.2,
                    num_retries=0,
                )
            iterator = stream.__aiter__()
            while True:
                deadline = total_deadline if got_text else min(first_deadline, total_deadline)
                async with asyncio.timeout_at(deadline):
                    try:
                        chunk = await iterator.__anext__()
                    except StopAsyncIteration:
                        break
                text = _chunk_text(chunk)
                if text:
                    got_text = True
                    yield text
        except TimeoutError:
            what = "the first words" if not got_text else "the whole answer"
            raise LLMError(
                "model_timeout", f"The answer service took too long to send {what}. Try again."
            ) from None
        except LLMError:
            raise
        except Exception as exc:
            log.warning("model call failed: %s (model %s)", type(exc).__name__, model)
            raise LLMError(
                "model_error", "The answer service is not available right now. Try again."
            ) from None
    finally:
        if stream is not None and hasattr(stream, "aclose"):
            # Closing a broken stream is best effort.
            with contextlib.suppress(Exception):
                await stream.aclose()


def _chunk_text(chunk) -> str:
    try:
        delta = chunk.choices[0].delta
    except (AttributeError, IndexError):
        return ""
    return getattr(delta, "content", None) or ""
