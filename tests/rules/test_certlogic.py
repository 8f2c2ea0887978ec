"""The CertLogic 1.3.3 evaluator test suite, one test per assertion, plus validation and bounds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from healthcred.errors import InvalidRule, RuleEvaluationError
from healthcred.rules import compile_rule, evaluate, validate
from healthcred.rules.certlogic import MAX_DEPTH, MAX_NODES
from tests.helpers.paths import TEST_DATA

SUITE = TEST_DATA / "certlogic" / "testSuite"


def load_cases() -> list[Any]:
    """(id, expression, data, expected, skip reason) for every assertion of every suite file."""
    params = []
    for path in sorted(SUITE.glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for case in suite["cases"]:
            for n, assertion in enumerate(case["assertions"]):
                expression = assertion.get("certLogicExpression", case.get("certLogicExpression"))
                directive = assertion.get("directive") or case.get("directive") or suite.get("directive")
                marks = (
                    [pytest.mark.skip(reason=f"suite directive: {directive}")] if directive == "skip" else []
                )
                params.append(pytest.param(expression, assertion["data"], assertion["expected"],
                                           id=f"{path.stem}/{case['name']}/{n}", marks=marks))  # fmt: skip
    return params


CASES = load_cases()


def test_suite_is_complete() -> None:
    assert len(CASES) >= 230
    skipped = [c for c in CASES if c.marks]
    assert 0 < len(skipped) < 20  # the suite's own skips: patched reduce, 'in' on null


@pytest.mark.parametrize(("expression", "data", "expected"), CASES)
def test_certlogic_suite(expression: Any, data: Any, expected: Any) -> None:
    result = evaluate(expression, data)
    assert result == expected and type(result) is type(expected)


# One row per validation rule of the specification's validator (and the literal type errors
# it makes certain): a valid expression, an invalid one, and the path the fault is reported at.
VALIDATION_RULES: list[tuple[str, Any, Any, str]] = [
    ("null literal", True, None, "$"),
    ("non-integer number", 3.0, 3.14, "$"),
    ("other literal types", "text", b"bytes", "$"),
    ("object has one key (none)", {"var": "x"}, {}, "$"),
    ("object has one key (two)", {"var": "x"}, {"foo": "bar", "alice": "bob"}, "$"),
    ("operation form: operands in an array", {"and": [True, True]}, {"and": True}, "$.and"),
    ("operation form, unknown operator", {"===": [1, 1]}, {"all": "foo"}, "$.all"),
    ("operator known", {"===": [1, 1]}, {"all": [None]}, "$.all"),
    ("var: a string path, not an integer", {"var": "1"}, {"var": 0}, "$.var"),
    ("var: a string path, not null", {"var": ""}, {"var": None}, "$.var"),
    ("var: no default", {"var": "x"}, {"var": ["x", 1]}, "$.var"),
    ("var: path syntax (trailing period)", {"var": "x.0.y"}, {"var": "x."}, "$.var"),
    ("var: path syntax (leading period)", {"var": "x"}, {"var": ".x"}, "$.var"),
    ("var: path syntax (empty fragment)", {"var": "x.y"}, {"var": "x..y"}, "$.var"),
    ("if: 3 operands", {"if": [True, 1, 2]}, {"if": [True, 1]}, "$.if"),
    ("if: operands validated", {"if": [True, 1, 2]}, {"if": [True, {"a": 1, "b": 2}, 0]}, "$.if[1]"),
    ("===: 2 operands", {"===": [1, 1]}, {"===": [1]}, "$.==="),
    ("in: 2 operands", {"in": [1, [1]]}, {"in": [1, [1], [2]]}, "$.in"),
    ("in: an array to search", {"in": ["a", ["abc"]]}, {"in": ["a", "abc"]}, "$.in[1]"),
    ("+: 2 operands", {"+": [1, 2]}, {"+": [1, 2, 3]}, "$.+"),
    ("+: integers", {"+": [1, {"var": "x"}]}, {"+": [1, "a"]}, "$.+[1]"),
    ("and: at least 2 operands", {"and": [True, False]}, {"and": [True]}, "$.and"),
    ("and: operands validated", {"and": [True, [1]]}, {"and": [True, [1, None]]}, "$.and[1][1]"),
    ("comparison: 2 or 3 operands", {"<": [1, 2, 3]}, {"<": [1, 2, 3, 4]}, "$.<"),
    ("comparison: at least 2", {"<=": [1, 2]}, {"<=": [1]}, "$.<="),
    ("comparison: integers", {"<": [1, {"var": "x"}]}, {"<": [1, "2"]}, "$.<[1]"),
    ("comparison: integer literals", {">": [2, 1]}, {">": [2, 1.5]}, "$.>[1]"),
    (
        "date comparison: 2 or 3",
        {"after": [{"var": "a"}, {"var": "b"}]},
        {"after": [{"var": "a"}]},
        "$.after",
    ),
    (
        "date comparison: no literal",
        {"before": [{"var": "a"}, {"var": "b"}]},
        {"before": [1, 2]},
        "$.before[0]",
    ),
    ("!: 1 operand", {"!": [True]}, {"!": [True, False]}, "$.!"),
    ("plusTime: 3 operands", {"plusTime": ["2021", 1, "day"]}, {"plusTime": ["2021", 1]}, "$.plusTime"),
    (
        "plusTime: integer amount",
        {"plusTime": ["2021", -1, "day"]},
        {"plusTime": ["2021", 1.5, "day"]},
        "$.plusTime[1]",
    ),
    (
        "plusTime: bounded amount",
        {"plusTime": ["2021", 10**8, "hour"]},
        {"plusTime": ["2021", 10**8 + 1, "hour"]},
        "$.plusTime[1]",
    ),
    (
        "plusTime: unit",
        {"plusTime": ["2021", 1, "month"]},
        {"plusTime": ["2021", 1, "week"]},
        "$.plusTime[2]",
    ),
    (
        "plusTime: date literal form",
        {"plusTime": ["2021-06-01T10:00:00.5+2", 0, "day"]},
        {"plusTime": ["01.06.2021", 0, "day"]},
        "$.plusTime[0]",
    ),
    (
        "plusTime: date literal exists",
        {"plusTime": ["2021-02-28", 0, "day"]},
        {"plusTime": ["2021-02-30", 0, "day"]},
        "$.plusTime[0]",
    ),
    (
        "plusTime: a string, not a date-time",
        {"plusTime": [{"var": "d"}, 1, "day"]},
        {"plusTime": [{"plusTime": ["2021", 0, "day"]}, 1, "day"]},
        "$.plusTime[0]",
    ),
    (
        "plusTime: a string, not a literal integer",
        {"plusTime": ["2021", 1, "day"]},
        {"plusTime": [2021, 1, "day"]},
        "$.plusTime[0]",
    ),
    (
        "dccDateOfBirth: 1 operand",
        {"dccDateOfBirth": ["1990"]},
        {"dccDateOfBirth": ["1990", "1991"]},
        "$.dccDateOfBirth",
    ),
    (
        "dccDateOfBirth: date literal form",
        {"dccDateOfBirth": ["1990-02"]},
        {"dccDateOfBirth": ["1990-1"]},
        "$.dccDateOfBirth[0]",
    ),
    (
        "dccDateOfBirth: not a date-time",
        {"dccDateOfBirth": [{"var": "dob"}]},
        {"dccDateOfBirth": [{"dccDateOfBirth": ["1990"]}]},
        "$.dccDateOfBirth[0]",
    ),
    ("reduce: 3 operands", {"reduce": [[], 0, 0]}, {"reduce": [[], 0]}, "$.reduce"),
    ("reduce: an array", {"reduce": [{"var": "xs"}, 0, 0]}, {"reduce": ["abc", 0, 0]}, "$.reduce[0]"),
    (
        "extractFromUVCI: 2 operands",
        {"extractFromUVCI": ["a/b", 1]},
        {"extractFromUVCI": ["a/b"]},
        "$.extractFromUVCI",
    ),
    (
        "extractFromUVCI: integer index",
        {"extractFromUVCI": ["a/b", 1]},
        {"extractFromUVCI": ["a/b", "1"]},
        "$.extractFromUVCI[1]",
    ),
    (
        "extractFromUVCI: a string",
        {"extractFromUVCI": [{"var": "ci"}, 1]},
        {"extractFromUVCI": [42, 1]},
        "$.extractFromUVCI[0]",
    ),
    (
        "faults nested deep",
        {"and": [True, {"if": [True, 1, 2]}]},
        {"and": [True, {"if": [{"nope": []}, 1, 2]}]},
        "$.and[1].if[0].nope",
    ),
]


@pytest.mark.parametrize(
    ("valid", "invalid", "where"), [pytest.param(*row[1:], id=row[0]) for row in VALIDATION_RULES]
)
def test_validation_rule(valid: Any, invalid: Any, where: str) -> None:
    validate(valid)
    with pytest.raises(InvalidRule) as caught:
        validate(invalid)
    assert caught.value.message.startswith(f"{where}: "), caught.value.message


def test_hostile_expressions_are_bounded() -> None:
    deep: Any = True
    for _ in range(MAX_DEPTH + 5):
        deep = {"!": [deep]}
    with pytest.raises(InvalidRule, match="deeper"):
        validate(deep)
    with pytest.raises(InvalidRule, match="parts"):
        validate(list(range(MAX_NODES + 1)))
    # reduce inside reduce over 1000 × 1000 items: stopped by the step budget, not run for minutes.
    inner = {"reduce": [{"var": "current"}, {"+": [{"var": "accumulator"}, 1]}, 0]}
    outer = {"reduce": [{"var": "x"}, {"+": [{"var": "accumulator"}, inner]}, 0]}
    rows = [list(range(1000)) for _ in range(1000)]
    with pytest.raises(RuleEvaluationError, match="evaluation budget"):
        evaluate(outer, {"x": rows})
    assert evaluate(outer, {"x": rows[:3]}) == 3000


@pytest.mark.parametrize(
    ("expression", "data"),
    [
        ({"+": [1, {"var": "x"}]}, {"x": "a"}),
        ({"<": [1, {"var": "x"}]}, {"x": "2"}),
        ({"after": [{"var": "x"}, {"var": "x"}]}, {"x": 1}),
        ({"!": [{"plusTime": ["2021-01-01", 0, "day"]}]}, None),
        ({"in": [1, {"var": "x"}]}, {"x": "abc"}),
        ({"plusTime": [{"var": "x"}, 0, "day"]}, {"x": "not a date"}),
        ({"plusTime": [{"var": "x"}, 0, "day"]}, {"x": 5}),
        ({"dccDateOfBirth": [{"var": "x"}]}, {"x": "1990-1"}),
        ({"reduce": [{"var": "x"}, 0, 0]}, {"x": "abc"}),
        ({"extractFromUVCI": [{"var": "x"}, 0]}, {"x": 5}),
    ],
)
def test_type_errors_at_evaluation(expression: Any, data: Any) -> None:
    with pytest.raises(RuleEvaluationError):
        evaluate(expression, data)


def test_date_arithmetic_follows_javascript() -> None:
    def plus(text: str, amount: int, unit: str) -> datetime:
        result = evaluate({"plusTime": [text, amount, unit]}, None)
        assert isinstance(result, datetime)
        return result

    assert plus("2020-02-29", 1, "day") == datetime(2020, 3, 1, tzinfo=UTC)
    assert plus("2020-02-29", 1, "month") == datetime(2020, 3, 29, tzinfo=UTC)
    assert plus("2020-02-29", 1, "year") == datetime(2021, 3, 1, tzinfo=UTC)
    assert plus("2021-01-31", 1, "month") == datetime(2021, 3, 3, tzinfo=UTC)
    assert plus("2021-06-01T10:00:00+08:00", -3, "hour") == datetime(2021, 5, 31, 23, tzinfo=UTC)
    assert plus("2021-06-01T10:00:00.123456-0230", 0, "day") == datetime(
        2021, 6, 1, 12, 30, 0, 123000, tzinfo=UTC
    )
    assert plus("2021", 0, "day") == datetime(2021, 12, 31, tzinfo=UTC)
    assert plus("2021-02", 0, "day") == datetime(2021, 2, 28, tzinfo=UTC)
    assert evaluate({"dccDateOfBirth": ["2024-02"]}, None) == datetime(2024, 2, 29, tzinfo=UTC)


def test_compiled_rule_is_reusable() -> None:
    rule = compile_rule({"if": [{"in": [{"var": "s"}, [1, 2]]}, "ok", "no"]})
    assert [rule.evaluate({"s": s}) for s in (1, 3, True)] == ["ok", "no", "no"]
