"""docs/cli.md's walk-through, run as written: a national root to a gate, from the command line alone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).parents[2] / "docs" / "cli.md"


def _walkthrough() -> str:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## From a national root to a gate", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, re.S)
    return str(block)


def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    shim = tmp_path / "bin" / "healthcred"  # the command as a user has it, on PATH
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m healthcred "$@"\n')
    shim.chmod(0o755)
    script = tmp_path / "walk.sh"
    script.write_text("set -euo pipefail\n" + _walkthrough())
    env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(
        ["bash", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "OK:" in out  # trust verify
    assert out.count("ADMIT 通行") == 2 and "CHECK_ID 核验证件" in out and "exit 1 (CHECK_ID)" in out
    assert "version 1 → 2" in out and out.count("VALID  GREEN") == 2
    assert "Traceback" not in run.stderr
