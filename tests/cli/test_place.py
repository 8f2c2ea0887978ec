"""`healthcred place` and `healthcred log` end to end, on the demo's keys and trust folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healthcred.codec.prefix import PLACE_PREFIX
from healthcred.flows.verify import verify_text
from healthcred.trust.folder import load_trust
from tests.helpers.cli import run


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    run("demo", "--out", out)
    return out


def _place(demo: Path, tmp: Path, region: str = "330106") -> Path:
    key = demo / "keys" / "zhejiang.key.pem"
    text = run(
        "place",
        "issue",
        "--key",
        key,
        "--venue-id",
        "hz-mall-01",
        "--name",
        "银泰 北门",
        "--region",
        region,
        "--scene",
        "mall",
        "--png",
        tmp / "place.png",
    ).stdout.strip()
    assert text.startswith(PLACE_PREFIX) and (tmp / "place.png").stat().st_size > 0
    (tmp / "place.txt").write_text(text + "\n")
    return tmp / "place.txt"


def test_place_issue_show_verify(demo: Path, tmp_path: Path) -> None:
    place = _place(demo, tmp_path)
    assert "UNVERIFIED" in run("place", "show", place).output
    assert json.loads(run("place", "show", place, "--json").output)["verified"] is False
    out = run("place", "verify", place, "--trust", demo / "trust").output
    assert out.startswith("VALID  银泰 北门  [hz-mall-01]")
    payload = json.loads(
        run("place", "verify", tmp_path / "place.png", "--trust", demo / "trust", "--json").output
    )
    assert payload["valid"] and payload["scene"] == "mall"
    text = place.read_text().strip()
    assert run("place", "verify", "-", "--trust", demo / "trust", stdin=text).output.startswith("VALID")
    # Code arguments read as for `healthcred family`: an upper-case .TXT too, and an unreadable one is typed.
    (tmp_path / "PLACE.TXT").write_text(text)
    assert run("place", "show", tmp_path / "PLACE.TXT").output.startswith("UNVERIFIED  银泰 北门")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe")
    assert run("place", "show", tmp_path / "binary.txt", code=1).output.startswith("error: [bad_input]")


def test_place_errors_are_typed(demo: Path, tmp_path: Path) -> None:
    shanghai = _place(demo, tmp_path, region="310115")
    bad = json.loads(run("place", "verify", shanghai, "--trust", demo / "trust", "--json", code=1).output)
    assert bad["error"] == "region_not_allowed"
    assert "[bad_base45]" in run("place", "verify", "JKP1:abc", "--trust", demo / "trust", code=1).output
    assert "[bad_prefix]" in run("place", "show", (demo / "codes" / "green-hangzhou.txt"), code=1).output
    failed = run(
        "place",
        "issue",
        "--key",
        demo / "keys" / "zhejiang.key.pem",
        "--venue-id",
        "bad id",
        "--name",
        "x",
        "--region",
        "330106",
        "--scene",
        "mall",
        code=1,
    )
    assert "bad_place_code" in failed.output
    run("place", "issue", "--key", demo / "keys" / "zhejiang.key.pem", "--venue-id", "v", "--name", "x",
        "--region", "330106", "--scene", "casino", code=2)  # fmt: skip


def test_log_record_export_purge_stats(demo: Path, tmp_path: Path) -> None:
    place, db, key = _place(demo, tmp_path), tmp_path / "scans.db", tmp_path / "log.key"
    assert "new log key" in run("log", "init", db, "--key", key).output
    assert "new log key" not in run("log", "init", db, "--key", key).output
    trust = demo / "trust"
    green, red = demo / "codes" / "green-hangzhou.txt", demo / "codes" / "red-ningbo.txt"
    common = ("--key", key, "--trust", trust, "--place", place)
    assert run("log", "record", db, green, *common, "--level", "high").output.startswith("ADMIT")
    assert run("log", "record", db, red, *common, "--level", "high", code=1).output.startswith("DENY")
    assert "[bad_base45]" in run("log", "record", db, "JKM1:abc", *common, code=1).output
    assert run("log", "record", db, green, *common, "--level", "low").output.startswith("NOT_CHECKED")

    stats = json.loads(run("log", "stats", db, "--key", key, "--json").output)
    assert stats["rows"] == 4
    assert stats["outcomes"] == {"admit": 1, "deny": 1, "error": 1, "not_checked": 1}
    assert stats["colours"] == {"green": 2, "red": 1}
    assert "4 rows at 1 places" in run("log", "stats", db, "--key", key).output

    green_id = verify_text(green.read_text().strip(), load_trust(trust)).credential.id
    assert isinstance(green_id, bytes)
    lines = run("log", "export", db, "--key", key, "--credential-id", green_id.hex()).stdout.splitlines()
    assert len(lines) == 2 and {json.loads(line)["outcome"] for line in lines} == {"admit", "not_checked"}
    run("log", "export", db, "--key", key, "--format", "csv", "--out", tmp_path / "all.csv")
    exported = (tmp_path / "all.csv").read_text()
    assert len(exported.splitlines()) == 5 and green_id.hex() not in exported and "张" not in exported
    run("log", "export", db, "--key", key, "--credential-id", "zz", code=2)

    assert "purged 0 rows" in run("log", "purge", db, "--key", key).output
    assert "purged 4 rows" in run("log", "purge", db, "--key", key, "--at", "2099-01-01T00:00:00Z").output
    assert json.loads(run("log", "stats", db, "--key", key, "--json").output)["rows"] == 0


def test_log_refuses_another_key(demo: Path, tmp_path: Path) -> None:
    db = tmp_path / "scans.db"
    run("log", "init", db, "--key", tmp_path / "one.key")
    run("log", "init", tmp_path / "other.db", "--key", tmp_path / "two.key")
    failed = run("log", "stats", db, "--key", tmp_path / "two.key", code=3)
    assert "scan_log_error" in failed.output
    assert "bad_key" in run("log", "stats", db, "--key", tmp_path / "missing.key", code=3).output
