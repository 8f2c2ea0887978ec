"""Findings already listed in issue 12 and being fixed elsewhere: reported as known, not as new.

Each entry is a target and a text its finding's signature contains. The campaign lists a known
finding in its report but does not fail on it, and ``tests/test_fuzz_targets.py`` lets a seed
hit one; everything else fails both. Remove an entry when its fix lands on ``main`` (the test
then shows the seeds pass).
"""

from __future__ import annotations

__all__ = ["KNOWN", "is_known"]

KNOWN: dict[str, tuple[str, ...]] = {
    # Issue 12: "verify --json cannot serialise the result of a correctly signed EU DCC whose
    # payload holds a byte string or a CBOR date (summary() copies raw foreign values)".
    "verify_text": ("summary() is not JSON",),
    "verify_bytes": ("summary() is not JSON",),
    "shc_card": ("summary() is not JSON",),
    # Issue 12: "Trust loaders leak binascii.Error/ValueError from a DSC list with bad base64 …
    # and cryptography's UnsupportedAlgorithm, InvalidVersion and a lazily raised ValueError
    # (cert.subject) from unusual certificates". Found again by fuzz/dsc, with two kin the issue
    # does not list (a TypeError from cert.subject, DuplicateExtension from cert.extensions):
    # reproducers in fuzz/findings/dsc/, for the trust-loader fix.
    "dsc": (
        "UnsupportedAlgorithm at dsc.py",
        "InvalidVersion at dsc.py",
        "DuplicateExtension at dsc.py",
        "ValueError at dsc.py",
        "TypeError at dsc.py",
        "Error at dsc.py",
    ),
    # Issue 12: cryptography's UnsupportedAlgorithm "from unusual … anchors or trust-list keys on
    # curves we do not support" (an unknown key-type OID, DER and PEM): fuzz/findings/anchor/.
    "anchor": ("UnsupportedAlgorithm at keys.py",),
    "trust_list": ("UnsupportedAlgorithm at keys.py",),
    "trust_folder": ("UnsupportedAlgorithm at keys.py", "at dsc.py"),
    "bundle": ("UnsupportedAlgorithm at keys.py", "at dsc.py"),
}
"""Target → texts of the signatures of its known findings."""


def is_known(target: str, signature: str) -> bool:
    """Whether ``signature`` (a finding's first line) is one of ``target``'s known findings."""
    return any(text in signature for text in KNOWN.get(target, ()))
