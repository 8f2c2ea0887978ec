"""The pool's frames: what goes in comes out whole and in order, and a gone peer is an ``EOFError``."""

from __future__ import annotations

import os
import selectors
import socket
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcred.flows.frames import Channel, read_frame, send_frame

_HANG = 60.0  # seconds with nothing happening: a hang, not slowness
PAYLOADS = [b"", b"x", os.urandom(70_000), os.urandom(5_000_000), b"last"]  # one far beyond a socket buffer


def _drain(channel: Channel, count: int) -> list[bytes]:
    """``count`` frames from ``channel``, waiting for the socket as the pool does."""
    got: list[bytes] = []
    with selectors.DefaultSelector() as selector:
        selector.register(channel.sock, selectors.EVENT_READ)
        while len(got) < count:
            if not selector.select(timeout=_HANG):
                pytest.fail(f"no frame in {_HANG} s: the channel lost track of one")
            got += [bytes(frame) for frame in channel.receive()]
    return got


def test_frames_from_a_blocking_end_arrive_whole_and_in_order() -> None:
    mine, theirs = socket.socketpair()
    channel = Channel(mine)

    def send_all() -> None:
        for payload in PAYLOADS:
            send_frame(theirs, payload)

    sender = threading.Thread(target=send_all, daemon=True)
    sender.start()
    assert _drain(channel, len(PAYLOADS)) == PAYLOADS
    sender.join()
    theirs.close()
    with pytest.raises(EOFError):
        _drain(channel, 1)
    channel.close()


def test_a_put_never_blocks_and_flush_finishes_the_frame() -> None:
    mine, theirs = socket.socketpair()
    channel = Channel(mine)
    for payload in PAYLOADS:
        channel.put(payload)  # 5 MB with nobody reading: queued, not blocked
    assert channel.sending
    got: list[bytes] = []
    reader = threading.Thread(
        target=lambda: got.extend(bytes(read_frame(theirs)) for _ in PAYLOADS), daemon=True
    )
    reader.start()
    with selectors.DefaultSelector() as selector:
        selector.register(channel.sock, selectors.EVENT_WRITE)
        while channel.sending:
            if not selector.select(timeout=_HANG):
                pytest.fail(f"the socket took nothing in {_HANG} s")
            channel.flush()
    reader.join()
    assert got == PAYLOADS
    theirs.close()
    channel.close()


def test_a_gone_worker_is_an_eof_error_both_ways() -> None:
    mine, theirs = socket.socketpair()
    channel = Channel(mine)
    theirs.close()
    with pytest.raises(EOFError):
        channel.receive()
    with pytest.raises(EOFError, match="gone"):
        channel.put(b"x" * 1_000_000)
    channel.close()


def test_a_frame_cut_short_is_an_eof_error() -> None:
    mine, theirs = socket.socketpair()
    with mine, theirs:
        mine.sendall((100).to_bytes(8, "little") + b"only ten b")
        mine.shutdown(socket.SHUT_WR)
        with pytest.raises(EOFError):
            read_frame(theirs)


@settings(max_examples=200, deadline=None)
@given(
    payloads=st.lists(st.binary(max_size=3_000), max_size=8),
    cuts=st.lists(st.integers(min_value=1, max_value=5_000), max_size=20),
)
def test_frames_arriving_in_any_pieces_come_out_whole(payloads: list[bytes], cuts: list[int]) -> None:
    # The header and the body of a frame may each arrive split over several reads.
    wire = b"".join(len(p).to_bytes(8, "little") + p for p in payloads)
    mine, theirs = socket.socketpair()
    channel = Channel(mine)
    got: list[bytes] = []
    start = 0
    with theirs:
        for cut in [*cuts, len(wire)]:
            piece = wire[start : start + cut]
            start += len(piece)
            if piece:
                theirs.sendall(piece)
            got += [bytes(frame) for frame in channel.receive()]
    assert got == payloads
    channel.close()
