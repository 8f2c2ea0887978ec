"""The station's decisions without HTTP: verdicts, the repeat window, paper codes, guardians, trust."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from healthcred.errors import BadIdNumber, BadInput, HealthCredError
from healthcred.flows.idcheck import load_id_key
from healthcred.flows.places import verify_place
from healthcred.flows.scanlog import ScanLog, close_log, export_text, load_log_key, open_log
from healthcred.station.checkpoint import Checkpoint
from healthcred.station.watch import poll_once
from healthcred.trust.folder import load_trust
from tests.station.conftest import GRANDMOTHER_ID, NEIGHBOUR_ID, Demo


class Clock:
    """A settable clock for the repeat window and prompt expiry."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def log(fresh_demo: Demo) -> Iterator[ScanLog]:
    opened = open_log(fresh_demo.log, load_log_key(fresh_demo.log_key))
    yield opened
    close_log(opened)


def _station(
    demo: Demo, log: ScanLog | None = None, clock: Clock | None = None, repeat_seconds: int = 300
) -> Checkpoint:
    place = verify_place(demo.code("place-mall"), load_trust(demo.trust))
    return Checkpoint(
        demo.trust,
        scene="mall",
        level="high",
        place=place,
        id_key=load_id_key(demo.id_key),
        log=log,
        clock=clock,
        repeat_seconds=repeat_seconds,
    )


def _rows(log: ScanLog) -> list[dict[str, str]]:
    return [json.loads(line) for line in export_text(log).splitlines()]


def test_each_code_gets_its_verdict_and_one_row_with_the_policy(fresh_demo: Demo, log: ScanLog) -> None:
    station = _station(fresh_demo, log)
    kinds = [
        station.scan(fresh_demo.code(stem)).kind
        for stem in ("green-hangzhou", "red-ningbo", "expired", "tampered", "place-mall")
    ]
    assert kinds == ["admit", "deny", "deny", "deny", "place"]
    rows = _rows(log)
    assert [(r["outcome"], r["error"]) for r in rows] == [
        ("admit", None), ("deny", None), ("error", "expired"), ("error", rows[3]["error"]),
    ]  # fmt: skip
    assert rows[3]["error"] in {"bad_signature", "malformed_cose", "bad_base45", "decompression_failed"}
    assert {r["policy"] for r in rows} == {"seed-policy v1"} and {r["place"] for r in rows} == {
        "HZ-MALL-0001"
    }
    assert station.counts() == {"admit": 1, "deny": 1, "not_checked": 0, "error": 2}


def test_the_verdict_names_the_holder_region_colour_and_age(station_demo: Demo) -> None:
    shown = _station(station_demo).scan(station_demo.code("green-hangzhou")).document()
    assert (shown["title_zh"], shown["title_en"]) == ("通行", "ADMIT")
    assert shown["name"] == "张*丰" and shown["region_zh"] == "浙江省杭州市" and shown["colour"] == "green"
    assert shown["age"] == "刚刚 just issued" and "330106198503121234" not in json.dumps(shown)


def test_the_same_code_within_the_window_is_already_scanned_not_a_second_row(
    fresh_demo: Demo, log: ScanLog
) -> None:
    clock = Clock()
    station = _station(fresh_demo, log, clock, repeat_seconds=60)
    green = fresh_demo.code("green-hangzhou")
    assert station.scan(green).kind == "admit"
    clock.now += timedelta(seconds=2)  # the camera lost the code a moment: the same showing
    assert station.scan(green).kind == "admit"
    clock.now += timedelta(seconds=57)
    assert station.scan(green).kind == "already"
    assert station.scan(fresh_demo.code("tampered")).kind == "deny"
    clock.now += timedelta(seconds=6)
    assert station.scan(fresh_demo.code("tampered")).kind == "already"
    clock.now += timedelta(seconds=2)
    assert station.scan(green).kind == "admit"
    assert [r["outcome"] for r in _rows(log)] == ["admit", "error", "admit"]


def test_a_paper_code_asks_for_the_id_number_and_admits_only_on_a_match(
    fresh_demo: Demo, log: ScanLog
) -> None:
    clock = Clock()
    station = _station(fresh_demo, log, clock, repeat_seconds=0)
    paper = fresh_demo.code("paper-grandmother")
    asked = station.scan(paper)
    assert asked.kind == "prompt" and asked.pending and asked.name == "王*英"
    with pytest.raises(BadIdNumber):
        station.answer(asked.pending, "330106194205081228")  # a wrong check digit: typed again
    assert station.answer(asked.pending, GRANDMOTHER_ID).kind == "admit"
    with pytest.raises(BadInput):
        station.answer(asked.pending, GRANDMOTHER_ID)  # answered once only
    clock.now += timedelta(seconds=6)  # shown again after the same-showing moment
    again = station.scan(paper)
    refused = station.answer(again.pending, NEIGHBOUR_ID)
    assert (refused.kind, refused.rule) == ("deny", "id_mismatch")
    clock.now += timedelta(seconds=6)
    third = station.scan(paper)
    station.cancel(third.pending)
    assert [(r["outcome"], r["error"]) for r in _rows(log)] == [
        ("admit", None), ("deny", None), ("error", "id_not_checked"),
    ]  # fmt: skip


def test_a_paper_code_without_an_id_key_is_not_admitted(station_demo: Demo) -> None:
    station = Checkpoint(station_demo.trust, scene="mall", level="high")
    shown = station.scan(station_demo.code("paper-grandmother"))
    assert (shown.kind, shown.rule) == ("check_id", "id_not_checked")


def test_a_new_code_drops_the_open_prompt_as_not_checked(fresh_demo: Demo, log: ScanLog) -> None:
    station = _station(fresh_demo, log)
    asked = station.scan(fresh_demo.code("paper-grandmother"))
    assert station.scan(fresh_demo.code("paper-grandmother")).pending == asked.pending  # the same question
    assert station.scan(fresh_demo.code("red-ningbo")).kind == "deny"
    assert station.scan(fresh_demo.code("paper-grandmother")).kind == "prompt"  # not "already": never decided
    with pytest.raises(BadInput):
        station.answer(asked.pending, GRANDMOTHER_ID)
    assert [(r["outcome"], r["error"]) for r in _rows(log)] == [("error", "id_not_checked"), ("deny", None)]


def test_a_guardians_family_bundle_lets_the_dependents_code_through(station_demo: Demo) -> None:
    station = _station(station_demo)
    family = (station_demo.root / "codes" / "family.family.cbor").read_bytes()
    assert "1 dependent" in station.hold_family(family)
    shown = station.scan(station_demo.code("paper-grandmother"))
    assert shown.kind == "admit" and "grandparent" in shown.via


def test_a_binding_needs_the_guardians_own_code_first(station_demo: Demo) -> None:
    station = _station(station_demo)
    station.hold_binding((station_demo.root / "codes" / "binding-grandmother.cose").read_bytes())
    assert station.scan(station_demo.code("paper-grandmother")).kind == "prompt"  # guardian not seen yet
    assert station.scan(station_demo.code("green-hangzhou")).kind == "admit"
    assert station.scan(station_demo.code("paper-grandmother")).via


def test_a_forged_binding_is_refused(station_demo: Demo) -> None:
    data = bytearray((station_demo.root / "codes" / "binding-grandmother.cose").read_bytes())
    data[-5] ^= 1
    with pytest.raises(HealthCredError):
        _station(station_demo).hold_binding(bytes(data))


def test_scene_and_level_change_the_decision(station_demo: Demo) -> None:
    station = _station(station_demo)
    station.configure(level="low")
    assert station.scan(station_demo.code("yellow-shanghai")).kind == "not_checked"
    with pytest.raises(BadInput):
        station.configure(scene="moon")


def test_status_counts_down_to_expiry_and_warns_before_it(station_demo: Demo) -> None:
    clock = Clock()
    station = _station(station_demo, clock=clock)
    status = station.status()
    assert status["lists"][0]["version"] == 1 and not status["lists"][0]["warning"]
    assert status["policy"]["id"] == "seed-policy" and status["versions"]
    clock.now += timedelta(days=25)
    assert station.status()["lists"][0]["warning"] and station.status()["policy"]["warning"]


def test_an_expired_trust_list_is_the_stations_fault_not_the_persons(station_demo: Demo) -> None:
    clock = Clock()
    station = _station(station_demo, clock=clock)
    clock.now += timedelta(days=40)
    assert station.scan(station_demo.code("green-hangzhou")).kind == "station_error"


def _bundle(demo: Demo, version: int, out: Path) -> bytes:
    from click.testing import CliRunner

    from healthcred.cli.main import main

    args = ["trust", "sign", str(demo.trust), "--root", str(demo.root / "keys" / "national-root.key.pem"),
            "--version", str(version), "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def test_a_bundle_installs_atomically_and_a_bad_one_keeps_the_old_trust(
    fresh_demo: Demo, tmp_path: Path
) -> None:
    station = _station(fresh_demo)
    good = _bundle(fresh_demo, 2, tmp_path / "b2.cose")
    assert station.install(good, "test")["version"] == 2
    trust = station.trust
    with pytest.raises(HealthCredError):
        station.install(good[:-3] + b"xyz", "test")
    assert station.trust is trust and station.status()["last_install"]["ok"] is False
    assert station.scan(fresh_demo.code("green-hangzhou")).kind == "admit"


def test_the_watched_folder_installs_each_new_bundle_once(fresh_demo: Demo, tmp_path: Path) -> None:
    station = _station(fresh_demo)
    watched = tmp_path / "drop"
    watched.mkdir()
    _bundle(fresh_demo, 3, watched / "bundle-3.cose")
    (watched / "junk.cose").write_bytes(b"not a bundle")
    seen: set[tuple[str, int, int]] = set()
    done = poll_once(station, watched, seen)
    assert done[0] == "bundle-3.cose: installed" and done[1].startswith("junk.cose: refused")
    assert poll_once(station, watched, seen) == []
    assert station.status()["last_install"]["ok"] is False  # the last one tried was the junk


def test_export_needs_a_log(station_demo: Demo) -> None:
    with pytest.raises(BadInput):
        _station(station_demo).export()


def test_the_days_counts_come_back_from_the_log_after_a_restart(fresh_demo: Demo, log: ScanLog) -> None:
    _station(fresh_demo, log).scan(fresh_demo.code("green-hangzhou"))
    again = _station(fresh_demo, log)
    assert again.counts()["admit"] == 1
    again.scan(fresh_demo.code("red-ningbo"))
    assert again.counts() == {"admit": 1, "deny": 1, "not_checked": 0, "error": 0}
