"""docs/cli.md's walk-through, run as written: a national root to a gate, from the command line alone."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.cli import run_doc_block

DOCS = Path(__file__).parents[2] / "docs" / "cli.md"


def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    run = run_doc_block(DOCS, "From a national root to a gate", tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "OK:" in out  # trust verify
    assert out.count("ADMIT 通行") == 2 and "CHECK_ID 核验证件" in out and "exit 1 (CHECK_ID)" in out
    assert "version 1 → 2" in out and out.count("VALID  GREEN") == 2
    assert "Traceback" not in run.stderr
