"""Place codes (JKP1:): issuing, verifying, the signer's grant, and hostile input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from healthcred import Alg, HealthCredError, KeyGrant, TrustStore, generate_key, verify
from healthcred.codec.base45 import b45encode
from healthcred.codec.prefix import FOREIGN_PREFIXES, NATIVE_PREFIX, PLACE_PREFIX
from healthcred.crypto.cose import sign_content
from healthcred.flows.places import (
    PLACE_CONTENT_TYPE,
    PLACE_GRANT_KIND,
    issue_place,
    read_place,
    verify_place,
)
from healthcred.rules.policy import SCENES
from tests.helpers import forge
from tests.helpers.world import CHECKED, ISSUED, KEY_NOT_AFTER, T0, World, signed_list, ts


def _place(world: World, **changes: Any) -> str:
    fields: dict[str, Any] = {
        "venue_id": "hz-xihu-mall-01",
        "name": "西湖银泰 北门",
        "region": "330106",
        "scene": "mall",
        "issued_at": ISSUED,
    }
    fields.update(changes)
    return issue_place(world.zhejiang, **fields)


def _code(exc: pytest.ExceptionInfo[HealthCredError]) -> str:
    return exc.value.code


def test_prefix_is_distinct() -> None:
    for other in (NATIVE_PREFIX, *FOREIGN_PREFIXES):
        assert not other.startswith(PLACE_PREFIX[:4]) and not PLACE_PREFIX.startswith(other)
    assert all(c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:" for c in PLACE_PREFIX)


def test_place_round_trip(world: World) -> None:
    text = _place(world)
    assert text.startswith(PLACE_PREFIX) and len(text) < 300
    result = verify_place(text, world.store, at=CHECKED)
    assert result.place.venue_id == "hz-xihu-mall-01" and result.place.name == "西湖银泰 北门"
    assert result.place.scene == "mall" and result.place.region == "330106"
    assert result.summary()["valid"] and result.key_region == "330000"
    assert read_place(text) == result.place
    print(f"place code: {len(text)} characters")


@pytest.mark.parametrize("scene", SCENES)
def test_every_scene(world: World, scene: str) -> None:
    assert verify_place(_place(world, scene=scene), world.store, at=CHECKED).place.scene == scene


def test_codes_and_places_do_not_pass_for_each_other(world: World) -> None:
    with pytest.raises(HealthCredError, match="place code") as exc:
        verify(_place(world), world.store, at=CHECKED)
    assert _code(exc) == "bad_prefix"
    with pytest.raises(HealthCredError, match="health code") as exc:
        verify_place(world.code()[1], world.store, at=CHECKED)
    assert _code(exc) == "bad_prefix"
    # A health-code message behind the place prefix: right signer, wrong content type.
    message = forge.message(b"\xa0", world.zhejiang)
    with pytest.raises(HealthCredError) as exc:
        verify_place(PLACE_PREFIX + b45encode(message), world.store, at=CHECKED)
    assert _code(exc) == "bad_place_code"


def test_signer_must_cover_the_region_and_time(world: World) -> None:
    with pytest.raises(HealthCredError) as exc:
        verify_place(_place(world, region="310115"), world.store, at=CHECKED)
    assert _code(exc) == "region_not_allowed"
    with pytest.raises(HealthCredError) as exc:
        verify_place(
            issue_place(generate_key(Alg.EDDSA), venue_id="v", name="n", region="330106", scene="mall"),
            world.store,
            at=CHECKED,
        )
    assert _code(exc) == "unknown_kid"
    with pytest.raises(HealthCredError) as exc:
        verify_place(
            _place(world, valid_for=timedelta(hours=1)), world.store, at=CHECKED + timedelta(hours=1)
        )
    assert _code(exc) == "expired"
    with pytest.raises(HealthCredError) as exc:
        verify_place(_place(world), world.store, at=ISSUED - timedelta(hours=1))
    assert _code(exc) == "not_yet_valid"
    late = _place(world, issued_at=KEY_NOT_AFTER + timedelta(days=1))
    with pytest.raises(HealthCredError) as exc:
        verify_place(late, world.store, at=KEY_NOT_AFTER.replace(year=2026, month=12))
    assert _code(exc) == "key_not_valid"  # the signer's grant is checked before the code's window


def test_a_venue_key_signs_places_only(world: World) -> None:
    venue_key = generate_key(Alg.EDDSA)
    entry = KeyGrant(
        venue_key.public_key(), "330100", ts(T0), ts(KEY_NOT_AFTER), kinds=frozenset({PLACE_GRANT_KIND})
    )
    store = TrustStore([world.root.public_key()], [signed_list(world.root, [entry])])
    place = issue_place(
        venue_key, venue_id="v1", name="社区卫生服务中心", region="330106", scene="hospital", issued_at=ISSUED
    )
    assert verify_place(place, store, at=CHECKED).place.scene == "hospital"
    with pytest.raises(HealthCredError) as exc:
        verify(world.code(venue_key)[1], store, at=CHECKED)
    assert _code(exc) == "kind_not_allowed"
    issuer_only = KeyGrant(
        world.zhejiang.public_key(), "330000", ts(T0), ts(KEY_NOT_AFTER), kinds=frozenset({1})
    )
    store = TrustStore([world.root.public_key()], [signed_list(world.root, [issuer_only])])
    with pytest.raises(HealthCredError) as exc:
        verify_place(_place(world), store, at=CHECKED)
    assert _code(exc) == "kind_not_allowed"


@pytest.mark.parametrize(
    "changes",
    [
        {"venue_id": ""},
        {"venue_id": "bad id"},
        {"venue_id": "x" * 33},
        {"name": ""},
        {"name": " padded"},
        {"name": "名" * 65},
        {"region": "33010"},
        {"scene": "casino"},
    ],
)
def test_issue_refuses_bad_fields(world: World, changes: dict[str, object]) -> None:
    with pytest.raises(HealthCredError) as exc:
        _place(world, **changes)
    assert _code(exc) == "bad_place_code"


def test_issue_refuses_bad_lifetimes(world: World) -> None:
    for valid_for in (timedelta(0), timedelta(days=367)):
        with pytest.raises(HealthCredError) as exc:
            _place(world, valid_for=valid_for)
        assert _code(exc) == "bad_input"


BODY = {1: 1, 2: "v1", 3: "name", 4: "330106", 5: "mall", 6: ts(ISSUED), 7: ts(ISSUED) + 3600}


@pytest.mark.parametrize(
    "body",
    [
        {**BODY, 1: 2},
        {**BODY, 5: "casino"},
        {**BODY, 7: ts(ISSUED)},
        {**BODY, 7: ts(ISSUED) + 400 * 86400},
        {**BODY, 8: 0},
        {k: v for k, v in BODY.items() if k != 3},
        {**BODY, 6: -1},
        [1, 2, 3],
    ],
)
def test_verifier_refuses_malformed_payloads(world: World, body: object) -> None:
    text = PLACE_PREFIX + b45encode(sign_content(body, world.zhejiang, PLACE_CONTENT_TYPE))
    with pytest.raises(HealthCredError) as exc:
        verify_place(text, world.store, at=CHECKED)
    assert _code(exc) == "bad_place_code"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("JKP1:abc", "bad_base45"),
        ("JKP2:ABC", "bad_prefix"),
        ("JKP1:" + "0" * 5000, "too_large"),
        ("JKP1:" + b45encode(b"\xd2\x80"), "malformed_cose"),
        ("HC1:ABC", "bad_prefix"),
    ],
)
def test_hostile_text_is_typed(world: World, text: str, code: str) -> None:
    with pytest.raises(HealthCredError) as exc:
        verify_place(text, world.store, at=CHECKED)
    assert _code(exc) == code


def test_bad_arguments(world: World) -> None:
    calls: list[Callable[[], object]] = [
        lambda: verify_place(b"JKP1:", world.store),  # type: ignore[arg-type]
        lambda: verify_place(_place(world), "trust"),  # type: ignore[arg-type]
        lambda: verify_place(_place(world), world.store, at="now"),  # type: ignore[arg-type]
        lambda: verify_place(_place(world), world.store, skew=timedelta(seconds=-1)),
        lambda: verify_place(_place(world), world.store, grace=timedelta(seconds=-1)),
        lambda: verify_place(_place(world), world.store, skew=300),  # type: ignore[arg-type]
        lambda: _place(world, issued_at=ISSUED.replace(tzinfo=None)),
    ]
    for call in calls:
        with pytest.raises(HealthCredError) as exc:
            call()
        assert _code(exc) == "bad_input"
