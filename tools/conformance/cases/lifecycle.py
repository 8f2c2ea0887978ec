"""The trust-list lifecycle: updates, rotation, rollback, expiry and grace, compromise."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from healthcred.crypto.algorithms import Alg
from healthcred.crypto.keys import kid_of
from healthcred.trust.grants import KeyGrant
from tools.conformance.case import Case
from tools.conformance.cases.common import case, root, shanghai, standard_list, zhejiang
from tools.conformance.registry import builder, error, valid
from tools.conformance.world import (
    ISSUED,
    KEY_NOT_AFTER,
    LIST_EXPIRES,
    T0,
    epoch,
    grant,
    issue_code,
    key,
    trust,
    trust_list,
)

_SERIES = f"{kid_of(root()).hex()}/national"


@builder("lifecycle")
def updates() -> Iterator[Case]:
    """Of one series only the newest version counts; the verifier's memory refuses older ones."""
    beijing = key("beijing", Alg.ES256)
    v2 = trust_list(
        root(),
        [grant(zhejiang(), "330000"), grant(beijing, "110000")],
        version=2,
        issued_at=T0 + timedelta(days=30),
    )
    both = trust([root()], [standard_list(), v2])
    _, bj = issue_code(beijing, "lifecycle/beijing", region="110101")
    _, sh = issue_code(shanghai(), "lifecycle/shanghai", region="310000")
    _, zj = issue_code(zhejiang(), "lifecycle/zhejiang")
    yield case(
        "lifecycle/update-adds-key",
        "v2 adds Beijing: its code is valid",
        bj,
        valid(region="110101"),
        store=both,
    )
    yield case(
        "lifecycle/update-removes-key",
        "v2 drops Shanghai: v1 beside it no longer counts",
        sh,
        error("unknown_kid"),
        store=both,
    )
    yield case("lifecycle/update-keeps-key", "Zhejiang on both versions", zj, valid(), store=both)
    yield case(
        "lifecycle/rollback-refused",
        "the verifier saw v2; only v1 is offered",
        sh,
        error("trust_list_rollback"),
        store=trust([root()], [standard_list()], seen={_SERIES: 2}),
    )
    yield case(
        "lifecycle/rollback-not-when-newest-present",
        "saw v2; v1 and v2 offered: v2 is used",
        zj,
        valid(),
        store=trust([root()], [standard_list(), v2], seen={_SERIES: 2}),
    )
    yield case(
        "lifecycle/seen-same-version",
        "saw v1; v1 offered",
        sh,
        valid(),
        store=trust([root()], [standard_list()], seen={_SERIES: 1}),
    )
    yield case(
        "lifecycle/seen-other-series",
        "a remembered version of another series does not matter",
        sh,
        valid(),
        store=trust([root()], [standard_list()], seen={"00000000000000aa/national": 9}),
    )
    rival = trust_list(root(), [grant(zhejiang(), "330000")], version=1, issued_at=T0 + timedelta(days=1))
    yield case(
        "lifecycle/two-lists-one-version",
        "two different lists claim v1 of one series",
        zj,
        {**error("trust_equivocation"), "accept": ["trust_conflict"]},  # 0.1 vectors said trust_conflict
        store=trust([root()], [standard_list(), rival]),
    )


@builder("lifecycle")
def rotation() -> Iterator[Case]:
    """A rotated-out key keeps verifying the codes it issued in its window; the new key takes over."""
    rotated_at = ISSUED - timedelta(days=1)
    successor = key("zhejiang-2026b", Alg.ES256)
    v2 = trust_list(
        root(),
        [
            KeyGrant(zhejiang().public_key(), "330000", epoch(T0), epoch(rotated_at)),
            KeyGrant(successor.public_key(), "330000", epoch(rotated_at), epoch(KEY_NOT_AFTER)),
            grant(shanghai(), "310000"),
        ],
        version=2,
        issued_at=rotated_at,
    )
    store = trust([root()], [v2])
    _, old = issue_code(
        zhejiang(),
        "lifecycle/rotated-old",
        issued_at=rotated_at - timedelta(hours=2),
        valid_for=timedelta(days=3),
    )
    yield case(
        "lifecycle/rotated-key-old-code",
        "a code the old key issued before the rotation",
        old,
        valid(),
        store=store,
    )
    _, late = issue_code(zhejiang(), "lifecycle/rotated-late")
    yield case(
        "lifecycle/rotated-key-new-code",
        "a code the old key issued after the rotation",
        late,
        error("key_not_valid"),
        store=store,
    )
    _, new = issue_code(successor, "lifecycle/successor")
    yield case("lifecycle/successor-key", "a code of the new key", new, valid(), store=store)
    yield case(
        "lifecycle/successor-unknown-on-v1", "the new key's code against v1", new, error("unknown_kid")
    )


@builder("lifecycle")
def expiry() -> Iterator[Case]:
    """A list is valid from its issue time to its expiry (plus a configured grace)."""
    _, text = issue_code(
        zhejiang(),
        "lifecycle/expiry",
        issued_at=LIST_EXPIRES - timedelta(hours=2),
        valid_for=timedelta(days=2),
    )
    end = epoch(LIST_EXPIRES)
    yield case(
        "lifecycle/list-at-expiry",
        "validated at the list's expiry second",
        text,
        valid(in_grace=False),
        at=end,
    )
    yield case(
        "lifecycle/list-expired",
        "validated one second after the list expired",
        text,
        error("trust_list_expired"),
        at=end + 1,
    )
    yield case(
        "lifecycle/list-expired-in-grace",
        "expired an hour ago; grace one day",
        text,
        valid(in_grace=True),
        at=end + 3600,
        grace=86400,
    )
    yield case(
        "lifecycle/list-expired-past-grace",
        "expired 2 days ago; grace one day",
        text,
        error("trust_list_expired"),
        at=end + 2 * 86400 - 7200,
        grace=86400,
    )
    future = trust(
        [root()], [trust_list(root(), [grant(zhejiang(), "330000")], issued_at=ISSUED + timedelta(days=1))]
    )
    _, zj = issue_code(zhejiang(), "lifecycle/future")
    yield case(
        "lifecycle/list-not-yet-valid",
        "the only list is issued tomorrow",
        zj,
        error("trust_list_not_yet_valid"),
        store=future,
    )
    expired = trust_list(
        root(), [grant(zhejiang(), "330000")], list_id="old", expires_at=ISSUED - timedelta(days=1)
    )
    yield case(
        "lifecycle/expired-and-current-list",
        "the key is on an expired list and on a current one",
        zj,
        valid(),
        store=trust([root()], [expired, standard_list()]),
    )
    yield case(
        "lifecycle/only-expired-list",
        "the key is only on an expired list",
        zj,
        error("trust_list_expired"),
        store=trust([root()], [expired]),
    )


@builder("lifecycle")
def compromise() -> Iterator[Case]:
    """A compromised key's codes from the compromise time on are refused; earlier ones stay valid."""
    at = ISSUED - timedelta(hours=12)
    v2 = trust_list(
        root(),
        [grant(zhejiang(), "330000", compromised_at=epoch(at)), grant(shanghai(), "310000")],
        version=2,
        issued_at=at,
    )
    store = trust([root()], [standard_list(), v2])
    _, before = issue_code(zhejiang(), "lifecycle/before-compromise", issued_at=at - timedelta(hours=1))
    yield case(
        "lifecycle/compromised-earlier-code",
        "issued an hour before the compromise",
        before,
        valid(),
        store=store,
        at=epoch(at) + 60,
    )
    _, after = issue_code(zhejiang(), "lifecycle/after-compromise")
    yield case(
        "lifecycle/compromised-later-code",
        "issued after the compromise",
        after,
        error("key_compromised"),
        store=store,
    )
    yield case("lifecycle/compromise-ignored-on-v1", "the same code against v1 alone", after, valid())
