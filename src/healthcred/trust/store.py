"""The trust store a verifier holds: anchors, the lists they vouch for, revocations and rule sets.

A verifier is configured with anchors only; it trusts a key only through a
list valid at the validation time, and the algorithm of each key comes from
its entry, never from a message header. :meth:`TrustStore.resolve` finds the
entries whose key verifies a message; the grant checks are
:func:`healthcred.trust.grants.permitting_entry`. See ``docs/format.md`` §9
for the bytes and ``docs/trust.md`` for operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from healthcred.clock import iso_time
from healthcred.crypto.algorithms import Alg, PublicKey
from healthcred.crypto.cose import Sign1
from healthcred.errors import (
    AlgorithmMismatch,
    BadSignature,
    RuleSetUnavailable,
    TrustConflict,
    TrustListExpired,
    TrustListNotYetValid,
    TrustStoreError,
    UnknownKid,
    UnsupportedAlgorithm,
    UntrustedList,
)
from healthcred.foreign.dcc.dsc import Dsc
from healthcred.foreign.shc.issuers import ShcIssuer
from healthcred.regions import NATIONAL_REGION, region_contains
from healthcred.trust.envelope import Anchor, open_signed, verify_anchor, verify_signer
from healthcred.trust.grants import TrustEntry, grant_conflict
from healthcred.trust.lists import TrustList, check_delegation, parse_list_body
from healthcred.trust.revocation import (
    MAX_REVOCATION_BYTES,
    RevocationList,
    Revocations,
    fold_revocations,
    parse_revocation_body,
    revocation_hash,
)
from healthcred.trust.rulesets import MAX_RULE_SET_BYTES, SignedRuleSet, parse_rule_set_body
from healthcred.trust.series import newest_versions

__all__ = ["TrustStore"]

_ALLOWED_ALGS = frozenset(int(a) for a in Alg)


class TrustStore:
    """Anchors plus the trust lists they vouch for, indexed by kid. Immutable once built.

    Of several lists in one series (same signer and list id) only the highest
    version counts. ``seen`` maps series to the highest version this verifier
    accepted before (see :mod:`healthcred.trust.state`): an older list is a
    rollback and refused. Conflicting grants of one key (different region or
    algorithm) are kept in :attr:`conflicts`, and that key verifies nothing.

    Foreign trust sits beside the native lists: ``dscs`` (X.509 document
    signer certificates, for EU DCCs) and ``shc_issuers`` (SMART Health Card
    issuers: ``iss`` URL, JWKS and revocation list). They are trusted as given
    — loaded by the operator from files, or from a bundle an anchor signed.
    """

    __slots__ = (
        "_index",
        "anchors",
        "conflicts",
        "dsc_index",
        "dscs",
        "lists",
        "raw_lists",
        "raw_revocations",
        "raw_rule_sets",
        "revocations",
        "rule_sets",
        "shc_issuers",
    )

    def __init__(
        self,
        anchors: Iterable[PublicKey | Anchor],
        lists: Iterable[bytes] = (),
        revocations: Iterable[bytes] = (),
        rule_sets: Iterable[bytes] = (),
        *,
        seen: Mapping[str, int] | None = None,
        dscs: Iterable[Dsc] = (),
        shc_issuers: Iterable[ShcIssuer] = (),
    ) -> None:
        """Verify every trust list, revocation list and rule set (signed bytes); any failure raises.

        A store needs a trust anchor, unless it holds only foreign trust (DSCs, SHC issuers).
        """
        self.anchors: tuple[Anchor, ...] = tuple(
            a if isinstance(a, Anchor) else Anchor.from_key(a) for a in anchors
        )
        self.dscs: tuple[Dsc, ...] = tuple(dscs)
        self.shc_issuers: tuple[ShcIssuer, ...] = tuple(shc_issuers)
        if any(not isinstance(d, Dsc) for d in self.dscs) or any(
            not isinstance(i, ShcIssuer) for i in self.shc_issuers
        ):
            raise TrustStoreError("dscs must be Dsc and shc_issuers ShcIssuer objects (see load_trust)")
        by_kid: dict[bytes, list[Dsc]] = {}
        for dsc in self.dscs:
            by_kid.setdefault(dsc.kid, []).append(dsc)
        self.dsc_index: Mapping[bytes, tuple[Dsc, ...]] = {kid: tuple(d) for kid, d in by_kid.items()}
        """The DSCs by kid, in load order (the EU DCC verifier's lookup: one dict get)."""
        self.raw_lists: tuple[bytes, ...] = tuple(lists)
        revocations, rule_sets = tuple(revocations), tuple(rule_sets)
        if not self.anchors and (
            self.raw_lists or revocations or rule_sets or not (self.dscs or self.shc_issuers)
        ):
            raise TrustStoreError("a trust store needs at least one trust anchor")
        self.lists: tuple[TrustList, ...] = _verified_lists(self.anchors, self.raw_lists, seen)
        index: dict[bytes, list[TrustEntry]] = {}
        for trust_list in self.lists:
            for entry in trust_list.entries:
                index.setdefault(entry.kid, []).append(entry)
        self._index: dict[bytes, tuple[TrustEntry, ...]] = {k: tuple(v) for k, v in index.items()}
        self.conflicts: dict[bytes, str] = {
            kid: why for kid, entries in self._index.items() if (why := grant_conflict(entries)) is not None
        }
        self.raw_revocations: tuple[bytes, ...] = tuple(revocations)
        self.revocations: tuple[Revocations, ...] = fold_revocations(self._scoped_revocations(), seen)
        self.raw_rule_sets: tuple[bytes, ...] = tuple(rule_sets)
        self.rule_sets: tuple[SignedRuleSet, ...] = self._newest_rule_sets(seen)

    def _newest_rule_sets(self, seen: Mapping[str, int] | None) -> tuple[SignedRuleSet, ...]:
        # Signed by an anchor or a key granted the rules role; the newest version of each series.
        parsed = []
        for data in self.raw_rule_sets:
            message = open_signed(data, MAX_RULE_SET_BYTES)
            candidates = [(a.kid, a.alg, a.verify) for a in self.anchors if a.kid == message.kid]
            candidates += [
                (e.kid, e.alg, e.verify) for e in self._index.get(message.kid, ()) if e.may_sign_rules
            ]
            verify_signer(message, candidates, "a trust anchor or a key granted the rules role")
            parsed.append(parse_rule_set_body(message))
        return tuple(newest_versions(parsed, seen, "rule set"))

    def rule_set(self, kind: str, at: int) -> SignedRuleSet:
        """The newest signed rule set of ``kind`` (``status`` or ``policy``) valid at ``at``.

        Raises :class:`RuleSetUnavailable` when there is none: a verifier never
        falls back to unsigned or expired rules.
        """
        valid = [r for r in self.rule_sets if r.kind == kind and r.issued_at <= at <= r.expires_at]
        if not valid:
            known = [r for r in self.rule_sets if r.kind == kind]
            why = "all have expired or are not valid yet" if known else "none is installed"
            raise RuleSetUnavailable(f"no signed {kind} rule set is valid now: {why}")
        return max(valid, key=lambda r: (r.issued_at, r.version))

    def _revocation_signer(self, message: Sign1) -> str:
        # An anchor revokes anywhere; an issuer key revokes within its own region.
        anchors = [(a.kid, a.alg, a.verify) for a in self.anchors if a.kid == message.kid]
        if anchors:
            verify_signer(message, anchors, "a trust anchor")
            return NATIONAL_REGION
        issuers = [e for e in self._index.get(message.kid, ()) if e.may_issue]
        verify_signer(
            message, [(e.kid, e.alg, e.verify) for e in issuers], "a trust anchor or a listed issuer key"
        )
        regions = {e.region for e in issuers}
        if len(regions) != 1:
            raise TrustConflict(
                f"revocation signer {message.kid.hex()} holds several regions: {sorted(regions)}"
            )
        return regions.pop()

    def _scoped_revocations(self) -> Iterator[tuple[str, RevocationList]]:
        # Each list, verified, with the region its signer covers.
        for data in self.raw_revocations:
            message = open_signed(data, MAX_REVOCATION_BYTES)
            scope = self._revocation_signer(message)
            yield scope, parse_revocation_body(message)

    def is_revoked(self, credential_id: bytes, region: str) -> bool:
        """Whether a revocation list that covers ``region`` names this credential id."""
        if not self.revocations:
            return False
        value = revocation_hash(credential_id)
        for revocations in self.revocations:
            if revocations.hashes.contains(value) and region_contains(revocations.scope, region):
                return True
        return False

    @property
    def versions(self) -> dict[str, int]:
        """Series → version of every trust list, revocation list and rule set in use (for the state file)."""
        return {
            **{t.series: t.version for t in self.lists},
            **{r.series: r.version for r in self.revocations},
            **{r.series: r.version for r in self.rule_sets},
        }

    def _with(
        self,
        *,
        lists: Iterable[bytes] = (),
        revocations: Iterable[bytes] = (),
        rule_sets: Iterable[bytes] = (),
        dscs: Iterable[Dsc] = (),
        shc_issuers: Iterable[ShcIssuer] = (),
        seen: Mapping[str, int] | None = None,
    ) -> TrustStore:
        # Everything this store holds plus the additions, verified again from the signed bytes.
        return TrustStore(
            self.anchors,
            (*self.raw_lists, *lists),
            (*self.raw_revocations, *revocations),
            (*self.raw_rule_sets, *rule_sets),
            seen=seen,
            dscs=(*self.dscs, *dscs),
            shc_issuers=(*self.shc_issuers, *shc_issuers),
        )

    def with_list(self, data: bytes, *, seen: Mapping[str, int] | None = None) -> TrustStore:
        """A new store with one more signed trust list (the old store is unchanged)."""
        return self._with(lists=[data], seen=seen)

    def with_revocations(self, data: bytes, *, seen: Mapping[str, int] | None = None) -> TrustStore:
        """A new store with one more signed revocation list (full or delta)."""
        return self._with(revocations=[data], seen=seen)

    def with_rule_set(self, data: bytes, *, seen: Mapping[str, int] | None = None) -> TrustStore:
        """A new store with one more signed rule set."""
        return self._with(rule_sets=[data], seen=seen)

    def with_foreign(self, *, dscs: Iterable[Dsc] = (), shc_issuers: Iterable[ShcIssuer] = ()) -> TrustStore:
        """A new store with more foreign trust: DSCs for EU DCCs, issuers for SMART Health Cards."""
        return self._with(dscs=dscs, shc_issuers=shc_issuers)

    def entries(self, kid: bytes) -> tuple[TrustEntry, ...]:
        """Every trusted entry with this kid, from any list in use (valid now or not)."""
        return self._index.get(kid, ())

    def resolve(self, message: Sign1, at: int, grace: int = 0) -> tuple[TrustEntry, ...]:
        """Every entry whose key verifies ``message``, from lists valid at ``at`` (epoch seconds).

        A list counts as valid up to ``grace`` seconds past its expiry. Every
        entry with the kid is tried, using the algorithm the entry fixes; a kid
        match alone proves nothing. Each distinct key verifies once. Raises
        :class:`UnsupportedAlgorithm`, :class:`UnknownKid`, :class:`TrustConflict`,
        :class:`TrustListExpired`, :class:`TrustListNotYetValid`,
        :class:`AlgorithmMismatch` or :class:`BadSignature`.
        """
        return self.resolve_signed(
            message.alg, message.kid, message.to_be_signed(), message.signature, at, grace
        )

    def resolve_signed(
        self, alg: int, kid: bytes, to_be_signed: bytes, signature: bytes, at: int, grace: int = 0
    ) -> tuple[TrustEntry, ...]:
        """:meth:`resolve` on a message's parts: header ``alg`` and ``kid``, its Sig_structure and signature.

        For the verifier's hot path, whose C decoder gives the Sig_structure ready made.
        """
        if alg not in _ALLOWED_ALGS:
            allowed = ", ".join(f"{Alg(a).label} ({a})" for a in sorted(_ALLOWED_ALGS, reverse=True))
            raise UnsupportedAlgorithm(f"header alg {alg} is not allowed (allowed: {allowed})")
        entries = self._index.get(kid)
        if not entries:
            raise UnknownKid(f"no trusted key has kid {kid.hex()}")
        if kid in self.conflicts:
            raise TrustConflict(f"kid {kid.hex()}: {self.conflicts[kid]}")
        if len(entries) == 1:  # the usual case, without the bookkeeping below
            only = entries[0]
            if only.list_issued_at <= at <= only.list_expires_at + grace and only.alg == alg:
                only.verify(to_be_signed, signature)
                return entries
        live = [e for e in entries if e.list_issued_at <= at <= e.list_expires_at + grace]
        if not live:
            if any(at > e.list_expires_at for e in entries):
                ended = max(e.list_expires_at for e in entries)
                raise TrustListExpired(
                    f"the trust list holding kid {kid.hex()} expired at {iso_time(ended)}"
                    f" (validation time {iso_time(at)}); update the trust lists"
                )
            begins = min(e.list_issued_at for e in entries)
            raise TrustListNotYetValid(
                f"the trust list holding kid {kid.hex()} is valid from {iso_time(begins)},"
                f" after the validation time {iso_time(at)} (check the clock)"
            )
        matching = [e for e in live if e.alg == alg]
        if not matching:
            raise AlgorithmMismatch(f"header alg {alg} is not the algorithm trusted for kid {kid.hex()}")
        verdicts: dict[bytes, bool] = {}
        for entry in matching:
            if entry.key_der not in verdicts:
                try:
                    entry.verify(to_be_signed, signature)
                    verdicts[entry.key_der] = True
                except BadSignature:
                    verdicts[entry.key_der] = False
        verified = tuple(e for e in matching if verdicts[e.key_der])
        if not verified:
            raise BadSignature(f"signature does not verify with any trusted key of kid {kid.hex()}")
        return verified


def _verified_lists(
    anchors: tuple[Anchor, ...], raw_lists: tuple[bytes, ...], seen: Mapping[str, int] | None
) -> tuple[TrustList, ...]:
    # Anchor-signed lists first (newest of each series), then the lists their delegating keys signed.
    anchor_kids = {a.kid for a in anchors}
    opened = [open_signed(data) for data in raw_lists]
    rooted: list[TrustList] = []
    for message in opened:
        if message.kid in anchor_kids:
            verify_anchor(message, anchors)
            rooted.append(parse_list_body(message, None))
    rooted = newest_versions(rooted, seen, "trust list")
    delegators: dict[bytes, list[TrustEntry]] = {}
    for trust_list in rooted:
        for entry in trust_list.entries:
            if entry.may_delegate:
                delegators.setdefault(entry.kid, []).append(entry)
    delegated: list[TrustList] = []
    for message in opened:
        if message.kid in anchor_kids:
            continue
        candidates = delegators.get(message.kid, [])
        if not candidates:
            raise UntrustedList(
                f"trust list is signed by key {message.kid.hex()}, which is neither a trust anchor "
                "nor a key granted the delegate role"
            )
        signer = verify_signer(message, [(e.kid, e.alg, e.verify) for e in candidates], "its delegating key")
        delegated.append(check_delegation(parse_list_body(message, signer), candidates[0]))
    return (*rooted, *newest_versions(delegated, seen, "trust list"))
