"""Write docs/errors.md from healthcred/errors.py: one row per code, with an operator's action.

Run: python docs/errors.py   (tests/test_docs.py checks the page lists every code)
"""

from __future__ import annotations

from pathlib import Path

from healthcred.errors import ERROR_CODES, HealthCredError

ACTION = {
    "bad_input": "A program passed the wrong kind of argument; fix the calling code.",
    "bad_key": "Check the key file: PEM, unencrypted, Ed25519 or P-256.",
    "bad_id_number": "Re-read or re-type the ID number (the check digit caught a typo); never guess.",
    "bad_place_code": "The place code is not of a conforming issuer: have the venue replace the poster.",
    "id_check_unavailable": "Install the ID-check key, or compare name and masked number with the ID.",
    "bad_binding": "The binding or family file is damaged or of another format: export it again.",
    "binding_mismatch": "The binding is for other people: refuse the code on the guardian's behalf.",
    "too_many_dependents": "A guardian holds at most 8 dependents: remove one before adding another.",
    "scan_log_error": "Check the scan-log file (path, permissions, disk, local file system) and its key.",
    "worker_failed": "A worker process stopped (memory, a kill, a lost worker): run again; a batch resumes.",
    "missing_glyph": "The name has characters the bundled font lacks: print with font= a fuller CJK font.",
    "bad_prefix": "Not a healthcred code (or another format's code, which the message names).",
    "bad_base45": "The text was damaged or mistyped (scanner added characters, lower case, newline).",
    "too_large": "Input bigger than any real code; likely hostile or not a code.",
    "bad_compression": "The code's body is damaged.",
    "malformed_cose": "The code is damaged or was not made by a conforming issuer.",
    "malformed_cbor": "The signed content is not deterministic CBOR: report to the issuer.",
    "bad_claims": "The signed content misses or mistypes a field: report to the issuer.",
    "malformed_jws": "The SMART Health Card is damaged or not a compact JWS.",
    "bad_chunk": "Scan every QR code of a multi-part SMART Health Card, each once.",
    "unknown_issuer": "The issuer is not trusted here: add its keys (DSC list, JWKS), or refuse.",
    "bad_certificate": "The signing certificate is unusable or not valid at the validation time.",
    "key_usage_mismatch": "The certificate may not sign this type (test, vaccination, recovery).",
    "unsupported_alg": "The code uses an algorithm this verifier does not allow.",
    "unknown_kid": "The issuer's key is not in the trust lists: update trust lists, or the code is forged.",
    "alg_mismatch": "Header algorithm disagrees with the trust list: treat as forged.",
    "bad_signature": "Forged or altered code: refuse it.",
    "key_not_valid": "The code was issued when its key was not (yet or any more) valid.",
    "region_not_allowed": "The key issued a code for a region it does not cover: forged or misissued.",
    "kind_not_allowed": "The key issued a kind of credential it is not granted: forged or misissued.",
    "status_not_allowed": "The key issued a colour it is not granted: forged or misissued.",
    "key_compromised": "The issuer's key leaked; codes it signed since then are refused. Get a new code.",
    "trust_conflict": "Two trust lists disagree about one key: the operator must remove or fix one list.",
    "delegation_not_allowed": "A province's delegated list grants more than the province holds: reject it.",
    "trust_equivocation": (
        "Two different files claim one version of a series: keep the installed one, report both."
    ),
    "trust_folder_busy": (
        "Another command is changing or reading the trust folder: wait for it, then run this again."
    ),
    "trust_list_rollback": "An older list than one already installed was offered: keep the newer one.",
    "revoked": "The issuer revoked this code: refuse it.",
    "untrusted_list": "A trust list is not signed by a configured anchor, or was altered: do not install it.",
    "trust_list_malformed": "A trust list file is damaged or of another format: fetch it again.",
    "trust_list_expired": "The verifier's trust lists are out of date: update them.",
    "trust_list_not_yet_valid": "The verifier's clock is behind, or the list was published early: check it.",
    "trust_store_error": "The trust folder is missing, empty or unreadable.",
    "expired": "The holder must get a fresh code.",
    "invalid_rule": "A rule set holds an invalid expression (the message gives its path): do not deploy it.",
    "rule_set_unavailable": "Install a current signed rule set (trust add, or a new bundle).",
    "rule_evaluation_error": "A rule failed on this data: treat the decision as 'deny' and report the rule.",
    "not_yet_valid": "Issued in the future: check the verifier's clock (beyond the skew allowance).",
    "bad_image": "The file is not an image the reader opens; rescan or re-export.",
    "qr_not_found": "No readable QR code in the image: rescan with better light or focus, or crop.",
    "qr_backend_unavailable": "Install the chosen reader (healthcred[pyzbar] plus libzbar0), or use zxing.",
}
ORDER = [
    "healthcred_error", "bad_input", "missing_glyph", "bad_id_number", "bad_key",
    "format_error", "bad_prefix", "bad_base45", "too_large", "bad_compression", "malformed_cose",
    "malformed_cbor", "bad_claims", "malformed_jws", "bad_chunk", "bad_place_code",
    "trust_error", "unsupported_alg", "unknown_kid", "alg_mismatch", "bad_signature", "key_not_valid",
    "region_not_allowed", "kind_not_allowed", "status_not_allowed", "key_compromised", "trust_conflict",
    "trust_equivocation", "delegation_not_allowed", "trust_list_rollback", "revoked", "untrusted_list",
    "trust_list_malformed",
    "trust_list_expired", "trust_list_not_yet_valid", "trust_store_error", "trust_folder_busy",
    "unknown_issuer", "bad_certificate", "key_usage_mismatch", "id_check_unavailable",
    "validity_error", "expired", "not_yet_valid",
    "rule_error", "invalid_rule", "rule_set_unavailable", "rule_evaluation_error",
    "qr_error", "bad_image", "qr_not_found", "qr_backend_unavailable",
    "binding_error", "bad_binding", "binding_mismatch", "too_many_dependents",
    "scan_log_error", "worker_failed",
]  # fmt: skip


BOUNDS = [
    "",
    "## Where the bounds are",
    "",
    "Every input is bounded before the work it would cost is done; each bound is documented with the",
    "format it belongs to, with its number and the code a refusal raises:",
    "",
    "| input | bounds | codes |",
    "|---|---|---|",
    "| code text, Base45, zlib, COSE, CBOR | [format §2–§7](format.md#2-text-and-prefix) | `too_large`, "
    "`bad_compression`, `malformed_cbor` |",
    "| images given to a reader (PNG and JPEG only) | [format §10](format.md#10-qr-code) | `bad_image` |",
    "| trust lists, revocation lists, bundles, rule sets, trust folders | [trust: Bounds](trust.md#bounds),"
    " [format §9](format.md#9-trust-lists-revocation-lists-bundles) |"
    " `trust_list_malformed`, `trust_store_error` |",
    "| CertLogic rules: size, nesting, evaluation budget, dates | [rules: Bounds](rules.md#bounds) | "
    "`invalid_rule`, `rule_evaluation_error` |",
    "| SMART Health Card JSON, files, issuer documents; EU DCC payloads | "
    "[interop](interop.md#smart-health-cards-healthcredforeignshc) |"
    " `malformed_jws`, `too_large`, `bad_claims` |",
    "| scan log read back | [privacy §5](privacy.md#5-scan-log-at-collection-points) | `scan_log_error` |",
]
"""The closing section of the page: where each kind of input's bounds are documented."""


def page() -> str:
    """The Markdown of docs/errors.md."""
    assert set(ORDER) == set(ERROR_CODES), set(ORDER) ^ set(ERROR_CODES)
    lines = [
        "# Error codes",
        "",
        "Every failure is a `healthcred.HealthCredError` subclass with a stable `code` (shown by",
        "`healthcred verify --json` as `error`). Codes are never renamed; new ones may be added. Catch a",
        "family (`FormatError`, `TrustError`, `ValidityError`, `RuleError`, `QRError`) or the root.",
        "Generated by `docs/errors.py` from `healthcred/errors.py`; `tests/test_docs.py` keeps them in",
        "step.",
        "",
        "| code | class | family | meaning | what an operator does |",
        "|---|---|---|---|---|",
    ]
    for code in ORDER:
        cls = ERROR_CODES[code]
        family = cls.__mro__[1].__name__ if cls is not HealthCredError else "—"
        meaning = " ".join((cls.__doc__ or "").split())
        action = ACTION.get(code, "(a family: catch it to handle every code below it)")
        lines.append(f"| `{code}` | `{cls.__name__}` | {family} | {meaning} | {action} |")
    return "\n".join([*lines, *BOUNDS]) + "\n"


if __name__ == "__main__":
    Path(__file__).with_name("errors.md").write_text(page(), encoding="utf-8")
