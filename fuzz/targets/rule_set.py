"""Signed rule sets: the envelope, then the rules layer (policy or status) on its body."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from fuzz import seeds
from fuzz.harness import Target, expect
from fuzz.layers import cose_mutator
from fuzz.targets.common import ALL_ANCHORS, verified
from fuzz.world import AT
from healthcred.model import VerificationResult
from healthcred.rules.policy import AREA_LEVELS, SCENES, PolicySet
from healthcred.rules.status import StatusRuleSet
from healthcred.trust.store import TrustStore


@cache
def _valid() -> VerificationResult | None:
    # The first vector code that verifies in the fuzz world: what a policy decides on.
    return next(filter(None, (verified(t, AT) for t in seeds.vector_texts("verify"))), None)


def _decide(policy: PolicySet) -> None:
    result = _valid()
    if result is not None:
        for scene, level in zip(SCENES, AREA_LEVELS * 3, strict=False):
            expect(lambda s=scene, lv=level: policy.decide(result.credential, scene=s, level=lv))  # type: ignore[misc]


def run(data: bytes) -> None:
    """Load the rule set, compile its body as the rules layer would, and decide with a policy."""
    # No trust list: the national list grants no key the rules role, so a rule set verifies by
    # an anchor alone with it or without it, and verifying the list cost half of every input.
    store = expect(lambda: TrustStore(ALL_ANCHORS, (), (), [data]))
    for signed in () if store is None else store.rule_sets:
        if signed.kind == "policy":
            policy = expect(lambda s=signed: PolicySet(s.body))  # type: ignore[misc]
            if policy is not None:
                _decide(policy)
        else:
            expect(lambda s=signed: StatusRuleSet(s.body))  # type: ignore[misc]


def seed_inputs() -> Iterator[bytes]:
    """Every rule set of the vectors."""
    yield from seeds.vector_hex("rule_sets")


TARGET = Target("rule_set", run, seed_inputs, cose_mutator)
