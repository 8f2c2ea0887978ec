"""Security regressions of the rules layer (CertLogic), kept as named tests.

Each test names the class of attack or defect it guards against and rebuilds the input that
broke the promise: a result or one ``HealthCredError``, never another exception, at bounded cost.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthcred import GREEN, DocumentType, HealthCode, Subject
from healthcred.errors import ERROR_CODES, InvalidRule, RuleError, RuleEvaluationError
from healthcred.model.result import ForeignCredential, Person, SourceFormat
from healthcred.rules import compile_rule, evaluate, validate
from healthcred.rules.budget import EVALUATION_BUDGET, STRING_CHUNK, Budget
from healthcred.rules.certlogic import MAX_DEPTH, MAX_INTEGER, MAX_NODES
from healthcred.rules.dates import LATEST, MAX_AMOUNT
from healthcred.rules.policy import PolicySet

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def plus(text: Any, amount: int, unit: str) -> Any:
    """plusTime with the date taken from the data, as a rule reads a certificate's field."""
    return evaluate({"plusTime": [{"var": "dt"}, amount, unit]}, {"dt": text})


def test_plus_time_past_year_9999_from_the_certificates_own_date() -> None:
    """Date arithmetic overflow: ``dt = "9999-12-31"`` plus 14 days raised ``OverflowError``."""
    with pytest.raises(RuleEvaluationError, match="outside the date-times"):
        plus("9999-12-31", 14, "day")
    assert plus("9999-12-17", 14, "day") == datetime(9999, 12, 31, tzinfo=UTC)


def test_dcc_date_in_a_policy_rule_is_a_typed_error() -> None:
    """The same overflow reached through a verified EU DCC's facts and a gate's policy."""
    dcc = ForeignCredential(
        format=SourceFormat.HC1, kind="vaccination", subject=Person("MUSTERMANN, ERIKA", "1964-08-12"),
        issuer="DE", issued_at=NOW - timedelta(days=1), expires_at=None, id=None,
        facts={"date": "9999-12-31"}, raw={},
    )  # fmt: skip
    policies = PolicySet(
        {"id": "dcc", "version": 1, "kind": "policy", "rules": [{
            "id": "vaccinated", "scenes": ["*"], "levels": ["low", "medium", "high"], "decision": "admit",
            "message": "vaccinated 14 days ago",
            "when": {"not-before": [{"plusTime": ["2026-11-23", 0, "day"]},
                                    {"plusTime": [{"var": "code.facts.date"}, 14, "day"]}]},
        }]}
    )  # fmt: skip
    with pytest.raises(RuleEvaluationError, match="outside the date-times"):
        policies.decide(dcc, scene="venue", level="high", at=NOW)


@pytest.mark.parametrize(
    ("amount", "unit"),
    [(MAX_AMOUNT, "day"), (-MAX_AMOUNT, "day"), (MAX_AMOUNT, "hour"), (MAX_AMOUNT, "month"),
     (MAX_AMOUNT, "year"), (-MAX_AMOUNT, "year"), (8000, "year"), (-2021, "year")],
)  # fmt: skip
def test_plus_time_with_large_amounts_is_typed(amount: int, unit: str) -> None:
    """``plusTime`` with large amounts raised ``OverflowError`` (timedelta, datetime.replace)."""
    with pytest.raises(RuleEvaluationError, match="outside the date-times"):
        plus("2021-06-01", amount, unit)


def test_plus_time_amounts_beyond_the_bound_are_refused_when_compiled() -> None:
    """An amount no representable result could come from is a fault of the rule, found at load."""
    with pytest.raises(InvalidRule, match=r"\$\.plusTime\[1\]"):
        validate({"plusTime": ["2021", 10**30, "day"]})


@pytest.mark.parametrize(
    "text",
    ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "0001-01-01T04:59:59.999+5"],
)
def test_date_times_near_year_1_or_9999_with_an_offset_are_typed(text: str) -> None:
    """Applying an offset near the ends of the range raised ``OverflowError`` in ``astimezone``."""
    with pytest.raises(RuleEvaluationError, match="outside the date-times"):
        plus(text, 0, "day")


def test_the_ends_of_the_range_are_representable() -> None:
    """The documented range is exactly what is accepted (a test at both edges)."""
    assert plus("9999-12-31T23:59:59.999999Z", 0, "hour") == LATEST
    assert plus("0001-01-01T05:00:00+05:00", 0, "hour") == datetime(1, 1, 1, tzinfo=UTC)
    with pytest.raises(RuleEvaluationError):
        plus("0001-01-01T00:00:00Z", -1, "hour")


@pytest.mark.parametrize(
    "text",
    [
        "2021-06-01T23:59:60Z",  # a leap second
        "2021-06-01T24:00:00Z",
        "2021-02-29",
        "2021-13",
        "2021-00",
        "0000-06-01",
        "２０２１-06-01",  # full-width digits: \d matched them and int() read them
        "2021-06-01T10:00:00+24:00",
        "2021-06-01T10:00:00+01:99",
        "2021-06-01T10:00",
        "2021-06-01 10:00:00Z",
        "2021-06-01T10:00:00.Z",
        "2021-06-01T10:00:00.1" + "0" * 100 + "Z",
        "9" * 1_000_000,
    ],
)
def test_odd_date_forms_are_typed(text: str) -> None:
    """Every other date text is a ``RuleEvaluationError``: no ValueError, OverflowError or long parse."""
    with pytest.raises(RuleEvaluationError):
        plus(text, 0, "day")


def test_datetime_objects_in_the_data_are_not_certlogic_date_times() -> None:
    """A naive ``datetime`` in the data (a CBOR date in a DCC's facts) made ``after`` raise TypeError."""
    rule = {"after": [{"var": "d"}, {"plusTime": ["2021-06-01", 0, "day"]}]}
    for value in (datetime(2021, 6, 2), datetime(2021, 6, 2, tzinfo=UTC), datetime(2021, 6, 2).date()):
        with pytest.raises(RuleEvaluationError, match="compares date-times"):
            evaluate(rule, {"d": value})


def test_non_ascii_digits_in_a_var_path_are_plain_keys() -> None:
    """``{"var": "a.²"}`` raised ``ValueError`` when compiled (``"²".isdigit()`` but not ``int``)."""
    assert evaluate({"var": "a.²"}, {"a": {"²": 7}}) == 7
    assert evaluate({"var": "a.²"}, {"a": [1, 2, 3]}) is None
    assert evaluate({"var": "a.01"}, {"a": [1, 2, 3]}) is None  # as JavaScript: "01" is no index
    assert evaluate({"var": "a.1"}, {"a": [1, 2, 3]}) == 2


def test_rule_inside_every_documented_bound_is_stopped_by_the_budget() -> None:
    """CPU amplification: array literals and ``in`` scans were not counted (9–15 s for one rule).

    The rule is inside every bound checked when loading (< 10,000 parts, shallow) and the old
    reduce-step bound (10,000 of 100,000 steps): each step rebuilt and scanned a 9,990-element
    array, about 10⁸ element visits.
    """
    rule = {"reduce": [{"var": "items"}, {"in": [{"var": "current"}, list(range(9_990))]}, False]}
    validate(rule)
    budget = Budget()
    with pytest.raises(RuleEvaluationError, match=f"evaluation budget of {EVALUATION_BUDGET:,} work units"):
        compile_rule(rule).evaluate({"items": [-1] * 10_000}, budget)
    # Stopped before the step that would overspend: the work done is bounded by the budget.
    assert EVALUATION_BUDGET <= budget.used < EVALUATION_BUDGET + 2 * 9_990 + 10


def test_budget_counts_every_element_scanned() -> None:
    """The count includes elements, not only nodes: one ``in`` over 1,000 elements costs 1,000 more."""
    rule = compile_rule({"in": [5, {"var": "xs"}]})
    small, large = Budget(), Budget()
    assert rule.evaluate({"xs": [0]}, small) is False
    assert rule.evaluate({"xs": list(range(1_000))}, large) is True
    assert large.used - small.used == 999
    with pytest.raises(RuleEvaluationError, match="evaluation budget of 1,000 work units"):
        rule.evaluate({"xs": list(range(1_000))}, Budget(1_000))
    literal = compile_rule(list(range(500)))
    counted = Budget()
    literal.evaluate(None, counted)
    assert counted.used == 501  # the array and each of its elements


def test_long_strings_compared_or_split_are_charged() -> None:
    """``===`` of long strings and ``extractFromUVCI`` read every character: their cost is counted."""
    text = "x" * 64_000
    equal, split = Budget(), Budget()
    assert evaluate({"===": [{"var": "a"}, {"var": "b"}]}, {"a": text, "b": text}, equal) is True
    assert equal.used == 3 + len(text) // STRING_CHUNK
    assert evaluate({"extractFromUVCI": [{"var": "a"}, 1]}, {"a": text + "/y"}, split) == "y"
    assert split.used >= len(text) // STRING_CHUNK


def test_nested_reductions_share_one_budget() -> None:
    """Reduce inside reduce multiplies steps; the one budget stops it whatever the nesting."""
    inner = {"reduce": [{"var": "current"}, {"+": [{"var": "accumulator"}, 1]}, 0]}
    outer = {"reduce": [{"var": "x"}, {"+": [{"var": "accumulator"}, inner]}, 0]}
    with pytest.raises(RuleEvaluationError, match="evaluation budget"):
        evaluate(outer, {"x": [list(range(1000))] * 1000})


def test_a_policy_decision_has_one_budget_for_all_its_rules() -> None:
    """300 rules each well within the budget must not cost 300 budgets in one decision."""
    scan = {"in": [{"var": "scene"}, list(range(1_000))]}
    rules = [
        {
            "id": f"r{i}",
            "scenes": ["*"],
            "levels": ["high"],
            "when": scan,
            "decision": "admit",
            "message": "m",
        }
        for i in range(300)
    ]
    policies = PolicySet({"id": "p", "version": 1, "kind": "policy", "rules": rules})
    subject = Subject.create("张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, "330106198503121234")
    code = HealthCode.create(
        subject=subject, status=GREEN, region="330100", issued_at=NOW, valid_for=timedelta(days=1)
    )
    assert compile_rule(scan).evaluate({"scene": "venue"}) is False  # one rule alone is fine
    with pytest.raises(RuleEvaluationError, match="evaluation budget"):
        policies.decide(code, scene="venue", level="high", at=NOW)


def test_integer_addition_is_bounded_to_exact_integers() -> None:
    """Doubling in a reduce grew integers without bound; ``+`` stays within JavaScript's safe integers."""
    doubling = {"reduce": [{"var": "xs"}, {"+": [{"var": "accumulator"}, {"var": "accumulator"}]}, 1]}
    assert evaluate(doubling, {"xs": [0] * 52}) == 2**52
    with pytest.raises(RuleEvaluationError, match="beyond the integers"):
        evaluate(doubling, {"xs": [0] * 53})
    assert evaluate({"+": [MAX_INTEGER - 1, 1]}, None) == MAX_INTEGER


def test_hostile_shapes_are_refused_when_compiled() -> None:
    """Parts, depth and malformed operators fail ``validate`` with ``InvalidRule``, nothing else."""
    deep: Any = True
    for _ in range(MAX_DEPTH + 5):
        deep = {"!": [deep]}
    hostile = [deep, list(range(MAX_NODES + 1)), {1: []}, {("a",): []}, {10**5000: []}, {"var": b"x"},
               float("nan"), {"in": [1, 10**5000]}, {"plusTime": ["2021", 10**5000, "day"]},
               {"var": "x." + "." * 10**6}, {"extractFromUVCI": [[[[[]]]], 0]},
               {"x" * 10**6: []}]  # fmt: skip
    for expression in hostile:
        with pytest.raises(InvalidRule) as caught:
            validate(expression)
        assert len(caught.value.message) < 2_000  # the path is at most 64 levels deep


_OPERATORS = ["var", "if", "===", "in", "+", "and", "!", "<", "<=", "after", "not-before", "plusTime",
              "dccDateOfBirth", "reduce", "extractFromUVCI", "nope"]  # fmt: skip
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40),
    st.sampled_from(["", "x", "x.0", "current", "accumulator", "9999-12-31", "0001-01-01T00:00:00+05:00",
                     "2021-06-01T23:59:60Z", "２０２１", "URN:UVCI:01:NL:abc/x#y", "year", "day", "hour"]),
    st.integers(min_value=-(10**9), max_value=10**9), st.binary(max_size=4), st.datetimes(),
)  # fmt: skip
_EXPRESSIONS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.builds(
            lambda op, args: {op: args},
            st.sampled_from(_OPERATORS),
            st.one_of(inner, st.lists(inner, max_size=4)),
        ),
        st.dictionaries(st.text(max_size=3), inner, max_size=2),
    ),
    max_leaves=24,
)


@given(expression=_EXPRESSIONS, data=_EXPRESSIONS)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_any_expression_on_any_data_gives_a_value_or_a_rule_error(expression: Any, data: Any) -> None:
    """Fuzzed expressions and data (datetimes, bytes, floats, huge integers): a value or a RuleError only."""
    error: RuleError | None = None
    try:
        evaluate(expression, {"x": data, "current": data, "d": data})
    except RuleError as exc:  # any other exception fails the test
        error = exc
    assert error is None or error.code in ERROR_CODES
