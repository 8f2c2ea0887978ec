"""Paper codes (kind 3): verifying the code, and the ID check of a presented number against its ID tag.

The ID-check keys are fixed: secret = SHA-256(``"healthcred conformance v1 id-check key " + name``).
A ``check_id`` case hands the implementation the keys it holds (as in a key file: key id, region,
secret) and the number read from the document; it verifies the code, normalises the number, picks
the key by the tag's key id and compares the tags (docs/conformance.md, "check_id").
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from healthcred.codec.cbor import dumps
from healthcred.flows.idcheck import IdCheckKey
from healthcred.flows.issue import issue_paper
from healthcred.model import CredentialKind, DocumentType, Subject
from healthcred.native.claims import Claim, HCode, to_claims
from healthcred.native.text import read_health_code
from tools.conformance.case import Case
from tools.conformance.cases.common import case, shanghai, store_of, zhejiang
from tools.conformance.registry import builder, error, valid
from tools.conformance.world import (
    ISSUED,
    credential,
    epoch,
    grant,
    issue_code,
    raw_message,
    signer,
    text_of,
)

NUMBER = "330106198503121231"
"""The first holder's resident ID number (GB 11643 check digit 1)."""
NUMBER_X = "33010219900704108X"
"""The second holder's resident ID number, whose check character is X."""
PASSPORT = "E12345678"
"""The third holder's passport number."""

HOLDER = Subject.create("张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, NUMBER)
HOLDER_X = Subject.create("李小红", "1990-07-04", DocumentType.RESIDENT_ID_CARD, NUMBER_X)
HOLDER_PASSPORT = Subject.create("WANG Wei", "1979-02", DocumentType.PASSPORT, PASSPORT)


@functools.cache
def id_key(name: str = "national", region: str = "000000") -> IdCheckKey:
    """The fixed ID-check key ``name``."""
    secret = hashlib.sha256(f"healthcred conformance v1 id-check key {name}".encode()).digest()
    return IdCheckKey.from_secret(secret, region)


def key_json(key: IdCheckKey) -> dict[str, str]:
    """An ID-check key as a case carries it (the fields of a key file)."""
    return {"key_id": key.key_id.hex(), "region": key.region, "secret": key.secret.hex()}


@functools.cache
def paper_code(label: str, holder: Subject = HOLDER, number: str = NUMBER) -> str:
    """A 14-day paper code for ``holder`` signed by Zhejiang, tagged under the national ID-check key."""
    cred = credential(label, kind=CredentialKind.PAPER, subject=holder, valid_for=timedelta(days=14))
    return str(issue_paper(cred, signer(zhejiang()), id_number=number, id_key=id_key()))


def _day(days: int) -> int:
    return epoch(ISSUED + timedelta(days=days))


@builder("paper")
def paper() -> Iterator[Case]:
    """Paper codes (kind 3) with an ID tag: verification of the code itself."""
    text = paper_code("paper/green")
    yield case("paper/green", "a paper code (kind 3) with its ID tag", text, valid(kind=3))
    yield case("paper/day-13", "a 14-day paper code on day 13", text, valid(kind=3), at=_day(13))
    yield case("paper/day-15", "the same code on day 15", text, error("expired"), at=_day(15))
    regional_only = store_of(grant(zhejiang(), "330000", kinds=frozenset({1})), grant(shanghai(), "310000"))
    yield case(
        "paper/kind-not-granted",
        "a key granted kind 1 only signs a paper code",
        text,
        error("kind_not_allowed"),
        store=regional_only,
    )
    # Hostile paper codes an issuer refuses to make, signed by a trusted key regardless.
    claims = to_claims(read_health_code(text))
    untagged = {**claims, Claim.HCODE: {k: v for k, v in claims[Claim.HCODE].items() if k != HCode.ID_TAG}}
    yield case(
        "paper/no-id-tag",
        "a paper code without its ID tag (health-code key 8)",
        text_of(raw_message(dumps(untagged), zhejiang())),
        error("bad_claims"),
    )
    too_long = {**claims, Claim.EXP: claims[Claim.IAT] + 181 * 86400}
    yield case(
        "paper/181-days",
        "a paper code valid for 181 days (at most 180)",
        text_of(raw_message(dumps(too_long), zhejiang())),
        error("bad_claims"),
    )
    longest = {**claims, Claim.EXP: claims[Claim.IAT] + 180 * 86400}
    yield case(
        "paper/180-days",
        "a paper code valid for exactly 180 days",
        text_of(raw_message(dumps(longest), zhejiang())),
        valid(kind=3),
    )


def _check(
    name: str,
    title: str,
    text: str,
    number: str,
    expected: dict[str, Any],
    keys: Sequence[IdCheckKey] | None = None,
    **extra: Any,
) -> Case:
    held = [id_key()] if keys is None else keys
    return case(
        f"paper/{name}",
        title,
        text,
        expected,
        operation="check_id",
        inputs={"id_number": number, "id_keys": [key_json(k) for k in held]},
        tags=["check_id"],
        **extra,
    )


@builder("paper")
def id_checks() -> Iterator[Case]:
    """``check_id``: the number on the presented document against the code's ID tag."""
    text = paper_code("paper/green")
    yield _check("id-match", "the holder's own number matches the tag", text, NUMBER, valid(id_match=True))
    yield _check(
        "id-separators",
        "spaces and hyphens in the typed number are dropped before the tag is computed",
        text,
        "330106 1985-0312 1231",
        valid(id_match=True),
    )
    yield _check(
        "id-wrong-number",
        "another well-formed number (correct check digit) does not match",
        text,
        "33010619850312124X",
        valid(id_match=False),
    )
    yield _check(
        "id-other-person",
        "the second holder's number against the first holder's code",
        text,
        NUMBER_X,
        valid(id_match=False),
    )
    text_x = paper_code("paper/check-x", HOLDER_X, NUMBER_X)
    yield _check(
        "id-check-x",
        "a number whose check character is X",
        text_x,
        NUMBER_X,
        valid(id_match=True),
    )
    yield _check(
        "id-lowercase-x",
        "a lower-case x check character is normalised to X",
        text_x,
        NUMBER_X.lower(),
        valid(id_match=True),
    )
    passport = paper_code("paper/passport", HOLDER_PASSPORT, PASSPORT)
    yield _check(
        "id-passport-lowercase",
        "a passport number (document type 2) typed in lower case is upper-cased",
        passport,
        PASSPORT.lower(),
        valid(id_match=True),
    )
    yield _check(
        "id-passport-bad-character",
        "a passport number with a character other than letters and digits",
        passport,
        "E1234567.8",
        error("bad_id_number"),
    )
    for name, number, why in (
        ("id-bad-check-digit", NUMBER[:-1] + "2", "a wrong GB 11643 check digit (a typo)"),
        ("id-bad-birth-date", "330106198513321231", "digits 7–14 are not a date"),
        ("id-too-short", NUMBER[:-2], "16 characters"),
        ("id-first-generation", "330106850312123", "a 15-digit first-generation number"),
        ("id-letter-inside", "3301061985031212X1", "X in a digit position"),
        ("id-empty", "", "nothing typed"),
    ):
        yield _check(name, f"ID number refused: {why}", text, number, error("bad_id_number"))
    yield _check(
        "id-bad-number-before-key",
        "a malformed number is refused before the key is looked for",
        text,
        NUMBER[:-1] + "2",
        error("bad_id_number"),
        keys=[],
    )
    other = id_key("zhejiang", "330000")
    yield _check(
        "id-no-matching-key",
        "the verifier holds only a key with another key id",
        text,
        NUMBER,
        error("id_check_unavailable"),
        keys=[other],
    )
    yield _check(
        "id-no-keys",
        "the verifier holds no ID-check key",
        text,
        NUMBER,
        error("id_check_unavailable"),
        keys=[],
    )
    yield _check(
        "id-key-by-key-id",
        "of two keys held, the one named by the tag's key id is used",
        text,
        NUMBER,
        valid(id_match=True),
        keys=[other, id_key()],
    )
    _, regional = issue_code(zhejiang(), "paper/no-tag")
    yield _check(
        "id-code-without-tag",
        "a regional code (kind 1) carries no ID tag",
        regional,
        NUMBER,
        error("id_check_unavailable"),
    )
    yield _check(
        "id-expired-code",
        "the code is verified first: an expired paper code is refused whatever the number",
        text,
        NUMBER,
        error("expired"),
        at=_day(15),
    )
