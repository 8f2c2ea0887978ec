"""Policy decisions and status determinations per second, with the default (seed) rule sets.

Usage: ``python bench/rules.py [--rounds N]``

Times :meth:`PolicySet.decide` on a verified credential (the work a gate adds
after verification) for the paths through the seed policy — first rule, middle
and last — and :func:`determine` on declarations. Rules are compiled once, as a
verifier does. Issue 4's target: ≤ 20 µs per policy decision. Nothing here is
asserted anywhere.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

if __package__ in (None, "") and (Path(__file__).resolve().parent.parent / "src").is_dir():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from healthcred import GREEN, RED, YELLOW, DocumentType, HealthCode, Subject
from healthcred.rules.declaration import Background, Declaration, RiskArea, Stay
from healthcred.rules.policy import DEFAULT_POLICIES, PolicySet
from healthcred.rules.status import DEFAULT_STATUS_RULES, StatusRuleSet

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)


def per_op_us(fn: Callable[[], object], rounds: int, batch: int = 2000) -> float:
    """Median over ``rounds`` of the per-call time of ``fn``, in µs."""
    times = []
    gc.disable()
    try:
        for _ in range(rounds):
            start = time.perf_counter_ns()
            for _ in range(batch):
                fn()
            times.append((time.perf_counter_ns() - start) / batch / 1000)
    finally:
        gc.enable()
    return statistics.median(times)


def main(argv: list[str] | None = None, echo: Callable[[str], None] = print) -> dict[str, float]:
    """Run the benchmark; print and return µs per operation."""
    parser = argparse.ArgumentParser(description="rule evaluation benchmark")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    subject = Subject.create("张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, "330106198503121234")
    policies = PolicySet(DEFAULT_POLICIES)
    status_rules = StatusRuleSet(DEFAULT_STATUS_RULES)

    def code(status: object) -> HealthCode:
        return HealthCode.create(subject=subject, status=status, region="330100", issued_at=NOW)  # type: ignore[arg-type]

    green, yellow, red = code(GREEN), code(YELLOW), code(RED)
    cases = {
        "decide: low-risk mall (rule 1, not checked)": (green, "mall", "low"),
        "decide: red at a school (rule 2, deny)": (red, "school", "high"),
        "decide: yellow at a hospital (rule 3, admit)": (yellow, "hospital", "medium"),
        "decide: green at a mall, high risk (rule 6, admit)": (green, "mall", "high"),
    }
    figures = {}
    for name, (credential, scene, level) in cases.items():
        figures[name] = per_op_us(
            lambda c=credential, s=scene, lv=level: policies.decide(c, scene=s, level=lv, at=NOW), args.rounds
        )
    background = Background(risk_areas=(RiskArea(region="420100", level="high", start=date(2026, 11, 1)),))
    plain = Declaration(
        subject=subject, document_number="330106198503121234", declared_at=NOW, temperature=36.5
    )
    risky = Declaration(
        subject=subject,
        document_number="330106198503121234",
        declared_at=NOW,
        stays=(Stay(region="420100", start=date(2026, 11, 15), end=date(2026, 11, 18)),),
    )
    figures["determine: green declaration (all 8 rules)"] = per_op_us(
        lambda: status_rules.determine(plain, background), args.rounds, 500
    )
    figures["determine: high-risk stay (red)"] = per_op_us(
        lambda: status_rules.determine(risky, background), args.rounds, 500
    )
    figures["compile the default policy set (once per version)"] = per_op_us(
        lambda: PolicySet(DEFAULT_POLICIES), 5, 50
    )
    echo(f"python {sys.version.split()[0]}; medians of {args.rounds} rounds")
    for name, value in figures.items():
        echo(f"{name:55} {value:9.2f} µs")
    worst = max(v for k, v in figures.items() if k.startswith("decide"))
    echo(f"slowest policy decision {worst:.2f} µs (target ≤ 20 µs: {'met' if worst <= 20 else 'MISSED'})")

    return figures


if __name__ == "__main__":
    main()
