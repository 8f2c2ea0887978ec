"""Shared fixtures (the builders behind them live in ``tests.helpers``)."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hypothesis import settings

from tests.helpers.softhsm import SoftToken, start_token
from tests.helpers.world import World, new_world

# No per-example deadline anywhere: a loaded 2-core CI machine must not turn a slow example into a
# failure (speed is measured by bench/, never asserted by a test).
settings.register_profile("healthcred", deadline=None)
settings.load_profile("healthcred")


@pytest.fixture(scope="session")
def world() -> World:
    return new_world()


@pytest.fixture
def make_world() -> Callable[[], World]:
    return new_world


@pytest.fixture(scope="session")
def soft_token(tmp_path_factory: pytest.TempPathFactory) -> SoftToken:
    """The session's SoftHSM2 token (skips locally without SoftHSM2; fails in CI)."""
    return start_token(tmp_path_factory.mktemp("softhsm"))


@pytest.fixture(params=["c", "python"])
def decode_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test on the C decoder and on the pure-Python path (``HEALTHCRED_PURE``'s switch)."""
    from healthcred.codec import fast
    from healthcred.native import claims

    if request.param == "python":
        monkeypatch.setattr(fast, "native", None)
        monkeypatch.setattr(claims, "compiled", None)
    elif fast.native is None or claims.compiled is None:
        if os.environ.get(fast.REQUIRE_ENV) == "1":
            pytest.fail("the C parts (healthcred.codec._fast, healthcred.native._claims) are not importable")
        pytest.skip("the C decoder is not built (or HEALTHCRED_PURE=1)")
    return str(request.param)
