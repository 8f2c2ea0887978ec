"""A one-page PDF written directly: the layout's elements as a content stream, the font subset embedded.

The page is what fpdf2 drew (its operators, coordinates to 0.01 pt; the QR as
one filled path in module units), written in ~1.5–2 ms of CPU a card where fpdf2
took ~280 ms under cProfile, most of it parsing the 2.2 MB font and subsetting
it again for every file (issue 15). The font
is a Type 0 font over a CIDFontType2 (TrueType) with ``Identity-H`` encoding:
character ids are the subset's glyph ids, the ``/W`` array gives their widths
and a ``ToUnicode`` map makes the text extractable and searchable.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence

from healthcred.printing.layout import QUIET, RGB, Box, Element, QRBlock, Text
from healthcred.printing.truetype import Face, Subset

__all__ = ["PT_PER_MM", "write_pdf"]

PT_PER_MM = 72 / 25.4
"""PDF user space units (points) per millimetre."""

_LINE_PT = 0.2 * PT_PER_MM  # outlines are 0.2 mm, as in the layout
_ZLIB_LEVEL = 1  # measured on a card's two streams: 0.5 ms of CPU against level 6's 1.2–1.6, for 1.5 KB more
_OVERLAP_MM = 0.01  # a hair between QR rows: no white seams where a viewer antialiases edges


def _colour(colour: RGB, operator: str) -> str:
    return " ".join(f"{v / 255:.4f}" for v in colour) + f" {operator}"


def _content(elements: Sequence[Element], height: float, subset: Subset) -> bytes:
    k = PT_PER_MM
    ops = [f"2 J {_LINE_PT:.2f} w"]
    for e in elements:
        if isinstance(e, Box):
            rect = f"{e.x * k:.2f} {(height - e.y) * k:.2f} {e.w * k:.2f} {-e.h * k:.2f} re"
            if e.fill is not None:
                ops.append(_colour(e.fill, "rg"))
            if e.stroke is not None:
                ops.append(_colour(e.stroke, "RG"))
            ops.append(f"{rect} {('f' if e.stroke is None else 'B') if e.fill is not None else 'S'}")
        elif isinstance(e, Text):
            glyphs = "".join(f"{subset.glyph_of.get(c, 0):04X}" for c in e.text)
            ops.append(
                f"q {_colour(e.colour, 'rg')} BT /F1 {e.size:.2f} Tf "
                f"{e.x * k:.2f} {(height - e.y) * k:.2f} Td <{glyphs}> Tj ET Q"
            )
        else:
            ops.extend(_qr_ops(e, height))
    return "\n".join(ops).encode()


def _qr_ops(block: QRBlock, height: float) -> list[str]:
    """The whole code as one path in module units (integers print fast), filled once.

    The matrix flips y, so rows go down the page as in the layout. A row's dark runs are the
    pieces left by splitting its bytes on the light modules (0): found in C, no Python per module.
    """
    k = PT_PER_MM
    left, top = (block.x + QUIET * block.module) * k, (height - block.y - QUIET * block.module) * k
    ops = [f"q 0 g {block.module * k:.4f} 0 0 {-block.module * k:.4f} {left:.2f} {top:.2f} cm"]
    tail = f" {1 + _OVERLAP_MM / block.module:.4f} re"
    for y, row in enumerate(block.matrix):
        middle, x = f" {y} ", 0
        for run in row.split(b"\0"):
            if run:
                ops.append(f"{x}{middle}{len(run)}{tail}")
            x += len(run) + 1
    ops.append("f Q")
    return ops


def _to_unicode(subset: Subset) -> bytes:
    first: dict[int, str] = {}
    for char, gid in sorted(subset.glyph_of.items()):
        first.setdefault(gid, char)  # two characters drawn by one glyph: the lower one is extracted
    pairs = sorted(first.items())
    lines = [
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        "1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    for start in range(0, len(pairs), 100):  # at most 100 entries a block, as the CMap format asks
        block = pairs[start : start + 100]
        lines.append(f"{len(block)} beginbfchar")
        lines.extend(f"<{gid:04X}> <{char.encode('utf-16-be').hex().upper()}>" for gid, char in block)
        lines.append("endbfchar")
    lines.append("endcmap CMapName currentdict /CMap defineresource pop end end")
    return "\n".join(lines).encode()


def _stream(entries: str, data: bytes) -> bytes:
    packed = zlib.compress(data, _ZLIB_LEVEL)
    return (
        f"<< {entries} /Filter /FlateDecode /Length {len(packed)} >>\nstream\n".encode()
        + packed
        + b"\nendstream"
    )


def write_pdf(elements: Sequence[Element], size: tuple[float, float], face: Face, subset: Subset) -> bytes:
    """One page of ``size`` mm with ``elements`` drawn in ``subset`` (cut from ``face``); deterministic."""
    width, height = size
    scale = 1000 / face.units_per_em
    # The subset tag names the glyph set, so two different subsets never share a name.
    tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(subset.data).digest()[:6])
    name = f"/{tag}+{face.postscript_name}"
    widths = " ".join(str(round(w * scale)) for w in subset.widths)
    x0, y0, x1, y1 = (round(v * scale) for v in face.bbox)
    stem_v = 50 + int((face.weight / 65) ** 2)  # the usual estimate from the weight class
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 {width * PT_PER_MM:.2f} "
        f"{height * PT_PER_MM:.2f}] >>".encode(),
        b"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        _stream("", _content(elements, height, subset)),
        f"<< /Type /Font /Subtype /Type0 /BaseFont {name} /Encoding /Identity-H "
        "/DescendantFonts [6 0 R] /ToUnicode 9 0 R >>".encode(),
        f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont {name} "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        f"/FontDescriptor 7 0 R /CIDToGIDMap /Identity /W [0 [{widths}]] >>".encode(),
        f"<< /Type /FontDescriptor /FontName {name} /Flags 4 /FontBBox [{x0} {y0} {x1} {y1}] "
        f"/ItalicAngle {face.italic_angle:g} /Ascent {round(face.ascent * scale)} "
        f"/Descent {round(face.descent * scale)} /CapHeight {round(face.cap_height * scale)} "
        f"/StemV {stem_v} /FontFile2 8 0 R >>".encode(),
        _stream(f"/Length1 {len(subset.data)}", subset.data),
        _stream("", _to_unicode(subset)),
        b"<< /Creator (healthcred) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
