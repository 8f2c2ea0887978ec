"""Whether this machine can run the SM2 tests: tongsuopy (``healthcred[sm]``) has no aarch64 wheel."""

from __future__ import annotations

import importlib.util
import platform

import pytest

__all__ = ["needs_sm2"]

needs_sm2 = pytest.mark.skipif(
    importlib.util.find_spec("tongsuopy") is None and platform.machine() in {"aarch64", "arm64"},
    reason="tongsuopy (healthcred[sm]) has no wheel for this machine; elsewhere a missing tongsuopy fails",
)
"""Skip only where the SM2 library cannot be installed at all; on x86_64 CI its absence fails."""
