"""Every fuzz target runs on its seeds without atheris, so the targets cannot rot unnoticed.

A seed may hit a finding listed in :mod:`fuzz.known` (issue 12, fixed on another branch);
any other exception fails the test. Each target must also see some seeds through to a result
or a typed error, and its structure-aware mutator (where it has one) must keep working.
"""

from __future__ import annotations

import random
from itertools import islice
from pathlib import Path

import pytest

from fuzz import layers
from fuzz.harness import Target
from fuzz.known import is_known
from fuzz.targets import TARGET_NAMES, load
from fuzz.world import REPO

FINDINGS = REPO / "fuzz" / "findings"

_PER_TARGET = 120  # seeds per target: enough to reach each entry point's result and error paths


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_target_runs_its_seeds(name: str) -> None:
    target: Target = load(name)
    seeds = list(islice(target.seeds(), _PER_TARGET))
    assert seeds, f"{name} has no seeds"
    assert sum(_run(name, target, seed) for seed in seeds) > 0


def _run(name: str, target: Target, data: bytes) -> bool:
    """Run one input; ``False`` for a known finding, which is the only exception let through."""
    try:
        target.one_input(data)
    except Exception as exc:
        if not is_known(name, f"{type(exc).__name__}: {exc}"):
            raise
        return False
    return True


@pytest.mark.parametrize("name", [n for n in TARGET_NAMES if load(n).mutate is not None])
def test_structure_aware_mutator_rewraps_its_seeds(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without atheris, byte mutation is a bit flip: the layers around it must still come back whole.
    def flip(data: bytes, max_size: int) -> bytes:
        return data[:1] + bytes([data[1] ^ 1]) + data[2:] if len(data) > 1 else data

    monkeypatch.setattr(layers, "mutate_bytes", flip)
    target = load(name)
    assert target.mutate is not None
    changed = 0
    for n, seed in enumerate(islice(target.seeds(), 20)):
        mutated = target.mutate(seed, 65536, random.Random(n).randrange(2**32))
        assert isinstance(mutated, bytes) and len(mutated) <= 65536
        changed += mutated != seed
        _run(name, target, mutated)
    assert changed > 0


@pytest.mark.parametrize("path", sorted(FINDINGS.glob("*/*.bin")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_kept_finding_now_runs_clean(path: Path) -> None:
    """Each minimised reproducer under fuzz/findings/ goes through its target without a finding."""
    load(path.parent.name).one_input(path.read_bytes())


def test_png_mutator_keeps_every_chunk_crc_right(monkeypatch: pytest.MonkeyPatch) -> None:
    """A mutated PNG passes the reader's CRC checks, so the fuzzer reaches the header checks and decoder."""
    import struct
    import zlib

    from fuzz.png_mutator import png_mutator

    monkeypatch.setattr(layers, "mutate_bytes", lambda data, max_size: data[::-1])
    seed = next(s for s in load("verify_image").seeds() if s.startswith(b"\x89PNG"))
    checked = 0
    for n in range(200):
        mutated = png_mutator(seed, 65536, n)
        if mutated == seed or not mutated.startswith(b"\x89PNG\r\n\x1a\n"):
            continue
        at = 8
        while at + 12 <= len(mutated):
            (length,) = struct.unpack(">I", mutated[at : at + 4])
            body = mutated[at + 4 : at + 8 + length]
            assert mutated[at + 8 + length : at + 12 + length] == struct.pack(">I", zlib.crc32(body))
            at += 12 + length
        checked += 1
    assert checked > 100
