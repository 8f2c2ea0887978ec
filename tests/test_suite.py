"""The test suite's own promises: no test can fail on a slow machine because of a deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def _timed(obj: object) -> bool:
    """Whether ``obj`` is a hypothesis test with a per-example deadline."""
    chosen = getattr(obj, "_hypothesis_internal_use_settings", None)
    return chosen is not None and chosen.deadline is not None


def test_no_property_test_has_a_per_example_deadline(request: pytest.FixtureRequest) -> None:
    """A per-example deadline turns a loaded CI machine into a failure; speed is for bench/."""
    timed = [item.nodeid for item in request.session.items if _timed(getattr(item, "obj", None))]
    assert not timed, f"hypothesis tests with a deadline: {timed}"


def test_the_deadline_check_sees_a_deadline() -> None:
    """The check above can fail: it sees an explicit deadline, and the profile's default is none."""

    @settings(deadline=timedelta(milliseconds=200))
    @given(st.integers())
    def with_deadline(x: int) -> None: ...

    @settings(max_examples=5)
    @given(st.integers())
    def inheriting(x: int) -> None: ...

    assert _timed(with_deadline)
    assert not _timed(inheriting)
