"""Length-prefixed frames over a stream socket: how a pool and its worker processes talk.

A frame is an 8-byte little-endian length, then that many bytes (a pickle). The worker's end
blocks (:func:`send_frame`, :func:`read_frame`). The pool's end never blocks (:class:`Channel`):
the pool's process verifies codes itself between looks at its workers, and a send that blocked
while its worker was blocked sending a reply would stop both for good.
"""

from __future__ import annotations

import collections
import socket
import struct

__all__ = ["Channel", "read_frame", "send_frame"]

_HEADER = struct.Struct("<Q")
_READ = 1 << 18  # bytes asked of the socket per read: a chunk's outcomes take one or two


def send_frame(sock: socket.socket, payload: bytes) -> None:
    """Send one frame on a blocking socket; :class:`OSError` when the other end is gone."""
    sock.sendall(_HEADER.pack(len(payload)))
    sock.sendall(payload)


def read_frame(sock: socket.socket) -> bytearray:
    """Read one frame from a blocking socket; :class:`EOFError` when the other end closed."""
    (size,) = _HEADER.unpack(_exactly(sock, _HEADER.size))
    return _exactly(sock, size)


def _exactly(sock: socket.socket, size: int) -> bytearray:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        read = sock.recv_into(view[got:])
        if read == 0:
            raise EOFError("the other end closed the connection")
        got += read
    return buffer


class Channel:
    """The pool's end of one worker's socket: frames queued out and read in, never blocking.

    :meth:`put` queues a frame and sends what the socket takes now; :meth:`flush` sends more
    when the socket is writable again; :meth:`receive` returns the frames that have arrived
    whole. Both raise :class:`EOFError` when the worker is gone.
    """

    def __init__(self, sock: socket.socket) -> None:
        """Take ``sock`` (this process's end of a socket pair) and make it non-blocking."""
        sock.setblocking(False)
        self.sock = sock
        self._out: collections.deque[memoryview] = collections.deque()
        self._in = bytearray()

    @property
    def sending(self) -> bool:
        """Whether bytes are still queued to go out (the pool then waits for the socket to take them)."""
        return bool(self._out)

    def put(self, payload: bytes) -> None:
        """Queue one frame and send what the socket takes now."""
        self._out.append(memoryview(_HEADER.pack(len(payload))))
        self._out.append(memoryview(payload))
        self.flush()

    def flush(self) -> None:
        """Send queued bytes until the socket takes no more without waiting."""
        while self._out:
            try:
                sent = self.sock.send(self._out[0])
            except BlockingIOError:
                return
            except OSError as exc:  # a broken pipe or a reset: the worker is gone
                raise EOFError(f"the worker's end is gone ({exc.strerror or exc})") from exc
            if sent == len(self._out[0]):
                self._out.popleft()
            else:
                self._out[0] = self._out[0][sent:]

    def receive(self) -> list[bytearray]:
        """The frames that have arrived whole (none yet: an empty list)."""
        while True:
            try:
                data = self.sock.recv(_READ)
            except BlockingIOError:
                break
            except OSError as exc:
                raise EOFError(f"the worker's end is gone ({exc.strerror or exc})") from exc
            if not data:
                raise EOFError("the worker closed its end")
            self._in += data
            if len(data) < _READ:  # the socket is drained: spare a read that would only say so
                break
        frames: list[bytearray] = []
        start = 0
        while len(self._in) - start >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._in, start)
            end = start + _HEADER.size + size
            if len(self._in) < end:
                break
            frames.append(self._in[start + _HEADER.size : end])
            start = end
        del self._in[:start]
        return frames

    def close(self) -> None:
        """Close this end: the worker reads the end of its input and stops."""
        self.sock.close()
