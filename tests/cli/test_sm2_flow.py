"""SM2 through the CLI: an SM2 root signs the list, an SM2 province issues, a verifier checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from healthcred.cli.main import main
from tests.helpers.sm import needs_sm2, without_tongsuo  # noqa: F401 (a fixture)

pytestmark = needs_sm2

PERSON = ["--name", "张三", "--birth-date", "1980-01-01", "--doc-number", "330101198001011234"]


def run(runner: CliRunner, *args: str) -> str:
    """Run one command; it must succeed. Its stdout."""
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def sm2_province(tmp_path: Path, root_alg: str) -> tuple[CliRunner, Path, str, str]:
    """A trust folder whose list (signed by a ``root_alg`` root) grants an SM2 key 330000; a code it issued.

    Returns the runner, the trust folder, the province key's kid and the code.
    """
    runner, keys, trust = CliRunner(), tmp_path / "keys", tmp_path / "trust"
    made = json.loads(run(runner, "keygen", "zhejiang", "--alg", "sm2", "--dir", str(keys), "--json"))
    assert made["alg"] == "SM2" and len(made["kid"]) == 16
    run(runner, "keygen", "root", "--alg", root_alg, "--dir", str(keys))
    spec = tmp_path / "list.json"
    entry = f"{keys / 'zhejiang.pub.pem'}=330000"
    run(runner, "trustlist", "build", "--entry", entry, "--version", "1", "--out", str(spec))
    (trust / "anchors").mkdir(parents=True)
    (trust / "anchors" / "root.pem").write_bytes((keys / "root.pub.pem").read_bytes())
    signed = str(trust / "lists" / "x.cose")
    run(runner, "trustlist", "sign", str(spec), "--root", str(keys / "root.key.pem"), "--out", signed)
    key = str(keys / "zhejiang.key.pem")
    code = run(runner, "issue", "--key", key, "--status", "green", *PERSON, "--region", "330106").strip()
    return runner, trust, made["kid"], code


@pytest.mark.parametrize("root_alg", ["SM2", "EdDSA"])
def test_a_code_an_sm2_province_issued_verifies(tmp_path: Path, root_alg: str) -> None:
    runner, trust, kid, code = sm2_province(tmp_path, root_alg)
    result = json.loads(run(runner, "verify", "--trust", str(trust), "--json", code))["results"][0]
    assert result["valid"] and result["alg"] == "SM2" and result["kid"] == kid


def test_an_sm2_code_with_a_changed_character_is_refused_in_one_line(tmp_path: Path) -> None:
    runner, trust, _, code = sm2_province(tmp_path, "SM2")
    tampered = code[:-1] + ("0" if code[-1] != "0" else "1")
    result = runner.invoke(main, ["verify", "--trust", str(trust), tampered])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output


def test_demo_with_alg_sm2_runs_the_whole_region_on_sm2(tmp_path: Path) -> None:
    """A region on the national algorithms: an SM2 root and two SM2 provinces sign every object."""
    runner, out = CliRunner(), tmp_path / "demo"
    printed = run(runner, "demo", "--alg", "SM2", "--out", str(out))
    assert "1 anchor (SM2)" in printed and "INVALID" not in printed and "MISMATCH" not in printed
    trust = str(out / "trust")
    assert "OK:" in run(runner, "trust", "verify", trust)
    for name in ("national-root", "zhejiang", "shanghai"):
        assert b"BEGIN PRIVATE KEY" in (out / "keys" / f"{name}.key.pem").read_bytes()
    codes = sorted(str(path) for path in (out / "codes").glob("*.png") if "place" not in path.name)
    checked = json.loads(run(runner, "verify", "--trust", trust, "--json", *codes))["results"]
    assert len(checked) == 4 and all(r["valid"] and r["alg"] == "SM2" for r in checked), checked
    place = json.loads(
        run(runner, "place", "verify", str(out / "codes" / "place-mall.txt"), "--trust", trust, "--json")
    )
    assert place["valid"] and place["alg"] == "SM2", place
    decided = runner.invoke(
        main,
        [
            "decide",
            str(out / "codes" / "green-hangzhou.png"),
            "--trust",
            trust,
            "--scene",
            "mall",
            "--level",
            "high",
        ],
    )
    assert decided.exit_code == 0 and "ADMIT" in decided.output, decided.output


@pytest.mark.usefixtures("without_tongsuo")
def test_demo_with_alg_sm2_on_a_plain_install_says_what_to_install_and_writes_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--alg", "SM2", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 3, result.output
    assert result.output.strip() == (
        "error: [unsupported_alg] --alg: SM2 needs the optional SM2 support: pip install healthcred[sm]"
    )
    assert not (tmp_path / "demo").exists()
