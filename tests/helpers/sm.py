"""Whether this machine can run the SM2 tests: tongsuopy (``healthcred[sm]``) has no aarch64 wheel."""

from __future__ import annotations

import importlib.util
import platform

import pytest

__all__ = ["SM2_UNAVAILABLE", "SM2_UNAVAILABLE_REASON", "needs_sm2"]

SM2_UNAVAILABLE = importlib.util.find_spec("tongsuopy") is None and platform.machine() in {"aarch64", "arm64"}
"""Whether this machine cannot have SM2 at all (no tongsuopy wheel for it, none installed)."""
SM2_UNAVAILABLE_REASON = (
    "tongsuopy (healthcred[sm]) has no wheel for this machine; elsewhere a missing tongsuopy fails"
)

needs_sm2 = pytest.mark.skipif(SM2_UNAVAILABLE, reason=SM2_UNAVAILABLE_REASON)
"""Skip only where the SM2 library cannot be installed at all; on x86_64 CI its absence fails."""
