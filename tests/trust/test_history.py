"""What a new list would stop accepting (`trust.history.invalidations`), and retiring keys."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from healthcred.crypto.algorithms import Alg, PrivateKey
from healthcred.crypto.keys import generate_key, kid_of
from healthcred.trust.envelope import Anchor
from healthcred.trust.grants import KeyGrant, TrustEntry
from healthcred.trust.history import invalidations, retire_grant, successor_grant
from healthcred.trust.lists import parse_trust_list
from tests.helpers.world import ISSUED, KEY_NOT_AFTER, T0, signed_list, ts

NOW = ts(ISSUED)
ROOT = generate_key(Alg.EDDSA)
ZJ = generate_key(Alg.ES256)
SH = generate_key(Alg.EDDSA)


def _grant(key: PrivateKey = ZJ, region: str = "330000", **changes: Any) -> KeyGrant:
    g = KeyGrant(key.public_key(), region, ts(T0), ts(KEY_NOT_AFTER), frozenset({1, 3}), frozenset({1, 2}))
    return replace(g, **changes)


def _entries(*grants: KeyGrant, version: int = 1, issued_at: datetime = ISSUED) -> tuple[TrustEntry, ...]:
    data = signed_list(ROOT, list(grants), version=version, issued_at=issued_at)
    return parse_trust_list(data, [Anchor.from_key(ROOT.public_key())]).entries


OLD = _entries(_grant(), _grant(SH, "310000"))


def test_an_unchanged_or_widened_list_invalidates_nothing() -> None:
    assert invalidations(OLD, _entries(_grant(), _grant(SH, "310000"), version=2), NOW) == []
    wider = _grant(region="000000", kinds=None, statuses=None, not_after=ts(KEY_NOT_AFTER) + 86400)
    assert invalidations(OLD, _entries(wider, _grant(SH, "310000"), version=2), NOW) == []


def test_adding_a_key_invalidates_nothing() -> None:
    added = _grant(generate_key(Alg.EDDSA), "330100")
    assert invalidations(OLD, _entries(_grant(), _grant(SH, "310000"), added, version=2), NOW) == []


def test_retiring_a_key_from_now_on_invalidates_nothing() -> None:
    grants, _ = retire_grant([_grant(), _grant(SH, "310000")], kid_of(SH).hex(), NOW, compromised=False)
    assert invalidations(OLD, _entries(*grants, version=2), NOW) == []


def test_retiring_a_key_from_the_new_lists_issue_time_invalidates_nothing_when_installed_later() -> None:
    grants, _ = retire_grant([_grant(), _grant(SH, "310000")], kid_of(SH).hex(), NOW, compromised=False)
    assert invalidations(OLD, _entries(*grants, version=2, issued_at=ISSUED), NOW + 7 * 86400) == []
    (why,) = invalidations(
        OLD, _entries(*grants, version=2, issued_at=ISSUED + timedelta(hours=1)), NOW + 86400
    )
    assert (
        "window now ends 2026-11-23T08:00:00+00:00" in why
    )  # the list speaks from 09:00; codes of 08:00–09:00


def test_a_removed_key_invalidates_its_codes() -> None:
    (why,) = invalidations(OLD, _entries(_grant(), version=2), NOW)
    assert kid_of(SH).hex() in why and "no longer on any list" in why


def test_a_window_ended_before_now_invalidates_the_codes_since() -> None:
    earlier = ts(ISSUED - timedelta(days=1))
    grants, _ = retire_grant([_grant(), _grant(SH, "310000")], kid_of(SH).hex(), earlier, compromised=False)
    (why,) = invalidations(OLD, _entries(*grants, version=2), NOW)
    assert "window now ends 2026-11-22T08:00:00+00:00" in why


def test_a_window_started_later_invalidates_the_codes_before() -> None:
    later = _grant(SH, "310000", not_before=ts(T0) + 86400)
    (why,) = invalidations(OLD, _entries(_grant(), later, version=2), NOW)
    assert "window now starts 2026-01-02T00:00:00+00:00" in why


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"region": "330100"}, "region narrowed 330000 → 330100"),
        ({"kinds": frozenset({1})}, "kinds narrowed {1, 3} → {1}"),
        ({"statuses": frozenset({1})}, "colours narrowed {1, 2} → {1}"),
        ({"may_issue": False, "may_delegate": True}, "loses the issue role"),
        ({"compromised_at": NOW - 3600}, "marked compromised from 2026-11-23T07:00:00+00:00"),
    ],
)
def test_a_narrowed_grant_invalidates_its_codes(changes: dict[str, Any], said: str) -> None:
    (why,) = invalidations(OLD, _entries(_grant(**changes), _grant(SH, "310000"), version=2), NOW)
    assert said in why and kid_of(ZJ).hex() in why and "would fail" in why


@pytest.mark.parametrize("changes", [{"kinds": None}, {"statuses": None}, {"compromised_at": NOW + 3600}])
def test_a_widened_grant_or_a_compromise_from_later_on_invalidates_nothing(
    changes: dict[str, Any],
) -> None:
    assert invalidations(OLD, _entries(_grant(**changes), _grant(SH, "310000"), version=2), NOW) == []


def test_a_list_valid_only_later_invalidates_every_code_until_then() -> None:
    future = _entries(_grant(), _grant(SH, "310000"), version=2, issued_at=ISSUED + timedelta(days=1))
    lost = invalidations(OLD, future, NOW)
    assert len(lost) == 2 and all("its list is not valid until 2026-11-24T08:00:00+00:00" in w for w in lost)


def test_a_key_that_could_not_have_signed_yet_is_not_counted() -> None:
    late = _entries(_grant(not_before=NOW + 86400), _grant(SH, "310000"))
    assert invalidations(late, _entries(_grant(SH, "310000"), version=2), NOW) == []


def test_a_key_moved_to_another_list_keeps_its_codes() -> None:
    moved = signed_list(ROOT, [_grant()], version=1, list_id="zhejiang")
    other = parse_trust_list(moved, [Anchor.from_key(ROOT.public_key())]).entries
    assert invalidations(OLD, (*_entries(_grant(SH, "310000"), version=2), *other), NOW) == []


def test_retire_ends_only_the_named_keys_window_and_never_extends_it() -> None:
    grants = [_grant(), _grant(SH, "310000")]
    retired, old = retire_grant(grants, kid_of(SH).hex().upper(), NOW, compromised=False)
    assert old == grants[1] and retired[0] is grants[0] and retired[1].not_after == NOW
    later, _ = retire_grant(grants, kid_of(SH).hex(), ts(KEY_NOT_AFTER) + 86400, compromised=False)
    assert later[1].not_after == ts(KEY_NOT_AFTER)
    assert retire_grant(grants, "00" * 8, NOW, compromised=False)[1] is None


def test_a_successor_takes_the_grant_from_the_retirement_on() -> None:
    new_key = generate_key(Alg.EDDSA).public_key()
    after = successor_grant(_grant(compromised_at=NOW), new_key, NOW)
    assert (after.region, after.kinds, after.statuses, after.not_before) == (
        "330000",
        frozenset({1, 3}),
        frozenset({1, 2}),
        NOW,
    )
    assert after.compromised_at is None and after.public_key is new_key
