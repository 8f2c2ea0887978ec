"""Valid native codes: both algorithms, every colour, subjects, bodies, and the time edges."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from healthcred.codec.base45 import b45decode
from healthcred.codec.prefix import NATIVE_PREFIX
from healthcred.crypto.cose import encode_sign1, parse_sign1
from healthcred.model import RED, YELLOW, DocumentType, Subject
from tools.conformance.case import Case
from tools.conformance.cases.common import AT, case, shanghai, zhejiang
from tools.conformance.registry import builder, error, valid
from tools.conformance.world import ISSUED, P256_ORDER, epoch, issue_code, message_of, status, text_of


@builder("native")
def colours() -> Iterator[Case]:
    """Green, yellow and red from each algorithm; reasons; colours beyond the national three."""
    for alg, private, region in (("es256", zhejiang(), "330100"), ("eddsa", shanghai(), "310104")):
        for colour in (1, 2, 3):
            name = status(colour).name
            _, text = issue_code(private, f"native/{alg}-{name}", status=status(colour), region=region)
            yield case(
                f"native/{alg}-{name}", f"{alg.upper()} {name} code", text, valid(status=colour), tags=[alg]
            )
    _, text = issue_code(zhejiang(), "native/es256-red-reason", status=RED, reason=13)
    yield case("native/es256-red-reason", "red with reason 13 (high-risk area stay)", text, valid(reason=13))
    _, text = issue_code(
        shanghai(), "native/eddsa-yellow-reason", status=YELLOW, reason=65535, region="310000"
    )
    yield case("native/eddsa-yellow-reason", "largest reason code 65535", text, valid(reason=65535))
    _, text = issue_code(zhejiang(), "native/status-7", status=status(7))
    yield case(
        "native/status-7",
        "a regional colour (7): valid, named by the verifier's palette",
        text,
        valid(status=7),
    )
    _, text = issue_code(shanghai(), "native/status-255", status=status(255), region="310000")
    yield case("native/status-255", "the largest colour code 255", text, valid(status=255))


@builder("native")
def subjects() -> Iterator[Case]:
    """Birth-date precisions, document types, a maximal name."""
    people = {
        "birth-year": Subject.create("李四", "1985", DocumentType.RESIDENT_ID_CARD, "330106198500001234"),
        "birth-month": Subject.create("王五", "1985-03", DocumentType.RESIDENT_ID_CARD, "330106198503001234"),
        "passport": Subject.create("John Smith", "1970-01-01", DocumentType.PASSPORT, "E12345678"),
        "hk-macao-permit": Subject.create("陳大文", "1990-12-31", DocumentType.HK_MACAO_PERMIT, "H1234567"),
        "taiwan-permit": Subject.create("林小明", "2000-02-29", DocumentType.TAIWAN_PERMIT, "12345678"),
        "foreigner-residence": Subject.create(
            "Anna Müller", "1988-07-14", DocumentType.FOREIGNER_PERMANENT_RESIDENCE, "DEU123456789012"
        ),
        "other-document": Subject.create("赵六", "1959-05-05", DocumentType.OTHER, "ABC"),
    }
    for name, subject in people.items():
        _, text = issue_code(zhejiang(), f"native/{name}", subject=subject)
        yield case(f"native/{name}", f"subject: {name}", text, valid())


@builder("native")
def bodies() -> Iterator[Case]:
    """Bare and zlib bodies: a verifier accepts both, whatever their size."""
    for alg, private, region in (("es256", zhejiang(), "330100"), ("eddsa", shanghai(), "310000")):
        _, text = issue_code(private, f"native/{alg}-zlib-body", region=region)
        yield case(
            f"native/{alg}-zlib-body",
            "a zlib body although it is longer than the bare message",
            text_of(message_of(text), zlib_body=True),
            valid(),
            tags=[alg, "zlib"],
        )
    long_name = Subject.create("欧" * 64, "1985-03-12", DocumentType.RESIDENT_ID_CARD, "330106198503121234")
    _, text = issue_code(zhejiang(), "native/long-name-issued-zlib", subject=long_name)
    assert b45decode(text[len(NATIVE_PREFIX) :])[0] != 0xD2  # the issuer chose zlib: it is shorter
    yield case("native/long-name-issued-zlib", "a 64-character name: the issuer compresses", text, valid())


@builder("native")
def regions() -> Iterator[Case]:
    """A province key issues for its province, a city and a county."""
    for region in ("330000", "330100", "330106", "339900"):
        _, text = issue_code(zhejiang(), f"native/region-{region}", region=region)
        yield case(
            f"native/region-{region}", f"province key 330000 issues for {region}", text, valid(region=region)
        )


@builder("native")
def signatures() -> Iterator[Case]:
    """ECDSA's second valid signature (r, n − s) is a valid signature: identity is the cti, not the bytes."""
    _, text = issue_code(zhejiang(), "native/es256-high-s")
    message = parse_sign1(message_of(text))
    r, s = message.signature[:32], int.from_bytes(message.signature[32:], "big")
    flipped = encode_sign1(message.protected, message.payload, r + (P256_ORDER - s).to_bytes(32, "big"))
    yield case(
        "native/es256-high-s", "ES256 with the other (high or low) s: valid", text_of(flipped), valid()
    )


@builder("validity")
def times() -> Iterator[Case]:
    """Expiry and issue time against the validation time, with the 300-second skew and without."""
    cred, text = issue_code(zhejiang(), "validity/edges")
    iat, exp = epoch(cred.issued_at), epoch(cred.expires_at)
    edges = [
        ("at-issue-time", iat, 300, valid()),
        ("at-expiry", exp, 300, valid()),
        ("expiry-plus-skew", exp + 300, 300, valid()),
        ("expiry-plus-skew-plus-1", exp + 301, 300, error("expired")),
        ("expiry-plus-1-no-skew", exp + 1, 0, error("expired")),
        ("issue-minus-skew", iat - 300, 300, valid()),
        ("issue-minus-skew-minus-1", iat - 301, 300, error("not_yet_valid")),
        ("issue-minus-1-no-skew", iat - 1, 0, error("not_yet_valid")),
        ("long-expired", exp + 86400 * 3, 300, error("expired")),
    ]
    for name, at, skew, expected in edges:
        yield case(
            f"validity/{name}",
            f"validation at {at - iat:+d} s from iat, skew {skew}",
            text,
            expected,
            at=at,
            skew=skew,
        )
    _, week = issue_code(shanghai(), "validity/week", region="310000", valid_for=timedelta(days=7))
    yield case(
        "validity/seven-days", "a code valid for 7 days, checked on day 6", week, valid(), at=AT + 6 * 86400
    )
    _, future = issue_code(zhejiang(), "validity/issued-tomorrow", issued_at=ISSUED + timedelta(days=1))
    yield case(
        "validity/issued-tomorrow", "issued a day after the validation time", future, error("not_yet_valid")
    )
