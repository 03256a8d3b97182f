"""Checks at the chat socket's boundary: decoding a client frame, text PostgreSQL can store,
and telling a database outage apart from a bug. Plain functions; the consumer stays thin.

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
