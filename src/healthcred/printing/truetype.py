"""A TrueType font read once, and small subsets of it cut from its bytes for each PDF.

fontTools reads the font a single time (:func:`read_font`); a subset then
copies the bytes of the glyphs a page draws into a new font file with glyph
ids 1, 2, 3 … in the order of the original ids. That takes well under a
millisecond, where fontTools' subsetter decodes and re-encodes every glyph
(~100 ms for the 7,800-glyph bundled font, issue 15). Only fonts with
TrueType outlines (``glyf``) are cut this way; :attr:`Face.outlines` is
``None`` for a CFF font, which the PDF back end hands to fpdf2 instead.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import accumulate, pairwise
from pathlib import Path

from healthcred.errors import BadInput

__all__ = ["Face", "Outlines", "Subset", "read_font"]

_KEPT_NAMES = (0, 1, 2, 13, 14)  # copyright, family, style, licence and its URL: the OFL asks they travel
_HINTING = (b"cvt ", b"fpgm", b"prep")  # copied whole when present: glyph programs may call them

# Composite glyph flags (OpenType glyf table).
_ARG_WORDS = 0x0001
_HAVE_SCALE = 0x0008
_MORE = 0x0020
_XY_SCALE = 0x0040
_TWO_BY_TWO = 0x0080


@dataclass(frozen=True, slots=True)
class Outlines:
    """A TrueType font's glyph programs and the tables a subset copies or rewrites."""

    glyf: bytes
    offsets: tuple[int, ...]  # loca: glyph i is glyf[offsets[i]:offsets[i + 1]]
    head: bytes
    hhea: bytes
    maxp: bytes
    os2: bytes | None
    post: bytes
    name: bytes
    hinting: Mapping[bytes, bytes]
    _pieces: dict[int, _Piece] = field(default_factory=dict, compare=False, repr=False)

    def glyph(self, gid: int) -> bytes:
        """The bytes of glyph ``gid`` (empty for a glyph without contours, such as the space)."""
        return self.glyf[self.offsets[gid] : self.offsets[gid + 1]]

    def piece(self, gid: int) -> _Piece:
        """Glyph ``gid`` as a subset copies it, worked out once per process (at most one per glyph)."""
        piece = self._pieces.get(gid)
        if piece is None:
            data = self.glyph(gid)
            places = tuple(_components(data))
            count = len(self.offsets) - 1
            refs = tuple(g for at in places if (g := struct.unpack_from(">H", data, at)[0]) < count)
            padded = data + b"\0" * (-len(data) % 4)  # long offsets, 4-byte aligned glyphs
            piece = self._pieces[gid] = _Piece(padded, places, refs, _checksum(padded), _lsb(data))
        return piece


@dataclass(frozen=True, slots=True)
class _Piece:
    """One glyph ready for a subset: its bytes padded to 4, where its components are, its checksum."""

    data: bytes
    places: tuple[int, ...]  # byte offsets of the component glyph ids (a composite glyph)
    refs: tuple[int, ...]  # the component glyph ids
    checksum: int  # of data: a glyf table of aligned glyphs sums glyph by glyph
    lsb: int


@dataclass(frozen=True, slots=True)
class Face:
    """What printing needs of a font, read once: character map, advances, metrics, outlines."""

    path: Path
    postscript_name: str
    cmap: Mapping[int, int]  # code point -> glyph id
    advances: tuple[int, ...]  # per glyph id, font units
    units_per_em: int
    ascent: int
    descent: int
    cap_height: int
    bbox: tuple[int, int, int, int]
    italic_angle: float
    weight: int
    outlines: Outlines | None

    def advance(self, char: str) -> int:
        """The advance width of ``char`` in font units (.notdef's for a character not in the font)."""
        return self.advances[self.cmap.get(ord(char), 0)]

    def subset(self, chars: Iterable[str]) -> Subset:
        """A font of .notdef and the glyphs of ``chars`` (and the glyphs composites use)."""
        if self.outlines is None:
            raise BadInput(f"the font {self.path.name} has no TrueType outlines to subset")
        chars = frozenset(chars)
        wanted = sorted({self.cmap.get(ord(c), 0) for c in chars} | {0})
        old = _closure(self.outlines, wanted)
        new_of = {gid: index for index, gid in enumerate(old)}
        mapped = {code: new_of[gid] for code, gid in self._mapped(chars)}
        return Subset(
            data=_font_file(self, self.outlines, old, new_of, mapped),
            glyph_of={chr(code): gid for code, gid in mapped.items()},
            widths=tuple(self.advances[gid] for gid in old),
            chars=chars,
        )

    def _mapped(self, chars: frozenset[str]) -> list[tuple[int, int]]:
        return sorted((ord(c), self.cmap[ord(c)]) for c in chars if ord(c) in self.cmap)


@dataclass(frozen=True, slots=True)
class Subset:
    """A subset font file, which new glyph id draws each character, and the glyphs' advances."""

    data: bytes
    glyph_of: Mapping[str, int]
    widths: tuple[int, ...]  # by new glyph id, font units
    chars: frozenset[str]


def read_font(path: Path) -> Face:
    """Read ``path`` with fontTools once; an unreadable file raises :class:`BadInput`."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(str(path), lazy=True) as font:
            return _face(path, font)
    except (OSError, TTLibError, AssertionError, KeyError, struct.error, ValueError, IndexError) as exc:
        raise BadInput(f"cannot read the font {path}: {exc}") from exc


def _face(path: Path, font: object) -> Face:
    from fontTools.ttLib import TTFont

    assert isinstance(font, TTFont)
    head, hhea, post = font["head"], font["hhea"], font["post"]
    os2 = font.get("OS/2")
    metrics = font["hmtx"].metrics
    order = font.getGlyphOrder()
    by_name = {name: gid for gid, name in enumerate(order)}
    cmap = {code: by_name[name] for code, name in (font.getBestCmap() or {}).items() if name in by_name}
    name_table = font["name"]
    postscript = name_table.getDebugName(6) or path.stem
    return Face(
        path=path,
        postscript_name="".join(c for c in postscript if (c.isascii() and c.isalnum()) or c in "-_")
        or "Font",
        cmap=cmap,
        advances=tuple(metrics[name][0] for name in order),
        units_per_em=head.unitsPerEm,
        ascent=hhea.ascent,
        descent=hhea.descent,
        cap_height=getattr(os2, "sCapHeight", 0) or hhea.ascent,
        bbox=(head.xMin, head.yMin, head.xMax, head.yMax),
        italic_angle=float(post.italicAngle),
        weight=getattr(os2, "usWeightClass", 400),
        outlines=_outlines(font) if "glyf" in font else None,
    )


def _outlines(font: object) -> Outlines:
    from fontTools.ttLib import TTFont

    assert isinstance(font, TTFont)
    raw = font.reader
    names = font["name"]
    names.names = [record for record in names.names if record.nameID in _KEPT_NAMES]
    offsets = tuple(font["loca"].locations)
    glyf = raw["glyf"]
    if len(offsets) < 2 or any(b < a for a, b in pairwise(offsets)) or offsets[-1] > len(glyf):
        raise BadInput("the font's glyph locations (loca) do not fit its glyph table")
    return Outlines(
        glyf=glyf,
        offsets=offsets,
        head=raw["head"],
        hhea=raw["hhea"],
        maxp=raw["maxp"],
        os2=raw["OS/2"] if "OS/2" in font else None,
        post=raw["post"],
        name=names.compile(font),
        hinting={tag: raw[tag.decode()] for tag in _HINTING if tag.decode() in font},
    )


# --- composites ------------------------------------------------------------------------------


def _components(data: bytes) -> list[int]:
    """Byte offsets of the component glyph ids in a composite glyph (none for a simple glyph)."""
    if len(data) < 10 or struct.unpack_from(">h", data)[0] >= 0:
        return []
    found, at = [], 10
    while at + 4 <= len(data):
        flags = struct.unpack_from(">H", data, at)[0]
        found.append(at + 2)
        at += 4 + (4 if flags & _ARG_WORDS else 2)
        at += 8 if flags & _TWO_BY_TWO else 4 if flags & _XY_SCALE else 2 if flags & _HAVE_SCALE else 0
        if not flags & _MORE:
            break
    return found


def _closure(outlines: Outlines, wanted: list[int]) -> list[int]:
    """``wanted`` and every glyph their composites draw, sorted."""
    count = len(outlines.offsets) - 1
    seen: set[int] = set()
    todo = [g for g in wanted if 0 <= g < count]
    while todo:
        gid = todo.pop()
        if gid not in seen:
            seen.add(gid)
            todo.extend(outlines.piece(gid).refs)
    return sorted(seen)


def _renumbered(piece: _Piece, new_of: Mapping[int, int]) -> bytes:
    if not piece.places:
        return piece.data
    out = bytearray(piece.data)
    for at in piece.places:
        struct.pack_into(">H", out, at, new_of.get(struct.unpack_from(">H", piece.data, at)[0], 0))
    return bytes(out)


# --- the font file ---------------------------------------------------------------------------


def _font_file(
    face: Face, outlines: Outlines, old: list[int], new_of: Mapping[int, int], cmap: Mapping[int, int]
) -> bytes:
    count = len(old)
    pieces = [outlines.piece(gid) for gid in old]
    glyphs = [_renumbered(piece, new_of) for piece in pieces]
    glyf = b"".join(glyphs)
    # A renumbered composite changes its bytes, so its checksum is taken again.
    glyf_sum = sum(p.checksum if g is p.data else _checksum(g) for p, g in zip(pieces, glyphs, strict=True))
    glyf_sum &= 0xFFFFFFFF
    head = bytearray(outlines.head)
    struct.pack_into(">I", head, 8, 0)  # checkSumAdjustment, set by _sfnt
    struct.pack_into(">h", head, 50, 1)  # indexToLocFormat: long
    hhea = bytearray(outlines.hhea)
    struct.pack_into(">H", hhea, 34, count)  # numberOfHMetrics
    maxp = bytearray(outlines.maxp)
    struct.pack_into(">H", maxp, 4, count)  # numGlyphs
    post = bytearray(outlines.post[:32])
    struct.pack_into(">I", post, 0, 0x00030000)  # format 3: no glyph names
    hmtx = b"".join(struct.pack(">Hh", face.advances[g], p.lsb) for g, p in zip(old, pieces, strict=True))
    tables = {
        b"cmap": _cmap(cmap),
        b"glyf": glyf,
        b"head": bytes(head),
        b"hhea": bytes(hhea),
        b"hmtx": hmtx,
        b"loca": struct.pack(f">{count + 1}I", 0, *accumulate(map(len, glyphs))),
        b"maxp": bytes(maxp),
        b"name": outlines.name,
        b"post": bytes(post),
        **outlines.hinting,
    }
    if outlines.os2 is not None:
        tables[b"OS/2"] = outlines.os2
    return _sfnt(tables, {b"glyf": glyf_sum})


def _lsb(glyph: bytes) -> int:
    # The left side bearing is the glyph's xMin (TrueType fonts set head flag bit 1 to say so).
    return struct.unpack_from(">h", glyph, 2)[0] if len(glyph) >= 10 else 0


def _cmap(mapping: Mapping[int, int]) -> bytes:
    """A format 12 character map (one group per character: a subset maps few)."""
    groups = b"".join(struct.pack(">III", code, code, gid) for code, gid in sorted(mapping.items()))
    length = 16 + len(groups)
    subtable = struct.pack(">HHIII", 12, 0, length, 0, len(mapping)) + groups
    return struct.pack(">HHHHI", 0, 1, 3, 10, 12) + subtable


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    words: tuple[int, ...] = struct.unpack(f">{len(padded) // 4}I", padded)
    return sum(words) & 0xFFFFFFFF


def _sfnt(tables: dict[bytes, bytes], sums: Mapping[bytes, int]) -> bytes:
    """The font file of ``tables``; ``sums`` holds checksums already known (the glyf table's)."""
    tags = sorted(tables)
    count = len(tags)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(
        ">IHHHH", 0x00010000, count, power * 16, power.bit_length() - 1, count * 16 - power * 16
    )
    checksums = {tag: sums[tag] if tag in sums else _checksum(tables[tag]) for tag in tags}
    directory, offset = [header], 12 + 16 * count
    for tag in tags:
        directory.append(struct.pack(">4sIII", tag, checksums[tag], offset, len(tables[tag])))
        offset += len(tables[tag]) + (-len(tables[tag]) % 4)
    start = b"".join(directory)
    # The whole file's checksum is the directory's plus every (padded) table's: no second pass.
    head = bytearray(tables[b"head"])
    total = _checksum(start) + sum(checksums.values())
    struct.pack_into(">I", head, 8, (0xB1B0AFBA - total) & 0xFFFFFFFF)
    body = (bytes(head) if tag == b"head" else tables[tag] for tag in tags)
    return start + b"".join(data + b"\0" * (-len(data) % 4) for data in body)
