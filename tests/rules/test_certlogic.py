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


@pytest.mark.parametrize(
    ("expression", "where"),
    [
        ({"nope": [1]}, "$.nope"),
        ({"if": [1, 2]}, "$.if"),
        ({"===": [1]}, "$.==="),
        ({"and": [True]}, "$.and"),
        ({"!": [1, 2]}, "$.!"),
        ({"var": ["x", 1]}, "$.var"),
        ({"plusTime": ["2021", 1.5, "day"]}, "$.plusTime[1]"),
        ({"plusTime": ["2021", 1, "week"]}, "$.plusTime[2]"),
        ({"extractFromUVCI": ["x", "1"]}, "$.extractFromUVCI"),
        ({"reduce": [[], 0]}, "$.reduce"),
        ({"if": [True, {"a": 1, "b": 2}, 0]}, "$.if[1]"),
        ({"and": [True, [1, None]]}, "$.and[1][1]"),
        ({"<": [1, 2.5]}, "$.<[1]"),
        ({"in": [1, {"x": 1}]}, "$.in[1]"),
        (None, "$"),
    ],
)
def test_invalid_expressions_name_the_fault(expression: Any, where: str) -> None:
    with pytest.raises(InvalidRule) as caught:
        validate(expression)
    assert caught.value.message.startswith(where), caught.value.message


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
    with pytest.raises(RuleEvaluationError, match="reduce steps"):
        evaluate(outer, {"x": rows})
    assert evaluate(outer, {"x": rows[:3]}) == 3000


@pytest.mark.parametrize(
    ("expression", "data"),
    [
        ({"+": [1, "a"]}, None),
        ({"<": [1, {"var": "x"}]}, {"x": "2"}),
        ({"after": [1, 2]}, None),
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
