"""The station over HTTP without a browser: the operator token, origins and hosts, the routes' answers."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from healthcred.codec.qr import render_qr
from tests.station.conftest import GRANDMOTHER_ID, make_demo
from tests.station.serve import Station, start_station


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    with start_station(make_demo(tmp_path_factory.mktemp("http") / "demo")) as station:
        yield station


def _call(
    station: Station, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(f"{station.base}{path}", data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            raw = answer.read()
            status = int(answer.status)
    except urllib.error.HTTPError as refused:
        raw, status = refused.read(), int(refused.code)
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, {"text": raw.decode()}


def _json(value: object) -> tuple[bytes, dict[str, str]]:
    return json.dumps(value).encode(), {"Content-Type": "application/json"}


def _status(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def test_the_operator_routes_refuse_without_the_token(running: Station) -> None:
    base = running.base
    bundle = b"\xd2\x84" + b"\0" * 16
    unauthenticated = [
        urllib.request.Request(f"{base}/api/operator/status"),
        urllib.request.Request(f"{base}/api/operator/export?format=csv"),
        urllib.request.Request(f"{base}/api/operator/trust", data=bundle, method="POST"),
        urllib.request.Request(
            f"{base}/api/operator/config", data=b'{"level": "low"}', method="POST",
            headers={"Content-Type": "application/json"},
        ),
        urllib.request.Request(f"{base}/api/operator/status", headers={"Authorization": "Bearer wrong"}),
    ]  # fmt: skip
    assert [_status(r) for r in unauthenticated] == [401] * len(unauthenticated)
    token = {"Authorization": f"Bearer {running.token}"}
    assert _status(urllib.request.Request(f"{base}/api/operator/status", headers=token)) == 200
    foreign = {**token, "Origin": "http://evil.example", "Content-Type": "application/json"}
    posted = urllib.request.Request(f"{base}/api/operator/config", data=b"{}", method="POST", headers=foreign)
    assert _status(posted) == 403
    rebound = urllib.request.Request(f"{base}/api/operator/status", headers={**token, "Host": "evil.example"})
    assert _status(rebound) == 403
    with urllib.request.urlopen(f"{base}/", timeout=5) as page:
        assert page.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]
        assert page.headers.get("Access-Control-Allow-Origin") is None
        assert running.token not in page.read().decode()


def _frame(text: str | None) -> bytes:
    scene = Image.new("L", (640, 480), 200)
    if text is not None:
        scene.paste(Image.open(io.BytesIO(render_qr(text, scale=5))).convert("L"), (100, 40))
    return scene.tobytes()


def test_a_frame_is_decoded_at_the_station_and_decided_once(running: Station) -> None:
    sizes = {"X-Frame-Width": "640", "X-Frame-Height": "480", "Content-Type": "application/octet-stream"}
    status, answer = _call(running, "/api/frame", _frame(None), sizes)
    assert (status, answer) == (200, {"seen": None})
    red = running.demo.code("red-ningbo")
    status, answer = _call(running, "/api/frame", _frame(red), sizes)
    verdict = answer["verdict"]
    assert status == 200 and isinstance(verdict, dict) and verdict["kind"] == "deny"
    again = {**sizes, "X-Last": str(answer["seen"])}
    assert _call(running, "/api/frame", _frame(red), again) == (200, {"seen": answer["seen"]})
    assert _call(running, "/api/frame", b"\0" * 10, sizes)[0] == 400  # not 640 × 480 bytes
    assert _call(running, "/api/frame", _frame(None), {"X-Frame-Width": "9"})[0] == 400


def test_a_paper_code_is_answered_with_the_id_number(running: Station) -> None:
    body, headers = _json({"text": running.demo.code("paper-grandmother")})
    status, asked = _call(running, "/api/scan", body, headers)
    assert status == 200 and asked["kind"] == "prompt"
    body, headers = _json({"pending": asked["pending"], "number": "12345"})
    status, refused = _call(running, "/api/id", body, headers)
    assert status == 400 and refused["code"] == "bad_id_number"
    body, headers = _json({"pending": asked["pending"], "number": GRANDMOTHER_ID})
    status, admitted = _call(running, "/api/id", body, headers)
    assert (status, admitted["kind"], admitted["id_check"]) == (200, "admit", "matched")


def test_a_guardian_file_is_held(running: Station) -> None:
    family = (running.demo.root / "codes" / "family.family.cbor").read_bytes()
    status, answer = _call(running, "/api/guardian", family, {"Content-Type": "application/octet-stream"})
    assert status == 200 and "1 dependent" in str(answer["message"])
    status, answer = _call(running, "/api/guardian", b"\xd2" + b"\0" * 2000)
    assert status == 400


def test_the_page_is_told_where_to_decode(running: Station) -> None:
    status, answer = _call(running, "/api/counts")
    assert status == 200 and answer["decoder"] == "station" and answer["scene"] == "mall"


def test_bad_requests_are_one_json_error(running: Station) -> None:
    assert _call(running, "/api/scan", b"{", {"Content-Type": "application/json"})[0] == 400
    assert _call(running, "/api/scan", b'{"text": "x"}', {"Content-Type": "text/plain"})[0] == 400
    assert _call(running, "/api/scan", b"x" * 20_000, {"Content-Type": "application/json"})[0] == 400
    assert _call(running, "/api/scan")[0] == 405  # GET: the route takes POST only
    status, answer = _call(running, "/api/scan", *_json({"text": "JKM1:NOT-A-CODE"}))
    assert status == 200 and answer["kind"] == "deny"


def test_the_operator_can_change_the_level_install_trust_and_export(running: Station, tmp_path: Path) -> None:
    token = {"Authorization": f"Bearer {running.token}"}
    body, headers = _json({"level": "low"})
    status, answer = _call(running, "/api/operator/config", body, {**headers, **token})
    assert status == 200 and answer["level"] == "low"
    status, answer = _call(running, "/api/operator/config", *_with(_json({"scene": "moon"}), token))
    assert status == 400
    junk = {**token, "Content-Type": "application/octet-stream"}
    status, answer = _call(running, "/api/operator/trust", b"not a bundle", junk)
    assert status == 400
    status, answer = _call(running, "/api/operator/status", None, token)
    install = answer["last_install"]
    assert isinstance(install, dict) and install["ok"] is False and answer["lists"]
    status, answer = _call(running, "/api/operator/export?format=csv", None, token)
    assert status == 200 and str(answer["text"]).startswith("time,place,credential")


def _with(pair: tuple[bytes, dict[str, str]], extra: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return pair[0], {**pair[1], **extra}
