"""Rule sets as signed, versioned data in the trust store and bundle; the gate decides with them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from healthcred import RED, Alg, Gate, KeyGrant, TrustStore, generate_key
from healthcred.crypto.algorithms import PrivateKey
from healthcred.errors import InvalidRule, RuleSetUnavailable, TrustListRollback, UntrustedList
from healthcred.rules.policy import DEFAULT_POLICIES, PolicySet
from healthcred.trust.bundle import make_bundle, open_bundle
from healthcred.trust.envelope import Anchor
from healthcred.trust.rulesets import make_rule_set
from tests.helpers.world import CHECKED, ISSUED, KEY_NOT_AFTER, LIST_EXPIRES, T0, World, signed_list, ts


def policy(world: World, version: int = 1, signer: PrivateKey | None = None, **times: int) -> bytes:
    body = {**DEFAULT_POLICIES, "version": version}
    return make_rule_set(
        signer or world.root,
        body,
        issued_at=times.get("issued_at", ts(T0)),
        expires_at=times.get("expires_at", ts(LIST_EXPIRES)),
    )


def store(world: World, *rule_sets: bytes, lists: tuple[bytes, ...] = (), **kw: Any) -> TrustStore:
    return TrustStore([world.root.public_key()], [world.trust_list, *lists], (), rule_sets, **kw)


def test_gate_uses_the_signed_policy(world: World) -> None:
    gate = Gate(store(world, policy(world)), scene="pharmacy", level="high")
    decision, result = gate.check(world.code()[1], at=CHECKED)
    assert (decision.outcome, decision.rule) == ("admit", "green") and result is not None
    decision, _ = gate.check(world.code(status=RED)[1], at=CHECKED)
    assert (decision.outcome, decision.rule, decision.policy) == ("deny", "red", "seed-policy v1")
    decision, result = gate.check("JKM1:garbage", at=CHECKED)
    assert (decision.outcome, decision.rule, result) == ("deny", "bad_base45", None)


def test_no_unsigned_or_expired_policy_is_used(world: World) -> None:
    with pytest.raises(RuleSetUnavailable, match="none"):
        Gate(store(world), scene="mall", level="high").check(world.code()[1], at=CHECKED)
    expired = policy(world, expires_at=ts(ISSUED) - 1)
    with pytest.raises(RuleSetUnavailable, match="expired"):
        Gate(store(world, expired), scene="mall", level="high").check(world.code()[1], at=CHECKED)
    # A policy the operator passes in code is explicit, not downloaded: allowed.
    local = Gate(store(world), scene="mall", level="high", policies=PolicySet(DEFAULT_POLICIES))
    assert local.check(world.code()[1], at=CHECKED)[0].outcome == "admit"


def test_who_may_sign_rules(world: World) -> None:
    rules_key = generate_key(Alg.EDDSA)
    granted = signed_list(
        world.root,
        [
            KeyGrant(
                rules_key.public_key(),
                "000000",
                ts(T0),
                ts(KEY_NOT_AFTER),
                may_issue=False,
                may_sign_rules=True,
            )
        ],
        list_id="rules-keys",
    )
    accepted = store(world, policy(world, signer=rules_key), lists=(granted,))
    assert accepted.rule_set("policy", ts(CHECKED)).version == 1
    with pytest.raises(UntrustedList):  # an issuing key without the rules role
        store(world, policy(world, signer=world.zhejiang))
    with pytest.raises(UntrustedList):
        store(world, policy(world, signer=generate_key(Alg.EDDSA)))


def test_newest_version_and_rollback(world: World) -> None:
    both = store(world, policy(world, 1), policy(world, 2))
    assert both.rule_set("policy", ts(CHECKED)).version == 2
    with pytest.raises(TrustListRollback):
        store(world, policy(world, 1), seen=both.versions)


def test_invalid_signed_policy_is_refused_when_loaded(world: World) -> None:
    broken = {**DEFAULT_POLICIES, "rules": [{**DEFAULT_POLICIES["rules"][0], "when": {"nope": []}}]}
    signed = make_rule_set(world.root, broken, issued_at=ts(T0), expires_at=ts(LIST_EXPIRES))
    with pytest.raises(InvalidRule, match="nope"):
        Gate(store(world, signed), scene="mall", level="high").check(world.code()[1], at=CHECKED)


def test_rule_sets_travel_in_the_bundle(world: World) -> None:
    data = make_bundle(
        world.root, version=1, issued_at=ts(T0), trust_lists=[world.trust_list], rule_sets=[policy(world)]
    )
    bundle = open_bundle(data, [Anchor.from_key(world.root.public_key())])
    gate = Gate(bundle.store, scene="school", level="medium")
    assert gate.check(world.code()[1], at=CHECKED)[0].outcome == "admit"
    late, _ = gate.check(world.code()[1], at=CHECKED + timedelta(days=3))
    assert (late.outcome, late.rule) == ("deny", "expired")  # a one-day code three days on
