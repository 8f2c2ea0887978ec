"""`healthcred trust` and `healthcred national`: an operator's whole workflow through the CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from healthcred import GREEN, CredentialKind, DocumentType, HealthCode, KeyGrant, Subject, issue, verify
from healthcred.crypto.keys import kid_of, load_private_key, load_public_key
from healthcred.regions import NATIONAL_REGION
from healthcred.trust.folder import load_trust
from healthcred.trust.lists import make_trust_list
from tests.helpers.cli import run
from tests.helpers.world import T0, ts


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    folder = tmp_path / "keys"
    for name, alg in (
        ("root", "EdDSA"),
        ("national", "EdDSA"),
        ("zhejiang", "ES256"),
        ("zhejiang2", "ES256"),
    ):
        run("keygen", name, "--alg", alg, "--dir", folder)
    return folder


def _national_list(keys: Path, version: int = 1, **zhejiang: Any) -> bytes:
    root = load_private_key(keys / "root.key.pem")
    grants = [
        KeyGrant(
            load_public_key(keys / "national.pub.pem"),
            NATIONAL_REGION,
            ts(T0),
            2**31,
            kinds=frozenset({CredentialKind.NATIONAL}),
        ),
        KeyGrant(load_public_key(keys / "zhejiang.pub.pem"), "330000", ts(T0), 2**31, **zhejiang),
    ]
    return make_trust_list(root, grants, version=version, issued_at=ts(T0), expires_at=2**31)


def _code(keys: Path, key: str = "zhejiang") -> tuple[HealthCode, str]:
    subject = Subject.create("张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, "330106198503121234")
    credential = HealthCode.create(
        subject=subject, status=GREEN, region="330100", valid_for=timedelta(days=1)
    )
    return credential, issue(credential, load_private_key(keys / f"{key}.key.pem"))


def test_operator_workflow(keys: Path, tmp_path: Path) -> None:
    folder, staging = tmp_path / "gate", tmp_path / "staging"
    staging.mkdir()
    run("trust", "init", folder, "--anchor", keys / "root.pub.pem")
    run("trust", "init", folder, "--anchor", keys / "root.pub.pem", code=2)  # not twice
    (staging / "national-v1.cose").write_bytes(_national_list(keys))
    run("trust", "add", folder, staging / "national-v1.cose")
    credential, text = _code(keys)
    assert verify(text, load_trust(folder)).status == GREEN

    view = json.loads(run("trust", "show", "--json", folder).output)
    assert [t["version"] for t in view["lists"]] == [1] and not view["conflicts"]
    assert "OK" in run("trust", "verify", folder).output

    # Rotate Zhejiang's key: v2 retires the old key and grants the new one.
    old_kid = kid_of(load_public_key(keys / "zhejiang.pub.pem")).hex()
    rotate = [
        "trust",
        "rotate",
        staging / "national-v1.cose",
        "--root",
        keys / "root.key.pem",
        "--old",
        old_kid,
    ]
    run(*rotate, "--new", keys / "zhejiang2.pub.pem", "--out", staging / "national-v2.cose")
    run("trust", "add", folder, staging / "national-v2.cose")
    store = load_trust(folder)
    assert [t.version for t in store.lists] == [2]
    assert verify(text, store).status == GREEN  # issued before the rotation: still valid
    assert verify(_code(keys, "zhejiang2")[1], store).status == GREEN

    # Revoke the credential.
    run(
        "trust",
        "revoke",
        "--key",
        keys / "zhejiang2.key.pem",
        "--id",
        credential.id.hex(),
        "--version",
        "1",
        "--out",
        staging / "revoked.cose",
    )
    run("trust", "add", folder, staging / "revoked.cose")
    out = run("verify", "--json", "--trust", folder, text, code=1).output
    assert json.loads(out)["results"][0]["error"] == "revoked"

    # Bundle the folder, install it in a second verifier, and refuse an older bundle afterwards.
    run(
        "trust",
        "sign",
        folder,
        "--root",
        keys / "root.key.pem",
        "--version",
        "5",
        "--out",
        staging / "b5.cose",
    )
    run(
        "trust",
        "sign",
        folder,
        "--root",
        keys / "root.key.pem",
        "--version",
        "4",
        "--out",
        staging / "b4.cose",
    )
    pharmacy = tmp_path / "pharmacy"
    run("trust", "init", pharmacy, "--anchor", keys / "root.pub.pem")
    run("trust", "add", pharmacy, staging / "b5.cose")
    verified = json.loads(run("verify", "--json", "--trust", pharmacy, text, code=1).output)
    assert verified["results"][0]["error"] == "revoked"
    before = (pharmacy / "bundle.cose").read_bytes()
    failed = run("trust", "add", pharmacy, staging / "b4.cose", code=1)
    assert "trust_list_rollback" in failed.output
    assert (pharmacy / "bundle.cose").read_bytes() == before  # the last good bundle stays
    shown = json.loads(
        run("trust", "show", "--json", staging / "b5.cose", "--anchor", keys / "root.pub.pem").output
    )
    assert shown["revocations"][0]["revoked"] == 1

    # Diff the first state against the current one.
    first = tmp_path / "first"
    run("trust", "init", first, "--anchor", keys / "root.pub.pem")
    run("trust", "add", first, staging / "national-v1.cose")
    diff = run("trust", "diff", first, folder).output
    assert "version 1 → 2" in diff and "+ key" in diff and "not_after" in diff

    # Removing the newest list is refused (it would leave v1, a rollback, and orphan the revocations).
    refused = run("trust", "remove", folder, "national-v2.cose", code=1)
    assert "trust_list_rollback" in refused.output
    assert (folder / "lists" / "national-v2.cose").is_file()
    run("trust", "remove", folder, "revoked.cose")
    assert verify(text, load_trust(folder)).status == GREEN


def test_rollback_of_a_loose_list_is_refused(keys: Path, tmp_path: Path) -> None:
    folder, staging = tmp_path / "gate", tmp_path / "staging"
    staging.mkdir()
    run("trust", "init", folder, "--anchor", keys / "root.pub.pem")
    (staging / "v2.cose").write_bytes(_national_list(keys, version=2))
    (staging / "v1.cose").write_bytes(_national_list(keys, version=1))
    run("trust", "add", folder, staging / "v2.cose")
    (folder / "lists" / "v2.cose").unlink()  # the newer list disappears from disk...
    failed = run("trust", "add", folder, staging / "v1.cose", code=1)  # ...an old one is offered
    assert "trust_list_rollback" in failed.output
    assert not (folder / "lists" / "v1.cose").exists()


def test_compromise_through_rotate(keys: Path, tmp_path: Path) -> None:
    staging = tmp_path / "s"
    staging.mkdir()
    (staging / "v1.cose").write_bytes(_national_list(keys))
    old_kid = kid_of(load_public_key(keys / "zhejiang.pub.pem")).hex()
    rotate = ["trust", "rotate", staging / "v1.cose", "--root", keys / "root.key.pem", "--old", old_kid]
    run(
        *rotate,
        "--compromised",
        "--effective",
        "2026-01-02T00:00:00Z",
        "--valid-days",
        "3650",
        "--out",
        staging / "v2.cose",
    )
    folder = tmp_path / "gate"
    run("trust", "init", folder, "--anchor", keys / "root.pub.pem")
    run("trust", "add", folder, staging / "v2.cose")
    out = run("verify", "--json", "--trust", folder, _code(keys)[1], code=1).output
    assert json.loads(out)["results"][0]["error"] == "key_compromised"


def test_national_command(keys: Path, tmp_path: Path) -> None:
    folder = tmp_path / "gate"
    run("trust", "init", folder, "--anchor", keys / "root.pub.pem")
    (tmp_path / "n.cose").write_bytes(_national_list(keys, kinds=frozenset({1})))
    run("trust", "add", folder, tmp_path / "n.cose")
    source, text = _code(keys)
    national = run(
        "national", text, "--trust", folder, "--key", keys / "national.key.pem", "--png", tmp_path / "n.png"
    ).output.strip()
    summary = json.loads(run("verify", "--json", "--trust", folder, tmp_path / "n.png").output)["results"][0]
    assert summary["kind"] == "national" and summary["source_credential_id"] == source.id.hex()
    assert summary["region"] == NATIONAL_REGION and national.startswith("JKM1:")
    # A regional key is not granted national codes: refused before signing, nothing printed.
    refused = run("national", text, "--trust", folder, "--key", keys / "zhejiang.key.pem", code=1).output
    assert "refused to sign this national code" in refused and "JKM1:" not in refused
