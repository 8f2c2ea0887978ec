"""Running the ``healthcred`` command in-process, as the CLI tests do."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from healthcred.cli.main import main

__all__ = ["DECLARATION", "run"]

DECLARATION: dict[str, object] = {
    "subject": {
        "name": "王五",
        "birth_date": "1970-01-01",
        "document_type": 1,
        "document_number": "3301**********0011",
    },
    "document_number": "330106197001010011",
    "declared_at": "2026-11-23T08:00:00+08:00",
}
"""A health declaration in its JSON form, with nothing to declare: `declare` gives it a green code."""


def run(*args: object, code: int = 0, stdin: bytes | str | None = None) -> Result:
    """``healthcred ARGS…`` with ``stdin``: the exit code must be ``code``, and nothing may escape.

    No exception other than the command's own exit, and never a traceback in what it printed.
    """
    result = CliRunner().invoke(main, [str(a) for a in args], input=stdin)
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def run_doc_block(page: Path, heading: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """Run the one ``sh`` block under ``## heading`` of a docs page as written, in ``folder``.

    ``healthcred`` is on PATH as a user has it (a shim running this interpreter's
    ``-m healthcred``); the block runs under ``set -euo pipefail``.
    """
    section = page.read_text(encoding="utf-8").split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, re.S)
    shim = folder / "bin" / "healthcred"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m healthcred "$@"\n')
    shim.chmod(0o755)
    script = folder / "block.sh"
    script.write_text("set -euo pipefail\n" + block)
    env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", str(script)], cwd=folder, env=env, capture_output=True, text=True, timeout=600
    )
