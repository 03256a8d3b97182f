"""The chat socket's frames (docs/protocol.md): decoding and checking a client frame, text
PostgreSQL can store, telling a database outage apart from a bug, and building the frames the
server sends. Plain functions; the consumer stays thin.

Why here and not deeper: a NUL character or an unpaired surrogate (`"\\u0000"`, `"\\ud800"`
are valid JSON escapes) cannot be stored in PostgreSQL `text` nor encoded as UTF-8, so a frame
carrying one must be refused before any DB call, with a clear error, whichever field holds it.
"""

from __future__ import annotations

import json

from tenants.middleware import db_unavailable


class FrameError(Exception):
    """A client frame we refuse; `code` and `message` go into the `error` frame."""

    def __init__(self, code: str, message: str, **extra):
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra


def frame_decode(text: str) -> dict:
    """The JSON object of a text frame; FrameError(bad_json | bad_frame | invalid_text).

    Deep nesting makes json.loads raise RecursionError (not a ValueError), so it is caught
    here too: 1,000 nested arrays fit in 2 KB.
    """
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise FrameError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise FrameError("bad_frame", 'A frame is a JSON object with a "type".')
    field = frame_text_problem(frame)
    if field is not None:
        cmid = frame.get("client_message_id")
        # Echoed only if it is itself valid, so the client can match the error to its message.
        extra = {"client_message_id": cmid} if isinstance(cmid, str) and text_valid(cmid) else {}
        raise FrameError(
            "invalid_text",
            f"{field} contains a NUL character or an unpaired surrogate; send plain text.",
            **extra,
        )
    return frame


def text_valid(value: str) -> bool:
    """True if PostgreSQL can store the string and it encodes as UTF-8 (no NUL, no lone
    surrogate)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def frame_text_problem(frame: dict) -> str | None:
    """The name of the first field (at any depth) whose key or string value is not valid
    text, or None. Iterative, so nesting depth does not matter (the frame is at most 8 KiB)."""
    stack: list[tuple[str, object, bool]] = [("", frame, True)]
    while stack:
        name, value, top = stack.pop()
        if isinstance(value, str):
            if not text_valid(value):
                return name or "the frame"
        elif isinstance(value, dict | list):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and not text_valid(key):
                    return name or "a field name"
                stack.append((key if top else name, item, False))
    return None


def failure_reply(exc: BaseException, *, kept: bool | None = None) -> tuple[str, str]:
    """The `error` code and message for a frame that failed unexpectedly. For a chat message
    (`kept` not None) it says whether the message was stored: "kept" only when question_store
    committed it."""
    outcome = ""
    if kept is not None:
        outcome = "; your message was kept" if kept else "; your message was not saved"
    if db_unavailable(exc):
        return "unavailable", f"The chat is temporarily unavailable{outcome}. Try again soon."
    return "internal_error", f"Something went wrong{outcome}. Try again."


# --- frames the server sends (docs/protocol.md): built here only, so each has one shape ---


def error_frame(code: str, message: str, **extra) -> dict:
    """An `error` frame; `extra` (client_message_id, retryable, retry_after, message_id) after
    the message, in the order given."""
    return {"type": "error", "code": code, "message": message, **extra}


def answer_frame(
    *,
    message_id: int | None,
    conversation_id: int | None,
    client_message_id: str | None,
    text: str,
    sources: list,
    refused: bool,
    phase: str,
    ask_email: bool = False,
    duplicate: bool = False,
) -> dict:
    """The `answer` frame: a new answer, or (`duplicate`) one already stored for this message."""
    frame = {
        "type": "answer",
        "message_id": message_id,
        "conversation_id": conversation_id,
        "client_message_id": client_message_id,
        "text": text,
        "sources": sources,
        "refused": refused,
        "phase": phase,
        "ask_email": ask_email,
    }
    if duplicate:
        frame["duplicate"] = True
    return frame


def stored_answer_frame(reply: dict, *, conversation_id, client_message_id, phase) -> dict:
    """The `answer` frame of an answer already stored (`chat.message_as_dict`), sent again
    for a resent message or one another socket answered first."""
    return answer_frame(
        message_id=reply["message_id"],
        conversation_id=conversation_id,
        client_message_id=client_message_id,
        text=reply["text"],
        sources=reply["sources"],
        refused=reply["refused"],
        phase=phase,
        duplicate=True,
    )


MAX_MESSAGE_CHARS = 4000
MAX_CLIENT_ID_CHARS = 64


def message_frame_check(frame: dict) -> tuple[str, str | None]:
    """The (stripped text, client_message_id) of a `message` frame, or FrameError
    (invalid_message | message_too_long), echoing a valid client_message_id."""
    text, cmid = frame.get("text"), frame.get("client_message_id")
    if cmid is not None and (
        not isinstance(cmid, str) or not cmid.strip() or len(cmid) > MAX_CLIENT_ID_CHARS
    ):
        raise FrameError(
            "invalid_message", "client_message_id must be a short string (≤ 64 chars)."
        )
    if not isinstance(text, str) or not text.strip():
        raise FrameError("invalid_message", "The message has no text.", client_message_id=cmid)
    if len(text) > MAX_MESSAGE_CHARS:
        raise FrameError(
            "message_too_long",
            f"A message is at most {MAX_MESSAGE_CHARS} characters.",
            client_message_id=cmid,
        )
    return text.strip(), cmid
