import asyncio

from conversations.chat.streaming import DeltaBatcher, MarkerHold


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def collect(pieces_with_gaps, interval):
    """Feed pieces, moving the injected clock by each gap; return the frames sent."""
    frames = []
    clock = Clock()

    async def send(frame):
        await asyncio.sleep(0)  # a real send yields too
        frames.append(frame)

    async def scenario():
        batcher = DeltaBatcher(send, "c1", interval, clock=clock)
        for piece, gap in pieces_with_gaps:
            await batcher.add(piece)
            clock.now += gap
        await batcher.close()

    asyncio.run(scenario())
    return frames


def test_it_sends_the_first_piece_at_once_and_batches_fast_ones_in_order():
    # An hour-long interval: the held pieces can only leave with close(), whatever the speed.
    pieces = [(f"p{i} ", 0.001) for i in range(60)]
    frames = collect(pieces, interval=3600)
    assert frames[0] == {"type": "delta", "text": "p0 ", "client_message_id": "c1"}
    assert [f["text"] for f in frames] == ["p0 ", "".join(p for p, _ in pieces[1:])]


def test_it_sends_slow_pieces_one_frame_each():
    pieces = [(f"p{i} ", 0.08) for i in range(5)]
    frames = collect(pieces, interval=0.03)
    assert [f["text"] for f in frames] == [p for p, _ in pieces]


def test_it_flushes_a_held_piece_when_the_stream_pauses():
    frames = []
    arrived = asyncio.Event()
    clock = Clock()

    async def send(frame):
        frames.append(frame)
        arrived.set()

    async def scenario():
        batcher = DeltaBatcher(send, "c1", 0.05, clock=clock)
        await batcher.add("a")
        await batcher.add("b")  # within the interval of "a": held for the timer
        assert [f["text"] for f in frames] == ["a"]
        arrived.clear()
        clock.now += 0.05
        # The stream pauses: the timer sends "b" without another piece or close().
        await asyncio.wait_for(arrived.wait(), 30)
        await batcher.add("c")
        await batcher.close()

    asyncio.run(scenario())
    assert [f["text"] for f in frames] == ["a", "b", "c"]


def held(pieces, marker="NO_ANSWER"):
    """(what each piece released, what the end released, whether it was the marker)."""
    hold = MarkerHold(marker)
    shown = [hold.feed(p) for p in pieces]
    return shown, hold.end(), hold.said_marker


def test_it_holds_the_marker_back_however_it_is_split():
    for reply in ["NO_ANSWER", "\n**NO_ANSWER**.", "no_answer", "NO_ANSWER\nSorry, not found."]:
        shown, rest, said = held(list(reply))  # one character per piece
        assert said and "".join(shown) == "" and rest == "", reply


def test_it_releases_an_answer_as_soon_as_it_cannot_be_the_marker():
    shown, rest, said = held(["N", "o", " ", "fees", " apply."])
    assert shown == ["", "", "No ", "fees", " apply."] and rest == "" and not said
    # A reply that stops while it could still be the marker is shown whole at the end.
    shown, rest, said = held(["NO"])
    assert shown == [""] and rest == "NO" and not said
