"""The benchmark scripts run (tiny sizes; they print figures, nothing about speed is asserted)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers.paths import ROOT
from tests.helpers.softhsm import SoftToken

BENCH = ROOT / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_pipeline_bench_runs_quick(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load("bench").main(["--quick", "--rounds", "2", "--ops", "3"]) == 0
    out = capsys.readouterr().out
    for word in ("cryptography ", "cbor2 ", "pynacl ", "pydantic ", "CPUs", "QR version at Q"):
        assert word in out
    assert "EU DCC DE-1 (vaccination)" in out
    summary = out[out.index("\nsummary") :].splitlines()
    for operation, subject in (
        ("verify ES256", "healthcred"),
        ("verify EdDSA", "healthcred"),
        ("issue ES256", "healthcred (key)"),
        ("issue ES256", "healthcred (Signer)"),
        ("issue EdDSA", "healthcred (key)"),
        ("issue EdDSA", "healthcred (Signer)"),
    ):
        lines = [line for line in summary if line.startswith(operation) and f" {subject} " in line]
        assert lines, f"no summary line for {operation} / {subject}"
        assert all(" ratio " in line and " paired " in line for line in lines)
    assert any("raw PyNaCl" in line for line in summary)
    # python-cwt rows are measured or marked skipped, never silently missing.
    assert len([line for line in summary if " python-cwt " in line]) == 2


def test_pipeline_bench_rejects_nonsense_options() -> None:
    with pytest.raises(SystemExit):
        _load("bench").main(["--rounds", "0"])


def test_revocation_bench_runs_small() -> None:
    lines: list[str] = []
    figures = _load("revocation").main(["--entries", "2000", "--probes", "200"], echo=lines.append)
    assert figures["entries"] == 2000
    assert figures["is_revoked (hash + scope) µs"] > 0


def test_rules_bench_runs() -> None:
    lines: list[str] = []
    figures = _load("rules").main(["--rounds", "1"], echo=lines.append)
    assert any(k.startswith("decide") for k in figures) and all(v > 0 for v in figures.values())
    assert lines[-1].startswith("slowest policy decision")


def test_batch_bench_runs_quick(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load("batch").main(["--quick", "--no-pdf"]) == 0
    out = capsys.readouterr().out
    expected = ("codes/s (target ≥ 600", "stage issue", "zxing-cpp / segno", "PNG, segno", "content: 200/200")
    for words in expected:
        assert words in out


def test_batch_throughput_is_a_rate() -> None:
    module = _load("batch")
    assert module.batch_throughput(20, 0) > 0 and module.batch_throughput(40, 2) > 0


def test_startup_bench_runs_quick(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load("startup").main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "load average before" in out and "load average after" in out
    for name in ("import", "help", "verify"):
        assert re.search(rf"^{name} +ratio +[0-9.]+× \(target", out, re.MULTILINE), out
        assert f"\n{name}: " in out and "ms in imports (-X importtime)" in out


def test_hsm_batch_bench_runs_tiny_on_the_test_token(
    soft_token: SoftToken, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--rows", "80", "--rounds", "1", "--token", soft_token.label, "--pin", soft_token.pin]
    assert _load("hsm_batch").main(args) == 0
    out = capsys.readouterr().out
    summary = out[out.index("\nsummary") :].splitlines()
    for name in ("software", "token ×1", "token pool ×2"):
        assert any(line.lstrip().startswith(name) and " ratio " in line for line in summary), name
    assert "load average before" in out


def test_cards_bench_runs_small() -> None:
    cards = _load("cards")
    assert cards.render_group(cards.paper_codes(2)) > 2 * 10_000  # two whole PDFs were made
    assert cards.cards_per_second(3, 1) > 0
    assert cards.cards_per_second(3, 2) > 0
    with pytest.raises(ValueError, match="at least 1"):
        cards.cards_per_second(0, 1)


def test_issue_table_bench_prints_every_row_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # No venv is built here (--no-install, an empty folder): the python-cwt rows must say skipped.
    args = ["--quick", "--no-callgrind", "--no-install", "--cwt-venv", str(tmp_path / "none")]
    assert _load("all").main(args) == 0
    out = capsys.readouterr().out
    assert "load average at start" in out and "load average at end" in out and "nproc " in out
    table = out[out.index("\nresults") :]
    rows = (
        "native ES256 verify ÷ raw cryptography (wall)",
        "native EdDSA verify ÷ raw PyNaCl (wall)",
        "EU DCC (HC1, DE-1) verify ÷ raw verify of its signature (wall)",
        "python-cwt pipeline ÷ healthcred, ES256",
        "python-cwt pipeline ÷ healthcred, EdDSA",
        "codes, 2 workers ÷ 1 (throughput, VerifierPool)",
        "batch issuance, texts + PNGs",
        "printed PDF cards",
        "memory per code: verify",
        "memory per code: issue text + PNG",
        "native ES256 verify, instructions",
        "native EdDSA (÷ libsodium) verify, instructions",
        "HC1 (÷ its own signature) verify, instructions",
    )
    lines = table.splitlines()
    for name in rows:
        found = [i for i, line in enumerate(lines) if name in line]
        assert found, f"no row {name!r}"
        assert "target" in lines[found[0] + 1] and "baseline" in lines[found[0] + 1], name
    assert "python-cwt venv" in table  # why its rows were skipped
    assert "OpenSSL alone, openssl speed -multi 2" in table or "no openssl command" in table
    assert re.search(r"^\d+ met, \d+ MISSED, \d+ borderline, \d+ skipped$", table, re.MULTILINE)


def test_hc1_rows_give_two_verifying_contenders() -> None:
    rows = _load("hc1_rows").hc1_contenders()
    assert [name for name, _ in rows] == [
        "healthcred HC1 verify",
        "raw cryptography ES256 verify (HC1 Sig_structure)",
    ]
    result = rows[0][1]()
    assert result.format.value == "hc1" and result.kid
    assert rows[1][1]() is None


def test_fast_memory_bench_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    from healthcred.codec import fast

    if fast.native is None:
        pytest.skip("the C decoder is not built")
    _load("fast_memory").main(["--rounds", "30"])
    assert "after 30 rounds" in capsys.readouterr().out


def test_openssl_speed_output_gives_the_verify_rate() -> None:
    ceiling = _load("ceiling")
    out = (
        "                              sign    verify    sign/s verify/s\n"
        " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  28409.1   9565.2\n"
    )
    assert ceiling.verifies_per_second(out) == 9565.2
    assert ceiling.verifies_per_second("openssl: unknown algorithm\n") is None
