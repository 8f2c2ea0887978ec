"""Revocation lists: by the issuer or an anchor, full and delta, scope, rollback, shape."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from healthcred.crypto.keys import kid_of
from tools.conformance.case import Case
from tools.conformance.cases.common import case, root, shanghai, standard_list, zhejiang
from tools.conformance.registry import builder, error, valid
from tools.conformance.world import credential_id, issue_code, key, revocation_list, trust


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

    def revoking(
        name: str,
        title: str,
        text: str,
        expected: Mapping[str, Any],
        *lists: bytes,
        seen: Mapping[str, int] | None = None,
    ) -> Case:
        # The usual trust with revocation ``lists``.
        store = trust([root()], [standard_list()], lists, seen=seen)
        return case(f"revocation/{name}", title, text, expected, store=store)

    yield revoking("by-issuer", "Zhejiang revokes its own code", revoked, error("revoked"), by_issuer)
    yield revoking("other-credential", "another Zhejiang code is not affected", other, valid(), by_issuer)
    by_root = revocation_list(root(), added=[sh_id], list_id="national-revocations")
    yield revoking("by-anchor", "the root revokes a Shanghai code", sh_code, error("revoked"), by_root)
    outside = revocation_list(shanghai(), added=[revoked_id])
    yield revoking(
        "outside-signer-region",
        "Shanghai's key names a Zhejiang code: outside its region, no effect",
        revoked,
        valid(),
        outside,
    )
    delta_add = revocation_list(zhejiang(), version=2, base=1, added=[other_id])
    yield revoking(
        "delta-adds", "a delta on v1 revokes one more", other, error("revoked"), by_issuer, delta_add
    )
    delta_remove = revocation_list(zhejiang(), version=2, base=1, removed=[revoked_id])
    yield revoking(
        "delta-removes", "a delta on v1 lifts a revocation", revoked, valid(), by_issuer, delta_remove
    )
    gap = revocation_list(zhejiang(), version=3, base=2, added=[other_id])
    yield revoking(
        "delta-gap", "v1 and a delta on v2 (missing)", other, error("trust_list_malformed"), by_issuer, gap
    )
    yield revoking("delta-without-full", "a delta alone", other, error("trust_list_malformed"), delta_add)
    series = f"{kid_of(zhejiang()).hex()}/revocations"
    yield revoking(
        "rollback",
        "the verifier saw revocation v2; only v1 is offered",
        other,
        error("trust_list_rollback"),
        by_issuer,
        seen={series: 2},
    )
    rival = revocation_list(zhejiang(), added=[other_id])
    yield revoking(
        "two-lists-one-version",
        "two different v1 of one series",
        other,
        {**error("trust_equivocation"), "accept": ["trust_conflict"]},  # 0.1 vectors said trust_conflict
        by_issuer,
        rival,
    )
    stranger = revocation_list(key("stranger"), added=[revoked_id])
    yield revoking("unknown-signer", "signed by a key on no list", revoked, error("untrusted_list"), stranger)
    yield revoking(
        "trust-list-as-revocation",
        "a trust list among the revocation lists",
        revoked,
        error("trust_list_malformed"),
        standard_list(),
    )
    yield revoking(
        "newest-full-list",
        "full v1 revokes, full v2 does not: v2 counts",
        revoked,
        valid(),
        by_issuer,
        revocation_list(zhejiang(), version=2, added=[other_id]),
    )
