"""Trust bundles: one anchor-signed file with every list; its own version and rollback rule."""

from __future__ import annotations

from collections.abc import Iterator

from healthcred.crypto.cose import encode_sign1, parse_sign1
from healthcred.crypto.keys import kid_of
from tools.conformance.case import Case
from tools.conformance.cases.common import case, root, shanghai, standard_list, zhejiang
from tools.conformance.registry import builder, error, valid
from tools.conformance.world import (
    credential_id,
    grant,
    issue_code,
    key,
    revocation_list,
    signed_bundle,
    trust,
    trust_list,
)


@builder("bundle")
def bundles() -> Iterator[Case]:
    """A bundle's lists work as if loaded loose; a bad or old bundle refuses the load."""
    _, zj = issue_code(zhejiang(), "bundle/zhejiang")
    _, sh = issue_code(shanghai(), "bundle/shanghai", region="310000")
    bundle = signed_bundle(root(), trust_lists=[standard_list()])
    yield case(
        "bundle/list-in-bundle",
        "the national list inside a bundle",
        zj,
        valid(),
        store=trust([root()], bundle=bundle),
    )
    revoking = signed_bundle(
        root(),
        version=2,
        trust_lists=[standard_list()],
        revocations=[revocation_list(shanghai(), added=[credential_id("bundle/shanghai")])],
    )
    yield case(
        "bundle/revocation-in-bundle",
        "a revocation list inside the bundle",
        sh,
        error("revoked"),
        store=trust([root()], bundle=revoking),
    )
    series = f"bundle:{kid_of(root()).hex()}/national"
    yield case(
        "bundle/rollback",
        "the verifier saw bundle v2; v1 is offered",
        zj,
        error("trust_list_rollback"),
        store=trust([root()], bundle=bundle, seen={series: 2}),
    )
    yield case(
        "bundle/by-stranger",
        "a bundle signed by a key that is no anchor",
        zj,
        error("untrusted_list"),
        store=trust([root()], bundle=signed_bundle(key("stranger-root"), trust_lists=[standard_list()])),
    )
    message = parse_sign1(bundle)
    tampered = encode_sign1(message.protected, message.payload, message.signature[:-1] + b"\x00")
    yield case(
        "bundle/tampered",
        "the bundle signature altered",
        zj,
        error("untrusted_list"),
        store=trust([root()], bundle=tampered),
    )
    yield case(
        "bundle/not-cose",
        "the bundle is not a COSE message",
        zj,
        error("trust_list_malformed"),
        store=trust([root()], bundle=b"\x00\x01"),
    )
    beijing = key("beijing-bundle")
    v2 = trust_list(root(), [grant(zhejiang(), "330000"), grant(beijing, "110000")], version=2)
    _, bj = issue_code(beijing, "bundle/beijing", region="110000")
    yield case(
        "bundle/loose-list-newer",
        "bundle holds v1, a loose v2 adds Beijing",
        bj,
        valid(),
        store=trust([root()], [v2], bundle=bundle),
    )
