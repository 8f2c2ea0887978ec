"""``load_trust`` on a small trust folder whose files come from the input.

The input is a sequence of records ``[slot: 1 byte][length: 2 bytes, big-endian][content]``;
the slot names the file (a loose list, a revocation list, a rule set, the bundle, ``state.json``,
a DSC, a DSC list or an SHC issuer). The national root's anchor is always there, so the folder
loads as far as its files allow.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

from fuzz import seeds
from fuzz.harness import Target, expect, put, scratch
from fuzz.world import ROOT
from healthcred.crypto.keys import save_public_key
from healthcred.trust.folder import load_trust

SLOTS = (
    "lists/a.cose",
    "lists/b.cose",
    "revocations/a.cose",
    "rules/a.cose",
    "bundle.cose",
    "state.json",
    "dsc/a.der",
    "dsc/list.json",
    "shc/issuer.json",
)
"""Where each slot number's content goes in the folder."""
_SCRATCH = scratch()
_FOLDER = _SCRATCH / "trust"
_ANCHOR = Path("anchors") / "root.pub.pem"
_SUBFOLDERS = sorted({str(Path(name).parent) for name in SLOTS} - {"."} | {"anchors"})
_FOLDERS = [os.fspath(_FOLDER / sub) for sub in (".", *_SUBFOLDERS)]
_held: dict[str, bytes] = {}
"""What the folder holds now (slot name → content), beside its anchor: kept between inputs."""
_stamp: tuple[tuple[int, int], ...] | None = ()
"""The folders' modification times as :func:`_lay_out` left them (``()``: not laid out yet)."""


def records(data: bytes) -> dict[str, bytes]:
    """The files an input names (a later record for a slot replaces an earlier one)."""
    files: dict[str, bytes] = {}
    at = 0
    while at + 3 <= len(data):
        slot, length = struct.unpack_from(">BH", data, at)
        files[SLOTS[slot % len(SLOTS)]] = data[at + 3 : at + 3 + length]
        at += 3 + length
    return files


def encode(files: dict[str, bytes]) -> bytes:
    """The input that gives ``files`` (slot name → content)."""
    return b"".join(struct.pack(">BH", SLOTS.index(name), len(body)) + body for name, body in files.items())


def _lay_out(files: dict[str, bytes]) -> None:
    # The folder is reused between inputs: only what changed is written or removed (an empty
    # sub-folder reads as a missing one). Should a name appear or go other than by this function
    # (loading writes nothing, but a stray file would carry one input's state into the next),
    # the folder is built afresh.
    global _stamp
    if _stamp != _stamps():
        shutil.rmtree(_FOLDER, ignore_errors=True)
        _held.clear()
        for sub in _SUBFOLDERS:
            (_FOLDER / sub).mkdir(parents=True)
        save_public_key(ROOT.public_key(), _FOLDER / _ANCHOR)
    for name in [n for n in _held if n not in files]:
        (_FOLDER / name).unlink()
        del _held[name]
    for name, body in files.items():
        if _held.get(name) != body:
            put(_FOLDER / name, body)
            _held[name] = body
    _stamp = _stamps()


def _stamps() -> tuple[tuple[int, int], ...] | None:
    # Each folder's modification time and size: a name added or removed changes one (on a tmpfs
    # a folder's size counts its names, so even within the clock's tick), at one stat per folder.
    try:
        return tuple((st.st_mtime_ns, st.st_size) for st in map(os.stat, _FOLDERS))
    except FileNotFoundError:
        return None


def run(data: bytes) -> None:
    """Lay the folder out as the input's records say, and load it."""
    _lay_out(records(data))
    expect(lambda: load_trust(_FOLDER))


def seed_inputs() -> Iterator[bytes]:
    """A folder per vector with a list, a revocation list, a rule set or a bundle, and one of each."""
    lists = list(dict.fromkeys(seeds.vector_hex("trust_lists")))
    yield encode({"lists/a.cose": lists[0], "state.json": b'{"format": 1, "versions": {}}'})
    for field, slot in (
        ("revocation_lists", "revocations/a.cose"),
        ("rule_sets", "rules/a.cose"),
        ("bundle", "bundle.cose"),
    ):
        for blob in list(dict.fromkeys(seeds.vector_hex(field)))[:6]:
            yield encode({"lists/a.cose": lists[0], slot: blob})
    *_, issuer = seeds.shc_issuer_documents()
    yield encode({"lists/a.cose": lists[0], "shc/issuer.json": issuer})


TARGET = Target("trust_folder", run, seed_inputs)
