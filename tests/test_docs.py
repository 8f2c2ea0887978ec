"""The docs say what the code does: error table, worked example, README example."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

from healthcred.errors import ERROR_CODES
from tests.helpers.paths import ROOT


def _doc_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docs_{name}", ROOT / "docs" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_errors_page_lists_every_code() -> None:
    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z_0-9]+)` \|", page, flags=re.MULTILINE))
    assert listed == set(ERROR_CODES)
    assert page == _doc_script("errors").page()


def test_format_page_holds_the_current_worked_example() -> None:
    example = _doc_script("example").example()
    assert "Verified at 2026-11-23T01:00:00Z: valid" in example
    assert example in (ROOT / "docs" / "format.md").read_text(encoding="utf-8")


def test_readme_library_example_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [part.split("```", 1)[0] for part in readme.split("```python\n")[1:]]
    assert len(blocks) >= 2
    namespace: dict[str, Any] = {}
    for block in blocks:  # each block continues the one before
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["text"].startswith("JKM1:")
    assert namespace["result"].status.name == "green"
    assert namespace["checked"].kind == "paper"
    assert namespace["pdf"].startswith(b"%PDF")
    assert namespace["held"].relation.name == "GRANDPARENT"


def test_no_tracked_file_holds_a_merge_conflict_marker() -> None:
    # A merge once left <<<<<<< markers in docs/architecture.md; mkdocs renders them without a word.
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    marker = re.compile(r"^(<{7} |>{7} |={7}$)", re.M)
    suffixes = {".md", ".py", ".toml", ".c", ".pyi", ".js", ".css", ".html", ".yml", ".cfg", ".txt", ""}
    found = [
        name
        for name in tracked.stdout.splitlines()
        if Path(name).suffix in suffixes
        and (ROOT / name).is_file()
        and marker.search((ROOT / name).read_text(encoding="utf-8", errors="replace"))
    ]
    assert not found, found
