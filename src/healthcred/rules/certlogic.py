"""CertLogic 1.3.3: the JsonLogic subset the EU DCC uses for business rules, compiled once.

:func:`compile_rule` validates an expression completely — every rule of the specification's
validator (operation form, operator known, operand counts, ``var`` path syntax, ``plusTime``
amount and unit, ``extractFromUVCI`` index) plus the type errors a literal operand makes certain
(``{"+": [1, "a"]}``, a date literal of no allowed form, ``plusTime`` of a date-time) — and turns
it into a tree of Python closures, so evaluating a rule many times re-parses nothing.
:func:`evaluate` and :func:`validate` are the convenience entry points.

Values follow the specification: integers (never fractions), strings, booleans, arrays, objects
from the data, ``null``, and date-times (:class:`~healthcred.rules.dates.DateTime`, only from
``plusTime`` and ``dccDateOfBirth``). Bounds keep hostile rules harmless: at most
:data:`MAX_NODES` operations and literals and :data:`MAX_DEPTH` nesting when compiled, and one
:class:`~healthcred.rules.budget.Budget` of
:data:`~healthcred.rules.budget.EVALUATION_BUDGET` work units per evaluation.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from typing import Any

from healthcred.errors import InvalidRule, RuleEvaluationError
from healthcred.rules.budget import DATE_COST, EVALUATION_BUDGET, STRING_CHUNK, Budget
from healthcred.rules.dates import MAX_AMOUNT, TIME_UNITS, DateTime, date_of_birth, parse_date_time, plus_time

__all__ = [
    "EVALUATION_BUDGET",
    "MAX_DEPTH",
    "MAX_INTEGER",
    "MAX_NODES",
    "Budget",
    "Rule",
    "compile_rule",
    "evaluate",
    "validate",
]

MAX_NODES = 10_000
"""Most operations and literals in one expression."""
MAX_DEPTH = 64
"""Deepest nesting of operations and arrays in one expression."""

Node = Callable[[Any, Budget], Any]
"""A compiled expression: ``node(data, budget)``; every node charges the budget before it works."""

_INTEGER_COMPARISONS = {"<", ">", "<=", ">="}
_DATE_COMPARISONS = {"before": "<", "after": ">", "not-after": "<=", "not-before": ">="}
_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
MAX_INTEGER = 2**53 - 1
"""Largest magnitude ``+`` yields: JavaScript's safe integers, the ones CertLogic's Numbers hold exactly."""
_DATE_MAKERS = {"plusTime", "dccDateOfBirth"}
_PATH = re.compile(r"[^.]+(?:\.[^.]+)*")  # the validator's data-access path: no empty fragment
_INDEX = re.compile(r"0|[1-9][0-9]*")  # an array index as JavaScript reads a property name
_UVCI_SEPARATORS = re.compile(r"[/#:]")
_ANY = object()  # "no literal": the operand is computed, its type known only at evaluation


class Rule:
    """A validated, compiled CertLogic expression; call :meth:`evaluate` as often as needed."""

    __slots__ = ("_node", "expression")

    def __init__(self, expression: Any, node: Node) -> None:
        self.expression = expression
        self._node = node

    def evaluate(self, data: Any, budget: Budget | None = None) -> Any:
        """The value on ``data``; ``budget`` (default: a fresh one) is charged for the work.

        Raise :class:`RuleEvaluationError` for a type mismatch, a date-time out of range or a
        spent budget.
        """
        return self._node(data, Budget() if budget is None else budget)


def compile_rule(expression: Any) -> Rule:
    """Validate ``expression`` and compile it; raise :class:`InvalidRule` with the path to the fault."""
    return Rule(expression, _compile(expression, "$", 0, [0]))


def validate(expression: Any) -> None:
    """Raise :class:`InvalidRule` (with the path to the fault) unless ``expression`` is valid CertLogic."""
    compile_rule(expression)


def evaluate(expression: Any, data: Any, budget: Budget | None = None) -> Any:
    """Evaluate a CertLogic ``expression`` on ``data`` (validated first; compile once to repeat)."""
    return compile_rule(expression).evaluate(data, budget)


# --- values ----------------------------------------------------------------------------------


def _truthy(value: Any) -> bool | None:
    # True/False per the specification, None when the value is neither (a date-time).
    kind = type(value)
    if kind is bool:
        return bool(value)
    if value is None:
        return False
    if (
        kind is int
        or kind is str
        or kind is list
        or kind is dict
        or isinstance(value, int | str | list | dict)
    ):
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


def _literal(expr: Any) -> Any:
    # The value of a literal operand (integral floats read as the integers JavaScript sees), or _ANY.
    if isinstance(expr, float) and math.isfinite(expr) and expr.is_integer():
        return int(expr)
    if isinstance(expr, bool | str | list) or _is_int(expr):
        return expr
    return _ANY


def _brief(value: Any) -> str:
    # A value as a message shows it: never a megabyte, a 5,000-digit integer (whose str() raises)
    # or a repr that recurses through a deep structure.
    if (isinstance(value, str) and len(value) <= 64) or isinstance(value, bool | float) or value is None:
        return repr(value)
    if _is_int(value):
        return repr(value) if abs(value) < 10**30 else f"an integer of {value.bit_length()} bits"
    if isinstance(value, str):
        return f"a string of {len(value):,} characters"
    return _kind(value)


def _kind(value: Any) -> str:
    return (
        "array"
        if isinstance(value, list)
        else "date-time"
        if isinstance(value, DateTime)
        else type(value).__name__
    )


# --- compilation: literals and the operation form ----------------------------------------------


def _compile(expr: Any, path: str, depth: int, counter: list[int]) -> Node:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise InvalidRule(f"{path}: the expression has more than {MAX_NODES} parts")
    if depth > MAX_DEPTH:
        raise InvalidRule(f"{path}: the expression nests deeper than {MAX_DEPTH} levels")
    if isinstance(expr, list):
        return _compile_array(expr, path, depth, counter)
    if isinstance(expr, dict):
        if len(expr) != 1:
            raise InvalidRule(f"{path}: an operation object has exactly one key, not {len(expr)}")
        ((op, args),) = expr.items()
        if not isinstance(op, str):
            raise InvalidRule(f"{path}: an operator is a string, not {_kind(op)}")
        name = op if len(op) <= 64 else f"<{len(op):,} characters>"  # a path stays short
        return _compile_operation(op, args, f"{path}.{name}", depth, counter)
    value = _literal(expr)
    if value is not _ANY:
        return _constant(value, path)
    if isinstance(expr, float):
        raise InvalidRule(f"{path}: {_brief(expr)} is a non-integer number")
    if expr is None:
        raise InvalidRule(f"{path}: null literals are not allowed")
    raise InvalidRule(f"{path}: literals of type {type(expr).__name__} are not allowed")


def _constant(value: Any, path: str) -> Node:
    def constant(data: Any, budget: Budget) -> Any:
        budget.left -= 1
        if budget.left < 0:
            budget.exhausted(path)
        return value

    return constant


def _compile_array(expr: list[Any], path: str, depth: int, counter: list[int]) -> Node:
    items = [_compile(item, f"{path}[{i}]", depth + 1, counter) for i, item in enumerate(expr)]
    values = [_literal(item) for item in expr]
    if all(v is not _ANY and not isinstance(v, list) for v in values):
        # Only scalar literals: built in C, but charged per element all the same.
        scalars, cost = tuple(values), 1 + len(values)

        def constant_array(data: Any, budget: Budget) -> list[Any]:
            budget.left -= cost
            if budget.left < 0:
                budget.exhausted(path)
            return list(scalars)

        return constant_array

    def array(data: Any, budget: Budget) -> list[Any]:
        budget.left -= 1
        if budget.left < 0:
            budget.exhausted(path)
        return [item(data, budget) for item in items]

    return array


def _arity(op: str, args: list[Any], path: str, low: int, high: int) -> None:
    if not low <= len(args) <= high:
        expected = f"{low}" if low == high else f"at least {low}" if high == MAX_NODES else f"{low} or {high}"
        raise InvalidRule(f"{path}: {op!r} takes {expected} operands, not {len(args)}")


def _must_be(args: list[Any], index: int, kinds: set[str], what: str, path: str) -> None:
    # A literal operand whose type the operation can never accept is a fault of the rule itself.
    value = _literal(args[index])
    if value is not _ANY and _literal_kind(value) not in kinds:
        raise InvalidRule(
            f"{path}[{index}]: the operand must be {what}, not the literal {_brief(args[index])}"
        )


def _literal_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return {int: "integer", str: "string"}.get(type(value), "array")


def _nodes(args: list[Any], path: str, depth: int, counter: list[int]) -> list[Node]:
    return [_compile(a, f"{path}[{i}]", depth + 1, counter) for i, a in enumerate(args)]


def _compile_operation(op: Any, args: Any, path: str, depth: int, counter: list[int]) -> Node:
    if op == "var":
        return _compile_var(args, path)
    if not isinstance(args, list):
        raise InvalidRule(
            f'{path}: an operation has the form {{"<operator>": [<operands>]}}, not {_kind(args)}'
        )
    compiler = _OPERATIONS.get(op) if isinstance(op, str) else None
    if compiler is None:
        raise InvalidRule(f"{path}: unknown operation {_brief(op)}")
    return compiler(op, args, path, depth, counter)


# --- compilation: the operations ---------------------------------------------------------------


def _compile_var(args: Any, path: str) -> Node:
    if not isinstance(args, str):
        raise InvalidRule(
            f'{path}: data access has the form {{"var": "<path>"}}: a string, not {_kind(args)}'
        )
    if args and _PATH.fullmatch(args) is None:
        raise InvalidRule(f"{path}: the data access path {_brief(args)} has an empty fragment")
    fragments = args.split(".") if args else []
    steps = tuple((f, int(f) if _INDEX.fullmatch(f) else None) for f in fragments)
    cost = max(1, len(steps))

    def var(data: Any, budget: Budget) -> Any:
        budget.left -= cost
        if budget.left < 0:
            budget.exhausted(path)
        value = data
        for key, index in steps:
            if isinstance(value, dict):
                value = value.get(key)
            elif isinstance(value, list) and index is not None:
                value = value[index] if index < len(value) else None
            else:
                return None
            if value is None:
                return None
        return value

    return var


def _compile_if(op: str, args: list[Any], path: str, depth: int, counter: list[int]) -> Node:
    _arity(op, args, path, 3, 3)
    guard, then, other = _nodes(args, path, depth, counter)

    def if_(data: Any, budget: Budget) -> Any:
        budget.left -= 1
        if budget.left < 0:
            budget.exhausted(path)
        return then(data, budget) if _truthy(guard(data, budget)) else other(data, budget)

    return if_


def _compile_equal(op: str, args: list[Any], path: str, depth: int, counter: list[int]) -> Node:
    _arity(op, args, path, 2, 2)
    left, right = _nodes(args, path, depth, counter)

    def equal(data: Any, budget: Budget) -> bool:
        a, b = left(data, budget), right(data, budget)
        # Two long strings of one length are compared character by character: that is charged.
        budget.left -= 1 + (min(len(a), len(b)) // STRING_CHUNK if type(a) is str and type(b) is str else 0)
        if budget.left < 0:
            budget.exhausted(path)
        return _strict_equal(a, b)

    return equal


def _compile_in(op: str, args: list[Any], path: str, depth: int, counter: list[int]) -> Node:
    _arity(op, args, path, 2, 2)
    _must_be(args, 1, {"array"}, "an array", path)
    needle, haystack = _nodes(args, path, depth, counter)

    def in_(data: Any, budget: Budget) -> bool:
        value, items = needle(data, budget), haystack(data, budget)
        if not isinstance(items, list):
            raise RuleEvaluationError(
                f"{path}: the second operand of 'in' must be an array, not {_kind(items)}"
            )
        each = 1 + len(value) // STRING_CHUNK if type(value) is str else 1
        budget.left -= 1 + each * len(items)  # every element scanned, before the scan
        if budget.left < 0:
            budget.exhausted(path)
        kind = type(value)
        if value is None or kind in (bool, int, str):
            return any(type(item) is kind and item == value for item in items)
        return any(item is value for item in items)

    return in_


def _compile_plus(op: str, args: list[Any], path: str, depth: int, counter: list[int]) -> Node:
    _arity(op, args, path, 2, 2)
    for i in range(2):
        _must_be(args, i, {"integer"}, "an integer", path)
    left, right = _nodes(args, path, depth, counter)

    def plus(data: Any, budget: Budget) -> int:
        budget.left -= 1
        if budget.left < 0:
            budget.exhausted(path)
        a, b = left(data, budget), right(data, budget)
        if not (_is_int(a) and _is_int(b)):
            raise RuleEvaluationError(f"{path}: '+' adds integers, not {_kind(a)} and {_kind(b)}")
        total = int(a + b)
        if not -MAX_INTEGER <= total <= MAX_INTEGER:
            raise RuleEvaluationError(
                f"{path}: {_brief(a)} + {_brief(b)} is beyond the integers CertLogic holds exactly (±2⁵³−1)"
            )
        return total

    return plus


def _compile_and(op: str, args: list[Any], path: str, depth: int, counter: list[int]) -> Node:
    _arity(op, args, path, 2, MAX_NODES)
    nodes = _nodes(args, path, depth, counter)

    def and_(data: Any, budget: Budget) -> Any:
        budget.left -= 1
        if budget.left < 0:
            budget.exhausted(path)
        value: Any = None
        for node in nodes:
            value = node(data, budget)
            if not _need_truth(value, path):
                return value
        return value

    return and_


def _compile_not(op: str, args: list[Any], path: str, depth: int, counter: list[int]) -> Node:
    _arity(op, args, path, 1, 1)
    (operand,) = _nodes(args, path, depth, counter)

    def not_(data: Any, budget: Budget) -> bool:
        budget.left -= 1
        if budget.left < 0:
            budget.exhausted(path)
        return not _need_truth(operand(data, budget), path)

    return not_


def _compile_comparison(op: str, args: list[Any], path: str, depth: int, counter: list[int]) -> Node:
    _arity(op, args, path, 2, 3)
    dated = op in _DATE_COMPARISONS
    for i in range(len(args)):
        # No literal is a date-time: those come from plusTime and dccDateOfBirth only.
        _must_be(args, i, set() if dated else {"integer"}, "a date-time" if dated else "an integer", path)
    nodes = _nodes(args, path, depth, counter)
    test = _ORDERINGS[_DATE_COMPARISONS.get(op, op)]
    wanted: type = DateTime if dated else int
    noun = "date-times" if dated else "integers"

    def compare(data: Any, budget: Budget) -> bool:
        budget.left -= 1
        if budget.left < 0:
            budget.exhausted(path)
        values = [node(data, budget) for node in nodes]
        for value in values:
            if type(value) is not wanted:
                raise RuleEvaluationError(f"{path}: {op!r} compares {noun}, not {_kind(value)}")
        # The ternary form is (a op b) and (b op c).
        return test(values[0], values[1]) and (len(values) == 2 or test(values[1], values[2]))

    return compare


def _date_text(
    op: str, args: list[Any], path: str, depth: int, counter: list[int], parse: Callable[[str, str], DateTime]
) -> Node:
    # The operand must be a date(-time) *string*: a date-time (plusTime of plusTime) is invalid,
    # and a literal is parsed now, so a rule with an impossible date fails when it is loaded.
    first = args[0]
    if isinstance(first, dict) and len(first) == 1 and next(iter(first)) in _DATE_MAKERS:
        raise InvalidRule(f"{path}[0]: {op!r} takes a date(-time) string, not a date-time")
    _must_be(args, 0, {"string"}, "a date(-time) string", path)
    if isinstance(first, str):
        try:
            parse(first, f"{path}[0]")
        except RuleEvaluationError as exc:
            raise InvalidRule(exc.message) from exc
    return _compile(first, f"{path}[0]", depth + 1, counter)


def _compile_plus_time(op: str, args: list[Any], path: str, depth: int, counter: list[int]) -> Node:
    _arity(op, args, path, 3, 3)
    amount, unit = _literal(args[1]), args[2]
    if not _is_int(amount):
        raise InvalidRule(f"{path}[1]: the amount must be an integer literal, not {_brief(args[1])}")
    if abs(amount) > MAX_AMOUNT:
        raise InvalidRule(f"{path}[1]: the amount must be within ±{MAX_AMOUNT:,}, not {_brief(amount)}")
    if not isinstance(unit, str) or unit not in TIME_UNITS:
        raise InvalidRule(f"{path}[2]: the unit must be one of {', '.join(TIME_UNITS)}, not {_brief(unit)}")
    operand = _date_text(op, args, path, depth, counter, parse_date_time)
    return _dated(
        operand,
        path,
        "plusTime takes a date(-time) string",
        lambda v: plus_time(parse_date_time(v, path), amount, unit, path),
    )


def _compile_date_of_birth(op: str, args: list[Any], path: str, depth: int, counter: list[int]) -> Node:
    _arity(op, args, path, 1, 1)
    operand = _date_text(op, args, path, depth, counter, date_of_birth)
    return _dated(operand, path, "dccDateOfBirth takes a date string", lambda v: date_of_birth(v, path))


def _dated(operand: Node, path: str, takes: str, convert: Callable[[str], DateTime]) -> Node:
    # The evaluation both date operations share: null passes, a string is charged and converted.
    def dated(data: Any, budget: Budget) -> DateTime | None:
        value = operand(data, budget)
        if value is None:
            return None
        if not isinstance(value, str):
            raise RuleEvaluationError(f"{path}: {takes}, not {_kind(value)}")
        budget.spend(DATE_COST, path)
        return convert(value)

    return dated


def _compile_reduce(op: str, args: list[Any], path: str, depth: int, counter: list[int]) -> Node:
    _arity(op, args, path, 3, 3)
    _must_be(args, 0, {"array"}, "an array", path)
    operand, step, initial = _nodes(args, path, depth, counter)

    def reduce(data: Any, budget: Budget) -> Any:
        items = operand(data, budget)
        accumulator = initial(data, budget)
        if items is None:
            return accumulator
        if not isinstance(items, list):
            raise RuleEvaluationError(f"{path}: reduce needs an array, not {_kind(items)}")
        for item in items:
            budget.left -= 1
            if budget.left < 0:
                budget.exhausted(path)
            accumulator = step({"current": item, "accumulator": accumulator}, budget)
        return accumulator

    return reduce


def _compile_uvci(op: str, args: list[Any], path: str, depth: int, counter: list[int]) -> Node:
    _arity(op, args, path, 2, 2)
    _must_be(args, 0, {"string"}, "a string", path)
    index = _literal(args[1])
    if not _is_int(index):
        raise InvalidRule(f"{path}[1]: the index must be an integer literal, not {_brief(args[1])}")
    (operand,) = _nodes(args[:1], path, depth, counter)

    def extract(data: Any, budget: Budget) -> str | None:
        value = operand(data, budget)
        if value is None:
            return None
        if not isinstance(value, str):
            raise RuleEvaluationError(f"{path}: extractFromUVCI takes a string or null, not {_kind(value)}")
        if index < 0:
            return None
        # Split no further than the fragment asked for: the work is the characters read.
        budget.spend(1 + len(value) // STRING_CHUNK, path)
        text = value[9:] if value.startswith("URN:UVCI:") else value
        fragments = _UVCI_SEPARATORS.split(text, maxsplit=min(index, len(text)) + 1)
        return fragments[index] if index < len(fragments) else None

    return extract


_OPERATIONS: dict[str, Callable[[str, list[Any], str, int, list[int]], Node]] = {
    "if": _compile_if,
    "===": _compile_equal,
    "in": _compile_in,
    "+": _compile_plus,
    "and": _compile_and,
    "!": _compile_not,
    **dict.fromkeys([*_INTEGER_COMPARISONS, *_DATE_COMPARISONS], _compile_comparison),
    "plusTime": _compile_plus_time,
    "dccDateOfBirth": _compile_date_of_birth,
    "reduce": _compile_reduce,
    "extractFromUVCI": _compile_uvci,
}
