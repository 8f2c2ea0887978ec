"""A pydantic validation error in the user's terms: where (``rules[2].days``), what is wrong, the value.

The hand-written files (declarations, background data, rule sets, batch rows) are validated by
their pydantic models, which are also the source of their JSON Schemas; pydantic's own messages
name regular expressions and link to its website, so :func:`describe` rewrites them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import ValidationError

from healthcred.regions import REGION_PATTERN

__all__ = ["HEX_DIGEST_PATTERN", "describe", "where"]

HEX_DIGEST_PATTERN = r"^[0-9a-f]{64}$"
"""An HMAC-SHA256 value as lowercase hex (64 characters)."""

_FORMS = {
    REGION_PATTERN: "six digits (a GB/T 2260 region code)",
    HEX_DIGEST_PATTERN: "64 lowercase hex digits (an HMAC-SHA256 value)",
}
# Why each pattern exists, in words: a message must never show the regular expression itself.

_SHAPES = {
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "list_type": "must be a JSON array",
    "tuple_type": "must be a JSON array",
    "set_type": "must be a JSON array",
    "frozen_set_type": "must be a JSON array",
}
# pydantic names the Python class here ("a valid dictionary or instance of Declaration").

_SHOWN = 40
"""The most characters of a given value a message repeats."""


def where(loc: Sequence[int | str]) -> str:
    """``("rules", 2, "days")`` → ``rules[2].days``; the whole file is ``(top level)``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


def _given(value: object) -> str:
    if isinstance(value, dict | list | tuple):
        return ""  # a whole object repeated back helps nobody; the path says which
    shown = json.dumps(value, ensure_ascii=False, default=str)
    return f" (given: {shown[:_SHOWN]}{'…' if len(shown) > _SHOWN else ''})"


def _problem(error: dict[str, object]) -> str:
    kind, message = error["type"], str(error["msg"])
    context = error.get("ctx")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this file (check its spelling)"
    if kind == "string_pattern_mismatch" and isinstance(context, dict):
        return "must be " + _FORMS.get(str(context.get("pattern")), "of the documented form")
    if kind in _SHAPES:
        return _SHAPES[str(kind)]
    if kind in ("value_error", "assertion_error"):
        message = message.split(", ", 1)[-1]
    message = message.replace("Input should", "must").replace("input should", "must")
    return message[:1].lower() + message[1:]


def describe(exc: ValidationError, what: str) -> str:
    """The first error of ``exc`` as one line, ``WHAT: PATH: PROBLEM (given: VALUE)``, and how many more."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    line = f"{what}: {where(first['loc'])}: {_problem(dict(first))}"
    if first["type"] not in ("missing", "extra_forbidden"):
        line += _given(first.get("input"))
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return line
