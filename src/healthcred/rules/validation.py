"""pydantic's validation errors in the user's terms: one line, the field, the value, what is allowed.

The rules layer is the one that validates with pydantic (declarations, background data, rule sets);
its models are fed JSON an operator wrote by hand. pydantic's own report spans lines per error,
quotes regular expressions, Python reprs and links to its website; :func:`describe` turns it into
``stays[0].region: '99999x' is not a GB/T 2260 code (six digits, e.g. 330100)``, several errors
joined by ``; ``. Every place that catches a ``ValidationError`` goes through here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from healthcred.errors import HealthCredError, InvalidField
from healthcred.regions import REGION_PATTERN

__all__ = ["HEX_DIGEST_PATTERN", "MAX_SHOWN_ERRORS", "describe", "shown", "validated"]

M = TypeVar("M", bound=BaseModel)

MAX_SHOWN_ERRORS = 3
"""Errors named in one message; the rest are counted (``… and 4 more``)."""

_SHOWN_CHARS = 40
"""Characters of a given value a message quotes; a longer one is cut with ``…``."""

HEX_DIGEST_PATTERN = r"^[0-9a-f]{64}$"
"""An HMAC-SHA256 value as lowercase hex (64 characters), as background data lists key personnel."""

_PATTERNS = {
    REGION_PATTERN: "a GB/T 2260 code (six digits, e.g. 330100)",
    HEX_DIGEST_PATTERN: "64 lowercase hex digits (an HMAC-SHA256 value)",
}
"""What each pattern a model uses means, in words: a message never quotes a regular expression."""

_DATE = "a date; give YYYY-MM-DD"
_TIME = "a time; give ISO 8601 with an offset, e.g. 2026-11-23T08:00:00+08:00"
_WHAT_IS_ALLOWED = {
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _TIME,
    "datetime_parsing": _TIME,
    "datetime_from_date_parsing": _TIME,
    "datetime_object_invalid": _TIME,
    "timezone_aware": "a time with its offset; give e.g. 2026-11-23T08:00:00+08:00",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text (a JSON string)",
    "bytes_type": "text (a JSON string)",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "list_type": "an array",
    "tuple_type": "an array",
    "set_type": "an array",
    "frozen_set_type": "an array",
    "iterable_type": "an array",
}
"""pydantic's error types, as "is not …" phrases (the value is quoted before them)."""


def shown(value: object) -> str:
    """A value as a message quotes it: JSON's words for containers, a short repr for the rest."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple | set | frozenset):
        return f"an array of {len(value)}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and len(value) > _SHOWN_CHARS:
        return repr(value[:_SHOWN_CHARS]) + "…"
    text = repr(value) if isinstance(value, str | int | float) else type(value).__name__
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def _where(loc: Sequence[int | str], prefix: str = "") -> str:
    # JSON's own notation: keys dotted, array items indexed (stays[0].region).
    where = prefix
    for part in loc:
        if isinstance(part, int):
            where += f"[{part}]"
        else:
            where += f".{part}" if where else part
    return where


def _bounds(kind: str, ctx: Mapping[str, Any], value: object) -> str | None:
    limits = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in limits:
        words, key = limits[kind]
        return f"{shown(value)} is not allowed; give {words} {ctx[key]}"
    sizes = {
        "string_too_short": ("at least", "min_length", "character"),
        "string_too_long": ("at most", "max_length", "character"),
        "too_short": ("at least", "min_length", "item"),
        "too_long": ("at most", "max_length", "item"),
    }
    if kind in sizes:
        words, key, unit = sizes[kind]
        count = ctx[key]
        return f"{shown(value)} is not allowed; give {words} {count} {unit}{'' if count == 1 else 's'}"
    return None


def _model_at(model: type[BaseModel] | None, loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model whose object sits at ``loc`` below ``model`` (through arrays and optionals), if any."""
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        model = None if field is None else _inner_model(field.annotation)
    return model


def _inner_model(annotation: object) -> type[BaseModel] | None:
    # tuple[Stay, ...], Stay | None, Annotated[…]: the first model among the type's arguments.
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _inner_model(argument)
        if found is not None:
            return found
    return None


def _unknown_field(model: type[BaseModel] | None, loc: Sequence[int | str]) -> str:
    owner = _model_at(model, loc[:-1])
    if owner is None:
        return "is not a field here (check its spelling)"
    return "is not a field here; the fields are " + ", ".join(owner.model_fields)


def _rule(error: Mapping[str, Any], model: type[BaseModel] | None = None) -> tuple[str, str]:
    """One pydantic error as (where, what is wrong), the value quoted and what is allowed."""
    kind, value = error["type"], error.get("input")
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    where = _where(error["loc"])
    cause = ctx.get("error")
    if isinstance(cause, InvalidField):  # a credential record's own check, already in these terms
        return _where([cause.field] if cause.field else [], where), cause.rule
    if kind == "missing":
        return where, "is required"
    if kind == "extra_forbidden":
        return where, _unknown_field(model, error["loc"])
    if kind == "literal_error" or kind == "enum":
        return where, f"{shown(value)} is not one of {ctx.get('expected', 'the allowed values')}"
    if kind == "string_pattern_mismatch":
        meaning = _PATTERNS.get(str(ctx.get("pattern")), "in the expected form")
        return where, f"{shown(value)} is not {meaning}"
    bounded = _bounds(kind, ctx, value)
    if bounded is not None:
        return where, bounded
    if kind in _WHAT_IS_ALLOWED:
        return where, f"{shown(value)} is not {_WHAT_IS_ALLOWED[kind]}"
    if kind in ("value_error", "assertion_error") and cause is not None:
        return where, str(cause.message if isinstance(cause, HealthCredError) else cause)
    # pydantic's short sentence for a rarer type: plain words, no value repr, no link.
    return where, f"{shown(value)}: {error['msg']}"


def describe(exc: ValidationError, what: str = "", model: type[BaseModel] | None = None) -> str:
    """``exc`` as one line in the user's terms; ``what`` (``"declaration"``) starts it if given.

    ``model`` is the model validated, so an unknown field's message can list the known ones.
    """
    errors = exc.errors(include_url=False)
    rules = [_rule(error, model) for error in errors]
    parts = [f"{where}: {rule}" if where else rule for where, rule in rules[:MAX_SHOWN_ERRORS]]
    if len(errors) > MAX_SHOWN_ERRORS:
        rest = sorted({where or "(the whole object)" for where, _ in rules[MAX_SHOWN_ERRORS:]})
        parts.append(f"and {len(errors) - MAX_SHOWN_ERRORS} more ({', '.join(rest)})")
    line = "; ".join(parts) or "is not valid"
    return f"{what}: {line}" if what else line


def validated(
    model: type[M],
    data: object,
    what: str,
    *,
    strict: bool | None = None,
    error: Callable[[str], HealthCredError] | None = None,
) -> M:
    """``model`` validated from ``data``; a ValidationError becomes ``error(describe(...))``.

    The default error is :class:`InvalidField` (code ``bad_input``; also a ``ValueError``, as
    pydantic's own error is), with the field set when there is exactly one error.
    """
    try:
        return model.model_validate(data, strict=strict)
    except ValidationError as exc:
        message = describe(exc, what, model)
        if error is not None:
            raise error(message) from exc
        errors = exc.errors(include_url=False)
        if len(errors) == 1:
            field, rule = _rule(errors[0], model)
            raise InvalidField(f"{what}: {field}" if what and field else field or what, rule) from exc
        raise InvalidField("", message) from exc
