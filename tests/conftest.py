"""Shared fixtures (the builders behind them live in ``tests.helpers``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.helpers.world import World, new_world


@pytest.fixture(scope="session")
def world() -> World:
    return new_world()


@pytest.fixture
def make_world() -> Callable[[], World]:
    return new_world
