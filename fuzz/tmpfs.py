"""Where the targets' own files go: a memory-backed folder, and the variable that names it.

Standard library only: :mod:`fuzz.run` reads these before any ``healthcred`` module is imported
(which must happen under atheris's instrumentation).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SCRATCH_ENV", "SHM", "memory_folder"]

SCRATCH_ENV = "HEALTHCRED_FUZZ_SCRATCH"
"""Environment variable naming the folder :func:`fuzz.harness.scratch` makes its folders in."""
SHM = Path("/dev/shm")  # noqa: S108 - private folders (mkdtemp, mode 0700) are made inside it
"""A memory-backed folder (tmpfs), used when the system has it."""


def memory_folder() -> Path | None:
    """:data:`SHM` when the system has it and it is writable, else ``None`` (the temporary folder)."""
    return SHM if SHM.is_dir() and os.access(SHM, os.W_OK | os.X_OK) else None
