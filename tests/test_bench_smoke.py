"""Smoke test of bench/bench.py: it runs end to end and prints its report. Timings are never asserted."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench.py"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("healthcred_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_quick_run_prints_the_report(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    main: Callable[[list[str]], int] = bench.main
    assert main(["--quick", "--rounds", "2", "--ops", "3"]) == 0
    out = capsys.readouterr().out
    for heading in ("cryptography ", "cbor2 ", "pynacl ", "pydantic ", "CPUs", "summary", "QR version at Q"):
        assert heading in out
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
    # python-cwt rows are either measured or reported as skipped, never silently missing.
    cwt_lines = [line for line in summary if " python-cwt " in line]
    assert len(cwt_lines) == 2


def test_rejects_nonsense_options(bench: ModuleType) -> None:
    with pytest.raises(SystemExit):
        bench.main(["--rounds", "0"])
