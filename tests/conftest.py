"""Shared fixtures (the builders behind them live in ``tests.helpers``)."""

from __future__ import annotations

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
