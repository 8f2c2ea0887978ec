"""CertLogic: ``validate``, ``compile_rule`` and ``evaluate`` on a JSON expression and JSON data.

The input is UTF-8 text holding two JSON values one after the other: the expression, then the
data (``null`` when absent). Text that is not two JSON values is the harness's, not the
library's, and is skipped.

The mutator (:func:`mutate`) works on the trees, so inputs stay JSON and reach ``validate`` and
``evaluate``: an operator replaced by another of CertLogic's (or a near miss), operands added or
dropped, fresh operations grown from the operator set (``plusTime`` with amounts at ±10⁸ and
past, date literals at year 1 and 9999, ``var`` paths with odd fragments, ``reduce`` over long
arrays), and the generic moves of :mod:`fuzz.json_mutator` on the expression and the data.
A fifth of the time the text is byte-mutated as it is, so the JSON framing is fuzzed too.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

from fuzz import json_mutator, layers, seeds
from fuzz.harness import Target, expect
from fuzz.json_mutator import Vocabulary, fresh, mutate_tree
from healthcred.rules.certlogic import compile_rule, evaluate, validate

_DECODER = json.JSONDecoder()

OPERATORS = (
    "if", "===", "in", "+", "and", "!", "<", ">", "<=", ">=", "before", "after", "not-after",
    "not-before", "plusTime", "dccDateOfBirth", "reduce", "extractFromUVCI", "var",
)  # fmt: skip
"""CertLogic 1.3.3's operators (``var`` is data access)."""
NEAR_MISSES = ("==", "!==", "or", "!!", "*", "-", "missing", "merge", "VAR", "var ", "If", "plustime")
"""JsonLogic operators CertLogic leaves out, and misspellings: each must be refused as unknown."""
PATHS = (
    "", "payload", "payload.v.0.dt", "payload.v.0.dn", "payload.t.0.sc", "payload.r.0.fr", "payload.dob",
    "payload.nam.fn", "external.validationClock", "external.valueSets.country-2-codes", "current",
    "accumulator", "current.dt", "0", "00", "-1", "1e3", "x.0", "x.1.y", "a..b", ".", "a.", ".a",
    "__proto__", "constructor.name", "length", "x." + ".".join(["0"] * 80), "é.😀",
)  # fmt: skip
"""Data-access paths: the DCC's, the reduce scope's, and odd ones (empty fragments, indices, long)."""
_DATES = ("2021-06-01", "2021-06-01T12:00:00Z", "2021-06-01T12:00:00.123+02:00", "1990", "1990-05")
_UNITS = ("year", "month", "day", "hour", "minute", "years", "")
_AMOUNTS = (0, 1, -1, 14, 180, -18, 100_000_000, -100_000_000, 100_000_001, 2**53, 1.0, 1.5, "1")
_ARITY = {"if": 3, "!": 1, "plusTime": 3, "dccDateOfBirth": 1, "reduce": 3, "extractFromUVCI": 2}

_DATA_NAMES = (
    "payload", "external", "validationClock", "valueSets", "v", "t", "r", "dt", "dn", "sd", "tg",
    "vp", "mp", "ma", "co", "is", "ci", "sc", "tt", "tr", "fr", "df", "du", "dob", "nam", "fn", "gn",
    "x", "y", "current", "accumulator", "0",
)  # fmt: skip


def _leaf(rng: random.Random) -> Any:
    if rng.random() < 0.5:
        return {"var": rng.choice(PATHS)}
    return EXPRESSIONS.literal(rng)


# What each operator's operands are (the last one repeats): grown to fit most of the time, so a
# fresh operation is often a valid rule and reaches evaluation, not just the validator.
_SIGNATURES = {
    "if": ("bool", "any", "any"), "===": ("any", "any"), "in": ("any", "array"), "+": ("int", "int"),
    "and": ("bool", "bool"), "!": ("bool",), "<": ("int", "int"), ">": ("int", "int"), "<=": ("int", "int"),
    ">=": ("int", "int"), "before": ("date", "date"), "after": ("date", "date"),
    "not-after": ("date", "date"), "not-before": ("date", "date"), "dccDateOfBirth": ("string",),
    "reduce": ("array", "any", "any"),
}  # fmt: skip
_RETURNS = {
    "int": ("+", "reduce"), "date": ("plusTime", "dccDateOfBirth"), "string": ("extractFromUVCI", "if"),
    "bool": ("===", "in", "and", "!", "<", ">", "before", "after", "not-after", "not-before"),
    "array": ("if",), "any": OPERATORS,
}  # fmt: skip
_LITERALS: dict[str, tuple[Any, ...]] = {
    "int": (0, 1, -1, 18, 2**53 - 1, -(2**53) + 1), "string": (*_DATES, "URN:UVCI:01:NL:187/37512422923", ""),
    "bool": (True, False, 0, 1, "", "x", []), "array": ([], ["a", "b"], [1, 2, 3], list(range(64))),
}  # fmt: skip


def _typed(rng: random.Random, kind: str, depth: int) -> Any:
    # An operand of ``kind`` (a ``var`` or a literal at the leaves), or now and then anything.
    if rng.random() < 0.15:
        return _grow(rng, depth)
    if depth <= 0 or rng.random() < 0.4:
        if kind == "date":
            return {"plusTime": [rng.choice(_DATES), rng.choice(_AMOUNTS[:7]), rng.choice(_UNITS[:4])]}
        return (
            {"var": rng.choice(PATHS)}
            if kind == "any" or rng.random() < 0.5
            else fresh(rng.choice(_LITERALS[kind]))
        )
    return _grow(rng, depth, rng.choice(_RETURNS[kind]))


def _operands(op: str, rng: random.Random, depth: int) -> list[Any]:
    if op == "plusTime":
        choices = (
            rng.choice(_DATES),
            rng.choice(json_mutator.BOUNDARY_STRINGS),
            _typed(rng, "string", depth),
        )
        return [rng.choice(choices), rng.choice(_AMOUNTS), rng.choice(_UNITS)]
    if op == "extractFromUVCI":
        return [_typed(rng, "string", depth), rng.choice((0, 1, 4, 7, -1, 2**31, 10**6))]
    signature = _SIGNATURES.get(op, ("any", "any"))
    count = len(signature) if rng.random() < 0.85 else rng.choice((0, 1, 2, 3, 4, 200))
    if op == "and" and rng.random() < 0.3:
        count = rng.choice((3, 5, 12))
    if count > 4:  # many operands: leaves, so one fresh rule stays small (never 200 subtrees of 200)
        depth = 0
    return [_typed(rng, signature[min(i, len(signature) - 1)], depth) for i in range(count)]


def _grow(rng: random.Random, depth: int, op: str | None = None) -> Any:
    """A fresh CertLogic expression of at most ``depth`` levels (leaves: ``var`` and literals)."""
    if op is None and (depth <= 0 or rng.random() < 0.3):
        return _leaf(rng)
    if op is None:
        op = rng.choice(OPERATORS) if rng.random() < 0.9 else rng.choice(NEAR_MISSES)
    if op == "var":
        return {"var": rng.choice(PATHS) if rng.random() < 0.9 else EXPRESSIONS.literal(rng)}
    if rng.random() < 0.03:  # the operation form broken: operands not an array
        return {op: _grow(rng, depth - 1)}
    return {op: _operands(op, rng, depth - 1)}


EXPRESSIONS = Vocabulary(OPERATORS, (*_DATES, *_UNITS, *PATHS), grow=_grow)
DATA = Vocabulary(_DATA_NAMES, (*_DATES, "EU/1/20/1528", "840539006", "NL", "URN:UVCI:01:NL:187/3"))


def _operations(tree: Any) -> list[tuple[Any, str]]:
    # (parent, key) of every operation object with one member, breadth first and bounded.
    found = []
    for path in json_mutator.nodes(tree):
        node = tree
        for step in path:
            node = node[step]
        if isinstance(node, dict) and len(node) == 1:
            found.append((node, next(iter(node))))
    return found


def _mutate_expression(expression: Any, rng: random.Random) -> Any:
    operations = _operations(expression)
    if rng.random() < 0.1:  # a fresh rule
        return _grow(rng, rng.choice((2, 3, 5)))
    if not operations or rng.random() < 0.35:
        return mutate_tree(expression, rng, EXPRESSIONS)
    node, op = rng.choice(operations)
    args = node[op]
    if rng.random() < 0.5 or not isinstance(args, list):  # another operator, on the same operands if they fit
        new = rng.choice(OPERATORS) if rng.random() < 0.9 else rng.choice(NEAR_MISSES)
        del node[op]
        if rng.random() < 0.1 or (new != "var") == isinstance(args, list):
            node[new] = args
        else:  # data access takes a path, an operation an array of operands
            node[new] = rng.choice(PATHS) if new == "var" else _operands(new, rng, 2)
    elif args and rng.random() < 0.5:  # arity changed: one operand fewer
        del args[rng.randrange(len(args))]
    elif rng.random() < 0.5:  # one operand more
        args.insert(rng.randrange(len(args) + 1), _grow(rng, 2))
    else:  # an operand replaced by one that fits
        signature = _SIGNATURES.get(op, ("any",))
        i = rng.randrange(len(args) + 1) if args else 0
        args[i : i + 1] = [_typed(rng, signature[min(i, len(signature) - 1)], 3)]
    return expression


def mutate(data: bytes, max_size: int, seed: int) -> bytes:
    """Mutate the expression's and the data's trees (or, a fifth of the time, the text's bytes)."""
    rng = random.Random(seed)
    parts = None if rng.random() < 0.2 else split(data)
    if parts is None:
        return layers.mutate_bytes(data, max_size)
    expression, facts = parts
    try:
        for _ in range(rng.choice((1, 1, 1, 2, 3, 5))):
            if rng.random() < 0.75:
                expression = _mutate_expression(expression, rng)
            else:
                facts = mutate_tree(facts, rng, DATA)
        text = json_mutator.dumps(expression, rng) + "\n" + json_mutator.dumps(facts, rng)
    except (ValueError, RecursionError):  # a tree json cannot write back (nested past its recursion)
        return layers.mutate_bytes(data, max_size)
    out = text.encode("utf-8", errors="surrogatepass")
    return out if len(out) <= max_size else layers.mutate_bytes(data, max_size)


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
    """Every assertion of the CertLogic test suite, as expression and data; and a few hand-written ones."""
    for expression, facts in seeds.certlogic_cases():
        yield (json.dumps(expression) + "\n" + json.dumps(facts)).encode()
    yield from _HAND_WRITTEN


# Small seeds for what the test suite does not hold: dates at the calendar's ends, a reduce over
# the data, in-scans of long arrays, UVCI fragments far out, nesting near the bound.
_HAND_WRITTEN = tuple(
    (json.dumps(e, separators=(",", ":")) + "\n" + json.dumps(d, separators=(",", ":"))).encode()
    for e, d in (
        ({"after": [{"plusTime": [{"var": "dt"}, 14, "day"]}, {"plusTime": ["0001-01-01", 0, "day"]}]},
         {"dt": "9999-12-31"}),
        ({"not-before": [{"plusTime": [{"var": "c"}, -100000000, "hour"]}, {"dccDateOfBirth": ["0001"]}]},
         {"c": "0001-01-01T00:00:00Z"}),
        ({"reduce": [{"var": "v"}, {"+": [{"var": "accumulator"}, {"var": "current.n"}]}, 0]},
         {"v": [{"n": 1}, {"n": 9007199254740991}]}),
        ({"in": [{"var": "x"}, ["a", "b", "c", "d", "e", "f", "g", "h"]]}, {"x": "h"}),
        ({"extractFromUVCI": [{"var": "u"}, 9]}, {"u": "URN:UVCI:01:NL:a/b#c:d/e/f/g/h/i/j"}),
        ({"if": [{"===": [{"var": "a.0.b"}, "x"]}, {"!": [{"var": ""}]}, {"<": [1, {"var": "n"}, 3]}]},
         {"a": [{"b": "x"}], "n": 2}),
        ({"and": [{"before": [{"plusTime": ["2021-06-01T00:00:00+14:00", 1, "month"]},
                              {"plusTime": [{"var": "t"}, 0, "year"]}]}, True]},
         {"t": "2021-07-01T00:00:00-12:00"}),
    )
)  # fmt: skip

TARGET = Target("certlogic", run, seed_inputs, mutate)
