"""Which decode path is in use: the optional C extension or pure Python, the one place that tells.

:mod:`healthcred.codec._fast` (built from ``_fast.c`` when a C compiler is present at install)
reads a native code's text — prefix, canonical Base45, bounded zlib, COSE_Sign1 envelope,
protected header, Sig_structure and strict deterministic-CBOR claims — in one call. It is an
accept-only fast path: it returns ``None`` for anything it does not accept with certainty, and
the caller then runs the pure-Python path on the same input, which raises that path's error
class and code. So both paths give the same errors by construction, and the tests and the
differential fuzz target hold their acceptance equal.

``HEALTHCRED_PURE=1`` in the environment (read at import) forces the pure path; :data:`native`
is the extension module or ``None``, read at each call, so tests may switch it.
"""

from __future__ import annotations

from types import ModuleType

from healthcred._extensions import PURE_ENV, REQUIRE_ENV, load_extension
from healthcred.codec.compression import decompress
from healthcred.limits import MAX_CBOR_DEPTH, MAX_CBOR_ITEMS, MAX_COSE_BYTES, MAX_TEXT_CHARS

__all__ = ["PURE_ENV", "REQUIRE_ENV", "implementation", "load", "native"]


def load() -> ModuleType | None:
    """The C extension configured with this package's bounds, or ``None`` (not built, or forced pure)."""
    module = load_extension("healthcred.codec._fast")
    if module is not None:
        module.configure(MAX_TEXT_CHARS, MAX_COSE_BYTES, MAX_CBOR_DEPTH, MAX_CBOR_ITEMS, decompress)
    return module


native: ModuleType | None = load()
"""The C extension in use, or ``None`` for the pure path."""


def implementation() -> str:
    """``"c"`` when the C decoder is in use, ``"python"`` when the pure path is."""
    return "c" if native is not None else "python"
