"""One evaluation budget for CertLogic: every node visited and every element scanned costs a unit.

A rule inside every bound checked at compile time (parts, depth) can still do work that grows
with the data — ``reduce`` over a long array, an array literal rebuilt in every step, ``in``
scans, long strings compared or split. Every such cost is charged to one :class:`Budget` *before*
the work is done, so the worst case of any rule on any data is :data:`EVALUATION_BUDGET` units
(well under a second here); spending past it raises
:class:`~healthcred.errors.RuleEvaluationError` naming the budget. A decision that evaluates
several rules (a policy set, a status rule set) shares one budget across them.
"""

from __future__ import annotations

from typing import NoReturn

from healthcred.errors import RuleEvaluationError

__all__ = ["DATE_COST", "EVALUATION_BUDGET", "STRING_CHUNK", "Budget"]

EVALUATION_BUDGET = 250_000
"""Work units one evaluation (or one decision over a rule set) may spend."""
STRING_CHUNK = 64
"""Characters compared, scanned or split that cost one unit (beyond the node's own unit)."""
DATE_COST = 64
"""Units one date(-time) parse costs (``plusTime``, ``dccDateOfBirth``): a regex and a datetime."""


class Budget:
    """The work units left for one evaluation; pass one to several evaluations to share it."""

    __slots__ = ("left", "limit")

    def __init__(self, limit: int = EVALUATION_BUDGET) -> None:
        """A fresh budget of ``limit`` units."""
        self.limit = limit
        self.left = limit

    @property
    def used(self) -> int:
        """Units spent so far (the count tests and benchmarks read)."""
        return self.limit - self.left

    def spend(self, units: int, where: str) -> None:
        """Charge ``units`` before doing the work they stand for."""
        self.left -= units
        if self.left < 0:
            self.exhausted(where)

    def exhausted(self, where: str) -> NoReturn:
        """Raise the error that names the budget (closures on the hot path charge inline)."""
        raise RuleEvaluationError(
            f"{where}: the evaluation budget of {self.limit:,} work units (nodes visited, elements "
            "scanned) is spent"
        )
