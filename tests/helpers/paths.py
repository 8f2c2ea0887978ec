"""Where things are: the checkout, and the third-party test data under ``tests/data``."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The checkout (holds ``src``, ``tests``, ``bench``, ``docs``, ``vectors``)."""
TEST_DATA = ROOT / "tests" / "data"
"""Third-party test vectors, each folder with its upstream licence."""
