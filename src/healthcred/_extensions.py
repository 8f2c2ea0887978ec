"""The optional C extensions of the verifier's hot path: the one place that loads them.

``codec/_fast.c`` (the decoder), ``model/_slots.c`` (record builders) and ``native/_claims.c``
(claims map → credential) are built by ``pip install`` where a C compiler is present; each
module that owns one calls :func:`load_extension` for it, so one switch forces the pure path
for all three. A bottom-layer module: the model may not import the codec (the rules see the
model only), yet all three read the same switch.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

__all__ = ["PURE_ENV", "REQUIRE_ENV", "load_extension"]

PURE_ENV = "HEALTHCRED_PURE"
"""Environment variable: ``1`` forces the pure-Python path (no C extension is loaded)."""

REQUIRE_ENV = "HEALTHCRED_REQUIRE_FAST"
"""Environment variable the test suite reads: ``1`` makes a missing C extension a test failure."""


def load_extension(name: str) -> ModuleType | None:
    """The C extension module ``name`` (the caller's own), or ``None``: not built, or forced pure."""
    if os.environ.get(PURE_ENV) == "1":
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
