"""MkDocs hook (mkdocs.yml ``hooks:``): every public module of the package has an API page.

The API pages name one layer each (``::: healthcred.trust``) and render its submodules, so a
module split or renamed inside a layer needs no page change. A new top-level module or package
does: this hook warns about one no page names, which fails ``mkdocs build --strict``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.api_pages")

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "healthcred"
UNDOCUMENTED = {"cli"}  # the command line is documented by --help and the README
DIRECTIVE = re.compile(r"^::: healthcred\.([A-Za-z0-9_]+)", re.MULTILINE)


def on_pre_build(config: Any, **kwargs: Any) -> None:
    """Warn about each top-level module that no page under docs/api/ renders."""
    pages = Path(config["docs_dir"]) / "api"
    named = {m for page in pages.glob("*.md") for m in DIRECTIVE.findall(page.read_text(encoding="utf-8"))}
    for name in sorted(_top_level_modules() - named - UNDOCUMENTED):
        log.warning(f"healthcred.{name} is on no API page: add '::: healthcred.{name}' to one in docs/api/")


def _top_level_modules() -> set[str]:
    """The public modules and packages directly under src/healthcred."""
    names = {p.stem for p in PACKAGE.glob("*.py")} | {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    return {name for name in names if not name.startswith("_")}
