"""Serve a station's app with uvicorn on 127.0.0.1 only, on a socket bound before serving starts.

Binding first means a port in use is one error line before anything is printed as ready, and
the server never listens on any other interface.
"""

from __future__ import annotations

import socket
from typing import Any

__all__ = ["HOST", "bind", "serve"]

HOST = "127.0.0.1"
"""The only address a station listens on."""


def bind(port: int) -> socket.socket:
    """A listening TCP socket on 127.0.0.1:``port`` (raises ``OSError`` if it cannot be had)."""
    # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every response (headers, then body) waits ~40 ms for a delayed ACK (measured).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    return sock


def serve(app: Any, sock: socket.socket) -> None:
    """Run ``app`` on ``sock`` until interrupted; no access log (codes and numbers stay out of logs)."""
    import uvicorn  # here: only `healthcred station` pays for it

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", server_header=False)
    uvicorn.Server(config).run(sockets=[sock])
