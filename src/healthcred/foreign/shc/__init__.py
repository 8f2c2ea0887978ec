"""SMART Health Cards (``shc:/``): numeric chunks, strict JOSE, issuer keys and revocation, the mapping."""

from healthcred._lazy import lazy_package

TYPE_CHECKING = False
if TYPE_CHECKING:  # type checkers see the names; at run time each loads on first use
    from healthcred.foreign.shc.cards import (
        MAX_CHUNK_DIGITS,
        MAX_CHUNKS,
        MAX_JWS_CHARS,
        MAX_PAYLOAD_BYTES,
        SHC_PREFIX,
        ShcMessage,
        decode_shc,
        join_chunks,
        load_health_cards,
        parse_jws,
        read_shc,
    )
    from healthcred.foreign.shc.fhir import COVID19, from_fhir
    from healthcred.foreign.shc.issuers import (
        MAX_ISSUER_BYTES,
        MAX_KEYS,
        MAX_RIDS,
        ShcIssuer,
        ShcKey,
        issuer_document,
        jwk_thumbprint,
        load_shc_issuer,
        shc_issuer,
        shc_key,
    )
    from healthcred.foreign.shc.verify import shc_signer, verify_shc

__all__ = [
    "COVID19",
    "MAX_CHUNKS",
    "MAX_CHUNK_DIGITS",
    "MAX_ISSUER_BYTES",
    "MAX_JWS_CHARS",
    "MAX_KEYS",
    "MAX_PAYLOAD_BYTES",
    "MAX_RIDS",
    "SHC_PREFIX",
    "ShcIssuer",
    "ShcKey",
    "ShcMessage",
    "decode_shc",
    "from_fhir",
    "issuer_document",
    "join_chunks",
    "jwk_thumbprint",
    "load_health_cards",
    "load_shc_issuer",
    "parse_jws",
    "read_shc",
    "shc_issuer",
    "shc_key",
    "shc_signer",
    "verify_shc",
]

__getattr__, __dir__ = lazy_package(__name__, ("cards", "issuers", "verify", "fhir"), __all__)
