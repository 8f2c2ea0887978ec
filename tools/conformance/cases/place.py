"""Place codes (``JKP1:``, collection points): ``verify_place`` on valid, expired, misgranted, broken codes.

Place codes are issued at 2026-11-01T00:00:00Z for 365 days unless a case says otherwise; venue
ids, names and regions are fixed per case.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from healthcred.codec.base45 import b45encode
from healthcred.codec.cbor import dumps
from healthcred.codec.compression import compress
from healthcred.codec.prefix import NATIVE_PREFIX, PLACE_PREFIX
from healthcred.crypto.algorithms import PrivateKey
from healthcred.crypto.cose import sign_content
from healthcred.crypto.keys import kid_of
from healthcred.flows.places import PLACE_CONTENT_TYPE, PLACE_GRANT_KIND, issue_place
from healthcred.rules.policy import SCENES
from tools.conformance.case import Case
from tools.conformance.cases.common import case, shanghai, store_of, zhejiang
from tools.conformance.registry import builder, error, valid
from tools.conformance.world import (
    CHECKED,
    edited,
    epoch,
    flip_text,
    grant,
    issue_code,
    key,
    message_of,
    raw_message,
    signer,
)

PLACE_ISSUED = datetime(2026, 11, 1, tzinfo=UTC)
"""When the usual place code is issued."""

_VENUES = {
    "community": ("HZ-XH-0001", "翠苑一区东门", "330106"),
    "workplace": ("ZJ-ACME.HQ", "Acme Hangzhou HQ", "330108"),
    "transport": ("HZ-METRO-L1-01", "地铁1号线湘湖站", "330109"),
    "school": ("HZ-SCH-0042", "杭州市学军小学", "330106"),
    "pharmacy": ("SH-PH-0007", "Huashan Pharmacy", "310104"),
    "mall": ("SH-MALL-0031", "徐家汇商城", "310104"),
    "hospital": ("SH-HOSP-0002", "瑞金医院门诊楼", "310101"),
    "venue": ("SH-VENUE-0005", "梅赛德斯奔驰文化中心", "310115"),
}
"""Per scene: venue id, display name, region (Zhejiang 33…, Shanghai 31…)."""


def _signer_for(region: str) -> PrivateKey:
    return zhejiang() if region.startswith("33") else shanghai()


def place_code(
    private: PrivateKey,
    *,
    venue_id: str = "HZ-XH-0001",
    name: str = "翠苑一区东门",
    region: str = "330106",
    scene: str = "community",
    issued_at: datetime = PLACE_ISSUED,
    valid_for: timedelta = timedelta(days=365),
) -> str:
    """A place code signed deterministically by ``private``."""
    return issue_place(
        signer(private, PLACE_CONTENT_TYPE),
        venue_id=venue_id,
        name=name,
        region=region,
        scene=scene,
        issued_at=issued_at,
        valid_for=valid_for,
    )


def _payload(changes: Mapping[int, Any] | None = None) -> dict[int, Any]:
    """The usual place payload, built by hand (``changes`` as for :func:`edited`)."""
    issued = epoch(PLACE_ISSUED)
    body = {
        1: 1,
        2: "HZ-XH-0001",
        3: "翠苑一区东门",
        4: "330106",
        5: "community",
        6: issued,
        7: issued + 365 * 86400,
    }
    return edited(body, changes or {})


def raw_place(payload: Any, *, content_type: str = PLACE_CONTENT_TYPE) -> str:
    """A place code over any payload, bypassing the issuer's checks (signed by Zhejiang)."""
    return PLACE_PREFIX + b45encode(sign_content(payload, signer(zhejiang(), content_type), content_type))


def _place(name: str, title: str, text: str, expected: Mapping[str, Any], **extra: Any) -> Case:
    return case(f"place/{name}", title, text, expected, operation="verify_place", **extra)


@builder("place")
def scenes() -> Iterator[Case]:
    """A valid place code for every scene type, signed by both algorithms."""
    for scene in SCENES:
        venue_id, name, region = _VENUES[scene]
        text = place_code(_signer_for(region), venue_id=venue_id, name=name, region=region, scene=scene)
        yield _place(
            f"scene-{scene}",
            f"a valid place code of scene {scene}",
            text,
            valid(venue_id=venue_id, name=name, region=region, scene=scene),
        )


@builder("place")
def windows() -> Iterator[Case]:
    """A place code's validity window, with the clock skew."""
    short = place_code(zhejiang(), valid_for=timedelta(days=10))  # expired 2026-11-11
    yield _place("expired", "a place code whose 10 days are over", short, error("expired"))
    edge = epoch(CHECKED) - 200 - epoch(PLACE_ISSUED)
    yield _place(
        "expired-within-skew",
        "a place code that expired 200 s ago (inside the 300 s skew)",
        place_code(zhejiang(), valid_for=timedelta(seconds=edge)),
        valid(scene="community"),
    )
    late = place_code(zhejiang(), issued_at=CHECKED + timedelta(days=1))
    yield _place("not-yet-valid", "a place code issued tomorrow", late, error("not_yet_valid"))
    yield _place(
        "issued-within-skew",
        "a place code issued 200 s in the future (inside the skew)",
        place_code(zhejiang(), issued_at=CHECKED + timedelta(seconds=200)),
        valid(scene="community"),
    )


@builder("place")
def grants() -> Iterator[Case]:
    """Who may sign a place code: a trusted key, for the venue's region, of a kind that lists 16."""
    yield _place(
        "wrong-region",
        "Zhejiang's key (330000) signs a place code for a Shanghai venue (310104)",
        place_code(zhejiang(), venue_id="SH-MALL-0031", name="徐家汇商城", region="310104", scene="mall"),
        error("region_not_allowed"),
    )
    yield _place(
        "untrusted-key",
        "a place code signed by a key on no trust list",
        place_code(key("stranger")),
        error("unknown_kid"),
    )
    codes_only = store_of(
        grant(zhejiang(), "330000", kinds=frozenset({1, 2, 3})), grant(shanghai(), "310000")
    )
    yield _place(
        "key-for-codes-only",
        "a key whose grant lists kinds 1–3 (health codes) signs a place code",
        place_code(zhejiang()),
        error("kind_not_allowed"),
        store=codes_only,
    )
    venues = key("zhejiang-venues")
    venue_store = store_of(
        grant(zhejiang(), "330000", kinds=frozenset({1, 2, 3})),
        grant(venues, "330000", kinds=frozenset({PLACE_GRANT_KIND})),
    )
    yield _place(
        "key-for-places-only",
        "a venue-registration key granted kind 16 only signs a place code",
        place_code(venues),
        valid(key_region="330000"),
        store=venue_store,
    )
    _, health = issue_code(venues, "place/venue-key-health-code")
    yield case(
        "place/venue-key-signs-health-code",
        "the kind-16 venue key signs a health code: verify refuses it",
        health,
        error("kind_not_allowed"),
        store=venue_store,
    )
    compromised = store_of(grant(zhejiang(), "330000", compromised_at=epoch(PLACE_ISSUED)))
    yield _place(
        "key-compromised",
        "a place code issued at the signing key's compromise time",
        place_code(zhejiang()),
        error("key_compromised"),
        store=compromised,
    )
    yield _place(
        "issued-before-key-window",
        "a place code issued before its key's window opens",
        place_code(zhejiang(), issued_at=datetime(2025, 12, 1, tzinfo=UTC)),
        error("key_not_valid"),
    )


@builder("place")
def broken() -> Iterator[Case]:
    """Tampered, mis-prefixed and malformed place codes."""
    good = place_code(zhejiang())
    body = good[len(PLACE_PREFIX) :]
    yield _place(
        "tampered-signature",
        "one bit of the signature flipped",
        flip_text(good),
        error("bad_signature"),
    )
    yield _place(
        "tampered-payload",
        "one bit of the payload (its scene) flipped, signature unchanged",
        flip_text(good, -80),
        error("bad_signature"),
    )
    _, health = issue_code(zhejiang(), "place/health-code")
    for name, text, why in (
        ("health-code-prefix", health, "a health code (JKM1:) given as a place code"),
        ("unknown-prefix", "XYZ1:" + body, "an unknown prefix"),
        ("lower-case-prefix", "jkp1:" + body, "the prefix in lower case"),
        ("version-2-prefix", "JKP2:" + body, "a place-code version this spec does not define"),
        ("no-prefix", body, "no prefix at all"),
    ):
        yield _place(name, f"prefix: {why}", text, error("bad_prefix"))
    yield _place("bad-base45", "lower-case Base45", PLACE_PREFIX + body.lower(), error("bad_base45"))
    yield _place(
        "zlib-body",
        "the same place code with a zlib body (verifiers accept both)",
        PLACE_PREFIX + b45encode(compress(message_of(good))),
        valid(scene="community"),
    )
    header = dumps({1: -35, 3: PLACE_CONTENT_TYPE, 4: kid_of(zhejiang())})
    yield _place(
        "unsupported-alg",
        "a place code whose header names ES384 (-35)",
        PLACE_PREFIX + b45encode(raw_message(dumps(_payload()), zhejiang(), protected=header)),
        error("unsupported_alg"),
    )
    yield _place(
        "trust-list-expired",
        "a valid place code checked after the trust list expired (2027-02-01)",
        good,
        error("trust_list_expired"),
        at=epoch(datetime(2027, 2, 1, tzinfo=UTC)),
    )
    yield _place(
        "health-code-body",
        "a signed health code's body under the place prefix (no place content type)",
        PLACE_PREFIX + health[len(NATIVE_PREFIX) :],
        error("bad_place_code"),
    )
    yield _place(
        "other-content-type",
        "a valid place payload signed with a binding's content type",
        raw_place(_payload(), content_type="application/vnd.healthcred.binding+cbor"),
        error("bad_place_code"),
    )
    yield _place(
        "raw-valid", "a hand-built place payload (control)", raw_place(_payload()), valid(scene="community")
    )
    for name, changes, why in (
        ("format-2", {1: 2}, "format 2"),
        ("missing-expiry", {7: None}, "no key 7"),
        ("extra-key", {8: "x"}, "an unknown key 8"),
        ("venue-id-leading-dash", {2: "-HZ-0001"}, "a venue id starting with '-'"),
        ("venue-id-too-long", {2: "V" * 33}, "a 33-character venue id"),
        ("name-surrounding-space", {3: " 翠苑一区东门"}, "a name with a leading space"),
        ("name-empty", {3: ""}, "an empty name"),
        ("region-short", {4: "3301"}, "a 4-digit region"),
        ("unknown-scene", {5: "cinema"}, "a scene that is not a policy scene type"),
        ("text-time", {6: "2026-11-01"}, "an issue time as text"),
        ("expiry-before-issue", {7: epoch(PLACE_ISSUED) - 1}, "an expiry before the issue time"),
        ("window-too-long", {7: epoch(PLACE_ISSUED) + 367 * 86400}, "a 367-day window"),
    ):
        yield _place(
            f"malformed-{name}",
            f"malformed place payload: {why}",
            raw_place(_payload(changes)),
            error("bad_place_code"),
        )
    yield _place(
        "malformed-not-a-map",
        "malformed place payload: an array",
        raw_place([1, "HZ-XH-0001"]),
        error("bad_place_code"),
    )
