"""The watched folder: a trust bundle dropped there is installed, as the operator's upload is.

Every ``*.cose`` file not seen before (by name, size and modification time) is read, installed
atomically (:meth:`~healthcred.station.checkpoint.Checkpoint.install`) and remembered; a bundle
that fails leaves the old trust in use, and its error is shown in the operator panel.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from healthcred.errors import HealthCredError
from healthcred.station.checkpoint import Checkpoint

__all__ = ["POLL_SECONDS", "poll_once", "watch_folder"]

POLL_SECONDS = 2.0
"""How often the watched folder is looked at."""
_MAX_BUNDLE = 16 * 1024 * 1024


def poll_once(station: Checkpoint, folder: Path, seen: set[tuple[str, int, int]]) -> list[str]:
    """Install each new bundle in ``folder``; return what happened to each (for the panel and tests)."""
    done: list[str] = []
    try:
        candidates = sorted(folder.glob("*.cose"))
    except OSError:
        return done
    for path in candidates:
        try:
            info = path.stat()
        except OSError:
            continue
        mark = (path.name, info.st_size, info.st_mtime_ns)
        if mark in seen or info.st_size > _MAX_BUNDLE:
            continue
        seen.add(mark)
        try:
            station.install(path.read_bytes(), f"watched {path.name}")
            done.append(f"{path.name}: installed")
        except (HealthCredError, OSError) as exc:
            done.append(f"{path.name}: refused ({exc})")
    return done


async def watch_folder(station: Checkpoint, folder: Path) -> None:
    """Poll ``folder`` every :data:`POLL_SECONDS` until cancelled."""
    seen: set[tuple[str, int, int]] = set()
    while True:
        poll_once(station, folder, seen)
        await asyncio.sleep(POLL_SECONDS)
