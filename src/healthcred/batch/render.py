"""A batch's per-row files, written by whichever process runs the task: ``codes/STEM.txt`` and ``.png``.

A task is a plain function and plain data (the output folder as text, the
rows' stems and texts, the encoder), so any :class:`concurrent.futures.Executor`
runs it: the batch's own process pool, a Dask client's executor, a Ray
executor. This module imports only the QR encoder and the file writer, so a
spawned worker starts in a fraction of the time ``healthcred.batch.run`` (rows,
pydantic, printing) would take to import.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from healthcred.codec.qr import Encoder, render_qr
from healthcred.files import write_atomic

__all__ = ["CodesTask", "render_codes"]

CodesTask = tuple[str, Sequence[tuple[str, str]], Encoder]
"""(output folder, [(stem, text), …], encoder): one task of :func:`render_codes`."""


def render_codes(task: CodesTask) -> int:
    """Write ``codes/STEM.png`` and ``codes/STEM.txt`` for each (stem, text) of ``task``; return how many."""
    out, items, encoder = task
    codes = Path(out) / "codes"
    for stem, text in items:
        # Not fsync'd one by one: the journal is the durable record, and a resume checks each file
        # (journal.codes_present) and rewrites what a power loss left empty or short.
        write_atomic(codes / f"{stem}.png", render_qr(text, encoder=encoder), durable=False)
        write_atomic(codes / f"{stem}.txt", (text + "\n").encode(), durable=False)
    return len(items)
