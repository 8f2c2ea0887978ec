"""Structure-aware mutation of JSON documents: parse, mutate the tree, serialise again.

Byte mutation of JSON text mostly breaks the JSON, so a target behind a JSON parser sees the
parser's refusals and little else. :func:`mutate_tree` instead picks a node of the parsed value
and applies one move — a literal replaced by a boundary value, a subtree swapped, duplicated,
spliced, deleted, wrapped or nested deep, a member renamed or added, a string byte-mutated —
with a :class:`Vocabulary` of the format's own member names, strings and numbers, and a
format-specific ``grow`` that builds fresh subtrees (a CertLogic operation, a JWK…). The
format mutators (:mod:`fuzz.targets.certlogic`, :mod:`fuzz.targets.shc_issuer`,
:mod:`fuzz.targets.shc_card`) call it and add moves of their own. Everything is drawn from one
``random.Random(seed)``, so a mutation is deterministic for its seed (libFuzzer's own byte
mutation aside, which the format mutators use on a share of inputs and on string values).
"""

from __future__ import annotations

import copy
import json
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fuzz import layers

__all__ = [
    "BOUNDARY_NUMBERS",
    "BOUNDARY_STRINGS",
    "MAX_NODES",
    "MAX_TEXT",
    "Vocabulary",
    "dumps",
    "fresh",
    "loads",
    "mutate_tree",
    "nodes",
]

Step = str | int
Path = tuple[Step, ...]

MAX_NODES = 4096
"""Most nodes a tree is walked for, and the most a repetition may make."""
MAX_TEXT = 65536
"""Most characters a repetition may make (libFuzzer's ``-max_len`` here)."""

BOUNDARY_NUMBERS: tuple[Any, ...] = (
    0, -1, 1, 2, 7, 63, 64, 65, 255, 256, 2**31 - 1, 2**31, 2**32, 2**53 - 1, 2**53, -(2**53) + 1,
    -(2**53), 2**63, 2**64, 10**30, -(10**30), 10**400, 100_000_000, 100_000_001, 253402300799,
    253402300800, -62135596800, 0.5, -0.0, 1.0, 1e308, -1e308, 5e-324, 1.7976931348623157e308,
    float("inf"), float("nan"),
)  # fmt: skip
"""Numbers at the edges: JavaScript's safe integers, 64-bit, year 9999 in seconds, floats and non-finites."""
BOUNDARY_STRINGS: tuple[str, ...] = (
    "", " ", "0", "-1", "9999-12-31", "0001-01-01", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "2021-02-29", "2020-02-29T24:00:00+14:00", "1970-01-01T00:00:00.000000001-23:59", "2021-13",
    "2021", "2021-01-01T00:00:00", "\u0000", "\ud7ff\ue000", "é", "😀", "\u202e", "a" * 65, "x" * 4097,
    "URN:UVCI:01:NL:187/37512422923", "https://", "null", "true", "__proto__", "constructor",
)  # fmt: skip
"""Strings at the edges: dates at years 1 and 9999, impossible dates, control and astral characters, long."""


@dataclass(frozen=True)
class Vocabulary:
    """What a format's trees are made of: member names, strings, numbers, and a subtree builder."""

    names: Sequence[str]
    strings: Sequence[str] = ()
    numbers: Sequence[Any] = BOUNDARY_NUMBERS
    grow: Callable[[random.Random, int], Any] | None = field(default=None, compare=False)
    """``grow(rng, depth)``: a fresh subtree of at most ``depth`` levels (``None``: a literal)."""

    def literal(self, rng: random.Random) -> Any:
        """A boundary literal: a number, a string (the format's or an edge case), a boolean or null."""
        pick = rng.randrange(10)
        if pick < 3:
            return rng.choice(self.numbers)
        if pick < 6 and self.strings:
            return rng.choice(self.strings)
        if pick < 8:
            return rng.choice(BOUNDARY_STRINGS)
        return rng.choice((True, False, None, [], {}))

    def subtree(self, rng: random.Random, depth: int = 3) -> Any:
        """A fresh subtree from ``grow`` (most of the time), else a literal."""
        if self.grow is not None and rng.random() < 0.7:
            return self.grow(rng, depth)
        return self.literal(rng)


def fresh(value: Any) -> Any:
    """A copy of ``value`` that shares no list or dict with it (nor with a module's constants).

    A tree is changed in place: a subtree that appears twice (a constant inserted twice, a list
    repeated) would change in both places, and a path into one would no longer lead anywhere.
    """
    return copy.deepcopy(value) if isinstance(value, list | dict) else value


def loads(text: bytes | str) -> Any:
    """The JSON value of ``text`` (NaN and big numbers as Python reads them); raises ``ValueError``."""
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise ValueError("nested too deep to mutate") from exc


def dumps(value: Any, rng: random.Random | None = None) -> str:
    """``value`` as JSON text, compact (now and then spaced); NaN and infinities as Python writes them."""
    spaced = rng is not None and rng.random() < 0.05
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": ") if spaced else (",", ":"))


def nodes(value: Any, limit: int = MAX_NODES) -> list[Path]:
    """Paths to the nodes of ``value`` (the root first, breadth first), at most ``limit`` of them."""
    found: list[Path] = []
    queue: deque[tuple[Path, Any]] = deque([((), value)])
    while queue and len(found) < limit:
        path, node = queue.popleft()
        found.append(path)
        children = (
            node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        )
        queue.extend(((*path, key), child) for key, child in children)
    return found


def _get(value: Any, path: Path) -> Any:
    for step in path:
        value = value[step]
    return value


def _set(root: Any, path: Path, new: Any) -> Any:
    # The root with the node at ``path`` replaced (in place below the root; the root itself returned).
    new = fresh(new)
    if not path:
        return new
    _get(root, path[:-1])[path[-1]] = new
    return root


def _mutated_string(text: str) -> str:
    raw = layers.mutate_bytes(text.encode("utf-8"), max(len(text) * 2, 16))
    return raw.decode("utf-8", errors="replace")


def _nested(node: Any, rng: random.Random, vocab: Vocabulary) -> Any:
    # Deep nesting, up to and past the formats' bounds (64 levels).
    for _ in range(rng.choice((2, 8, 32, 63, 64, 65, 70))):
        node = [node] if rng.random() < 0.5 or not vocab.names else {rng.choice(vocab.names): node}
    return node


def _container_move(root: Any, path: Path, node: Any, rng: random.Random, vocab: Vocabulary) -> Any:
    # A member or element added, deleted, renamed or duplicated in the container at ``path``.
    if isinstance(node, dict):
        move = rng.randrange(3)
        if move == 0 or not node:
            node[rng.choice(vocab.names) if vocab.names else "x"] = fresh(vocab.subtree(rng))
        elif move == 1:
            del node[rng.choice(list(node))]
        else:
            old = rng.choice(list(node))
            node[rng.choice(vocab.names) if vocab.names else old + "x"] = node.pop(old)
        return root
    move = rng.randrange(3)
    if move == 0 or not node:
        node.insert(rng.randrange(len(node) + 1), fresh(vocab.subtree(rng)))
    elif move == 1:
        del node[rng.randrange(len(node))]
    else:
        node.insert(rng.randrange(len(node) + 1), fresh(rng.choice(node)))
    return root


def mutate_tree(root: Any, rng: random.Random, vocab: Vocabulary) -> Any:
    """``root`` with one random move applied (it may be changed in place; use the value returned).

    A move that would multiply the tree (a list repeated) is made only while the result stays
    within :data:`MAX_NODES` nodes and :data:`MAX_TEXT` characters: past the input size it would
    be thrown away, and building it would cost the fuzzer time and memory for nothing.
    """
    paths = nodes(root)
    path = rng.choice(paths)
    node = _get(root, path)
    move = rng.randrange(9)
    if move == 0:
        return _set(root, path, vocab.literal(rng))
    if move == 1:
        return _set(root, path, vocab.subtree(rng))
    if move == 2 and isinstance(node, dict | list):
        return _container_move(root, path, node, rng, vocab)
    if move == 3 and isinstance(node, str):
        return _set(root, path, _mutated_string(node))
    if move == 4:  # splice: another subtree of the document copied here
        return _set(root, path, _get(root, rng.choice(paths)))
    if move == 5:  # swap two subtrees that do not contain each other
        other = rng.choice(paths)
        if other[: len(path)] != path and path[: len(other)] != other:
            a, b = _get(root, path), _get(root, other)
            return _set(_set(root, path, b), other, a)  # each one copied: no part shared
    if move == 6:
        return _set(root, path, _nested(node, rng, vocab))
    if move == 7 and isinstance(node, int | float) and not isinstance(node, bool):
        return _set(root, path, rng.choice((node + 1, node - 1, -node, node * 2, node * 10**9)))
    if move == 8 and isinstance(node, list) and node:  # many elements of one kind
        times = rng.choice((2, 16, 256))
        if len(paths) < MAX_NODES // times and len(dumps(node)) * times <= MAX_TEXT:
            return _set(root, path, [fresh(item) for item in node * times])
    return _set(root, path, vocab.literal(rng))
