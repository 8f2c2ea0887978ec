"""Policy decisions at a place (``decide``): the signed seed policy, custom policies, rule-set trust."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from healthcred.crypto.keys import kid_of
from healthcred.model import RED, YELLOW
from healthcred.rules.policy import DEFAULT_POLICIES
from tools.conformance.case import Case, Trust
from tools.conformance.cases.common import case, root, shanghai, standard_list, zhejiang
from tools.conformance.registry import builder, error, valid
from tools.conformance.world import (
    ISSUED,
    grant,
    issue_code,
    key,
    rule_set,
    signed_bundle,
    status,
    trust,
    trust_list,
)

__all__ = ["decisions", "direct_national", "policies", "rule_set_trust"]


def _seed(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(DEFAULT_POLICIES)
    body.update(changes)
    return body


def _store(*rule_sets: bytes, seen: dict[str, int] | None = None) -> Trust:
    return trust([root()], [standard_list()], (), rule_sets, seen=seen)


def _decide(
    name: str,
    title: str,
    text: str,
    expected: dict[str, Any],
    scene: str = "mall",
    level: str = "high",
    **kw: Any,
) -> Case:
    """A ``decide`` case at ``scene`` and ``level``, with the seed policy unless ``store`` says otherwise."""
    kw.setdefault("store", _store(rule_set(root(), _seed())))
    return case(
        f"policy/{name}",
        title,
        text,
        expected,
        operation="decide",
        place={"scene": scene, "level": level},
        **kw,
    )


def _decision(outcome: str, rule: str) -> dict[str, Any]:
    return valid(decision={"outcome": outcome, "rule": rule})


def _admitting(policy_id: str, rule_id: str, scenes: list[str], message: str, *when: Any) -> dict[str, Any]:
    """The seed policy replaced by one rule: admit at ``scenes`` (every level) when all of ``when`` hold."""
    rule = {
        "id": rule_id,
        "scenes": scenes,
        "levels": ["low", "medium", "high"],
        "when": {"and": list(when)},
        "decision": "admit",
        "message": message,
    }
    return _seed(id=policy_id, rules=[rule])


@builder("policy")
def decisions() -> Iterator[Case]:
    """The seed policy, scene by scene and level by level."""
    _, green = issue_code(zhejiang(), "policy/green")
    _, yellow = issue_code(zhejiang(), "policy/yellow", status=YELLOW, reason=21)
    _, red = issue_code(shanghai(), "policy/red", status=RED, reason=13, region="310000")
    _, other = issue_code(zhejiang(), "policy/status-9", status=status(9))
    # Checked at ISSUED + 1 h: these are 48 and 49 hours old (the seed policy refuses more than 48).
    _, old_green = issue_code(
        zhejiang(), "policy/old-green", issued_at=ISSUED - timedelta(hours=47), valid_for=timedelta(days=3)
    )
    _, stale_green = issue_code(
        zhejiang(), "policy/stale-green", issued_at=ISSUED - timedelta(hours=48), valid_for=timedelta(days=3)
    )
    table = [
        ("green-mall-high", green, "mall", "high", "admit", "green"),
        ("green-mall-low", green, "mall", "low", "not_checked", "low-risk-general"),
        ("green-hospital-low", green, "hospital", "low", "admit", "green"),
        ("green-transport-medium", green, "transport", "medium", "admit", "green"),
        ("red-transport-medium", red, "transport", "medium", "deny", "red"),
        ("red-mall-low", red, "mall", "low", "not_checked", "low-risk-general"),
        ("red-school-low", red, "school", "low", "deny", "red"),
        ("yellow-hospital-high", yellow, "hospital", "high", "admit", "yellow-fever-clinic"),
        ("yellow-school-medium", yellow, "school", "medium", "deny", "yellow"),
        ("yellow-community-high", yellow, "community", "high", "deny", "yellow"),
        ("green-48h-venue-high", old_green, "venue", "high", "admit", "green"),
        ("green-49h-venue-high", stale_green, "venue", "high", "deny", "stale-green"),
        ("green-49h-pharmacy-low", stale_green, "pharmacy", "low", "not_checked", "low-risk-general"),
        ("green-49h-hospital-low", stale_green, "hospital", "low", "admit", "green"),
        ("unknown-colour-workplace-high", other, "workplace", "high", "deny", "(none)"),
    ]
    for name, text, scene, level, outcome, rule in table:
        yield _decide(name, f"seed policy: {name}", text, _decision(outcome, rule), scene, level)
    _, expired = issue_code(zhejiang(), "policy/expired", issued_at=ISSUED - timedelta(days=2))
    yield _decide("invalid-code-denied", "an expired code at a gate", expired, error("expired"))


@builder("policy")
def policies() -> Iterator[Case]:
    """Custom signed policies: a metro admitting Shanghai and national codes only; newest version wins."""
    metro = _admitting(
        "shanghai-metro",
        "local-or-national-green",
        ["transport"],
        "admit",
        {"===": [{"var": "code.status"}, "green"]},
        {"in": [{"var": "code.province"}, ["31", "00"]]},  # national codes are region 000000
    )
    store = _store(rule_set(root(), metro))
    _, sh = issue_code(shanghai(), "policy/metro-sh", region="310115")
    _, zj = issue_code(zhejiang(), "policy/metro-zj")
    yield _decide(
        "metro-admits-shanghai",
        "Shanghai metro policy: a Shanghai green code",
        sh,
        _decision("admit", "local-or-national-green"),
        "transport",
        "high",
        store=store,
    )
    yield _decide(
        "metro-denies-zhejiang",
        "Shanghai metro policy: a Zhejiang green code",
        zj,
        _decision("deny", "(none)"),
        "transport",
        "high",
        store=store,
    )
    yield _decide(
        "metro-no-rule-for-scene",
        "Shanghai metro policy at a mall: no rule, deny",
        sh,
        _decision("deny", "(none)"),
        "mall",
        "low",
        store=store,
    )
    strict = _seed(version=2, rules=[{**DEFAULT_POLICIES["rules"][-1], "scenes": ["hospital"]}])
    both = _store(rule_set(root(), _seed()), rule_set(root(), strict))
    _, green = issue_code(zhejiang(), "policy/versions")
    yield _decide(
        "newest-version-used",
        "v1 admits green at a mall, v2 only at hospitals",
        green,
        _decision("deny", "(none)"),
        store=both,
    )
    bundled = trust(
        [root()],
        bundle=signed_bundle(root(), trust_lists=[standard_list()], rule_sets=[rule_set(root(), _seed())]),
    )
    yield _decide(
        "policy-in-bundle",
        "the seed policy shipped in the bundle",
        green,
        _decision("admit", "green"),
        "pharmacy",
        "high",
        store=bundled,
    )


@builder("policy")
def rule_set_trust() -> Iterator[Case]:
    """Only a signed, current, valid rule set decides; who may sign one."""
    _, green = issue_code(zhejiang(), "policy/rule-trust")
    yield _decide(
        "no-rule-set",
        "no policy installed",
        green,
        error("rule_set_unavailable"),
        store=_store(),
    )
    expired = rule_set(root(), _seed(), expires_at=ISSUED - timedelta(hours=1))
    yield _decide(
        "rule-set-expired",
        "the only policy expired",
        green,
        error("rule_set_unavailable"),
        store=_store(expired),
    )
    future = rule_set(
        root(), _seed(), issued_at=ISSUED + timedelta(days=1), expires_at=ISSUED + timedelta(days=30)
    )
    yield _decide(
        "rule-set-not-yet-valid",
        "the only policy starts tomorrow",
        green,
        error("rule_set_unavailable"),
        store=_store(future),
    )
    broken = _seed(rules=[{**DEFAULT_POLICIES["rules"][-1], "when": {"no-such-operation": [1]}}])
    yield _decide(
        "invalid-rule",
        "a signed policy with an unknown operation",
        green,
        error("invalid_rule"),
        store=_store(rule_set(root(), broken)),
    )
    failing = _seed(
        rules=[{**DEFAULT_POLICIES["rules"][-1], "when": {"<": [{"+": [1, {"var": "code.region"}]}, 0]}}]
    )
    yield _decide(
        "rule-evaluation-error",
        "a rule adding a number to a text",
        green,
        error("rule_evaluation_error"),
        store=_store(rule_set(root(), failing)),
    )
    rules_series = f"rules:{kid_of(root()).hex()}/seed-policy"
    yield _decide(
        "rule-set-rollback",
        "the verifier saw policy v2; v1 offered",
        green,
        error("trust_list_rollback"),
        store=_store(rule_set(root(), _seed()), seen={rules_series: 2}),
    )
    yield _decide(
        "rule-set-by-issuer-key",
        "a policy signed by Zhejiang's issuing key (no rules role)",
        green,
        error("untrusted_list"),
        store=_store(rule_set(zhejiang(), _seed())),
    )
    rules_key = key("rules-office")
    granted = trust_list(
        root(), [grant(rules_key, "000000", may_issue=False, may_sign_rules=True)], list_id="rules-keys"
    )
    store = trust([root()], [standard_list(), granted], (), [rule_set(rules_key, _seed())])
    yield _decide(
        "rule-set-by-rules-key",
        "a policy signed by a key granted the rules role",
        green,
        _decision("admit", "green"),
        store=store,
    )
    _, by_rules_key = issue_code(rules_key, "policy/rules-key-code", region="110000")
    yield _decide(
        "rules-key-cannot-issue",
        "a code signed by the rules-only key",
        by_rules_key,
        error("kind_not_allowed"),
        store=store,
    )


@builder("policy")
def direct_national() -> Iterator[Case]:
    """Direct national mode as policy: a Tibet verifier admits national green codes only."""
    from tools.conformance.cases.recognition import nation, national_code

    n = nation()
    tibet = _admitting(
        "tibet",
        "national-green",
        ["*"],
        "national code: admit",
        {"===": [{"var": "code.kind"}, "national"]},
        {"===": [{"var": "code.status"}, "green"]},
    )
    store = trust([n.root], [n.national_list], (), [rule_set(n.root, tibet)])
    source, national = national_code()
    yield _decide(
        "direct-national-admitted",
        "Tibet admits a national green code",
        national,
        _decision("admit", "national-green"),
        "venue",
        "high",
        store=store,
        related={"source": source},
    )
    yield _decide(
        "direct-regional-refused",
        "Tibet refuses the regional code it came from",
        source,
        _decision("deny", "(none)"),
        "venue",
        "high",
        store=store,
    )
