"""Generate the conformance vectors: every registered builder, evaluated, one JSON file per case.

``python -m tools.conformance.generate vectors`` (or ``healthcred
conformance --regenerate vectors``) rewrites the folder: ``AREA/NAME.json``
per case and ``manifest.json``. Files are byte-identical on every run: keys,
ids, times and signatures are fixed (see :mod:`tools.conformance.world`)
and JSON is written with sorted keys.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from healthcred.conformance.reference import evaluate
from healthcred.conformance.runner import mismatch
from tools.conformance import cases as _cases  # noqa: F401 - registers every builder
from tools.conformance.case import SCHEMA, Case, dump_case
from tools.conformance.registry import REGISTRY, Pending
from tools.conformance.world import save_sm2_signatures

__all__ = ["GenerationError", "build_cases", "generate", "render"]

MANIFEST = "manifest.json"
"""The index file of a vectors folder."""


class GenerationError(Exception):
    """A builder's stated intent and this library's answer disagree (a bug in one of them)."""


def _agrees(stated: Mapping[str, Any], actual: Mapping[str, Any]) -> bool:
    if stated.get("valid") != actual.get("valid"):
        return False
    if not stated["valid"]:
        return stated.get("error") == actual.get("error")  # the library's own choice, not an alternative
    return mismatch(stated.get("result", {}), actual["result"]) is None


def _settle(case: Case) -> Case:
    """The case with its full expected outcome, after checking the library agrees with the builder."""
    answer = evaluate(case.to_json())
    answer.pop("id")
    if not _agrees(case.expected, answer):
        raise GenerationError(
            f"{case.id}: the builder expects {dict(case.expected)}, the library says {answer}"
        )
    if case.expected.get("accept"):
        answer["accept"] = [code for code in case.expected["accept"] if code != answer["error"]]
    return dataclasses.replace(case, expected=answer)


def build_cases() -> tuple[list[Case], dict[str, str]]:
    """Every case of every builder (settled), and the builders skipped as pending (name → why)."""
    built: list[Case] = []
    pending: dict[str, str] = {}
    problems: list[str] = []
    for entry in REGISTRY:
        try:
            made = list(entry.build())
        except Pending as why:
            pending[f"{entry.area}/{entry.name}"] = str(why)
            continue
        for case in made:
            if case.area != entry.area:
                problems.append(f"{case.id}: builder {entry.name} belongs to area {entry.area}")
                continue
            try:
                built.append(_settle(case))
            except GenerationError as exc:  # collect them all: one run shows every disagreement
                problems.append(str(exc))
    if problems:
        raise GenerationError("\n".join(problems))
    ids = [c.id for c in built]
    if len(set(ids)) != len(ids):
        raise GenerationError(f"duplicate case ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return built, pending


def render() -> dict[str, str]:
    """Relative path → file text of the whole vectors folder."""
    built, pending = build_cases()
    files = {f"{case.id}.json": dump_case(case) for case in built}
    areas = Counter(case.area for case in built)
    manifest = {
        "schema": SCHEMA,
        "count": len(built),
        "areas": dict(sorted(areas.items())),
        "cases": [
            {
                "id": c.id,
                "operation": c.operation,
                "expected": "valid" if c.expected["valid"] else c.expected["error"],
            }
            for c in sorted(built, key=lambda c: c.id)
        ],
        "pending": dict(sorted(pending.items())),
        "regenerate": "healthcred conformance --regenerate vectors",
    }
    files[MANIFEST] = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    return files


def generate(folder: str | os.PathLike[str]) -> int:
    """Write the vectors into ``folder``, removing case files no builder makes any more; returns the count.

    Only ``*.json`` files inside area sub-folders and the manifest are touched.
    """
    root = Path(folder)
    files = render()
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob("*/*.json"):
        if stale.relative_to(root).as_posix() not in files:
            stale.unlink()
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    for area in root.iterdir():
        if area.is_dir() and not any(area.iterdir()):
            area.rmdir()
    save_sm2_signatures()  # so the next run signs nothing anew and writes the same bytes
    return len(files) - 1


if __name__ == "__main__":
    print(f"{generate(sys.argv[1] if len(sys.argv) > 1 else 'vectors')} cases written")
