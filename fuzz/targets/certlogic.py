"""CertLogic: ``validate``, ``compile_rule`` and ``evaluate`` on a JSON expression and JSON data.

The input is UTF-8 text holding two JSON values one after the other: the expression, then the
data (``null`` when absent). Text that is not two JSON values is the harness's, not the
library's, and is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fuzz import seeds
from fuzz.harness import Target, expect
from healthcred.rules.certlogic import compile_rule, evaluate, validate

_DECODER = json.JSONDecoder()


def split(data: bytes) -> tuple[Any, Any] | None:
    """(expression, data) of an input, or ``None`` if it is not one or two JSON values."""
    try:
        text = data.decode("utf-8")
        expression, end = _DECODER.raw_decode(text.lstrip())
        rest = text.lstrip()[end:].strip()
        return expression, json.loads(rest) if rest else None
    except (ValueError, RecursionError):  # json's own limits: the harness's input, not the library's
        return None


def run(data: bytes) -> None:
    """Validate, then evaluate both ways (compiled once, and in one call)."""
    parts = split(data)
    if parts is None:
        return
    expression, facts = parts
    expect(lambda: validate(expression))
    rule = expect(lambda: compile_rule(expression))
    if rule is not None:
        expect(lambda: rule.evaluate(facts))
    expect(lambda: evaluate(expression, facts))


def seed_inputs() -> Iterator[bytes]:
    """Every assertion of the CertLogic test suite, as expression and data."""
    for expression, facts in seeds.certlogic_cases():
        yield (json.dumps(expression) + "\n" + json.dumps(facts)).encode()


TARGET = Target("certlogic", run, seed_inputs)
