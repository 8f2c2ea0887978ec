"""`keygen --pkcs11` and `--key pkcs11:…` through SoftHSM2, as an operator runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from healthcred import KeyGrant, generate_key
from healthcred.crypto.algorithms import Alg
from healthcred.crypto.keys import load_public_key
from tests.helpers.cli import run
from tests.helpers.folders import trust_folder
from tests.helpers.softhsm import SoftToken, new_label
from tests.helpers.world import signed_list, ts

HOLDER = ["--name", "张三", "--birth-date", "1990-01-01", "--doc-number", "33010619900101123X"]


def keygen(token: SoftToken, folder: Path, alg: str = "ES256") -> tuple[str, dict[str, str]]:
    label = new_label("issuer")
    out = run("keygen", "zj", "--alg", alg, "--dir", folder, "--pkcs11", token.uri(label), "--json").stdout
    return label, json.loads(out)


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_keygen_pkcs11_writes_only_the_public_key_and_prints_its_kid(
    soft_token: SoftToken, tmp_path: Path, alg: str
) -> None:
    label, summary = keygen(soft_token, tmp_path, alg)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zj.pub.pem"]
    assert summary["alg"] == alg and len(summary["kid"]) == 16
    assert summary["private"] == f"pkcs11:token={soft_token.label};object={label}"  # no PIN in the output
    from healthcred.crypto.keys import kid_of

    assert kid_of(load_public_key(tmp_path / "zj.pub.pem")).hex() == summary["kid"]


def test_keygen_pkcs11_refuses_a_label_the_token_holds_as_setup(
    soft_token: SoftToken, tmp_path: Path
) -> None:
    label, _ = keygen(soft_token, tmp_path / "a")
    result = run("keygen", "again", "--dir", tmp_path / "b", "--pkcs11", soft_token.uri(label), code=3)
    assert "already holds a key of that name" in result.output
    assert not (tmp_path / "b" / "again.pub.pem").exists()


def test_issue_with_a_token_key_signs_a_code_that_verifies_against_its_trust_folder(
    soft_token: SoftToken, tmp_path: Path
) -> None:
    label, _ = keygen(soft_token, tmp_path)
    now = datetime.now(UTC)
    root = generate_key(Alg.EDDSA)
    grant = KeyGrant(
        load_public_key(tmp_path / "zj.pub.pem"),
        "330000",
        ts(now - timedelta(days=1)),
        ts(now + timedelta(days=30)),
    )
    listed = signed_list(root, [grant], issued_at=now - timedelta(days=1), expires_at=now + timedelta(days=9))
    trust = trust_folder(tmp_path, root, listed)
    key = soft_token.uri(label)
    summary = json.loads(
        run(
            "issue",
            "--key",
            key,
            *HOLDER,
            "--status",
            "green",
            "--region",
            "330106",
            "--trust",
            trust,
            "--json",
        ).stdout
    )
    assert summary["grant_checked"] is True
    assert "VALID" in run("verify", "--trust", trust, summary["text"]).stdout


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("pkcs11:token=healthcred-test;object={label}?pin-value=11111", "refused the PIN (wrong PIN)"),
        ("pkcs11:token=healthcred-test;object=missing-{label}?pin-value=246810", "holds no private key"),
        ("pkcs11:token=healthcred-nowhere;object={label}?pin-value=246810", "has no token labelled"),
    ],
)
def test_a_token_key_that_cannot_sign_is_one_setup_line_exit_3_without_the_pin(
    soft_token: SoftToken, tmp_path: Path, key: str, says: str
) -> None:
    label, _ = keygen(soft_token, tmp_path)
    result = run(
        "issue", "--key", key.format(label=label), *HOLDER, "--status", "green", "--region", "330106", code=3
    )
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: [bad_key] signing key (PKCS#11):"), lines
    assert says in lines[0] and "11111" not in lines[0] and "246810" not in lines[0]


def test_a_malformed_key_uri_is_a_usage_error_naming_the_option() -> None:
    result = run(
        "issue",
        "--key",
        "pkcs11:token=a;colour=x",
        *HOLDER,
        "--status",
        "green",
        "--region",
        "330106",
        code=2,
    )
    assert "'--key'" in result.output and "unknown attribute 'colour'" in result.output
