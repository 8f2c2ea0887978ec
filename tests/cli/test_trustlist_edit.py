"""`trustlist build/edit/sign/show` and `trust add/verify/diff` around list history, from the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from healthcred.codec.cbor import dumps, loads
from healthcred.crypto.cose import parse_sign1
from healthcred.crypto.keys import kid_of, load_public_key
from healthcred.trust.lists import ListKey
from tests.helpers.cli import run

SINCE = "2026-01-01T00:00:00+00:00"


def _kid(keys: Path, name: str) -> str:
    return kid_of(load_public_key(keys / f"{name}.pub.pem")).hex()


def _entries(path: Path) -> list[bytes]:
    return [dumps(e) for e in loads(parse_sign1(path.read_bytes()).payload)[ListKey.ENTRIES]]


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    for name in ("root", "zj", "sh", "bj", "zj2"):
        run("keygen", name, "--dir", tmp_path / "keys")
    return tmp_path / "keys"


@pytest.fixture
def v1(keys: Path, tmp_path: Path) -> Path:
    entries = [
        f"--entry={keys / n}.pub.pem={r}" for n, r in (("zj", "330000"), ("sh", "310000"), ("bj", "110000"))
    ]
    out = tmp_path / "src" / "v1.json"
    run(
        "trustlist",
        "build",
        *entries,
        "--version",
        "1",
        "--issued",
        SINCE,
        "--colours",
        "green,yellow",
        "--out",
        out,
    )
    run("trustlist", "sign", out, "--root", keys / "root.key.pem", "--out", tmp_path / "v1.cose")
    return tmp_path / "v1.cose"


def _edit(keys: Path, previous: Path, out: Path, *ops: object) -> Path:
    run(
        "trustlist",
        "edit",
        previous,
        "--anchor",
        keys / "root.pub.pem",
        *ops,
        "--out",
        out.with_suffix(".json"),
    )
    run("trustlist", "sign", out.with_suffix(".json"), "--root", keys / "root.key.pem", "--out", out)
    return out


def test_edit_keeps_every_untouched_entry_byte_for_byte(keys: Path, v1: Path, tmp_path: Path) -> None:
    zj, sh, bj = _entries(v1)
    v2 = _edit(
        keys, v1, tmp_path / "v2.cose",
        "--retire", _kid(keys, "sh"), "--effective", "2026-06-01T00:00:00Z",
        "--grant", f"{_kid(keys, 'bj')}=110100", "--kinds", "paper",
        "--add", f"{keys / 'zj2.pub.pem'}=330000",
    )  # fmt: skip
    after = _entries(v2)
    assert after[0] == zj and after[1] != sh and after[2] != bj and len(after) == 4
    shown = json.loads(run("trustlist", "show", "--json", v2, "--anchor", keys / "root.pub.pem").output)
    assert shown["version"] == 2 and shown["id"] == "national"
    retired, regranted, added = shown["entries"][1:]
    assert retired["not_after"] == "2026-06-01T00:00:00+00:00" and retired["statuses"] == [1, 2]
    assert (regranted["region"], regranted["kinds"], regranted["statuses"]) == ("110100", [3], [1, 2])
    assert (added["kinds"], added["statuses"], added["roles"]) == ([3], "any", ["issue"])
    assert shown["issued_at"].endswith("+00:00")


def test_rotate_retires_the_old_key_and_hands_its_grant_on(keys: Path, v1: Path, tmp_path: Path) -> None:
    v2 = _edit(keys, v1, tmp_path / "v2.cose", "--rotate", f"{_kid(keys, 'sh')}={keys / 'zj2.pub.pem'}")
    shown = json.loads(run("trustlist", "show", "--json", v2, "--anchor", keys / "root.pub.pem").output)
    old, new = shown["entries"][1], shown["entries"][3]
    assert new["kid"] == _kid(keys, "zj2") and new["region"] == "310000" and new["statuses"] == [1, 2]
    assert old["not_after"] == new["not_before"]


def test_edit_refuses_unknown_kids_known_keys_bad_regions_and_old_versions(
    keys: Path, v1: Path, tmp_path: Path
) -> None:
    edit = ["trustlist", "edit", v1, "--anchor", keys / "root.pub.pem", "--out", tmp_path / "x.json"]
    assert "no key with kid" in run(*edit, "--retire", "00" * 8, code=2).output
    assert "on the list already" in run(*edit, "--add", f"{keys / 'zj.pub.pem'}=330000", code=2).output
    assert "GB/T 2260 table" in run(*edit, "--add", f"{keys / 'zj2.pub.pem'}=999999", code=2).output
    assert "not after" in run(*edit, "--version", "1", code=2).output
    assert "allowed: health_status" in run(*edit, "--kinds", "vaccine", code=2).output
    assert "roles are issue, delegate, rules" in run(*edit, "--roles", "boss", code=2).output
    assert "--anchor" in run("trustlist", "edit", v1, "--out", tmp_path / "x.json", code=2).output
    assert not (tmp_path / "x.json").exists()
    run(*edit)
    assert "--force" in run(*edit, code=2).output  # never overwrites silently


def test_a_built_source_carries_to_another_machine_with_its_keys(
    keys: Path, v1: Path, tmp_path: Path
) -> None:
    source = json.loads((tmp_path / "src" / "v1.json").read_text())
    assert source["entries"][0]["key"] == "../keys/zj.pub.pem"  # relative to the JSON's folder
    offline = tmp_path / "offline"
    shutil.copytree(tmp_path / "src", offline / "src")
    shutil.copytree(keys, offline / "keys")
    run(
        "trustlist",
        "sign",
        offline / "src" / "v1.json",
        "--root",
        keys / "root.key.pem",
        "--out",
        offline / "v1.cose",
    )
    assert _entries(offline / "v1.cose") == _entries(v1)
    embedded = tmp_path / "embedded.json"
    run(
        "trustlist",
        "build",
        f"--entry={keys / 'zj.pub.pem'}=330000",
        "--version",
        "1",
        "--embed",
        "--out",
        embedded,
    )
    assert "BEGIN PUBLIC KEY" in json.loads(embedded.read_text())["entries"][0]["public_key"]


def test_sign_refuses_an_unknown_field_naming_the_allowed_ones(v1: Path, keys: Path, tmp_path: Path) -> None:
    path = tmp_path / "src" / "v1.json"
    source = json.loads(path.read_text())
    path.write_text(json.dumps({**source, "kinds": [1]}))
    failed = run(
        "trustlist", "sign", path, "--root", keys / "root.key.pem", "--out", tmp_path / "x.cose", code=1
    )
    assert "unknown field 'kinds' in the file; allowed: id, version" in failed.output
    path.write_bytes(b"\xff\xfe binary")
    assert (
        "not UTF-8"
        in run(
            "trustlist", "sign", path, "--root", keys / "root.key.pem", "--out", tmp_path / "x.cose", code=1
        ).output
    )


def test_trust_add_shows_the_diff_refuses_a_narrowing_and_force_says_what_it_overrode(
    keys: Path, v1: Path, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    run("trust", "init", gate, "--anchor", keys / "root.pub.pem")
    run("trust", "add", gate, v1)
    narrowed = _edit(keys, v1, tmp_path / "v2.cose", "--grant", _kid(keys, "zj"), "--colours", "green")
    failed = run("trust", "add", gate, narrowed, code=1)
    assert f"~ key {_kid(keys, 'zj')} statuses: [1, 2] → [1]" in failed.output
    assert "colours narrowed {1, 2} → {1}" in failed.output and "[would_invalidate]" in failed.output
    assert sorted(p.name for p in (gate / "lists").iterdir()) == ["v1.cose"]
    diff = json.loads(run("trust", "diff", "--json", gate, gate).output)
    assert diff["count"] == 0
    forced = run("trust", "add", gate, narrowed, "--force")
    assert "overridden with --force: key" in forced.output
    assert sorted(p.name for p in (gate / "lists").iterdir()) == ["v1.cose", "v2.cose"]


def test_trust_diff_json_names_each_change(keys: Path, v1: Path, tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        run("trust", "init", folder, "--anchor", keys / "root.pub.pem")
        run("trust", "add", folder, v1)
    v2 = _edit(keys, v1, tmp_path / "v2.cose", "--retire", _kid(keys, "bj"), "--effective", SINCE)
    run("trust", "add", new, v2, "--force")
    diff = json.loads(run("trust", "diff", "--json", old, new).output)
    kinds = [c["change"] for c in diff["changes"]]
    assert kinds == ["version", "changed"] and diff["count"] == 2
    assert diff["changes"][1]["field"] == "not_after" and diff["changes"][1]["kid"] == _kid(keys, "bj")
    (why,) = diff["would_invalidate"]
    assert _kid(keys, "bj") in why


def test_trust_verify_warns_and_exits_3_only_for_a_broken_folder(
    keys: Path, v1: Path, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    run("trust", "init", gate, "--anchor", keys / "root.pub.pem")
    empty = json.loads(run("trust", "verify", "--json", gate).output)
    assert empty["usable"] and empty["lists"] == 0
    assert any("no trust lists" in w for w in empty["warnings"])
    assert any("has signed no list" in w for w in empty["warnings"])
    run("trust", "add", gate, v1)
    soon = run("trust", "verify", gate, "--at", "2026-01-29T00:00:00Z").output
    assert "warning: list 'national' v1 expires 2026-01-31T00:00:00+00:00, within 7 days" in soon
    assert (
        "warning"
        not in run("trust", "verify", gate, "--at", "2026-01-02T00:00:00Z", "--expiring-days", "3").output
    )
    expired = json.loads(
        run("trust", "verify", "--json", gate, "--at", "2026-03-01T00:00:00Z", code=3).output
    )
    assert not expired["usable"] and "expired 2026-01-31T00:00:00+00:00" in expired["problems"][0]
    assert "no such file" in run("trust", "verify", tmp_path / "missing", code=3).output
    (gate / "lists" / "v1.cose").write_bytes(b"junk")
    assert "trust folder" in run("trust", "verify", gate, code=3).output
