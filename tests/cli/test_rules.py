"""`healthcred rules`, `declare` and `decide` end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.helpers.cli import DECLARATION, run


def test_rules_declare_decide(tmp_path: Path) -> None:
    run("demo", "--out", tmp_path / "demo")
    trust, keys = tmp_path / "demo" / "trust", tmp_path / "demo" / "keys"
    policy = tmp_path / "policy.json"
    policy.write_text(run("rules", "default", "policy").output)
    assert json.loads(policy.read_text())["kind"] == "policy"
    policy.write_text(json.dumps({**json.loads(policy.read_text()), "version": 2}))
    run("rules", "sign", policy, "--key", keys / "national-root.key.pem", "--out", tmp_path / "policy.cose")
    run("trust", "add", trust, tmp_path / "policy.cose")
    assert "rule set 'seed-policy' (policy) v2" in run("trust", "show", trust).output

    green = trust.parent / "codes" / "green-hangzhou.png"
    out = json.loads(
        run("decide", green, "--trust", trust, "--scene", "mall", "--level", "high", "--json").output
    )
    assert (out["outcome"], out["rule"]) == ("admit", "green")
    red = trust.parent / "codes" / "red-ningbo.txt"
    denied = run(
        "decide", red.read_text().strip(), "--trust", trust, "--scene", "school", "--level", "low", code=1
    )
    assert "red code" in denied.output
    assert "NOT_CHECKED" in run("decide", green, "--trust", trust, "--scene", "mall", "--level", "low").output

    declaration = tmp_path / "declaration.json"
    declaration.write_text(
        json.dumps(
            {**DECLARATION, "declared_at": datetime.now(UTC).isoformat(), "temperature": 38.1},
            ensure_ascii=False,
        )
    )
    result = json.loads(
        run(
            "declare",
            "--declaration",
            declaration,
            "--key",
            keys / "zhejiang.key.pem",
            "--region",
            "330106",
            "--json",
        ).output
    )
    assert result["status"] == "yellow" and result["reasons"] == ["fever"]
    verified = json.loads(run("verify", "--json", "--trust", trust, result["code"]).output)["results"][0]
    assert verified["status"] == "yellow" and verified["reason"] == 23


def test_invalid_rule_set_is_not_signed(tmp_path: Path) -> None:
    run("keygen", "root", "--dir", tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "id": "x",
                "version": 1,
                "kind": "policy",
                "rules": [
                    {
                        "id": "r",
                        "scenes": ["*"],
                        "levels": ["low"],
                        "when": {"nope": [1]},
                        "decision": "admit",
                        "message": "m",
                    }
                ],
            }
        )
    )
    out = run(
        "rules", "sign", bad, "--key", tmp_path / "root.key.pem", "--out", tmp_path / "bad.cose", code=1
    )
    assert "invalid_rule" in out.output and "nope" in out.output
    assert not (tmp_path / "bad.cose").exists()
