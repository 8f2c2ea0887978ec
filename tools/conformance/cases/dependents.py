"""Dependents ("one person binds many"): ``verify_dependent`` and ``verify_family``.

The guardian is the usual holder; the dependents are fixed people with their own codes (Zhejiang,
issued at the usual time). A binding is signed by Zhejiang (region 330106) unless a case says
otherwise, issued 2026-01-01T00:00:00Z for 365 days, with the fixed id
SHA-256(``"healthcred conformance v1 binding " + label``)[:16].
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from healthcred.codec.cbor import dumps
from healthcred.crypto.algorithms import PrivateKey
from healthcred.crypto.cose import sign_content
from healthcred.crypto.keys import kid_of
from healthcred.flows.binding import (
    BINDING_CONTENT_TYPE,
    BINDING_GRANT_KIND,
    Relation,
    make_binding,
    subject_hash,
)
from healthcred.flows.family import make_family_bundle
from healthcred.model import DocumentType, Subject
from healthcred.trust.lists import TRUST_LIST_CONTENT_TYPE
from tools.conformance.case import Case
from tools.conformance.cases.common import case, shanghai, store_of, zhejiang
from tools.conformance.registry import builder, error, valid
from tools.conformance.world import (
    CHECKED,
    ISSUED,
    SUBJECT,
    T0,
    edited,
    epoch,
    flip,
    flip_text,
    grant,
    issue_code,
    key,
    raw_message,
    signer,
)

BOUND = T0
"""When the usual binding is issued."""

GUARDIAN = SUBJECT
"""The guardian: the usual holder."""
STRANGER = Subject.create("王五", "1980-05-20", DocumentType.RESIDENT_ID_CARD, "330106198005201118")
"""Someone who is not the guardian."""

_ID_CARD = DocumentType.RESIDENT_ID_CARD

PEOPLE: dict[str, tuple[Relation, Subject]] = {
    name: (relation, Subject.create(holder, born, document, number))
    for name, relation, holder, born, document, number in (
        ("parent", Relation.PARENT, "张德", "1955-08-01", _ID_CARD, "330106195508011213"),
        ("child", Relation.CHILD, "张小明", "2015-06-01", _ID_CARD, "330106201506011230"),
        ("spouse", Relation.SPOUSE, "李梅", "1987-09-09", _ID_CARD, "330106198709091224"),
        ("grandparent", Relation.GRANDPARENT, "张福", "1930-01-15", _ID_CARD, "330106193001151211"),
        ("grandchild", Relation.GRANDCHILD, "张安", "2024", DocumentType.OTHER, "HZB20240003"),
        ("sibling", Relation.SIBLING, "张三丽", "1988-11-30", DocumentType.PASSPORT, "E98765432"),
        (
            "other",
            Relation.OTHER,
            "Maria SANTOS",
            "1962-04",
            DocumentType.FOREIGNER_PERMANENT_RESIDENCE,
            "PHL196204001234",
        ),
        ("second-child", Relation.CHILD, "张小红", "2018-03-03", _ID_CARD, "330106201803031246"),
    )
}
"""The dependents, by name: relation to the guardian and subject (numbers are masked on the codes)."""


def binding_id(label: str) -> bytes:
    """The fixed 16-byte id of a case's binding."""
    return hashlib.sha256(f"healthcred conformance v1 binding {label}".encode()).digest()[:16]


@functools.cache
def code_of(who: str) -> str:
    """The code of ``who`` (``guardian``, ``stranger`` or a dependent's name), issued by Zhejiang."""
    subject = {"guardian": GUARDIAN, "stranger": STRANGER}.get(who) or PEOPLE[who][1]
    return issue_code(zhejiang(), f"dependents/code-{who}", subject=subject)[1]


def binding(
    label: str,
    who: str,
    *,
    slot: int = 1,
    private: PrivateKey | None = None,
    region: str = "330106",
    issued_at: datetime = BOUND,
    valid_for: timedelta = timedelta(days=365),
) -> bytes:
    """A binding of dependent ``who`` to the guardian, signed deterministically (Zhejiang by default)."""
    relation, subject = PEOPLE[who]
    return make_binding(
        GUARDIAN,
        subject,
        relation,
        signer(private or zhejiang(), BINDING_CONTENT_TYPE),
        region=region,
        slot=slot,
        valid_for=valid_for,
        issued_at=issued_at,
        binding_id=binding_id(label),
    )


def raw_binding(payload: Any, *, content_type: str = BINDING_CONTENT_TYPE) -> bytes:
    """A binding over any payload, bypassing the issuer's checks (signed by Zhejiang)."""
    return sign_content(payload, signer(zhejiang(), content_type), content_type)


def _payload(label: str, changes: Mapping[int, Any] | None = None) -> dict[int, Any]:
    """The child's binding payload, built by hand (``changes`` as for :func:`edited`)."""
    bid = binding_id(label)
    body = {
        1: 1,
        2: bid,
        3: "330106",
        4: epoch(BOUND),
        5: epoch(BOUND) + 365 * 86400,
        6: subject_hash(GUARDIAN, bid),
        7: subject_hash(PEOPLE["child"][1], bid),
        8: int(PEOPLE["child"][0]),
        9: 1,
    }
    return edited(body, changes or {})


def _dependent(
    name: str,
    title: str,
    who: str,
    signed: bytes,
    expected: Mapping[str, Any],
    *,
    guardian: str | None = "guardian",
    code: str | None = None,
    **extra: Any,
) -> Case:
    text = code or code_of(who)
    guardian_text = None if guardian is None else code_of(guardian)
    return case(
        f"dependents/{name}",
        title,
        text,
        expected,
        operation="verify_dependent",
        inputs={"binding": signed.hex(), "guardian": guardian_text},
        related={} if guardian_text is None else {"guardian": guardian_text},
        **extra,
    )


def _family(
    name: str, title: str, data: bytes, expected: Mapping[str, Any], *, shown: str = "", **extra: Any
) -> Case:
    return case(
        f"dependents/{name}",
        title,
        shown,
        expected,
        operation="verify_family",
        inputs={"family": data.hex()},
        **extra,
    )


@builder("dependents")
def relations() -> Iterator[Case]:
    """A valid binding for every relation, with the guardian's code shown."""
    for slot, who in enumerate(
        ("parent", "child", "spouse", "grandparent", "grandchild", "sibling", "other"), 1
    ):
        relation = PEOPLE[who][0]
        yield _dependent(
            f"relation-{relation.name.lower()}",
            f"the guardian shows their {relation.name.lower()}'s code "
            f"(relation {int(relation)}, slot {slot})",
            who,
            binding(f"relation-{who}", who, slot=slot),
            valid(),
        )
    yield _dependent(
        "without-guardian",
        "only the dependent's code and the binding are shown (the guardian's code is not checked)",
        "child",
        binding("relation-child", "child", slot=2),
        valid(guardian=None),
        guardian=None,
    )
    yield _dependent(
        "slot-8",
        "the eighth dependent (slot 8)",
        "second-child",
        binding("slot-8", "second-child", slot=8),
        valid(),
    )
    yield _dependent(
        "eddsa-binding",
        "a binding registered in Shanghai (310104), signed by Shanghai's Ed25519 key",
        "child",
        binding("eddsa", "child", private=shanghai(), region="310104"),
        valid(),
    )
    family_key = key("zhejiang-family")
    yield _dependent(
        "binding-only-key",
        "a key granted kind 17 only (bindings) signs the binding",
        "child",
        binding("binding-only-key", "child", private=family_key),
        valid(),
        store=store_of(
            grant(zhejiang(), "330000", kinds=frozenset({1, 2, 3})),
            grant(shanghai(), "310000"),
            grant(family_key, "330000", kinds=frozenset({BINDING_GRANT_KIND})),
        ),
    )


@builder("dependents")
def mismatches() -> Iterator[Case]:
    """A binding names two people: it cannot be moved to anyone else."""
    child = binding("relation-child", "child", slot=2)
    yield _dependent(
        "transplant",
        "the child's binding shown with another dependent's code",
        "second-child",
        child,
        error("binding_mismatch"),
    )
    yield _dependent(
        "transplant-without-guardian",
        "the child's binding with another dependent's code, no guardian's code",
        "second-child",
        child,
        error("binding_mismatch"),
        guardian=None,
    )
    yield _dependent(
        "other-guardian",
        "the right dependent, but the guardian's code is someone else's",
        "child",
        child,
        error("binding_mismatch"),
        guardian="stranger",
    )
    yield _dependent(
        "dependent-as-guardian",
        "the child's code shown as the guardian's, and the child's code as the dependent's",
        "child",
        child,
        error("binding_mismatch"),
        guardian="child",
    )
    _, week = issue_code(
        zhejiang(), "dependents/code-child-week", subject=PEOPLE["child"][1], valid_for=timedelta(days=7)
    )
    yield _dependent(
        "guardian-code-expired",
        "the dependent's 7-day code is valid, the guardian's 1-day code has expired (both are verified)",
        "child",
        child,
        error("expired"),
        code=week,
        at=epoch(ISSUED + timedelta(days=2)),
    )
    yield _dependent(
        "dependent-code-valid-later",
        "control: the same dependent's 7-day code on day 2 without the guardian's code",
        "child",
        child,
        valid(guardian=None),
        code=week,
        guardian=None,
        at=epoch(ISSUED + timedelta(days=2)),
    )


@builder("dependents")
def windows_and_keys() -> Iterator[Case]:
    """The binding's window and its signer's grant."""
    yield _dependent(
        "binding-expired",
        "a binding valid for 300 days from 2026-01-01 (expired 2026-10-28)",
        "child",
        binding("expired", "child", valid_for=timedelta(days=300)),
        error("expired"),
    )
    edge = epoch(CHECKED) - 200 - epoch(BOUND)
    yield _dependent(
        "binding-expired-within-skew",
        "a binding that expired 200 s ago (inside the 300 s skew)",
        "child",
        binding("expired-skew", "child", valid_for=timedelta(seconds=edge)),
        valid(),
    )
    yield _dependent(
        "binding-not-yet-valid",
        "a binding issued tomorrow",
        "child",
        binding("future", "child", issued_at=CHECKED + timedelta(days=1)),
        error("not_yet_valid"),
    )
    yield _dependent(
        "binding-untrusted-key",
        "a binding signed by a key on no trust list",
        "child",
        binding("untrusted", "child", private=key("stranger")),
        error("unknown_kid"),
    )
    yield _dependent(
        "binding-other-region",
        "Shanghai's key (310000) signs a binding registered in Hangzhou (330106)",
        "child",
        binding("other-region", "child", private=shanghai()),
        error("region_not_allowed"),
    )
    yield _dependent(
        "binding-key-for-codes-only",
        "the binding's key is granted kinds 1–3 only (no 17)",
        "child",
        binding("relation-child", "child", slot=2),
        error("kind_not_allowed"),
        store=store_of(grant(zhejiang(), "330000", kinds=frozenset({1, 2, 3})), grant(shanghai(), "310000")),
    )
    family_key = key("zhejiang-family")
    yield _dependent(
        "binding-key-compromised",
        "the binding was signed after its key's compromise time",
        "child",
        binding("compromised", "child", private=family_key),
        error("key_compromised"),
        store=store_of(
            grant(zhejiang(), "330000"),
            grant(family_key, "330000", kinds=frozenset({BINDING_GRANT_KIND}), compromised_at=epoch(BOUND)),
        ),
    )
    yield _dependent(
        "binding-before-key-window",
        "a binding issued before its key's window opens",
        "child",
        binding("early", "child", issued_at=datetime(2025, 12, 1, tzinfo=UTC)),
        error("key_not_valid"),
    )
    header = dumps({1: -35, 3: BINDING_CONTENT_TYPE, 4: kid_of(zhejiang())})
    yield _dependent(
        "binding-unsupported-alg",
        "a binding whose header names ES384 (-35)",
        "child",
        raw_message(dumps(_payload("es384")), zhejiang(), protected=header),
        error("unsupported_alg"),
    )
    yield _dependent(
        "binding-bad-signature",
        "one bit of the binding's signature flipped",
        "child",
        flip(binding("relation-child", "child", slot=2)),
        error("bad_signature"),
    )


@builder("dependents")
def malformed() -> Iterator[Case]:
    """Slots above 8, and bindings that are not of the specified shape."""
    for slot in (9, 255):
        yield _dependent(
            f"slot-{slot}",
            f"a binding with slot {slot}: a guardian holds at most 8 dependents",
            "child",
            raw_binding(_payload(f"slot-{slot}", {9: slot})),
            error("too_many_dependents"),
        )
    yield _dependent(
        "raw-valid",
        "a hand-built binding payload (control)",
        "child",
        raw_binding(_payload("raw")),
        valid(),
    )
    cases: Sequence[tuple[str, bytes, str]] = (
        ("not-cose", b"\x01\x02\x03", "three bytes, not a COSE_Sign1"),
        ("empty", b"", "no bytes"),
        ("too-large", b"\xd2" + bytes(1024), "1025 bytes (at most 1024)"),
        (
            "trust-list-content-type",
            raw_binding(_payload("ct"), content_type=TRUST_LIST_CONTENT_TYPE),
            "a binding payload signed with a trust list's content type",
        ),
        ("format-2", raw_binding(_payload("f2", {1: 2})), "format 2"),
        ("missing-slot", raw_binding(_payload("no-slot", {9: None})), "no key 9"),
        ("extra-key", raw_binding(_payload("extra", {10: 0})), "an unknown key 10"),
        ("short-id", raw_binding(_payload("short-id", {2: bytes(8)})), "an 8-byte binding id"),
        ("short-hash", raw_binding(_payload("short-hash", {6: bytes(8)})), "an 8-byte guardian hash"),
        ("unknown-relation", raw_binding(_payload("rel-7", {8: 7})), "relation 7 (not a defined code)"),
        ("text-relation", raw_binding(_payload("rel-text", {8: "child"})), "the relation as text"),
        ("region-short", raw_binding(_payload("region", {3: "3301"})), "a 4-digit region"),
        (
            "window-too-long",
            raw_binding(_payload("long", {5: epoch(BOUND) + 367 * 86400})),
            "a 367-day window (at most 366)",
        ),
        (
            "expiry-before-issue",
            raw_binding(_payload("backwards", {5: epoch(BOUND) - 1})),
            "expiry before issue",
        ),
        ("not-a-map", raw_binding([1, 2, 3]), "an array payload"),
    )
    for name, signed, why in cases:
        yield _dependent(
            f"malformed-{name}", f"malformed binding: {why}", "child", signed, error("bad_binding")
        )


def _members(names: Sequence[str], prefix: str = "family") -> list[tuple[str, bytes]]:
    return [(code_of(who), binding(f"{prefix}-{who}", who, slot=n)) for n, who in enumerate(names, 1)]


def _raw_family(
    guardian: str, members: Sequence[Any], magic: str = "healthcred-family", fmt: int = 1
) -> bytes:
    return dumps({1: magic, 2: fmt, 3: guardian, 4: [list(m) for m in members]})


@builder("dependents")
def families() -> Iterator[Case]:
    """Family bundles: the guardian's code, each dependent's code and binding, in one file."""
    guardian = code_of("guardian")
    three = _members(("parent", "child", "spouse"))
    yield _family(
        "family-three",
        "a family bundle with three dependents",
        make_family_bundle(guardian, three),
        valid(),
        shown=guardian,
    )
    all_eight = _members(tuple(PEOPLE))
    yield _family(
        "family-eight",
        "the most a bundle holds: eight dependents",
        make_family_bundle(guardian, all_eight),
        valid(),
        shown=guardian,
    )
    yield _family(
        "family-empty",
        "a bundle with no dependents",
        make_family_bundle(guardian, []),
        valid(),
        shown=guardian,
    )
    nine = [*all_eight, (code_of("stranger"), binding("family-nine", "child", slot=2))]
    yield _family(
        "family-nine",
        "nine members: more than 8 dependents",
        _raw_family(guardian, nine),
        error("too_many_dependents"),
        shown=guardian,
    )
    (code1, bind1), (code2, bind2), rest = three[0], three[1], three[2]
    yield _family(
        "family-tampered-code",
        "one bit of a member's code signature flipped",
        make_family_bundle(guardian, [(code1, bind1), (flip_text(code2), bind2), rest]),
        error("bad_signature"),
        shown=guardian,
    )
    yield _family(
        "family-tampered-binding",
        "one bit of a member's binding signature flipped",
        make_family_bundle(guardian, [(code1, bind1), (code2, flip(bind2)), rest]),
        error("bad_signature"),
        shown=guardian,
    )
    yield _family(
        "family-tampered-guardian",
        "one bit of the guardian's code signature flipped",
        make_family_bundle(flip_text(guardian), three),
        error("bad_signature"),
        shown=flip_text(guardian),
    )
    yield _family(
        "family-swapped-bindings",
        "two members' bindings swapped",
        make_family_bundle(guardian, [(code1, bind2), (code2, bind1), rest]),
        error("binding_mismatch"),
        shown=guardian,
    )
    stranger = code_of("stranger")
    yield _family(
        "family-other-guardian",
        "the guardian's code replaced by someone else's",
        make_family_bundle(stranger, three),
        error("binding_mismatch"),
        shown=stranger,
    )
    yield _family(
        "family-repeated-slot",
        "two bindings in slot 1",
        make_family_bundle(
            guardian, [(code1, bind1), (code_of("child"), binding("family-dup-slot", "child", slot=1))]
        ),
        error("bad_binding"),
        shown=guardian,
    )
    yield _family(
        "family-repeated-dependent",
        "one dependent twice, in slots 1 and 2",
        make_family_bundle(
            guardian, [(code1, bind1), (code1, binding("family-dup-parent", "parent", slot=2))]
        ),
        error("bad_binding"),
        shown=guardian,
    )
    for name, data, why in (
        ("not-cbor", b"\xff\x00", "not CBOR"),
        ("bad-magic", _raw_family(guardian, three, magic="healthcred-famiy"), "another magic value"),
        ("format-2", _raw_family(guardian, three, fmt=2), "file format 2"),
        ("member-triple", _raw_family(guardian, [[code1, bind1, 1]]), "a member of three items"),
        ("binding-as-text", _raw_family(guardian, [[code1, bind1.hex()]]), "a binding as hex text"),
        ("array", dumps(["healthcred-family", 1, guardian, []]), "an array, not a map"),
        ("too-large", _raw_family("x" * 70000, []), "more than 65536 bytes"),
    ):
        yield _family(f"family-{name}", f"not a family bundle: {why}", data, error("bad_binding"))
