"""Revocation lists: by the issuer or an anchor, full and delta, scope, rollback, shape."""

from __future__ import annotations

from collections.abc import Iterator

from healthcred.conformance.case import Case, Trust
from healthcred.conformance.cases.common import case, root, shanghai, standard_list, zhejiang
from healthcred.conformance.registry import builder, error, valid
from healthcred.conformance.world import credential_id, issue_code, key, revocation_list, trust
from healthcred.signing.keys import kid_of


@builder("revocation")
def revocations() -> Iterator[Case]:
    """A revoked credential id is refused within the signer's scope; nothing else changes."""
    revoked_id = credential_id("revocation/revoked")
    other_id = credential_id("revocation/other")
    _, revoked = issue_code(zhejiang(), "revocation/revoked")
    _, other = issue_code(zhejiang(), "revocation/other")
    _, sh_code = issue_code(shanghai(), "revocation/shanghai", region="310000")
    sh_id = credential_id("revocation/shanghai")
    by_issuer = revocation_list(zhejiang(), added=[revoked_id, credential_id("revocation/unrelated")])

    def with_revocations(*lists: bytes, seen: dict[str, int] | None = None) -> Trust:
        return trust([root()], [standard_list()], lists, seen=seen)

    yield case(
        "revocation/by-issuer",
        "Zhejiang revokes its own code",
        revoked,
        error("revoked"),
        store=with_revocations(by_issuer),
    )
    yield case(
        "revocation/other-credential",
        "another Zhejiang code is not affected",
        other,
        valid(),
        store=with_revocations(by_issuer),
    )
    by_root = revocation_list(root(), added=[sh_id], list_id="national-revocations")
    yield case(
        "revocation/by-anchor",
        "the root revokes a Shanghai code",
        sh_code,
        error("revoked"),
        store=with_revocations(by_root),
    )
    outside = revocation_list(shanghai(), added=[revoked_id])
    yield case(
        "revocation/outside-signer-region",
        "Shanghai's key names a Zhejiang code: outside its region, no effect",
        revoked,
        valid(),
        store=with_revocations(outside),
    )
    delta_add = revocation_list(zhejiang(), version=2, base=1, added=[other_id])
    yield case(
        "revocation/delta-adds",
        "a delta on v1 revokes one more",
        other,
        error("revoked"),
        store=with_revocations(by_issuer, delta_add),
    )
    delta_remove = revocation_list(zhejiang(), version=2, base=1, removed=[revoked_id])
    yield case(
        "revocation/delta-removes",
        "a delta on v1 lifts a revocation",
        revoked,
        valid(),
        store=with_revocations(by_issuer, delta_remove),
    )
    gap = revocation_list(zhejiang(), version=3, base=2, added=[other_id])
    yield case(
        "revocation/delta-gap",
        "v1 and a delta on v2 (missing)",
        other,
        error("trust_list_malformed"),
        store=with_revocations(by_issuer, gap),
    )
    yield case(
        "revocation/delta-without-full",
        "a delta alone",
        other,
        error("trust_list_malformed"),
        store=with_revocations(delta_add),
    )
    series = f"{kid_of(zhejiang()).hex()}/revocations"
    yield case(
        "revocation/rollback",
        "the verifier saw revocation v2; only v1 is offered",
        other,
        error("trust_list_rollback"),
        store=with_revocations(by_issuer, seen={series: 2}),
    )
    rival = revocation_list(zhejiang(), added=[other_id])
    yield case(
        "revocation/two-lists-one-version",
        "two different v1 of one series",
        other,
        error("trust_conflict"),
        store=with_revocations(by_issuer, rival),
    )
    stranger = revocation_list(key("stranger"), added=[revoked_id])
    yield case(
        "revocation/unknown-signer",
        "signed by a key on no list",
        revoked,
        error("untrusted_list"),
        store=with_revocations(stranger),
    )
    yield case(
        "revocation/trust-list-as-revocation",
        "a trust list among the revocation lists",
        revoked,
        error("trust_list_malformed"),
        store=with_revocations(standard_list()),
    )
    yield case(
        "revocation/newest-full-list",
        "full v1 revokes, full v2 does not: v2 counts",
        revoked,
        valid(),
        store=with_revocations(by_issuer, revocation_list(zhejiang(), version=2, added=[other_id])),
    )
