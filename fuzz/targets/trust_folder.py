"""``load_trust`` on a small trust folder whose files come from the input.

The input is a sequence of records ``[slot: 1 byte][length: 2 bytes, big-endian][content]``;
the slot names the file (a loose list, a revocation list, a rule set, the bundle, ``state.json``,
a DSC, a DSC list or an SHC issuer). The national root's anchor is always there, so the folder
loads as far as its files allow.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterator

from fuzz import seeds
from fuzz.harness import Target, expect, scratch
from fuzz.world import ROOT
from healthcred.crypto.keys import save_public_key
from healthcred.files import write_atomic
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
_ANCHOR = _SCRATCH / "root.pub.pem"
save_public_key(ROOT.public_key(), _ANCHOR)


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


def run(data: bytes) -> None:
    """Build the folder afresh and load it."""
    shutil.rmtree(_FOLDER, ignore_errors=True)
    (_FOLDER / "anchors").mkdir(parents=True)
    shutil.copyfile(_ANCHOR, _FOLDER / "anchors" / "root.pub.pem")
    for name, body in records(data).items():
        (_FOLDER / name).parent.mkdir(exist_ok=True)
        write_atomic(_FOLDER / name, body, durable=False)
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
