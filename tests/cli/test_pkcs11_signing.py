"""`--key pkcs11:…` on every command that signs, besides `issue`/`national`/`batch` (test_pkcs11).

One SoftHSM2 key plays every part: the national root (the folder's anchor) and the region's key it
grants. Each command signs with it through the token; what it wrote is then checked by the command
that reads it (trust add, verify, place verify, trust verify, trustlist show).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from healthcred import generate_key
from healthcred.crypto.algorithms import Alg
from healthcred.crypto.keys import save_public_key
from tests.helpers.cli import DECLARATION, run
from tests.helpers.softhsm import SoftToken, new_label

HOLDER = ["--name", "张三", "--birth-date", "1990-01-01", "--region", "330106"]


@dataclass(frozen=True)
class TokenWorld:
    """A trust folder anchored at a token key, which the folder's list also grants 330000."""

    uri: str
    kid: str
    public: Path
    trust: Path
    listed: Path
    tmp: Path


@pytest.fixture(scope="module")
def token_world(soft_token: SoftToken, tmp_path_factory: pytest.TempPathFactory) -> TokenWorld:
    tmp = tmp_path_factory.mktemp("token-world")
    uri = soft_token.uri(new_label("root"))
    made = json.loads(run("keygen", "tok", "--dir", tmp, "--pkcs11", uri, "--json").stdout)
    public = tmp / "tok.pub.pem"
    draft = tmp / "list.json"
    run(
        "trustlist",
        "build",
        "--entry",
        f"{public}=330000",
        "--roles",
        "issue,rules",
        "--not-before",
        "2026-01-01T00:00:00Z",
        "--version",
        "1",
        "--out",
        draft,
    )
    listed = tmp / "national.cose"
    run("trustlist", "sign", draft, "--root", uri, "--out", listed)
    trust = tmp / "trust"
    run("trust", "init", trust, "--anchor", public)
    run("trust", "add", trust, listed)
    return TokenWorld(uri, made["kid"], public, trust, listed, tmp)


def issue(world: TokenWorld, doc: str) -> str:
    """A green code signed with the token key (the `issue` path test_pkcs11 covers)."""
    out = run(
        "issue",
        "--key",
        world.uri,
        *HOLDER,
        "--doc-number",
        doc,
        "--status",
        "green",
        "--trust",
        world.trust,
        "--json",
    ).stdout
    return str(json.loads(out)["text"])


def test_trustlist_sign_with_a_token_root_writes_a_list_its_key_verifies(
    token_world: TokenWorld,
) -> None:
    shown = json.loads(
        run("trustlist", "show", token_world.listed, "--anchor", token_world.public, "--json").stdout
    )
    assert shown["signed_by"] == token_world.kid and shown["entries"][0]["kid"] == token_world.kid


def test_place_issue_with_a_token_key_signs_a_verifying_place_code(token_world: TokenWorld) -> None:
    text = run(
        "place",
        "issue",
        "--key",
        token_world.uri,
        "--venue-id",
        "hz-01",
        "--name",
        "北门",
        "--region",
        "330106",
        "--scene",
        "mall",
        "--trust",
        token_world.trust,
    ).stdout.strip()
    assert "VALID" in run("place", "verify", text.splitlines()[-1], "--trust", token_world.trust).stdout


def test_rules_sign_with_a_token_key_writes_a_rule_set_trust_add_installs(token_world: TokenWorld) -> None:
    spec, out = token_world.tmp / "policy.json", token_world.tmp / "policy.cose"
    spec.write_text(run("rules", "default", "policy").stdout)
    run("rules", "sign", spec, "--key", token_world.uri, "--out", out)
    folder = token_world.tmp / "trust-rules"
    run("trust", "init", folder, "--anchor", token_world.public)
    run("trust", "add", folder, token_world.listed)
    run("trust", "add", folder, out)  # verifies the signer (the token key: root and rules role)


def test_trust_revoke_with_a_token_key_writes_a_list_trust_add_installs(token_world: TokenWorld) -> None:
    out = token_world.tmp / "revocations.cose"
    run("trust", "revoke", "--key", token_world.uri, "--id", "00" * 16, "--version", "1", "--out", out)
    folder = token_world.tmp / "trust-revoked"
    run("trust", "init", folder, "--anchor", token_world.public)
    run("trust", "add", folder, token_world.listed)
    run("trust", "add", folder, out)


def test_trust_sign_with_a_token_root_writes_a_bundle_its_anchor_verifies(token_world: TokenWorld) -> None:
    out = token_world.tmp / "bundle.cose"
    run("trust", "sign", token_world.trust, "--root", token_world.uri, "--version", "1", "--out", out)
    run("trust", "verify", out, "--anchor", token_world.public)


def test_trust_rotate_with_a_token_root_and_no_anchor_signs_the_next_version(token_world: TokenWorld) -> None:
    new = token_world.tmp / "next.pub.pem"
    save_public_key(generate_key(Alg.ES256).public_key(), new)
    out = token_world.tmp / "rotated.cose"
    run(
        "trust",
        "rotate",
        token_world.listed,
        "--root",
        token_world.uri,
        "--old",
        token_world.kid,
        "--new",
        new,
        "--out",
        out,
    )
    shown = json.loads(run("trustlist", "show", out, "--anchor", token_world.public, "--json").stdout)
    assert shown["version"] == 2 and shown["signed_by"] == token_world.kid


def test_family_bind_with_a_token_key_signs_a_binding_checked_against_trust(token_world: TokenWorld) -> None:
    guardian, dependent = token_world.tmp / "guardian.txt", token_world.tmp / "dependent.txt"
    guardian.write_text(issue(token_world, "330106199001010011") + "\n")
    dependent.write_text(issue(token_world, "330106201501010013") + "\n")
    out = token_world.tmp / "binding.cose"
    run(
        "family",
        "bind",
        guardian,
        dependent,
        "--relation",
        "parent",
        "--slot",
        "1",
        "--key",
        token_world.uri,
        "--region",
        "330106",
        "--trust",
        token_world.trust,
        "--out",
        out,
    )
    assert out.is_file()


def test_declare_with_a_token_key_issues_a_code_that_verifies(token_world: TokenWorld) -> None:
    declaration = token_world.tmp / "declaration.json"
    declared = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)  # after the list's issue
    body = {**DECLARATION, "declared_at": declared.isoformat()}
    declaration.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    summary = json.loads(
        run(
            "declare", "--declaration", declaration, "--key", token_world.uri, "--region", "330106", "--json"
        ).stdout
    )
    assert "VALID" in run("verify", summary["code"], "--trust", token_world.trust).stdout
