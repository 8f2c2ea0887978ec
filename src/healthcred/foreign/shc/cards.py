"""SMART Health Cards (``shc:/``) as text: chunks, numeric decoding and the compact JWS, nothing verified.

Pipeline: ``shc:/`` QR text (one code, or chunks ``shc:/N/M/…`` in any order) → numeric
decoding (each digit pair ``d`` is the character ``chr(d + 45)``) → compact JWS → header
``{"alg": "ES256", "zip": "DEF", "kid": …}`` → raw DEFLATE payload (bounded) → strict JSON
claims ``iss``, ``nbf``, ``exp``, ``vc``. Verifying a card against trusted issuers is
:mod:`healthcred.foreign.shc.verify`; its FHIR mapping is :mod:`healthcred.foreign.shc.fhir`.

Bounds, all checked before the work they guard: at most :data:`MAX_CHUNKS` chunks; a card in
one QR code at most :data:`MAX_CHUNK_DIGITS` digits (the specification's 1195 JWS characters per
QR, version 22), each chunk of a multi-part card at most :data:`MAX_PART_DIGITS` (its 1191;
``too_large``); a JWS of at most :data:`MAX_JWS_CHARS` characters; a payload inflated to at most
:data:`MAX_PAYLOAD_BYTES` (``too_large``) and bounded as JSON (:mod:`healthcred.foreign.shc.jose`);
a ``.smart-health-card`` file of at most :data:`MAX_FILE_BYTES`, whose cards inflate to at most
:data:`MAX_FILE_PAYLOAD_BYTES` together (``too_large``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from healthcred._deprecated import moved, renamed
from healthcred.codec.prefix import SHC_PREFIX
from healthcred.errors import BadChunk, BadInput, BadPrefix, MalformedJWS, TooLarge, UnsupportedAlgorithm
from healthcred.foreign.shc.jose import b64url_decode, inflate_raw, loads_json

__all__ = [
    "MAX_CHUNKS",
    "MAX_CHUNK_DIGITS",
    "MAX_FILE_BYTES",
    "MAX_FILE_PAYLOAD_BYTES",
    "MAX_JWS_CHARS",
    "MAX_PART_DIGITS",
    "MAX_PAYLOAD_BYTES",
    "SHC_PREFIX",
    "ShcMessage",
    "decode_shc",
    "join_chunks",
    "load_health_cards",
    "parse_jws",
    "read_shc",
]

MAX_CHUNKS = 16
"""Most QR chunks one card may span (the specification deprecates chunking; real cards use ≤ 4)."""
MAX_CHUNK_DIGITS = 2 * 1195
"""Most digits in one QR code: 1195 JWS characters, the specification's cap for one QR (version 22)."""
MAX_PART_DIGITS = 2 * 1191
"""Most digits in one chunk of a multi-part card: the specification's chunks are ≤ 1191 characters."""
MAX_JWS_CHARS = 64 * 1024
"""Longest compact JWS accepted (a ``.smart-health-card`` file is not limited by QR size)."""
MAX_PAYLOAD_BYTES = 512 * 1024
"""Largest inflated payload accepted (DEFLATE-bomb bound; the largest specification example is 30 KB)."""

MAX_FILE_BYTES = 1024 * 1024
"""Largest ``.smart-health-card`` file read."""
MAX_FILE_PAYLOAD_BYTES = 1024 * 1024
"""Most bytes the cards of one file may inflate to together (one card alone: :data:`MAX_PAYLOAD_BYTES`)."""

# The kid is the base64url SHA-256 JWK thumbprint (RFC 7638): 43 characters for 32 bytes.
_KID = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")
_SIG_BYTES = 64  # ES256 in JWS: raw r ‖ s (RFC 7518 §3.4), never DER
_CHUNK = re.compile(re.escape(SHC_PREFIX) + r"(?:([1-9][0-9]?)/([1-9][0-9]?)/)?([0-9]+)")
_PAIRS = {f"{value:02d}": chr(45 + value) for value in range(78)}  # 45 + 77 = "z"


# --- QR text → compact JWS -----------------------------------------------------------------------


def _numeric(digits: str, where: str) -> str:
    if len(digits) % 2:
        raise BadChunk(f"{where}: an odd number of digits ({len(digits)})")
    try:
        return "".join([_PAIRS[digits[i : i + 2]] for i in range(0, len(digits), 2)])
    except KeyError as exc:
        raise BadChunk(f"{where}: digit pair {exc.args[0]} is over 77") from exc


def _parse_chunk(text: object) -> tuple[int, int | None, str]:
    # (index, total, digits); a single code (shc:/digits) is index 1 with no total.
    if not isinstance(text, str):
        raise BadInput(f"an SHC chunk is text, not {type(text).__name__}")
    if len(text) > len(SHC_PREFIX) + 6 + MAX_CHUNK_DIGITS:  # before any regex work
        raise TooLarge(f"an SHC chunk holds at most {MAX_CHUNK_DIGITS} digits")
    if not text.startswith(SHC_PREFIX):
        shown = text[:8] + ("…" if len(text) > 8 else "")
        raise BadPrefix(f"text does not start with {SHC_PREFIX!r} (starts {shown!r})")
    match = _CHUNK.fullmatch(text)
    if match is None:
        raise BadChunk("an SHC code is 'shc:/' and digits, or 'shc:/N/M/' and digits")
    index, total, digits = match.groups()
    if len(digits) > MAX_CHUNK_DIGITS:
        raise TooLarge(f"an SHC chunk holds at most {MAX_CHUNK_DIGITS} digits, not {len(digits)}")
    if index is None:
        return 1, None, digits
    if int(index) > int(total):
        raise BadChunk(f"chunk {index} of {total} does not exist")
    if total == "1":  # the specification writes "N/M/" only when more than one chunk is needed
        raise BadChunk("a card in one QR code is 'shc:/' and digits: 'shc:/1/1/' is not a chunk")
    if len(digits) > MAX_PART_DIGITS:
        raise TooLarge(f"one of several SHC chunks holds at most {MAX_PART_DIGITS} digits, not {len(digits)}")
    return int(index), int(total), digits


def join_chunks(chunks: Sequence[str]) -> str:
    """The compact JWS carried by one ``shc:/`` code or by all chunks of a multi-part card.

    Chunks may come in any order; each must come once, all must name the same total, and a
    single-code card (``shc:/digits``) cannot be mixed with chunks. Raises :class:`BadPrefix`,
    :class:`BadChunk` or :class:`TooLarge`.
    """
    if isinstance(chunks, str) or not isinstance(chunks, Sequence):
        raise BadInput("join_chunks takes a sequence of shc:/ texts")
    if not chunks:
        raise BadChunk("no SHC chunk given")
    if len(chunks) > MAX_CHUNKS:
        raise TooLarge(f"an SHC card is at most {MAX_CHUNKS} QR chunks, not {len(chunks)}")
    parsed = [_parse_chunk(chunk) for chunk in chunks]
    totals = {total for _, total, _ in parsed}
    if None in totals and len(parsed) > 1:
        raise BadChunk("a single-code card (shc:/digits) cannot be joined with other chunks")
    if len(totals) > 1:
        raise BadChunk(f"chunks disagree on their number: {sorted(t or 1 for t in totals)}")
    total = totals.pop() or 1
    if total > MAX_CHUNKS:
        raise TooLarge(f"an SHC card is at most {MAX_CHUNKS} QR chunks, not {total}")
    by_index = {index: digits for index, _, digits in parsed}
    if len(by_index) != len(parsed):
        raise BadChunk("a chunk was given twice")
    if len(by_index) != total:
        missing = sorted(set(range(1, total + 1)) - set(by_index))
        raise BadChunk(f"chunks {missing} of {total} are missing")
    return "".join(_numeric(by_index[i], f"chunk {i}/{total}") for i in range(1, total + 1))


# --- compact JWS -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShcMessage:
    """A parsed SMART Health Card JWS: header, claims and signature, nothing verified yet.

    ``payload`` is the JSON claims object (``iss``, ``nbf``, ``vc``, …) as the card holds it.
    """

    jws: str = field(repr=False)
    kid: str
    header: Mapping[str, Any] = field(repr=False, hash=False)
    payload: Mapping[str, Any] = field(repr=False, hash=False)
    signature: bytes = field(repr=False)

    @property
    def signing_input(self) -> bytes:
        """What the signature covers: ``BASE64URL(header) "." BASE64URL(payload)`` (RFC 7515 §5.2)."""
        return self.jws[: self.jws.rindex(".")].encode("ascii")

    @property
    def iss(self) -> str | None:
        """The issuer URL the card claims (unverified until :func:`verify_shc` succeeds)."""
        iss = self.payload.get("iss")
        return iss if isinstance(iss, str) else None

    @property
    def kid_bytes(self) -> bytes:
        """The kid as bytes: the 32-byte SHA-256 thumbprint it encodes."""
        return b64url_decode(self.kid, MalformedJWS, "kid")


def _check_header(header: Mapping[str, Any]) -> str:
    if "crit" in header:
        raise MalformedJWS("the JWS header has 'crit': no extension is understood here")
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise MalformedJWS("the JWS header has no 'alg'")
    if alg != "ES256":
        raise UnsupportedAlgorithm(f"SHC alg {alg[:20]!r} is not allowed (ES256 only)")
    if header.get("zip") != "DEF":
        raise MalformedJWS("an SHC payload is DEFLATE-compressed: the header needs 'zip': 'DEF'")
    kid = header.get("kid")
    if not isinstance(kid, str) or not _KID.fullmatch(kid):
        shown = f"{kid[:50]!r}" if isinstance(kid, str) else "none"
        raise MalformedJWS(f"the JWS kid is a base64url SHA-256 JWK thumbprint (43 characters), not {shown}")
    return kid


def _signature(part: str) -> bytes:
    signature = b64url_decode(part, MalformedJWS, "the JWS signature")
    if len(signature) != _SIG_BYTES:
        form = "a DER-encoded signature" if signature[:1] == b"\x30" else f"{len(signature)} bytes"
        raise MalformedJWS(f"an ES256 JWS signature is {_SIG_BYTES} bytes of raw r ‖ s, not {form}")
    return signature


def parse_jws(jws: str) -> ShcMessage:
    """Parse a compact JWS as SMART Health Cards prescribe it (the form inside a QR code or a file).

    Raises :class:`MalformedJWS` (shape, base64url, header, kid, JSON, a payload not minified,
    signature length), :class:`UnsupportedAlgorithm` (alg other than ES256), :class:`TooLarge`
    and :class:`BadCompression` (payload DEFLATE).
    """
    return _parse_jws(jws, MAX_PAYLOAD_BYTES)[0]


def _parse_jws(jws: str, limit: int) -> tuple[ShcMessage, int]:
    # The message and the size its payload inflated to (at most ``limit``).
    if not isinstance(jws, str):
        raise BadInput(f"a JWS is text, not {type(jws).__name__}")
    if len(jws) > MAX_JWS_CHARS:
        raise TooLarge(f"an SHC JWS is at most {MAX_JWS_CHARS} characters")
    parts = jws.split(".")
    if len(parts) != 3:
        raise MalformedJWS(f"a compact JWS has 3 dot-separated parts, not {len(parts)}")
    header_json = b64url_decode(parts[0], MalformedJWS, "the JWS header")
    header = loads_json(header_json, MalformedJWS, "the JWS header")
    if not isinstance(header, dict):
        raise MalformedJWS("the JWS header is not a JSON object")
    kid = _check_header(header)
    signature = _signature(parts[2])  # before inflating: a bad signature form costs nothing
    compressed = b64url_decode(parts[1], MalformedJWS, "the JWS payload")
    inflated = inflate_raw(compressed, limit)
    payload = loads_json(inflated, MalformedJWS, "the JWS payload", minified=True)
    if not isinstance(payload, dict):
        raise MalformedJWS("the JWS payload is not a JSON object")
    return ShcMessage(jws, kid, header, payload, signature), len(inflated)


def read_shc(code: str | Sequence[str]) -> ShcMessage:
    """QR text (one ``shc:/`` code, or all chunks of one card in any order) → parsed JWS, NOT verified."""
    if isinstance(code, str):
        return parse_jws(join_chunks([code]))
    if isinstance(code, Sequence):
        return parse_jws(join_chunks(code))
    raise BadInput(f"an SHC code is text or a sequence of chunk texts, not {type(code).__name__}")


decode_shc = renamed(read_shc, "decode_shc")


def load_health_cards(source: bytes | str | os.PathLike[str]) -> list[ShcMessage]:
    """The cards of a ``.smart-health-card`` file (``{"verifiableCredential": [JWS…]}``): bytes or a path.

    At most :data:`MAX_FILE_BYTES`; each JWS is parsed (not verified), all of them inflating to
    at most :data:`MAX_FILE_PAYLOAD_BYTES` together. Raises :class:`MalformedJWS` for a file of
    another shape, :class:`TooLarge`, and the errors of :func:`parse_jws`.
    """
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str | os.PathLike):
        try:
            with Path(source).open("rb") as file:
                data = file.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise BadInput(f"cannot read {source}: {exc.strerror}") from exc
    else:
        raise BadInput(f"a health card file is bytes or a path, not {type(source).__name__}")
    if len(data) > MAX_FILE_BYTES:
        raise TooLarge(f"a .smart-health-card file is at most {MAX_FILE_BYTES} bytes here")
    doc = loads_json(data, MalformedJWS, "the .smart-health-card file")
    cards = doc.get("verifiableCredential") if isinstance(doc, dict) else None
    if not isinstance(cards, list) or not all(isinstance(c, str) for c in cards):
        raise MalformedJWS('a .smart-health-card file is {"verifiableCredential": [JWS, …]}')
    messages, budget = [], MAX_FILE_PAYLOAD_BYTES
    for number, card in enumerate(cards, 1):
        # One budget for the file: many small bombs cost no more than one file-sized payload.
        try:
            message, used = _parse_jws(card, min(budget, MAX_PAYLOAD_BYTES))
        except TooLarge as exc:
            together = f"the cards of one file inflate to at most {MAX_FILE_PAYLOAD_BYTES} bytes together"
            raise TooLarge(f"card {number}: {exc.message} ({together})") from exc
        messages.append(message)
        budget -= used
    return messages


# The verifying names lived here before foreign.shc.verify took them.
__getattr__ = moved(__name__, "healthcred.foreign.shc.verify")
