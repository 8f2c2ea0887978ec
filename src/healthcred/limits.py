"""Size bounds of the wire format, checked before any work is done on an input.

They are generous for real codes (a native code is ~350 characters) and small
enough that no input can make a verifier allocate more than a few KiB.
"""

from __future__ import annotations

MAX_TEXT_CHARS = 4296
"""Longest text a QR code can hold at all (version 40, level L, alphanumeric)."""

MAX_COSE_BYTES = 8192
"""Largest COSE_Sign1 message accepted after decompression (zlib-bomb bound); the default CBOR bound."""

MAX_CBOR_DEPTH = 8
"""Deepest nesting of arrays and maps accepted in a code payload (signed trust objects pass their own)."""

MAX_CBOR_ITEMS = 512
"""Most array elements plus map entries in a code payload; trust lists, revocation lists, rule sets and
bundles derive their own bounds from their documented entry limits (``healthcred.trust``)."""

MAX_EPOCH = 253402300799
"""Latest time any format may name, in epoch seconds: 9999-12-31T23:59:59Z, the last a datetime holds."""
