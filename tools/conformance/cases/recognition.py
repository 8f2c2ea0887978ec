"""The three recognition modes: bilateral lists, the national intermediary (national codes derived from
regional ones), and direct national codes; plus the key hierarchy (a province delegating to a city)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from healthcred.crypto.algorithms import Alg, PrivateKey
from healthcred.flows.national import derive_national
from healthcred.model import RED, CredentialKind
from healthcred.regions import NATIONAL_REGION
from healthcred.trust.store import TrustStore
from tools.conformance.case import Case, Trust
from tools.conformance.cases.common import case, shanghai, zhejiang
from tools.conformance.registry import builder, error, valid
from tools.conformance.world import (
    CHECKED,
    ISSUED,
    credential_id,
    epoch,
    grant,
    issue_code,
    key,
    signer,
    trust,
    trust_list,
)

NATIONAL_ONLY = frozenset({int(CredentialKind.NATIONAL)})
REGIONAL_ONLY = frozenset({int(CredentialKind.HEALTH_STATUS)})


@dataclass(frozen=True)
class Nation:
    """The national platform: root, national issuer key, national list, Zhejiang's city list."""

    root: PrivateKey
    national: PrivateKey
    hangzhou: PrivateKey
    national_list: bytes
    city_list: bytes

    def trust(self) -> Trust:
        """Anchor: the national root; lists: the national list and Zhejiang's delegated city list."""
        return trust([self.root], [self.national_list, self.city_list])

    def store(self) -> TrustStore:
        """The same, as a trust store (for deriving national codes)."""
        return TrustStore([self.root.public_key()], [self.national_list, self.city_list])


@functools.cache
def nation() -> Nation:
    """The national hierarchy of docs/recognition.md, from fixed seeds."""
    root = key("nation-root")
    national = key("national-platform", Alg.ES256)
    hangzhou = key("hangzhou", Alg.ES256)
    national_list = trust_list(
        root,
        [
            grant(national, NATIONAL_REGION, kinds=NATIONAL_ONLY),
            grant(zhejiang(), "330000", kinds=REGIONAL_ONLY, may_delegate=True),
            grant(shanghai(), "310000", kinds=REGIONAL_ONLY),
        ],
    )
    city_list = trust_list(
        zhejiang(), [grant(hangzhou, "330100", kinds=REGIONAL_ONLY)], list_id="zhejiang-cities"
    )
    return Nation(root, national, hangzhou, national_list, city_list)


def _national(source: str, label: str) -> str:
    n = nation()
    return derive_national(
        source, n.store(), signer(n.national), at=CHECKED, credential_id=credential_id(label)
    )


@builder("recognition")
def bilateral() -> Iterator[Case]:
    """Two regions trust each other's roots directly."""
    zj_root, sh_root = key("zhejiang-root"), key("shanghai-root")
    zj_list = trust_list(zj_root, [grant(zhejiang(), "330000")], list_id="zhejiang")
    sh_list = trust_list(sh_root, [grant(shanghai(), "310000")], list_id="shanghai")
    gate = trust([sh_root, zj_root], [sh_list, zj_list])
    _, zj = issue_code(zhejiang(), "recognition/bilateral-zj")
    _, sh = issue_code(shanghai(), "recognition/bilateral-sh", region="310115")
    yield case(
        "recognition/bilateral-zhejiang-at-shanghai",
        "a Zhejiang code at a Shanghai gate",
        zj,
        valid(key_region="330000"),
        store=gate,
    )
    yield case(
        "recognition/bilateral-shanghai-at-shanghai",
        "a Shanghai code at the same gate",
        sh,
        valid(key_region="310000"),
        store=gate,
    )
    alone = trust([sh_root], [sh_list])
    yield case(
        "recognition/bilateral-not-recognised",
        "Shanghai alone does not know Zhejiang's key",
        zj,
        error("unknown_kid"),
        store=alone,
    )
    yield case(
        "recognition/bilateral-list-without-anchor",
        "Zhejiang's list offered, its root not trusted",
        zj,
        error("untrusted_list"),
        store=trust([sh_root], [sh_list, zj_list]),
    )


@builder("recognition")
def intermediary() -> Iterator[Case]:
    """The national platform verifies a regional code and issues a national code of kind 2."""
    n = nation()
    _, source = issue_code(zhejiang(), "recognition/source-zj", valid_for=timedelta(days=1))
    national = _national(source, "recognition/national-zj")
    yield case(
        "recognition/national-from-zhejiang",
        "a national code derived from a Zhejiang code",
        national,
        valid(
            kind=2,
            region="000000",
            source_region="330100",
            source_credential_id=credential_id("recognition/source-zj").hex(),
        ),
        store=n.trust(),
        related={"source": source},
    )
    yield case(
        "recognition/regional-on-national-list",
        "the source code itself, on the national list",
        source,
        valid(kind=1),
        store=n.trust(),
    )
    _, city = issue_code(n.hangzhou, "recognition/source-hz", region="330106", status=RED, reason=11)
    from_city = _national(city, "recognition/national-hz")
    yield case(
        "recognition/national-from-delegated-city",
        "a national code derived from a Hangzhou (delegated city key) red code",
        from_city,
        valid(kind=2, status=3, reason=11, source_region="330106"),
        store=n.trust(),
        related={"source": city},
    )
    yield case(
        "recognition/delegated-city-code",
        "the Hangzhou code itself",
        city,
        valid(key_region="330100"),
        store=n.trust(),
    )
    _, short = issue_code(
        shanghai(), "recognition/source-short", region="310000", valid_for=timedelta(hours=2)
    )
    capped = _national(short, "recognition/national-capped")
    yield case(
        "recognition/national-expiry-capped",
        "the national code expires with its 2-hour source",
        capped,
        valid(expires_at=epoch(ISSUED + timedelta(hours=2))),
        store=n.trust(),
        related={"source": short},
    )
    yield case(
        "recognition/national-expired-with-source",
        "the capped national code after its source's expiry",
        capped,
        error("expired"),
        store=n.trust(),
        at=epoch(ISSUED + timedelta(hours=3)),
        related={"source": short},
    )
    fake = issue_code(
        zhejiang(),
        "recognition/fake-national",
        kind=CredentialKind.NATIONAL,
        region="330100",
        source_region="330100",
        source_id=credential_id("x"),
    )[1]
    yield case(
        "recognition/regional-key-mints-national",
        "Zhejiang's key signs a kind-2 code",
        fake,
        error("kind_not_allowed"),
        store=n.trust(),
    )
    _, regional = issue_code(n.national, "recognition/national-key-regional", region="000000")
    yield case(
        "recognition/national-key-issues-regional",
        "the national key signs a kind-1 code",
        regional,
        error("kind_not_allowed"),
        store=n.trust(),
    )
    _, outside = issue_code(n.hangzhou, "recognition/hz-outside", region="330200")
    yield case(
        "recognition/city-key-outside-city",
        "Hangzhou's key issues for Ningbo (330200)",
        outside,
        error("region_not_allowed"),
        store=n.trust(),
    )


@functools.cache
def national_code() -> tuple[str, str]:
    """A Shanghai green code and the national code derived from it."""
    _, source = issue_code(shanghai(), "recognition/direct-source", region="310000")
    return source, _national(source, "recognition/direct-national")


@builder("recognition")
def direct() -> Iterator[Case]:
    """A region without its own issuer verifies with the national anchor and list only."""
    n = nation()
    tibet = trust([n.root], [n.national_list])
    source, national = national_code()
    yield case(
        "recognition/direct-national-code",
        "a national code at a Tibet verifier",
        national,
        valid(kind=2),
        store=tibet,
        related={"source": source},
    )
    _, city = issue_code(n.hangzhou, "recognition/direct-city", region="330106")
    yield case(
        "recognition/direct-city-code-unknown",
        "a Hangzhou code at Tibet: the delegated city list is not installed",
        city,
        error("unknown_kid"),
        store=tibet,
    )
