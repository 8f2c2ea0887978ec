"""The benchmark scripts run (tiny sizes; they print figures, nothing about speed is asserted)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_pipeline_bench_runs_quick() -> None:
    lines: list[str] = []
    rows = _load("bench").main(["--quick", "--rounds", "2"], echo=lines.append)
    names = {row.name for row in rows}
    assert {"verify ES256", "verify EdDSA", "issue ES256", "issue EdDSA"} <= names
    assert all(row.subject_us > 0 and row.baseline_us > 0 for row in rows)
    assert any(line.startswith("QR version at Q") for line in lines)


def test_revocation_bench_runs_small() -> None:
    lines: list[str] = []
    figures = _load("revocation").main(["--entries", "2000", "--probes", "200"], echo=lines.append)
    assert figures["entries"] == 2000
    assert figures["is_revoked (hash + scope) µs"] > 0
