"""Whether this machine can run the SM2 tests: tongsuopy (``healthcred[sm]``) has no aarch64 wheel."""

from __future__ import annotations

import importlib.util
import platform
import sys
from collections.abc import Iterator

import pytest

from healthcred.crypto import sm2

__all__ = ["SM2_UNAVAILABLE", "SM2_UNAVAILABLE_REASON", "needs_sm2", "without_tongsuo"]

SM2_UNAVAILABLE = importlib.util.find_spec("tongsuopy") is None and platform.machine() in {"aarch64", "arm64"}
"""Whether this machine cannot have SM2 at all (no tongsuopy wheel for it, none installed)."""
SM2_UNAVAILABLE_REASON = (
    "tongsuopy (healthcred[sm]) has no wheel for this machine; elsewhere a missing tongsuopy fails"
)

needs_sm2 = pytest.mark.skipif(SM2_UNAVAILABLE, reason=SM2_UNAVAILABLE_REASON)
"""Skip only where the SM2 library cannot be installed at all; on x86_64 CI its absence fails."""


@pytest.fixture
def without_tongsuo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As if ``healthcred[sm]`` were not installed."""
    sm2._tongsuo.cache_clear()
    for name in [name for name in sys.modules if name.split(".")[0] == "tongsuopy"] or ["tongsuopy"]:
        monkeypatch.setitem(sys.modules, name, None)  # None: an import of it raises ImportError
    yield
    sm2._tongsuo.cache_clear()
