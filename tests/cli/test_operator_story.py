"""The operator's story, from the command line alone: a national root, two provinces with kinds and
colours, a delegated city, list v1, a gate, codes, then list v2 adding a key without invalidating a
single earlier code, and a v3 that would invalidate codes refused unless forced."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from healthcred.codec.cbor import dumps, loads
from healthcred.crypto.cose import parse_sign1
from healthcred.crypto.keys import kid_of, load_public_key
from healthcred.trust.lists import ListKey
from tests.helpers.cli import run


def _kid(keys: Path, name: str) -> str:
    return kid_of(load_public_key(keys / f"{name}.pub.pem")).hex()


def _entries(path: Path) -> list[bytes]:
    payload = loads(parse_sign1(path.read_bytes()).payload)
    return [dumps(e) for e in payload[ListKey.ENTRIES]]


def _issue(keys: Path, key: str, region: str, status: str) -> str:
    person = ["--name", "张三", "--birth-date", "1985-03-12", "--doc-number", "330106198503121234"]
    return run(
        "issue", "--key", keys / f"{key}.key.pem", "--status", status, "--region", region, *person
    ).stdout.strip()


def test_publishing_v2_keeps_every_earlier_code_and_a_narrowing_v3_needs_force(tmp_path: Path) -> None:
    keys, drafts, gate = tmp_path / "keys", tmp_path / "drafts", tmp_path / "gate"
    for name in ("root", "zhejiang", "shanghai", "hangzhou", "zhejiang2"):
        run("keygen", name, "--dir", keys)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    since, until = start.isoformat(), (start + timedelta(days=300)).isoformat()

    # v1: Zhejiang issues and delegates, any colour; Shanghai only health codes, green or yellow.
    run(
        "trustlist", "build", "--entry", f"{keys / 'zhejiang.pub.pem'}=330000", "--version", "1",
        "--issued", since, "--kinds", "health_status,paper", "--roles", "issue,delegate",
        "--out", drafts / "v1.json",
    )  # fmt: skip
    run(
        "trustlist", "edit", drafts / "v1.json", "--add", f"{keys / 'shanghai.pub.pem'}=310000",
        "--issued", since, "--kinds", "health_status", "--colours", "green,yellow",
        "--out", drafts / "v1.json", "--force",
    )  # fmt: skip
    assert json.loads((drafts / "v1.json").read_text())["entries"][0]["key"] == "../keys/zhejiang.pub.pem"
    run(
        "trustlist",
        "sign",
        drafts / "v1.json",
        "--root",
        keys / "root.key.pem",
        "--out",
        tmp_path / "v1.cose",
    )

    # Hangzhou, delegated by Zhejiang: its own list, signed by Zhejiang's key, inside Zhejiang's grant.
    run(
        "trustlist", "build", "--id", "zhejiang-cities", "--entry", f"{keys / 'hangzhou.pub.pem'}=330100",
        "--version", "1", "--issued", since, "--not-before", since, "--not-after", until,
        "--kinds", "health_status", "--out", drafts / "cities.json",
    )  # fmt: skip
    run(
        "trustlist",
        "sign",
        drafts / "cities.json",
        "--key",
        keys / "zhejiang.key.pem",
        "--out",
        tmp_path / "cities.cose",
    )

    run("trust", "init", gate, "--anchor", keys / "root.pub.pem")
    run("trust", "add", gate, tmp_path / "v1.cose", tmp_path / "cities.cose")
    assert "OK" in run("trust", "verify", gate).output
    codes = [
        _issue(keys, "zhejiang", "330106", "red"),
        _issue(keys, "shanghai", "310101", "yellow"),
        _issue(keys, "hangzhou", "330102", "green"),
    ]
    for text in codes:
        run("verify", "--trust", gate, text)
    refused = json.loads(
        run("verify", "--json", "--trust", gate, _issue(keys, "shanghai", "310101", "red"), code=1).output
    )
    assert refused["results"][0]["error"] == "status_not_allowed"  # Shanghai's colours hold
    shown = json.loads(run("trust", "show", "--json", gate).output)
    (city,) = [t for t in shown["lists"] if t["delegated"]]
    assert city["entries"][0]["delegated_by"] == _kid(keys, "zhejiang")

    # v2 adds a second Zhejiang key: edit from the signed v1; the old entries keep their bytes.
    run(
        "trustlist", "edit", tmp_path / "v1.cose", "--anchor", keys / "root.pub.pem",
        "--add", f"{keys / 'zhejiang2.pub.pem'}=330000", "--kinds", "health_status",
        "--out", drafts / "v2.json",
    )  # fmt: skip
    run(
        "trustlist",
        "sign",
        drafts / "v2.json",
        "--root",
        keys / "root.key.pem",
        "--out",
        tmp_path / "v2.cose",
    )
    v1, v2 = _entries(tmp_path / "v1.cose"), _entries(tmp_path / "v2.cose")
    assert v2[:2] == v1 and len(v2) == 3
    added = run("trust", "add", gate, tmp_path / "v2.cose").output
    assert "version 1 → 2" in added and f"+ key {_kid(keys, 'zhejiang2')} (330000)" in added
    for text in [*codes, _issue(keys, "zhejiang2", "330100", "green")]:
        run("verify", "--trust", gate, text)

    # v3 retires Shanghai back-dated to before its code was issued: refused, unless --force.
    run(
        "trustlist", "edit", tmp_path / "v2.cose", "--anchor", keys / "root.pub.pem",
        "--retire", _kid(keys, "shanghai"), "--effective", since, "--out", drafts / "v3.json",
    )  # fmt: skip
    run(
        "trustlist",
        "sign",
        drafts / "v3.json",
        "--root",
        keys / "root.key.pem",
        "--out",
        tmp_path / "v3.cose",
    )
    diff = json.loads(run("trust", "diff", "--json", gate, gate).output)
    assert diff == {"changes": [], "count": 0, "would_invalidate": []}
    failed = run("trust", "add", gate, tmp_path / "v3.cose", code=1)
    assert (
        "would_invalidate" in failed.output
        and f"key {_kid(keys, 'shanghai')} (310000) window now ends" in failed.output
    )
    assert not (gate / "lists" / "v3.cose").exists()
    run("verify", "--trust", gate, codes[1])
    forced = run("trust", "add", gate, tmp_path / "v3.cose", "--force").output
    assert "overridden with --force" in forced
    out = json.loads(run("verify", "--json", "--trust", gate, codes[1], code=1).output)
    assert out["results"][0]["error"] == "key_not_valid"


def test_paper_codes_with_id_tags_are_issued_checked_against_the_grant_and_checked_at_a_gate(
    tmp_path: Path,
) -> None:
    """A province issues paper codes (ID-check key, grant checked before signing); a gate with the
    signed policy never admits one without the holder's ID document, and logs every decision."""
    keys, gate = tmp_path / "keys", tmp_path / "gate"
    for name in ("root", "zhejiang"):
        run("keygen", name, "--dir", keys)
    since = (datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)).isoformat()
    run(
        "trustlist", "build", "--entry", f"{keys / 'zhejiang.pub.pem'}=330000", "--version", "1",
        "--issued", since, "--kinds", "health_status,paper,place", "--out", tmp_path / "v1.json",
    )  # fmt: skip
    run(
        "trustlist",
        "sign",
        tmp_path / "v1.json",
        "--root",
        keys / "root.key.pem",
        "--out",
        tmp_path / "v1.cose",
    )
    policy = tmp_path / "policy.json"
    policy.write_text(run("rules", "default", "policy").stdout, encoding="utf-8")
    run("rules", "sign", policy, "--key", keys / "root.key.pem", "--out", tmp_path / "policy.cose")
    run("trust", "init", gate, "--anchor", keys / "root.pub.pem")
    run("trust", "add", gate, tmp_path / "v1.cose", tmp_path / "policy.cose")

    # The ID-check key stays with the issuer and the gates; it is made once, never replaced by mistake.
    id_key = keys / "id-check.json"
    run("idkey", "new", id_key, "--region", "330000")
    assert "exists" in run("idkey", "new", id_key, code=2).output
    number, other = "330106198503121231", "33010619850312124X"
    person = ["--name", "王奶奶", "--birth-date", "1985-03-12", "--doc-number", number]
    paper = ["issue", "--key", keys / "zhejiang.key.pem", "--status", "green", "--paper", "--id-key", id_key]
    text = run(*paper, "--region", "330106", "--trust", gate, *person).stdout.strip()
    # Signing for a region the key is not granted is refused before anything is signed.
    refused = run(*paper, "--region", "310101", "--trust", gate, *person, code=1)
    assert "region_not_allowed" in refused.output and "JKM1:" not in refused.stdout

    shown = run("verify", "--trust", gate, text).stdout
    assert "paper code" in shown and "纸质码" in shown
    at_gate = ["decide", text, "--trust", gate, "--scene", "mall", "--level", "high"]
    assert run(*at_gate, code=1).stdout.startswith("CHECK_ID")  # never ADMIT without the ID document
    assert run(*at_gate, "--id-key", id_key, "--id-number", number).stdout.startswith("ADMIT")
    assert run(*at_gate, "--id-key", id_key, "--id-number", other, code=1).stdout.startswith("DENY")

    log, log_key = tmp_path / "post" / "scans.db", tmp_path / "post" / "log.key"
    run("log", "init", log, "--key", log_key)
    place = run(
        "place", "issue", "--key", keys / "zhejiang.key.pem", "--venue-id", "hz-gate-1", "--name", "社区北门",
        "--region", "330106", "--scene", "mall", "--trust", gate,
    ).stdout.strip()  # fmt: skip
    record = [
        "log",
        "record",
        log,
        text,
        "--key",
        log_key,
        "--trust",
        gate,
        "--place",
        place,
        "--level",
        "high",
    ]
    run(*record, code=1)
    run(*record, "--id-key", id_key, "--id-number", number)
    stats = json.loads(run("log", "stats", log, "--key", log_key, "--json").stdout)
    assert stats["rows"] == 2, stats
