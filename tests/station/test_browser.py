"""The station in a real browser: headless Chromium, its fake camera playing a video of real codes.

The video (``tests/station/video.py``) shows, in order: a green code, a red one, an expired one,
a paper code (the test types its holder's ID number at the prompt, as an ID reader's keyboard
wedge would), a tampered code, a place code, and the green code again. The test checks the
verdicts appear in that order, the scan log holds the right rows with the policy, the operator
routes refuse requests without the token, and every request the page made went to 127.0.0.1.

It measures each code's time from its first video frame to its verdict on screen (the page's
``#stats`` mode stamps frame reads with the frame number the video carries, and verdict renders).
The issue's budget is p95 ≤ 300 ms on this machine; CI asserts a looser bound (the machine is
shared, and a test must not fail on load) unless ``HEALTHCRED_STATION_LATENCY_MS`` sets it.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``.ci/run``); without it the test skips,
unless ``HEALTHCRED_REQUIRE_CHROMIUM=1`` (as in CI) makes that a failure.
``HEALTHCRED_STATION_SCREENSHOTS=DIR`` writes the screenshots docs/station.md shows.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from healthcred.flows.scanlog import close_log, export_text, load_log_key, open_log
from tests.station.conftest import GRANDMOTHER_ID, Demo, make_demo
from tests.station.serve import Station, start_station
from tests.station.video import FPS, Shot, write_y4m

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
# Frames at FPS. The video opens with LEAD frames without a code, as a station runs a while before
# its first person comes: the page has loaded and warmed up (measured: a code in the first second
# after load waits for the page's own start, 100–200 ms more).
# The paper code is followed by PAPER_GAP frames without a code: the next code would drop the
# prompt, and typing 18 digits through the browser's keyboard can take seconds on a loaded machine.
LEAD, HOLD, GAP, PAPER_HOLD, PAPER_GAP, TAIL = 30, 12, 6, 36, 75, 45
SCREENSHOTS = os.environ.get("HEALTHCRED_STATION_SCREENSHOTS")
SHOT_GAP = 30  # with screenshots: the admit and deny verdicts stay on screen while they are taken
LOOSE_LATENCY_MS = 2000.0  # CI's bound: a hang or a broken pipeline, not a slow shared machine
SEQUENCE = [
    ("green-hangzhou", "admit"),
    ("red-ningbo", "deny"),
    ("expired", "deny"),
    ("paper-grandmother", "prompt"),
    ("tampered", "deny"),
    ("place-mall", "place"),
    ("green-hangzhou", "already"),
]
"""The codes the video shows, and the verdict each gets (the paper code's prompt is then answered)."""
SHORT = SEQUENCE[:3]
"""What the page decoder's run shows: decoding is all it changes (and one run fewer keeps CI short)."""


def _browser_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.exists()


pytestmark = pytest.mark.skipif(
    not _browser_available() and os.environ.get("HEALTHCRED_REQUIRE_CHROMIUM") != "1",
    reason="needs Debian's chromium (/usr/bin/chromium) and playwright (.ci/run installs both)",
)


@pytest.fixture(scope="module", params=["station", "page"])
def running(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    decoder: str = request.param  # where frames are decoded: zxing-cpp at the station, or jsQR in the page
    sequence = SEQUENCE if decoder == "station" else SHORT
    root = tmp_path_factory.mktemp(f"browser-{decoder}")
    demo = make_demo(root / "demo")
    shots = [Shot(None, LEAD)]
    for stem, _ in sequence:
        paper, shown = stem.startswith("paper"), len(shots) < 4  # the admit and deny screenshots
        gap = PAPER_GAP if paper else SHOT_GAP if shown and SCREENSHOTS else GAP
        shots += [Shot(demo.code(stem), PAPER_HOLD if paper else HOLD), Shot(None, gap)]
    shots[-1] = Shot(None, TAIL)
    video = root / "camera.y4m"
    starts = write_y4m(video, shots)[1::2]  # the first frame of each code
    with start_station(demo, "--decoder", decoder) as station:
        yield Running(station, video, starts, decoder, sequence)


@dataclass
class Running:
    """The station under test, the camera video and the first frame of each code in it."""

    station: Station
    video: Path
    starts: list[int]
    decoder: str
    sequence: list[tuple[str, str]]

    @property
    def base(self) -> str:
        return self.station.base

    @property
    def demo(self) -> Demo:
        return self.station.demo

    @property
    def token(self) -> str:
        return self.station.token


def _shoot(page: Any, name: str, running: Running, kind: str | None = None) -> None:
    if SCREENSHOTS and running.decoder == "station":  # the default decoder's pages (they look the same)
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"station-{name}.png"))
        if kind is not None:  # the verdict shown is the one named, not the next one already
            assert page.get_attribute("#verdict", "class") == f"k-{kind}"


def _wait_verdicts(page: Any, count: int) -> list[dict[str, Any]]:
    # A function, not a string: the page's CSP forbids eval, which a string predicate needs.
    ready = "(n) => window.__station_stats.verdicts.length >= n"
    page.wait_for_function(ready, arg=count, polling=50, timeout=20_000)
    verdicts: list[dict[str, Any]] = page.evaluate("window.__station_stats.verdicts")
    return verdicts


def _latencies(stats: dict[str, Any], verdicts: list[dict[str, Any]], starts: list[int]) -> list[float]:
    """Each code's first frame → its verdict on screen, in ms (the answered paper prompt left out)."""
    reads = stats["reads"]
    out = []
    for verdict, start in zip((v for v in verdicts if v["first"] is not None), starts, strict=False):
        first = next(r for r in reads if start <= r["frame"] < start + PAPER_HOLD)
        shown_at = first["t"] - (first["frame"] - start) * 1000 / FPS  # when frame `start` was shown
        out.append(verdict["t"] - shown_at)
    return out


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def test_the_station_scans_the_camera_and_shows_each_verdict_in_order(running: Running) -> None:
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={running.video}"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(f"{running.base}/#stats")
            verdicts = _wait_verdicts(page, 1)
            _shoot(page, "admit", running, "admit")
            verdicts = _wait_verdicts(page, 2)
            _shoot(page, "deny", running, "deny")
            full = running.sequence == SEQUENCE
            if full:
                verdicts = _wait_verdicts(page, 4)
                assert verdicts[3]["kind"] == "prompt", verdicts
                _shoot(page, "paper", running, "prompt")
                page.keyboard.type(GRANDMOTHER_ID)  # as the ID card reader's keyboard wedge types it
                page.keyboard.press("Enter")
            verdicts = _wait_verdicts(page, len(running.sequence) + full)
            page.wait_for_selector("#verdict", state="hidden", timeout=5_000)
            _shoot(page, "idle", running)
            stats = page.evaluate("window.__station_stats")
            page.click("#operator-open")
            page.fill("#token", running.token)
            page.press("#token", "Enter")
            page.wait_for_selector("#trust-status table", timeout=5_000)
            assert "seed-policy" in page.inner_text("#trust-status")
            _shoot(page, "operator", running)
        finally:
            browser.close()

    assert stats["decoder"] == running.decoder  # the page decoded where the station told it to
    assert bool(stats["sendLagMs"]) == (running.decoder == "station")
    kinds = [(v["kind"], v["rule"]) for v in verdicts[: len(running.sequence) + full]]
    expected = [kind for _, kind in running.sequence]
    if full:
        expected.insert(4, "admit")  # the paper code, once its holder's ID number matched
        assert kinds[4][1] == "green"
    assert [k for k, _ in kinds] == expected, kinds
    assert kinds[2][1] == "expired"

    assert requests and all(url.startswith(f"{running.base}/") for url in requests), set(requests)

    latencies = _latencies(stats, verdicts, running.starts)
    assert len(latencies) == len(running.sequence)
    budget = float(os.environ.get("HEALTHCRED_STATION_LATENCY_MS", LOOSE_LATENCY_MS))
    decode = sorted(stats["decodeMs"])
    report = {
        "latency_ms": [round(x, 1) for x in latencies],
        "p95_ms": round(_p95(latencies), 1),
        "median_ms": round(sorted(latencies)[len(latencies) // 2], 1),
        "decode_median_ms": round(decode[len(decode) // 2], 1),  # page: jsQR; station: the round trip
        "frames_read": len(stats["reads"]),
        "capture_median_ms": round(sorted(stats["captureMs"])[len(stats["captureMs"]) // 2], 1),
        "callback_lag_median_ms": round(sorted(stats["callbackLagMs"])[len(stats["callbackLagMs"]) // 2], 1),
        "decoder": running.decoder,
    }
    print("station latency", json.dumps(report))
    assert _p95(latencies) <= budget, report
    if full:
        _check_scan_log(running.demo)


def _check_scan_log(demo: Demo) -> None:
    """One row per decision, with the policy: not for "already scanned" or the place code."""
    log = open_log(demo.log, load_log_key(demo.log_key))
    try:
        rows = [json.loads(line) for line in export_text(log).splitlines()]
    finally:
        close_log(log)
    assert [(r["outcome"], r["colour"], r["error"]) for r in rows] == [
        ("admit", "green", None),
        ("deny", "red", None),
        ("error", None, "expired"),
        ("admit", "green", None),  # the paper code, its ID number matched
        ("error", None, rows[4]["error"]),  # the tampered code
    ]
    assert rows[4]["error"] in {"bad_signature", "malformed_cose", "bad_base45", "decompression_failed"}
    assert {r["policy"] for r in rows} == {"seed-policy v1"} and {r["place"] for r in rows} == {
        "HZ-MALL-0001"
    }


def test_chromium_is_there_when_ci_requires_it() -> None:
    if os.environ.get("HEALTHCRED_REQUIRE_CHROMIUM") == "1":
        assert _browser_available(), "HEALTHCRED_REQUIRE_CHROMIUM=1 but chromium or playwright is missing"
    assert shutil.which("chromium") is None or CHROMIUM.exists()
