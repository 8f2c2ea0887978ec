"""The station's HTTP face: a Starlette app over one :class:`~healthcred.station.checkpoint.Checkpoint`.

Everything the page needs is served from the package (``static/``); nothing is loaded from
elsewhere, and the headers say so to the browser (CSP ``default-src 'self'``). The app answers
only requests that name this station as their host (``127.0.0.1:PORT`` or ``localhost:PORT``:
a DNS-rebinding page cannot reach it), takes a POST only from its own origin, sends no CORS
headers, and cannot be framed. The operator's routes (``/api/operator/…``) answer only a request
carrying ``Authorization: Bearer TOKEN``, the token printed at start-up: never in a URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from healthcred.crypto.cose import SIGN1_TAG
from healthcred.errors import BadInput, HealthCredError
from healthcred.flows.binding import MAX_BINDING_BYTES
from healthcred.flows.family import MAX_FAMILY_BYTES
from healthcred.station.checkpoint import Checkpoint
from healthcred.station.frames import MAX_FRAME_SIDE, read_frame
from healthcred.station.watch import watch_folder

__all__ = ["DECODERS", "MAX_BUNDLE_BYTES", "SECURITY_HEADERS", "make_app"]

DECODERS = ("station", "page")
"""Where the camera's frames are decoded: at the station (zxing-cpp, the default) or in the page (jsQR)."""

STATIC = Path(__file__).parent / "static"
FONTS = Path(__file__).parent.parent / "fonts"  # the package's CJK font, shared with printing
MAX_BUNDLE_BYTES = 16 * 1024 * 1024
"""Largest trust bundle the operator may upload."""
_MAX_JSON_BYTES = 16 * 1024  # a QR text is ≤ ~4 KB
_COSE_SIGN1_TAG = bytes([0xC0 | SIGN1_TAG])  # CBOR tag 18 (one byte): how every relatives binding starts
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self' blob: mediastream:;"
        " object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(self), microphone=(), geolocation=()",
    "cache-control": "no-store",
}
"""Headers on every response (docs/station.md explains each)."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _Guard:
    """ASGI middleware: the host check, the same-origin check on POST, and the security headers."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        self.app = app
        self.hosts = {f"127.0.0.1:{port}".encode(), f"localhost:{port}".encode()}
        self.origins = {b"http://" + h for h in self.hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        refusal = self._refusal(scope["method"], headers)
        if refusal is not None:
            await _with_headers(JSONResponse({"error": refusal}, status_code=403))(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    (k, v) for k, v in message["headers"] if k.decode().lower() not in SECURITY_HEADERS
                ] + [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
            await send(message)

        await self.app(scope, receive, secured)

    def _refusal(self, method: str, headers: dict[bytes, bytes]) -> str | None:
        if headers.get(b"host") not in self.hosts:
            return "this station answers only as 127.0.0.1 or localhost on its own port"
        if method in ("GET", "HEAD"):
            return None
        origin = headers.get(b"origin")
        if origin is not None and origin not in self.origins:
            return "requests from another origin are refused"
        if origin is None and headers.get(b"sec-fetch-site", b"same-origin") != b"same-origin":
            return "requests from another site are refused"
        return None


def _with_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def _error(status: int, message: str, code: str = "bad_input") -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status)


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused past ``limit`` bytes (never read whole into memory first)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadInput(f"the request is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _json(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadInput("send JSON (Content-Type: application/json)")
    try:
        value = json.loads(await _body(request, _MAX_JSON_BYTES))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput("the request is not JSON") from exc
    if not isinstance(value, dict):
        raise BadInput("the request is a JSON object")
    return value


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadInput(f"{name} is a non-empty string")
    return value


def _dimension(request: Request, name: str) -> int:
    value = request.headers.get(name, "")
    if not value.isdigit() or not 16 <= int(value) <= MAX_FRAME_SIDE:
        raise BadInput(f"{name} is the frame's size in pixels, 16–{MAX_FRAME_SIDE}")
    return int(value)


def make_app(
    station: Checkpoint, token: str, port: int, watch: Path | None = None, decoder: str = "station"
) -> ASGIApp:
    """The station's ASGI app; ``token`` guards the operator routes, ``port`` is the one it serves on.

    ``decoder`` (one of :data:`DECODERS`) tells the page where to decode its camera's frames.
    """
    if decoder not in DECODERS:
        raise BadInput(f"decoder is one of {DECODERS}")
    expected = f"Bearer {token}".encode()

    def operator(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return _error(
                    401, "the operator token is needed (Authorization: Bearer TOKEN)", "unauthorized"
                )
            return await handler(request)

        return guarded

    def answering(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def answered(request: Request) -> Response:
            try:
                return await handler(request)
            except HealthCredError as exc:
                return _error(400, exc.message, exc.code)
            except Exception as exc:  # a bug: one line on the terminal, the page says so
                print(f"internal error in the station: {type(exc).__name__}: {exc}", file=sys.stderr)
                return _error(500, f"internal error: {type(exc).__name__}", "internal")

        return answered

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def scan(request: Request) -> Response:
        verdict = station.scan(_text(await _json(request), "text"))
        return JSONResponse({**verdict.document(), "counts": station.counts()})

    async def frame(request: Request) -> Response:
        # One grey frame from the camera: its code's hash, and the verdict when the page has not
        # sent this code yet (X-Last: the hash of the code it sent last), in one round trip.
        width, height = _dimension(request, "x-frame-width"), _dimension(request, "x-frame-height")
        text = read_frame(await _body(request, MAX_FRAME_SIDE * MAX_FRAME_SIDE), width, height)
        if text is None:
            return JSONResponse({"seen": None})
        seen = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]
        if request.headers.get("x-last") == seen:
            return JSONResponse({"seen": seen})
        verdict = station.scan(text)
        return JSONResponse({"seen": seen, "verdict": {**verdict.document(), "counts": station.counts()}})

    async def answer(request: Request) -> Response:
        body = await _json(request)
        verdict = station.answer(_text(body, "pending"), _text(body, "number"))
        return JSONResponse({**verdict.document(), "counts": station.counts()})

    async def cancel(request: Request) -> Response:
        station.cancel(_text(await _json(request), "pending"))
        return JSONResponse({"counts": station.counts()})

    async def guardian(request: Request) -> Response:
        data = await _body(request, MAX_FAMILY_BYTES)
        is_family = data[:1] != _COSE_SIGN1_TAG  # a binding is a tagged COSE_Sign1; a bundle a CBOR map
        if not is_family and len(data) > MAX_BINDING_BYTES:
            raise BadInput(f"a relatives binding is at most {MAX_BINDING_BYTES} bytes")
        message = station.hold_family(data) if is_family else station.hold_binding(data)
        return JSONResponse({"message": message})

    async def counts(request: Request) -> Response:
        place = {"scene": station.gate.scene, "level": station.gate.level, "decoder": decoder}
        return JSONResponse({"counts": station.counts(), **place})

    async def status(request: Request) -> Response:
        return JSONResponse(station.status())

    async def configure(request: Request) -> Response:
        body = await _json(request)
        scene, level = body.get("scene"), body.get("level")
        if not all(v is None or isinstance(v, str) for v in (scene, level)):
            raise BadInput("scene and level are strings")
        station.configure(scene=scene, level=level)
        return JSONResponse(station.status())

    async def install(request: Request) -> Response:
        data = await _body(request, MAX_BUNDLE_BYTES)
        name = request.headers.get("x-file-name", "upload")[:128]
        return JSONResponse({**station.install(data, f"upload {name}"), "status": station.status()})

    async def export(request: Request) -> Response:
        fmt = request.query_params.get("format", "csv")
        if fmt not in ("csv", "jsonl"):
            raise BadInput("format is csv or jsonl")
        media = "text/csv" if fmt == "csv" else "application/x-ndjson"
        return Response(
            station.export("csv" if fmt == "csv" else "jsonl"),
            media_type=f"{media}; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="scan-log.{fmt}"'},
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = None if watch is None else asyncio.create_task(watch_folder(station, watch))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()

    routes = [
        Route("/", index),
        Route("/api/scan", answering(scan), methods=["POST"]),
        Route("/api/frame", answering(frame), methods=["POST"]),
        Route("/api/id", answering(answer), methods=["POST"]),
        Route("/api/cancel", answering(cancel), methods=["POST"]),
        Route("/api/guardian", answering(guardian), methods=["POST"]),
        Route("/api/counts", counts),
        Route("/api/operator/status", operator(answering(status))),
        Route("/api/operator/config", operator(answering(configure)), methods=["POST"]),
        Route("/api/operator/trust", operator(answering(install)), methods=["POST"]),
        Route("/api/operator/export", operator(answering(export))),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        Mount("/fonts", StaticFiles(directory=FONTS), name="fonts"),
    ]
    return _Guard(Starlette(routes=routes, lifespan=lifespan), port)
