"""The worked example of ``docs/spec.md``, rendered from one generated vector (a test keeps them equal)."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["SPEC_CASE", "worked_example"]

SPEC_CASE = "native/eddsa-green"
"""The vector the specification walks through."""


def _hex(data: str) -> list[str]:
    return ["```", *textwrap.wrap(data, 64), "```"]


def worked_example(case: Mapping[str, Any]) -> str:
    """Markdown hex dumps of every stage of ``case``, its trust context and expected result."""
    stages, trust = case["stages"], case["trust"]
    claims = json.dumps(stages["claims_json"], ensure_ascii=False, indent=2, sort_keys=True)
    result = json.dumps(case["expected"], ensure_ascii=False, indent=2, sort_keys=True)
    text = stages["text"]
    parts = [
        f"Vector `vectors/{case['id']}.json` ({case['title']}); "
        f"validation time {case['at']} ({case['at_iso']}), "
        f"skew {case['skew']} s.",
        "",
        f"Anchor (national root, Ed25519, SPKI DER): `{trust['anchors'][0]}`",
        "",
        "Claims (diagnostic JSON: map keys as strings, byte strings as h'…'):",
        "```json",
        claims,
        "```",
        f"Claims, deterministic CBOR ({len(stages['payload']) // 2} bytes):",
        *_hex(stages["payload"]),
        f"Protected header ({len(stages['protected']) // 2} bytes): `{stages['protected']}`",
        "",
        f"Sig_structure ({len(stages['sig_structure']) // 2} bytes):",
        *_hex(stages["sig_structure"]),
        f"Signature (64 bytes): `{stages['signature']}`",
        "",
        f"COSE_Sign1 = body ({len(stages['cose']) // 2} bytes; bare, first byte 0xd2):",
        *_hex(stages["cose"]),
        f"Text ({len(text)} characters, broken every 64):",
        "```",
        *(text[i : i + 64] for i in range(0, len(text), 64)),
        "```",
        f"Trust list ({len(trust['trust_lists'][0]) // 2} bytes):",
        *_hex(trust["trust_lists"][0]),
        "Expected outcome:",
        "```json",
        result,
        "```",
    ]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "vectors")
    print(worked_example(json.loads((folder / f"{SPEC_CASE}.json").read_text(encoding="utf-8"))), end="")
