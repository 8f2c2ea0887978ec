"""The three back ends: the same list of layout elements drawn as PDF, PNG (Pillow) or SVG.

Drawing one element list three ways keeps the formats in agreement. The SVG
keeps text as text with the font subset embedded and the QR as one path; the
PNG uses whole pixels per module so every module has the same size.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw, ImageFont

from healthcred.codec.qr import dark_runs
from healthcred.printing.fonts import PT_MM, Face, subset_font
from healthcred.printing.layout import (
    QUIET,
    RGB,
    Box,
    Element,
    Matrix,
    Text,
    check_layout,
    drawn_chars,
)
from healthcred.printing.pdf import write_pdf

__all__ = ["render", "to_pdf", "to_png", "to_svg"]


def to_pdf(elements: list[Element], size: tuple[float, float], font: Face) -> bytes:
    """One PDF page of ``size`` mm with the elements drawn and ``font`` cut down to them embedded.

    A font without TrueType outlines (CFF) is drawn by fpdf2, which subsets it itself.
    """
    if font.outlines is None:
        return _fpdf_pdf(elements, size, font.path)
    return write_pdf(elements, size, font, font.subset(drawn_chars(elements)))


def _fpdf_pdf(elements: list[Element], size: tuple[float, float], font: Path) -> bytes:
    """The page through fpdf2: for CFF fonts, which :mod:`healthcred.printing.truetype` does not cut."""
    from fpdf import FPDF  # imported here: fpdf2 takes ~0.3 s to import, only CFF fonts need it

    pdf = FPDF(unit="mm", format=size)
    pdf.set_margins(0, 0, 0)
    pdf.set_auto_page_break(False)
    pdf.set_creator("healthcred")
    pdf.add_page()
    pdf.add_font("hc", fname=str(font))
    for e in elements:
        if isinstance(e, Box):
            if e.fill is not None:
                pdf.set_fill_color(*e.fill)
            if e.stroke is not None:
                pdf.set_draw_color(*e.stroke)
                pdf.set_line_width(0.2)
            style = ("F" if e.stroke is None else "DF") if e.fill is not None else "D"
            pdf.rect(e.x, e.y, e.w, e.h, style=style)
        elif isinstance(e, Text):
            pdf.set_font("hc", size=e.size)
            pdf.set_text_color(*e.colour)
            pdf.text(e.x, e.y, e.text)
        else:
            pdf.set_fill_color(0, 0, 0)
            origin_x, origin_y = e.x + QUIET * e.module, e.y + QUIET * e.module
            for y, row in enumerate(e.matrix):
                for start, length in dark_runs(row):
                    # A hair of overlap between rows: no white seams where a viewer antialiases edges.
                    pdf.rect(
                        origin_x + start * e.module,
                        origin_y + y * e.module,
                        length * e.module,
                        e.module + 0.01,
                        style="F",
                    )
    return bytes(pdf.output())


def to_png(elements: list[Element], size: tuple[float, float], font: Face, dpi: int) -> bytes:
    """A PNG of the page at ``dpi``, white background, the QR in whole pixels per module."""
    per_mm = dpi / 25.4
    canvas = Image.new("RGB", (round(size[0] * per_mm), round(size[1] * per_mm)), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for e in elements:
        if isinstance(e, Box):
            box = (
                round(e.x * per_mm),
                round(e.y * per_mm),
                round((e.x + e.w) * per_mm) - 1,
                round((e.y + e.h) * per_mm) - 1,
            )
            draw.rectangle(box, fill=e.fill, outline=e.stroke, width=max(1, round(0.2 * per_mm)))
        elif isinstance(e, Text):
            face = ImageFont.truetype(
                str(font.path), round(e.size / 72 * dpi), layout_engine=ImageFont.Layout.BASIC
            )
            draw.text((e.x * per_mm, e.y * per_mm), e.text, font=face, fill=e.colour, anchor="ls")
        else:
            # Whole pixels per module, so every module has the same size and the code scans cleanly.
            pixels = max(1, round(e.module * per_mm))
            count = len(e.matrix) + 2 * QUIET
            modules = Image.frombytes("L", (count, count), b"".join(_framed(e.matrix)).translate(_GREY))
            canvas.paste(
                modules.resize((count * pixels, count * pixels), Image.Resampling.NEAREST),
                (round(e.x * per_mm), round(e.y * per_mm)),
            )
    out = io.BytesIO()
    canvas.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


_GREY = bytes([255, 0]) + bytes(254)  # a module's byte (1 dark, 0 light) as a grey level


def _framed(matrix: Matrix) -> list[bytes]:
    """The rows with the quiet zone around them."""
    blank = bytes(len(matrix) + 2 * QUIET)
    edge = bytes(QUIET)
    return [blank] * QUIET + [edge + row + edge for row in matrix] + [blank] * QUIET


def _hex(colour: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def _font_face(elements: list[Element], font: Face) -> str:
    """An @font-face rule with the font subset to the characters drawn: every viewer shows the same glyphs."""
    data = subset_font(font.path, {ord(c) for c in drawn_chars(elements)})
    mime = "font/otf" if data[:4] == b"OTTO" else "font/ttf"
    return (
        f'@font-face{{font-family:"hcprint";src:url(data:{mime};base64,{base64.b64encode(data).decode()})}}'
    )


def to_svg(elements: list[Element], size: tuple[float, float], font: Face) -> bytes:
    """An SVG of the page in mm: text as text (the font subset embedded), the QR as one path."""
    width, height = size
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}">',
        f"<style>{_font_face(elements, font)}"
        'text{font-family:"hcprint","Noto Sans CJK SC","Source Han Sans SC",sans-serif}</style>',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
    ]
    for e in elements:
        if isinstance(e, Box):
            fill = _hex(e.fill) if e.fill is not None else "none"
            stroke = f' stroke="{_hex(e.stroke)}" stroke-width="0.2"' if e.stroke is not None else ""
            parts.append(
                f'<rect x="{e.x:.3f}" y="{e.y:.3f}" width="{e.w:.3f}" height="{e.h:.3f}" '
                f'fill="{fill}"{stroke}/>'
            )
        elif isinstance(e, Text):
            parts.append(
                f'<text x="{e.x:.3f}" y="{e.y:.3f}" font-size="{e.size * PT_MM:.3f}" '
                f'fill="{_hex(e.colour)}">{escape(e.text)}</text>'
            )
        else:
            # One path in module units: a closed rectangle per run of dark modules (fill, not stroke,
            # so no renderer widens or rounds the edges).
            runs = "".join(
                f"M{start} {y}h{length}v1h-{length}z"
                for y, row in enumerate(e.matrix)
                for start, length in dark_runs(row)
            )
            origin_x, origin_y = e.x + QUIET * e.module, e.y + QUIET * e.module
            parts.append(
                f"<path transform={quoteattr(f'translate({origin_x:.3f} {origin_y:.3f}) scale({e.module})')}"
                f' fill="#000" d="{runs}"/>'
            )
    parts.append("</svg>\n")
    return "".join(parts).encode()


def render(elements: list[Element], size: tuple[float, float], fmt: object, font: Face, dpi: int) -> bytes:
    """The page in ``fmt`` (``"pdf"``, ``"png"`` or ``"svg"``), once ``font`` is known to draw all of it."""
    check_layout(elements, font)
    if fmt == "pdf":
        return to_pdf(elements, size, font)
    if fmt == "png":
        return to_png(elements, size, font, dpi)
    return to_svg(elements, size, font)
