"""`trust` and `trustlist`: one JSON object per writing command, `-` (stdin) for every file input,
and `trust rotate --effective` (its old `--at` still works, with a warning)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from healthcred.cli.exits import REFUSED, USAGE
from healthcred.crypto.keys import kid_of, load_public_key
from healthcred.trust.envelope import Anchor
from healthcred.trust.folder import load_trust
from healthcred.trust.lists import parse_trust_list
from tests.helpers.cli import run

T1 = "2026-06-01T00:00:00+00:00"


def run_json(*args: object, stdin: bytes | None = None, code: int = 0) -> dict[str, Any]:
    payload = json.loads(run(*args, "--json", stdin=stdin, code=code).stdout)
    assert isinstance(payload, dict)
    return payload


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo"
    run("demo", "--out", out)
    return out


def _kid(pub: Path) -> str:
    return kid_of(load_public_key(pub)).hex()


def _root_pub(demo: Path) -> Path:
    return demo / "trust" / "anchors" / "national-root.pem"


def _list(demo: Path) -> Path:
    return demo / "trust" / "lists" / "national.cose"


def _fresh_folder(demo: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "gate"
    run("trust", "init", folder, "--anchor", _root_pub(demo))
    return folder


def test_trust_init_json_names_the_folder_and_an_anchor_read_from_stdin(demo: Path, tmp_path: Path) -> None:
    pub = _root_pub(demo)
    report = run_json("trust", "init", tmp_path / "t", "--anchor", "-", stdin=pub.read_bytes())
    assert report == {"folder": str(tmp_path / "t"), "anchors": [_kid(pub)]}
    assert [a.kid.hex() for a in load_trust(tmp_path / "t").anchors] == [_kid(pub)]


def test_trust_add_json_reports_where_a_list_from_stdin_went_and_the_diff(demo: Path, tmp_path: Path) -> None:
    folder = _fresh_folder(demo, tmp_path)
    data = _list(demo).read_bytes()
    report = run_json("trust", "add", folder, "-", stdin=data)
    placed = f"lists/stdin-{hashlib.sha256(data).hexdigest()[:12]}.cose"
    assert report["files"] == [{"input": "stdin", "placed": placed, "new": True}]
    assert (folder / placed).read_bytes() == data
    assert report["added"] == 1 and report["lists"] == 1 and report["would_invalidate"] == []
    assert {c["change"] for c in report["changes"]} == {"version", "added"}
    assert report["count"] == len(report["changes"]) and report["forced"] is False
    again = run_json("trust", "add", folder, "-", stdin=data)  # the same file: nothing new
    assert again["added"] == 0 and again["files"][0]["new"] is False and again["changes"] == []


def _compromised_v2(demo: Path, tmp_path: Path) -> Path:
    # v2 marks Zhejiang compromised from long before now: codes it already signed would fail.
    zhejiang = _kid(demo / "keys" / "zhejiang.pub.pem")
    draft, signed = tmp_path / "v2.json", tmp_path / "v2.cose"
    run(
        "trustlist",
        "edit",
        _list(demo),
        "--anchor",
        _root_pub(demo),
        "--compromise",
        zhejiang,
        "--effective",
        "2020-01-01T00:00:00Z",
        "--out",
        draft,
    )
    run("trustlist", "sign", draft, "--root", demo / "keys" / "national-root.key.pem", "--out", signed)
    return signed


def test_a_refusal_of_trust_add_json_carries_its_reasons(demo: Path, tmp_path: Path) -> None:
    folder = _fresh_folder(demo, tmp_path)
    run("trust", "add", folder, _list(demo))
    v2 = _compromised_v2(demo, tmp_path)
    result = run("trust", "add", folder, v2, "--json", code=REFUSED)
    report = json.loads(result.stdout)
    assert report["error"]["code"] == "would_invalidate" and report["exit"] == REFUSED
    assert len(report["would_invalidate"]) == 1 and "compromised" in report["would_invalidate"][0]
    assert any(c.get("field") == "compromised_at" for c in report["changes"])
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: [would_invalidate]")
    assert not (folder / "lists" / "v2.cose").exists()
    forced = run_json("trust", "add", folder, v2, "--force")
    assert forced["forced"] is True and forced["would_invalidate"] == report["would_invalidate"]


def test_trust_remove_json_names_the_files_removed(demo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "t"
    shutil.copytree(demo / "trust", folder)
    report = run_json("trust", "remove", folder, "national.cose")
    assert report == {"folder": str(folder), "removed": ["lists/national.cose"], "lists": 0}


def test_trust_rotate_json_with_the_list_key_and_new_key_each_from_stdin(demo: Path, tmp_path: Path) -> None:
    root_key, new_pub = demo / "keys" / "national-root.key.pem", demo / "keys" / "shanghai.pub.pem"
    old = _kid(demo / "keys" / "zhejiang.pub.pem")
    base = ("trust", "rotate", "--old", old, "--effective", T1, "--issued", T1)
    listed = run_json(
        *base,
        "-",
        "--root",
        root_key,
        "--new",
        new_pub,
        "--out",
        tmp_path / "a.cose",
        stdin=_list(demo).read_bytes(),
    )
    keyed = run_json(
        *base,
        _list(demo),
        "--root",
        "-",
        "--new",
        new_pub,
        "--out",
        tmp_path / "b.cose",
        stdin=root_key.read_bytes(),
    )
    newed = run_json(
        *base,
        _list(demo),
        "--root",
        root_key,
        "--new",
        "-",
        "--out",
        tmp_path / "c.cose",
        stdin=new_pub.read_bytes(),
    )
    assert (tmp_path / "a.cose").read_bytes() == (tmp_path / "b.cose").read_bytes()
    assert (tmp_path / "a.cose").read_bytes() == (tmp_path / "c.cose").read_bytes()
    assert listed == {**keyed, "file": listed["file"]} == {**newed, "file": listed["file"]}
    assert listed["retired"] == old and listed["compromised"] is False
    assert listed["new"] == {"kid": _kid(new_pub), "region": "330000"}
    assert listed["effective"] == listed["issued_at"] == T1 and listed["version"] == 2
    assert listed["bytes"] == (tmp_path / "a.cose").stat().st_size


def test_rotate_at_still_works_as_effective_with_a_deprecation_warning(demo: Path, tmp_path: Path) -> None:
    base = (
        "trust",
        "rotate",
        _list(demo),
        "--root",
        demo / "keys" / "national-root.key.pem",
        "--old",
        _kid(demo / "keys" / "zhejiang.pub.pem"),
        "--compromised",
    )
    old = run(*base, "--at", T1, "--out", tmp_path / "old.cose")
    assert old.stderr.strip().splitlines() == [
        "warning: `trust rotate --at` is deprecated: use --effective (when the rotation takes effect)"
    ]
    run(*base, "--effective", T1, "--issued", T1, "--out", tmp_path / "new.cose")
    assert (tmp_path / "old.cose").read_bytes() == (tmp_path / "new.cose").read_bytes()
    both = run(*base, "--at", T1, "--effective", T1, "--out", tmp_path / "x.cose", code=USAGE)
    assert "--effective only" in both.stderr
    assert "--at" not in run("trust", "rotate", "-h").stdout  # hidden: the help shows --effective


def test_rotate_effective_alone_keeps_the_list_issued_now(demo: Path, tmp_path: Path) -> None:
    report = run_json(
        "trust",
        "rotate",
        _list(demo),
        "--root",
        demo / "keys" / "national-root.key.pem",
        "--old",
        _kid(demo / "keys" / "zhejiang.pub.pem"),
        "--effective",
        T1,
        "--out",
        tmp_path / "r.cose",
    )
    assert report["effective"] == T1 and report["issued_at"] != T1


def test_trust_revoke_json_with_the_key_from_stdin(demo: Path, tmp_path: Path) -> None:
    key = demo / "keys" / "zhejiang.key.pem"
    report = run_json(
        "trust",
        "revoke",
        "--key",
        "-",
        "--id",
        "ab" * 16,
        "--id",
        "cd" * 16,
        "--version",
        "3",
        "--out",
        tmp_path / "r.cose",
        stdin=key.read_bytes(),
    )
    assert report["revoked"] == 2 and report["unrevoked"] == 0 and report["version"] == 3
    assert report["id"] == "revocations" and report["base"] == 0
    assert report["bytes"] == (tmp_path / "r.cose").stat().st_size
    assert report["issued_at"].endswith("+00:00") and report["expires_at"] > report["issued_at"]


def test_trust_sign_json_with_the_root_from_stdin_and_show_and_verify_read_the_bundle_from_stdin(
    demo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "b.cose"
    report = run_json(
        "trust",
        "sign",
        demo / "trust",
        "--root",
        "-",
        "--version",
        "4",
        "--out",
        out,
        stdin=(demo / "keys" / "national-root.key.pem").read_bytes(),
    )
    assert report["id"] == "national" and report["version"] == 4 and report["lists"] == 1
    assert report["bytes"] == out.stat().st_size and report["revocation_lists"] == 0
    shown = run_json("trust", "show", "-", "--anchor", _root_pub(demo), stdin=out.read_bytes())
    assert [t["id"] for t in shown["lists"]] == ["national"]
    verified = run_json("trust", "verify", "-", "--anchor", _root_pub(demo), stdin=out.read_bytes())
    assert verified["usable"] is True and verified["source"] == "stdin"
    same = run_json("trust", "diff", "-", out, "--anchor", _root_pub(demo), stdin=out.read_bytes())
    assert same["count"] == 0


def test_trustlist_build_json_embeds_a_key_read_from_stdin(demo: Path, tmp_path: Path) -> None:
    pub = demo / "keys" / "zhejiang.pub.pem"
    out = tmp_path / "src" / "list.json"
    report = run_json(
        "trustlist", "build", "--entry", "-=330000", "--version", "5", "--out", out, stdin=pub.read_bytes()
    )
    assert report["entries"] == [{"kid": _kid(pub), "region": "330000"}]
    assert report["version"] == 5 and report["bytes"] == out.stat().st_size
    (entry,) = json.loads(out.read_text())["entries"]
    assert "key" not in entry and "BEGIN PUBLIC KEY" in entry["public_key"]


def test_trustlist_edit_json_reads_a_signed_previous_or_a_draft_from_stdin(
    demo: Path, tmp_path: Path
) -> None:
    sh = demo / "keys" / "shanghai.pub.pem"
    signed = run_json(
        "trustlist",
        "edit",
        "-",
        "--anchor",
        _root_pub(demo),
        "--retire",
        _kid(sh),
        "--effective",
        T1,
        "--out",
        tmp_path / "v2.json",
        stdin=_list(demo).read_bytes(),
    )
    assert signed["version"] == 2 and signed["retired"] == [_kid(sh)] and signed["effective"] == T1
    assert signed["added"] == signed["rotated"] == signed["compromised"] == signed["regranted"] == []
    assert len(signed["entries"]) == 2
    draft = (tmp_path / "v2.json").read_bytes()
    again = run_json(
        "trustlist", "edit", "-", "--grant", f"{_kid(sh)}=310100", "--out", tmp_path / "v2b.json", stdin=draft
    )
    assert again["version"] == 2 and again["regranted"] == [_kid(sh)]


def test_trustlist_sign_json_reads_the_source_or_the_key_from_stdin(demo: Path, tmp_path: Path) -> None:
    root_key = demo / "keys" / "national-root.key.pem"
    run(
        "trustlist",
        "edit",
        _list(demo),
        "--anchor",
        _root_pub(demo),
        "--issued",
        T1,
        "--out",
        tmp_path / "v2.json",
    )
    spec = run_json(
        "trustlist",
        "sign",
        "-",
        "--root",
        root_key,
        "--out",
        tmp_path / "a.cose",
        stdin=(tmp_path / "v2.json").read_bytes(),
    )
    key = run_json(
        "trustlist",
        "sign",
        tmp_path / "v2.json",
        "--root",
        "-",
        "--out",
        tmp_path / "b.cose",
        stdin=root_key.read_bytes(),
    )
    assert (tmp_path / "a.cose").read_bytes() == (tmp_path / "b.cose").read_bytes()
    assert spec == {**key, "file": spec["file"]}
    assert spec["version"] == 2 and spec["issued_at"] == T1 and len(spec["entries"]) == 2
    parsed = parse_trust_list(
        (tmp_path / "a.cose").read_bytes(), [Anchor.from_key(load_public_key(_root_pub(demo)))]
    )
    assert [e.kid.hex() for e in parsed.entries] == [e["kid"] for e in spec["entries"]]


def test_trustlist_show_reads_the_list_from_stdin(demo: Path) -> None:
    report = run_json("trustlist", "show", "-", "--anchor", _root_pub(demo), stdin=_list(demo).read_bytes())
    assert report["id"] == "national" and len(report["entries"]) == 2


TWO_DASHES = {
    "trust init": ("trust", "init", "{tmp}/t", "--anchor", "-", "--anchor", "-"),
    "trust add": ("trust", "add", "{trust}", "-", "-"),
    "trust rotate": ("trust", "rotate", "-", "--root", "-", "--old", "00", "--out", "{tmp}/r.cose"),
    "trust diff": ("trust", "diff", "-", "-", "--anchor", "{root_pub}"),
    "trustlist edit": ("trustlist", "edit", "-", "--anchor", "-", "--out", "{tmp}/e.json"),
    "trustlist sign": ("trustlist", "sign", "-", "--root", "-", "--out", "{tmp}/s.cose"),
    "trustlist build": (
        "trustlist",
        "build",
        "--entry",
        "-=330000",
        "--entry",
        "-=310000",
        "--version",
        "1",
        "--out",
        "{tmp}/b.json",
    ),
}


@pytest.mark.parametrize("name", sorted(TWO_DASHES))
def test_two_inputs_given_as_stdin_are_a_usage_error_before_either_is_read(
    name: str, demo: Path, tmp_path: Path
) -> None:
    shutil.copytree(demo / "trust", tmp_path / "trust")
    values = {"tmp": tmp_path, "trust": tmp_path / "trust", "root_pub": _root_pub(demo)}
    args = [a.format(**values) for a in TWO_DASHES[name]]
    result = run(*args, stdin=_list(demo).read_bytes(), code=USAGE)
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: stdin can hold only one input") and "`-`" in line
