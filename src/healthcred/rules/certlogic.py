"""CertLogic 1.3.3: the JsonLogic subset the EU DCC uses for business rules, compiled once.

:func:`compile_rule` validates an expression completely (every operation
known, every operand count and literal type right) and turns it into a tree of
Python closures, so evaluating a rule many times re-parses nothing.
:func:`evaluate` and :func:`validate` are the convenience entry points.

Values follow the specification: integers (never floats), strings, booleans,
arrays, objects from the data, ``null``, and date-times (only from
``plusTime`` and ``dccDateOfBirth``, held as UTC :class:`datetime` with
millisecond precision). Bounds keep hostile rules harmless: at most
:data:`MAX_NODES` operations and literals, :data:`MAX_DEPTH` nesting, and
:data:`MAX_REDUCE_STEPS` lambda calls per evaluation.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from typing import Any

from healthcred.errors import InvalidRule, RuleEvaluationError

__all__ = ["MAX_DEPTH", "MAX_NODES", "MAX_REDUCE_STEPS", "Rule", "compile_rule", "evaluate", "validate"]

MAX_NODES = 10_000
"""Most operations and literals in one expression."""
MAX_DEPTH = 64
"""Deepest nesting of operations and arrays in one expression."""
MAX_REDUCE_STEPS = 100_000
"""Most ``reduce`` lambda calls in one evaluation (nested reductions multiply)."""

Node = Callable[[Any, list[int]], Any]
"""A compiled expression: ``node(data, budget)``; ``budget[0]`` counts down reduce steps."""

_COMPARISONS = {"<", ">", "<=", ">="}
_DATE_COMPARISONS = {"before": "<", "after": ">", "not-after": "<=", "not-before": ">="}
_TIME_UNITS = ("year", "month", "day", "hour")
_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}
_UVCI_SEPARATORS = re.compile(r"[/#:]")
_DATE_TIME = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(Z|[+-]\d{1,2}(?::?\d{2})?)?)?)?)?"
)


class Rule:
    """A validated, compiled CertLogic expression; call :meth:`evaluate` as often as needed."""

    __slots__ = ("_node", "expression")

    def __init__(self, expression: Any, node: Node) -> None:
        self.expression = expression
        self._node = node

    def evaluate(self, data: Any) -> Any:
        """The value of the expression on ``data`` (raises :class:`RuleEvaluationError`)."""
        return self._node(data, [MAX_REDUCE_STEPS])


def compile_rule(expression: Any) -> Rule:
    """Validate ``expression`` and compile it; raise :class:`InvalidRule` with the path to the fault."""
    counter = [0]
    return Rule(expression, _compile(expression, "$", 0, counter))


def validate(expression: Any) -> None:
    """Raise :class:`InvalidRule` (with the path to the fault) unless ``expression`` is valid CertLogic."""
    compile_rule(expression)


def evaluate(expression: Any, data: Any) -> Any:
    """Evaluate a CertLogic ``expression`` on ``data`` (validated first; compile once to repeat)."""
    return compile_rule(expression).evaluate(data)


# --- values ----------------------------------------------------------------------------------


def _truthy(value: Any) -> bool | None:
    # True/False per the specification, None when the value is neither (a date-time).
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, int | str | list | dict):
        return bool(value)
    return None


def _need_truth(value: Any, where: str) -> bool:
    truth = _truthy(value)
    if truth is None:
        raise RuleEvaluationError(f"{where}: {type(value).__name__} value is neither truthy nor falsy")
    return truth


def _is_int(value: Any) -> bool:
    return type(value) is int


def _strict_equal(a: Any, b: Any) -> bool:
    # JavaScript ===: same type and value for primitives; identity for everything else.
    if type(a) is not type(b):
        return False
    if a is None or isinstance(a, bool | int | str):
        return bool(a == b)
    return a is b


def _parse_date_time(text: str, where: str) -> datetime:
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise RuleEvaluationError(f"{where}: {text!r} is not a date or date-time of an allowed form")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        if month is None:
            return datetime(int(year), 12, 31, tzinfo=UTC)
        if day is None:
            last = calendar.monthrange(int(year), int(month))[1]
            return datetime(int(year), int(month), last, tzinfo=UTC)
        millis = int((fraction or "0")[:3].ljust(3, "0"))
        zone = UTC if offset in (None, "Z") else _offset(offset)
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            millis * 1000,
            tzinfo=zone,
        )
    except ValueError as exc:
        raise RuleEvaluationError(f"{where}: {text!r} is not a valid date: {exc}") from exc
    return moment.astimezone(UTC)


def _offset(text: str) -> timezone:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def _plus(moment: datetime, amount: int, unit: str) -> datetime:
    # JavaScript's setUTC<Unit>(getUTC<Unit>() + amount): overflowing days roll into the next month.
    if unit == "day":
        return moment + timedelta(days=amount)
    if unit == "hour":
        return moment + timedelta(hours=amount)
    months = moment.month - 1 + amount * (12 if unit == "year" else 1)
    year, month = moment.year + months // 12, months % 12 + 1
    try:
        start = moment.replace(year=year, month=month, day=1)
    except ValueError as exc:
        raise RuleEvaluationError(f"plusTime: year {year} is out of range") from exc
    return start + timedelta(days=moment.day - 1)


# --- compilation -----------------------------------------------------------------------------


def _compile(expr: Any, path: str, depth: int, counter: list[int]) -> Node:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise InvalidRule(f"{path}: the expression has more than {MAX_NODES} parts")
    if depth > MAX_DEPTH:
        raise InvalidRule(f"{path}: the expression nests deeper than {MAX_DEPTH} levels")
    if isinstance(expr, bool | str) or _is_int(expr):
        return lambda data, budget: expr
    if isinstance(expr, list):
        items = [_compile(item, f"{path}[{i}]", depth + 1, counter) for i, item in enumerate(expr)]
        return lambda data, budget: [item(data, budget) for item in items]
    if isinstance(expr, dict):
        if len(expr) != 1:
            raise InvalidRule(f"{path}: an operation object has exactly one key, not {len(expr)}")
        ((op, args),) = expr.items()
        return _compile_operation(op, args, f"{path}.{op}", depth, counter)
    if expr is None:
        raise InvalidRule(f"{path}: null literals are not allowed")
    raise InvalidRule(f"{path}: literals of type {type(expr).__name__} are not allowed")


def _operands(op: str, args: Any, path: str, counts: range, depth: int, counter: list[int]) -> list[Node]:
    if not isinstance(args, list):
        raise InvalidRule(f"{path}: the operands of {op!r} must be an array")
    if len(args) not in counts:
        expected = f"{counts.start}" if len(counts) == 1 else f"{counts.start}–{counts.stop - 1}"
        raise InvalidRule(f"{path}: {op!r} takes {expected} operands, not {len(args)}")
    return [_compile(a, f"{path}[{i}]", depth + 1, counter) for i, a in enumerate(args)]


def _compile_operation(op: Any, args: Any, path: str, depth: int, counter: list[int]) -> Node:
    if op == "var":
        return _compile_var(args, path)
    if op == "if":
        guard, then, other = _operands(op, args, path, range(3, 4), depth, counter)

        def if_(data: Any, budget: list[int]) -> Any:
            return then(data, budget) if _truthy(guard(data, budget)) else other(data, budget)

        return if_
    if op == "===":
        left, right = _operands(op, args, path, range(2, 3), depth, counter)
        return lambda data, budget: _strict_equal(left(data, budget), right(data, budget))
    if op == "in":
        return _compile_in(_operands(op, args, path, range(2, 3), depth, counter), path)
    if op == "+":
        return _compile_plus(_operands(op, args, path, range(2, 3), depth, counter), path)
    if op == "and":
        return _compile_and(_operands(op, args, path, range(2, MAX_NODES), depth, counter), path)
    if op == "!":
        (operand,) = _operands(op, args, path, range(1, 2), depth, counter)
        return lambda data, budget: not _need_truth(operand(data, budget), path)
    if op in _COMPARISONS or op in _DATE_COMPARISONS:
        return _compile_comparison(op, _operands(op, args, path, range(2, 4), depth, counter), path)
    if op == "plusTime":
        return _compile_plus_time(args, path, depth, counter)
    if op == "dccDateOfBirth":
        (operand,) = _operands(op, args, path, range(1, 2), depth, counter)

        def date_of_birth(data: Any, budget: list[int]) -> Any:
            value = operand(data, budget)
            if value is None:
                return None
            if not isinstance(value, str) or not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
                raise RuleEvaluationError(
                    f"{path}: {value!r} is not a date of birth (YYYY, YYYY-MM, YYYY-MM-DD)"
                )
            return _parse_date_time(value, path)

        return date_of_birth
    if op == "reduce":
        return _compile_reduce(args, path, depth, counter)
    if op == "extractFromUVCI":
        return _compile_uvci(args, path, depth, counter)
    raise InvalidRule(f"{path}: unknown operation {op!r}")


def _compile_var(args: Any, path: str) -> Node:
    if _is_int(args):
        args = str(args)
    if not isinstance(args, str):
        raise InvalidRule(f"{path}: 'var' takes a path string (defaults are not allowed)")
    fragments = [] if args == "" else [int(f) if f.isdigit() else f for f in args.split(".")]

    def var(data: Any, budget: list[int]) -> Any:
        value = data
        for fragment in fragments:
            if isinstance(value, dict):
                value = value.get(str(fragment))
            elif isinstance(value, list) and isinstance(fragment, int):
                value = value[fragment] if fragment < len(value) else None
            else:
                return None
            if value is None:
                return None
        return value

    return var


def _compile_in(nodes: list[Node], path: str) -> Node:
    needle, haystack = nodes

    def in_(data: Any, budget: list[int]) -> bool:
        value, items = needle(data, budget), haystack(data, budget)
        if not isinstance(items, list):
            raise RuleEvaluationError(f"{path}: the second operand of 'in' must be an array")
        return any(_strict_equal(value, item) for item in items)

    return in_


def _compile_plus(nodes: list[Node], path: str) -> Node:
    left, right = nodes

    def plus(data: Any, budget: list[int]) -> int:
        a, b = left(data, budget), right(data, budget)
        if not (_is_int(a) and _is_int(b)):
            raise RuleEvaluationError(
                f"{path}: '+' adds integers, not {type(a).__name__} and {type(b).__name__}"
            )
        return int(a + b)

    return plus


def _compile_and(nodes: list[Node], path: str) -> Node:
    def and_(data: Any, budget: list[int]) -> Any:
        value: Any = None
        for node in nodes:
            value = node(data, budget)
            if not _need_truth(value, path):
                return value
        return value

    return and_


def _compile_comparison(op: str, nodes: list[Node], path: str) -> Node:
    dated = op in _DATE_COMPARISONS
    symbol = _DATE_COMPARISONS.get(op, op)
    test: Callable[[Any, Any], bool] = _ORDERINGS[symbol]

    def compare(data: Any, budget: list[int]) -> bool:
        values = [node(data, budget) for node in nodes]
        for value in values:
            if (not isinstance(value, datetime)) if dated else (not _is_int(value)):
                kind = "date-times" if dated else "integers"
                raise RuleEvaluationError(f"{path}: {op!r} compares {kind}, not {type(value).__name__}")
        return all(test(a, b) for a, b in pairwise(values))

    return compare


def _compile_plus_time(args: Any, path: str, depth: int, counter: list[int]) -> Node:
    if not isinstance(args, list) or len(args) != 3:
        raise InvalidRule(f"{path}: 'plusTime' takes [date-time, integer amount, unit]")
    operand = _compile(args[0], f"{path}[0]", depth + 1, counter)
    amount, unit = args[1], args[2]
    if not _is_int(amount):
        raise InvalidRule(f"{path}[1]: the amount must be an integer literal")
    if unit not in _TIME_UNITS:
        raise InvalidRule(f"{path}[2]: the unit must be one of {', '.join(_TIME_UNITS)}")

    def plus_time(data: Any, budget: list[int]) -> Any:
        value = operand(data, budget)
        if value is None:
            return None
        if not isinstance(value, str):
            raise RuleEvaluationError(
                f"{path}: plusTime takes a date(-time) string, not {type(value).__name__}"
            )
        return _plus(_parse_date_time(value, path), amount, unit)

    return plus_time


def _compile_reduce(args: Any, path: str, depth: int, counter: list[int]) -> Node:
    if not isinstance(args, list) or len(args) != 3:
        raise InvalidRule(f"{path}: 'reduce' takes [array, lambda, initial]")
    operand, step, initial = (_compile(a, f"{path}[{i}]", depth + 1, counter) for i, a in enumerate(args))

    def reduce(data: Any, budget: list[int]) -> Any:
        items = operand(data, budget)
        accumulator = initial(data, budget)
        if items is None:
            return accumulator
        if not isinstance(items, list):
            raise RuleEvaluationError(f"{path}: reduce needs an array, not {type(items).__name__}")
        for item in items:
            budget[0] -= 1
            if budget[0] < 0:
                raise RuleEvaluationError(f"{path}: more than {MAX_REDUCE_STEPS} reduce steps")
            accumulator = step({"current": item, "accumulator": accumulator}, budget)
        return accumulator

    return reduce


def _compile_uvci(args: Any, path: str, depth: int, counter: list[int]) -> Node:
    if not isinstance(args, list) or len(args) != 2 or not _is_int(args[1]):
        raise InvalidRule(f"{path}: 'extractFromUVCI' takes [operand, integer index literal]")
    operand, index = _compile(args[0], f"{path}[0]", depth + 1, counter), args[1]

    def extract(data: Any, budget: list[int]) -> Any:
        value = operand(data, budget)
        if value is None:
            return None
        if not isinstance(value, str):
            raise RuleEvaluationError(f"{path}: extractFromUVCI takes a string or null")
        fragments = _UVCI_SEPARATORS.split(value[9:] if value.startswith("URN:UVCI:") else value)
        return fragments[index] if 0 <= index < len(fragments) else None

    return extract
