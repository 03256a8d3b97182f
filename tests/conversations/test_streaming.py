import asyncio

from conversations.streaming import DeltaBatcher


def collect(pieces_with_gaps, interval=0.05):
    frames = []

    async def send(frame):
        await asyncio.sleep(0)  # a real send yields too
        frames.append(frame)

    async def scenario():
        batcher = DeltaBatcher(send, "c1", interval)
        for piece, gap in pieces_with_gaps:
            await batcher.add(piece)
            await asyncio.sleep(gap)
        await batcher.close()

    asyncio.run(scenario())
    return frames


def test_it_sends_the_first_piece_at_once_and_batches_fast_ones_in_order():
    pieces = [(f"p{i} ", 0.001) for i in range(60)]
    frames = collect(pieces)
    assert frames[0] == {"type": "delta", "text": "p0 ", "client_message_id": "c1"}
    assert "".join(f["text"] for f in frames) == "".join(p for p, _ in pieces)
    assert 2 <= len(frames) < 20


def test_it_sends_slow_pieces_one_frame_each():
    pieces = [(f"p{i} ", 0.08) for i in range(5)]
    frames = collect(pieces, interval=0.03)
    assert [f["text"] for f in frames] == [p for p, _ in pieces]


def test_it_flushes_a_held_piece_when_the_stream_pauses():
    frames = collect([("a", 0.0), ("b", 0.2), ("c", 0.0)], interval=0.05)
    # "b" arrived within the interval of "a": held, then sent by the timer during the pause.
    assert [f["text"] for f in frames] == ["a", "b", "c"]
