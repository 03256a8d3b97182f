"""The chat socket's boundary checks (widget/frames.py) as plain functions."""

import pytest
from django.db import OperationalError

from widget.frames import FrameError, failure_reply, frame_decode


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("[" * 1000 + "]" * 1000, "bad_json"),
        ('{"type":"message","text":' + "[" * 5000 + "]" * 5000 + "}", "bad_json"),
        ('{"type":"message","text":"a\\u0000"}', "invalid_text"),
        ('{"type":"message","text":"\\udfff"}', "invalid_text"),
        ('{"type":"message","\\u0000":"a"}', "invalid_text"),
        ('{"type":"hello\\ud800"}', "invalid_text"),
        ('{"type":1}', "bad_frame"),
    ],
)
def test_it_refuses_frames_it_cannot_handle(raw, code):
    with pytest.raises(FrameError) as err:
        frame_decode(raw)
    assert err.value.code == code


def test_it_accepts_emoji_and_other_real_text():
    frame = frame_decode('{"type":"message","text":"\\ud83d\\ude00 Hyvää päivää \\t!"}')
    assert frame["text"] == "\U0001f600 Hyvää päivää \t!"


def test_it_says_a_message_was_kept_only_when_it_was_stored():
    down = OperationalError("connection refused")
    assert failure_reply(down, kept=True) == (
        "unavailable",
        "The chat is temporarily unavailable; your message was kept. Try again soon.",
    )
    code, message = failure_reply(down, kept=False)
    assert code == "unavailable" and "not saved" in message
    code, message = failure_reply(RuntimeError("bug"), kept=False)
    assert code == "internal_error" and "not saved" in message and "kept" not in message
    code, message = failure_reply(RuntimeError("bug"))
    assert code == "internal_error" and "message" not in message


def test_it_builds_a_new_and_a_stored_answer_frame_with_one_shape():
    """Byte for byte what docs/protocol.md shows: a resent message's stored answer is the
    new-answer frame plus `duplicate`, never asking for an e-mail again."""
    import json

    from widget.frames import answer_frame, error_frame, stored_answer_frame

    sources = [{"url": "https://a.test/p", "title": "P"}]
    new = answer_frame(
        message_id=7,
        conversation_id=3,
        client_message_id="m1",
        text="Hei",
        sources=sources,
        refused=False,
        phase="learning",
        ask_email=True,
    )
    assert json.dumps(new, ensure_ascii=False) == (
        '{"type": "answer", "message_id": 7, "conversation_id": 3, "client_message_id": "m1", '
        '"text": "Hei", "sources": [{"url": "https://a.test/p", "title": "P"}], '
        '"refused": false, "phase": "learning", "ask_email": true}'
    )
    reply = {"message_id": 7, "text": "Hei", "sources": sources, "refused": False}
    again = stored_answer_frame(reply, conversation_id=3, client_message_id="m1", phase="learning")
    assert again == {**new, "ask_email": False, "duplicate": True}
    assert list(again)[-1] == "duplicate"
    assert error_frame("erased", "Gone.", client_message_id="m1") == {
        "type": "error",
        "code": "erased",
        "message": "Gone.",
        "client_message_id": "m1",
    }
