"""Printable codes: a single-person card and a family sheet of up to 8 codes, as PDF, SVG or PNG.

Each code is printed with its QR (error correction Q, 4-module quiet zone), the
masked name, the status at issue in Chinese and English, the validity in
China Standard Time (UTC+8), the issuing region in words (GB/T 2260 names
from ``data/regions.tsv``) and, for a paper code, the reminder that the holder
is checked against an ID document.

One layout function places every element in millimetres; three small
backends draw the same list of elements with fpdf2 (PDF), Pillow (PNG) or as
SVG text, so the formats agree. Text is set in the bundled font (a subset of
Noto Sans CJK SC, see ``fonts/README.md``) or a font passed as ``font=``;
every character to be drawn is checked against the font's character map
first, and one the font lacks raises :class:`~healthcred.errors.MissingGlyph`
rather than printing a box.

Sizes: a card is A6 (105 × 148 mm) with QR modules of 0.9 mm, a family sheet
is A4 (210 × 297 mm) in 2 × 4 cells of 105 × 74.25 mm with modules of
0.75 mm (both for a native code of version 12 or below; larger versions get
smaller modules so the code fits, see :func:`module_size_mm`).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw, ImageFont

from healthcred.codec.qr import Encoder, dark_runs, qr_matrix
from healthcred.errors import BadInput, MissingGlyph
from healthcred.model import CredentialKind, HealthCode, Status
from healthcred.regions import region_words

__all__ = [
    "CARD_SIZE_MM",
    "CHINA_TIME",
    "DEFAULT_FONT",
    "MAX_FAMILY",
    "SHEET_SIZE_MM",
    "Format",
    "check_glyphs",
    "module_size_mm",
    "region_words",
    "render_card",
    "render_family_sheet",
    "render_pdfs",
    "status_words",
]

Format = Literal["pdf", "svg", "png"]
"""Output format of the render functions."""

CARD_SIZE_MM = (105.0, 148.0)
"""A card's page: A6 portrait."""
SHEET_SIZE_MM = (210.0, 297.0)
"""A family sheet's page: A4 portrait, 2 columns × 4 rows of cells."""
MAX_FAMILY = 8
"""Most codes on one family sheet."""
CHINA_TIME = timezone(timedelta(hours=8), "UTC+8")
"""The time zone validity is printed in (China Standard Time)."""
DEFAULT_FONT: Path = Path(str(resources.files("healthcred") / "fonts" / "HealthcredSansSC-Regular.ttf"))
"""The bundled font: Noto Sans CJK SC Regular, subset to ASCII + GB 2312 + common name characters."""

_FORMATS: tuple[Format, ...] = ("pdf", "svg", "png")
_QUIET = 4  # modules of quiet zone, as the QR standard asks
_CARD_MODULE_MM = 0.9
_SHEET_MODULE_MM = 0.75
_PT_MM = 25.4 / 72  # one typographic point in millimetres
_ASCENT = 1.16  # the bundled font's ascent per em, for placing text tops (baseline = top + ascent)
_ID_CHECK = ("请持本人身份证件核验", "ID document check required")

_STATUS_WORDS = {1: "绿码", 2: "黄码", 3: "红码"}
_STATUS_COLOURS = {1: (0x1B, 0x8A, 0x3A), 2: (0xC9, 0x8F, 0x00), 3: (0xC6, 0x28, 0x28)}
_OTHER_COLOUR = (0x55, 0x55, 0x55)
_KIND_WORDS = {
    CredentialKind.HEALTH_STATUS: ("健康码", "Health code"),
    CredentialKind.NATIONAL: ("防疫信息码", "National code"),
    CredentialKind.PAPER: ("纸质健康码", "Paper health code"),
}
_BLACK = (0, 0, 0)
_GREY = (0x77, 0x77, 0x77)
_CUT = (0xBB, 0xBB, 0xBB)

RGB = tuple[int, int, int]
Matrix = tuple[tuple[bool, ...], ...]


# --- the words printed --------------------------------------------------------------------


def status_words(status: Status) -> tuple[str, str]:
    """A colour in words, Chinese and English: 绿码 green, 黄码 yellow, 红码 red; else ``status-N``."""
    chinese = _STATUS_WORDS.get(status.code)
    if chinese is None:
        return f"status-{status.code}", status.name
    return chinese, status.name


def _validity(credential: HealthCode) -> str:
    start = credential.issued_at.astimezone(CHINA_TIME)
    end = credential.expires_at.astimezone(CHINA_TIME)
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


# --- fonts ----------------------------------------------------------------------------------


@cache
def _font_chars(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(str(path), lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except (OSError, TTLibError, AssertionError) as exc:
        raise BadInput(f"cannot read the font {path}: {exc}") from exc
    return frozenset(cmap)


@cache
def _measure_font(path: Path) -> ImageFont.FreeTypeFont:
    # 1,000 px per em: widths come out in thousandths of an em. BASIC layout = plain advance
    # widths, as fpdf2 and an SVG renderer place unshaped text.
    return ImageFont.truetype(str(path), 1000, layout_engine=ImageFont.Layout.BASIC)


def _font_path(font: str | Path | None) -> Path:
    if font is None:
        return DEFAULT_FONT
    if not isinstance(font, str | Path):
        raise BadInput(f"font must be a path to a TrueType/OpenType file, not {type(font).__name__}")
    path = Path(font)
    if not path.is_file():
        raise BadInput(f"font file {path} does not exist")
    return path


def check_glyphs(text: str, font: str | Path | None = None) -> None:
    """Raise :class:`MissingGlyph` unless ``font`` (default: the bundled one) draws every character."""
    path = _font_path(font)
    chars = _font_chars(path)
    missing = sorted({c for c in text if ord(c) not in chars and not c.isspace()})
    if missing:
        listed = " ".join(f"{c} (U+{ord(c):04X})" for c in missing)
        raise MissingGlyph(
            f"the font {path.name} has no glyph for {listed}; print with font= a fuller CJK font"
        )


def _width_mm(text: str, size_pt: float, font: Path) -> float:
    return _measure_font(font).getlength(text) / 1000 * size_pt * _PT_MM


# --- layout ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Text:
    x: float  # left, mm
    y: float  # baseline, mm
    size: float  # pt
    text: str
    colour: RGB


@dataclass(frozen=True, slots=True)
class _Box:
    x: float
    y: float
    w: float
    h: float
    fill: RGB | None
    stroke: RGB | None = None


@dataclass(frozen=True, slots=True)
class _QR:
    x: float  # top left of the quiet zone, mm
    y: float
    module: float  # mm
    matrix: Matrix


_Element = _Text | _Box | _QR


def module_size_mm(modules: int, *, sheet: bool = False) -> float:
    """The printed size of one QR module for a code of ``modules`` per side (version 12: 65).

    0.9 mm on a card and 0.75 mm on a family sheet, smaller only when a large
    code would not fit its space (75 mm on a card, 58 mm on a sheet, quiet
    zone included); rounded down to 0.05 mm. Phone cameras and gate scanners
    read 0.5 mm modules at arm's length; the margin is for worn paper.
    """
    preferred, room = (_SHEET_MODULE_MM, 58.0) if sheet else (_CARD_MODULE_MM, 75.0)
    fitted = room / (modules + 2 * _QUIET)
    return min(preferred, int(fitted * 20) / 20)


def _line(
    out: list[_Element],
    x: float,
    top: float,
    text: str,
    size: float,
    width: float,
    font: Path,
    colour: RGB = _BLACK,
) -> float:
    """Place one line of text at ``top`` (shrunk to fit ``width``); return the next line's top."""
    fitted = size
    while fitted > 5 and _width_mm(text, fitted, font) > width:
        fitted -= 0.5
    out.append(_Text(x, top + fitted * _PT_MM * _ASCENT, fitted, text, colour))
    return top + fitted * _PT_MM * 1.45


def _labels(
    out: list[_Element], credential: HealthCode, x: float, top: float, width: float, font: Path, scale: float
) -> float:
    """The words of one code, from ``top`` down; ``scale`` sizes them (1 on a card)."""
    zh_status, en_status = status_words(credential.status)
    colour = _STATUS_COLOURS.get(credential.status.code, _OTHER_COLOUR)
    region_zh, region_en = region_words(credential.region)
    y = _line(out, x, top, credential.subject.masked_name, 20 * scale, width, font)
    y = _line(out, x, y + 0.5, "签发时状态 Status at issue", 7.5 * scale, width, font, _GREY)
    y = _line(out, x, y, f"{zh_status}  {en_status}", 15 * scale, width, font, colour)
    y = _line(out, x, y + 0.5, "有效期 Valid (UTC+8 北京时间)", 7.5 * scale, width, font, _GREY)
    y = _line(out, x, y, _validity(credential), 10 * scale, width, font)
    y = _line(out, x, y + 0.5, "签发地区 Issued by", 7.5 * scale, width, font, _GREY)
    y = _line(out, x, y, region_zh, 11 * scale, width, font)
    y = _line(out, x, y, region_en, 9 * scale, width, font)
    if credential.kind is CredentialKind.PAPER:
        y = _line(out, x, y + 1, _ID_CHECK[0], 10 * scale, width, font)
        y = _line(out, x, y, _ID_CHECK[1], 8.5 * scale, width, font)
    return y


def _card(text: str, credential: HealthCode, font: Path, encoder: Encoder) -> list[_Element]:
    width, _ = CARD_SIZE_MM
    out: list[_Element] = []
    colour = _STATUS_COLOURS.get(credential.status.code, _OTHER_COLOUR)
    kind_zh, kind_en = _KIND_WORDS.get(credential.kind, ("健康码", "Health code"))
    out.append(_Box(0, 0, width, 11, colour))
    _line(out, 8, 2.2, f"{kind_zh}  {kind_en}", 13, width - 16, font, (255, 255, 255))
    matrix = qr_matrix(text, error="Q", encoder=encoder)
    module = module_size_mm(len(matrix))
    side = (len(matrix) + 2 * _QUIET) * module
    out.append(_QR((width - side) / 2, 13, module, matrix))
    _labels(out, credential, 10, 13 + side + 1, width - 20, font, 1.0)
    return out


def _sheet(items: Sequence[tuple[str, HealthCode]], font: Path, encoder: Encoder) -> list[_Element]:
    page_w, page_h = SHEET_SIZE_MM
    cell_w, cell_h = page_w / 2, page_h / 4
    out: list[_Element] = []
    for index, (text, credential) in enumerate(items):
        left, top = (index % 2) * cell_w, (index // 2) * cell_h
        out.append(_Box(left, top, cell_w, cell_h, None, _CUT))  # cut lines
        colour = _STATUS_COLOURS.get(credential.status.code, _OTHER_COLOUR)
        out.append(_Box(left, top, 2.5, cell_h, colour))  # a colour edge, readable in black and white too
        matrix = qr_matrix(text, error="Q", encoder=encoder)
        module = module_size_mm(len(matrix), sheet=True)
        side = (len(matrix) + 2 * _QUIET) * module
        out.append(_QR(left + 3, top + (cell_h - side) / 2, module, matrix))
        text_left = left + 3 + side + 1
        kind_zh, kind_en = _KIND_WORDS.get(credential.kind, ("健康码", "Health code"))
        column = cell_w - (text_left - left) - 4
        y = _line(out, text_left, top + 5, f"{kind_zh} {kind_en}", 7, column, font, _GREY)
        _labels(out, credential, text_left, y, column, font, 0.62)
    return out


def _check_layout(elements: list[_Element], font: Path) -> None:
    check_glyphs("".join(e.text for e in elements if isinstance(e, _Text)), font)


# --- backends ---------------------------------------------------------------------------------


def _to_pdf(elements: list[_Element], size: tuple[float, float], font: Path) -> bytes:
    from fpdf import FPDF  # imported here: fpdf2 takes ~0.3 s to import, only printing needs it

    pdf = FPDF(unit="mm", format=size)
    pdf.set_margins(0, 0, 0)
    pdf.set_auto_page_break(False)
    pdf.set_creator("healthcred")
    pdf.add_page()
    pdf.add_font("hc", fname=str(font))
    for e in elements:
        if isinstance(e, _Box):
            if e.fill is not None:
                pdf.set_fill_color(*e.fill)
            if e.stroke is not None:
                pdf.set_draw_color(*e.stroke)
                pdf.set_line_width(0.2)
            style = ("F" if e.stroke is None else "DF") if e.fill is not None else "D"
            pdf.rect(e.x, e.y, e.w, e.h, style=style)
        elif isinstance(e, _Text):
            pdf.set_font("hc", size=e.size)
            pdf.set_text_color(*e.colour)
            pdf.text(e.x, e.y, e.text)
        else:
            pdf.set_fill_color(0, 0, 0)
            origin_x, origin_y = e.x + _QUIET * e.module, e.y + _QUIET * e.module
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


def _to_png(elements: list[_Element], size: tuple[float, float], font: Path, dpi: int) -> bytes:
    per_mm = dpi / 25.4
    canvas = Image.new("RGB", (round(size[0] * per_mm), round(size[1] * per_mm)), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for e in elements:
        if isinstance(e, _Box):
            box = (
                round(e.x * per_mm),
                round(e.y * per_mm),
                round((e.x + e.w) * per_mm) - 1,
                round((e.y + e.h) * per_mm) - 1,
            )
            draw.rectangle(box, fill=e.fill, outline=e.stroke, width=max(1, round(0.2 * per_mm)))
        elif isinstance(e, _Text):
            face = ImageFont.truetype(
                str(font), round(e.size / 72 * dpi), layout_engine=ImageFont.Layout.BASIC
            )
            draw.text((e.x * per_mm, e.y * per_mm), e.text, font=face, fill=e.colour, anchor="ls")
        else:
            # Whole pixels per module, so every module has the same size and the code scans cleanly.
            pixels = max(1, round(e.module * per_mm))
            count = len(e.matrix) + 2 * _QUIET
            modules = Image.new("L", (count, count), 255)
            modules.putdata([0 if dark else 255 for row in _framed(e.matrix) for dark in row])
            canvas.paste(
                modules.resize((count * pixels, count * pixels), Image.Resampling.NEAREST),
                (round(e.x * per_mm), round(e.y * per_mm)),
            )
    out = io.BytesIO()
    canvas.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def _framed(matrix: Matrix) -> list[tuple[bool, ...]]:
    blank = (False,) * (len(matrix) + 2 * _QUIET)
    edge = (False,) * _QUIET
    return [blank] * _QUIET + [edge + row + edge for row in matrix] + [blank] * _QUIET


def _hex(colour: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def _subset(font: Path, chars: set[int]) -> bytes:
    """``font`` cut down to ``chars`` (and .notdef), its copyright and licence records kept."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = []
    options.name_IDs = [0, 1, 2, 13, 14]  # the copyright and the OFL notice travel with every subset
    options.notdef_outline = True
    with TTFont(str(font)) as face:
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=chars)
        subsetter.subset(face)
        data = io.BytesIO()
        face.save(data)
    return data.getvalue()


def _font_face(elements: list[_Element], font: Path) -> str:
    """An @font-face rule with the font subset to the characters drawn: every viewer shows the same glyphs."""
    data = _subset(font, {ord(c) for e in elements if isinstance(e, _Text) for c in e.text})
    mime = "font/otf" if data[:4] == b"OTTO" else "font/ttf"
    return (
        f'@font-face{{font-family:"hcprint";src:url(data:{mime};base64,{base64.b64encode(data).decode()})}}'
    )


def _to_svg(elements: list[_Element], size: tuple[float, float], font: Path) -> bytes:
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
        if isinstance(e, _Box):
            fill = _hex(e.fill) if e.fill is not None else "none"
            stroke = f' stroke="{_hex(e.stroke)}" stroke-width="0.2"' if e.stroke is not None else ""
            parts.append(
                f'<rect x="{e.x:.3f}" y="{e.y:.3f}" width="{e.w:.3f}" height="{e.h:.3f}" '
                f'fill="{fill}"{stroke}/>'
            )
        elif isinstance(e, _Text):
            parts.append(
                f'<text x="{e.x:.3f}" y="{e.y:.3f}" font-size="{e.size * _PT_MM:.3f}" '
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
            origin_x, origin_y = e.x + _QUIET * e.module, e.y + _QUIET * e.module
            parts.append(
                f"<path transform={quoteattr(f'translate({origin_x:.3f} {origin_y:.3f}) scale({e.module})')}"
                f' fill="#000" d="{runs}"/>'
            )
    parts.append("</svg>\n")
    return "".join(parts).encode()


def _render(elements: list[_Element], size: tuple[float, float], fmt: object, font: Path, dpi: int) -> bytes:
    _check_layout(elements, font)
    if fmt == "pdf":
        return _to_pdf(elements, size, font)
    if fmt == "png":
        return _to_png(elements, size, font, dpi)
    return _to_svg(elements, size, font)


def _check_args(fmt: object, dpi: object) -> None:
    # The encoder is checked by qr_matrix, which every layout calls.
    if fmt not in _FORMATS:
        raise BadInput(f"fmt must be 'pdf', 'svg' or 'png', not {fmt!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 72 <= dpi <= 1200:
        raise BadInput(f"dpi must be an integer from 72 to 1200, not {dpi!r}")


def _check_item(text: object, credential: object) -> tuple[str, HealthCode]:
    if not isinstance(text, str) or not text:
        raise BadInput("a printed code needs its issued text (healthcred.issue's result)")
    if not isinstance(credential, HealthCode):
        raise BadInput(
            f"a printed code needs the HealthCode it was issued from, not {type(credential).__name__}"
        )
    return text, credential


def _check_items(items: object) -> list[tuple[str, HealthCode]]:
    """A sheet's 1 to :data:`MAX_FAMILY` ``(text, credential)`` pairs, checked."""
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise BadInput("items must be a sequence of (text, credential) pairs")
    if not 1 <= len(items) <= MAX_FAMILY:
        raise BadInput(f"a sheet holds 1 to {MAX_FAMILY} codes, not {len(items)}")
    checked = []
    for item in items:
        if not isinstance(item, tuple) or len(item) != 2:
            raise BadInput("each item is a (text, credential) pair")
        checked.append(_check_item(*item))
    return checked


def render_card(
    text: str,
    credential: HealthCode,
    *,
    fmt: Format = "pdf",
    font: str | Path | None = None,
    dpi: int = 300,
    encoder: Encoder = "segno",
) -> bytes:
    """One person's printable card (A6): the QR of ``text`` and ``credential``'s details in words.

    ``text`` is the code as issued from ``credential`` (``healthcred.issue``).
    ``fmt`` is ``"pdf"``, ``"svg"`` (text as text, the font subset embedded,
    the QR as one path) or ``"png"`` (at ``dpi``). ``font`` replaces the
    bundled font. ``encoder`` chooses the QR encoder (see
    :func:`healthcred.codec.qr.render_qr`). Raises :class:`MissingGlyph` when
    the font lacks a character to be printed and :class:`BadInput` for a bad
    argument.
    """
    _check_args(fmt, dpi)
    text, credential = _check_item(text, credential)
    path = _font_path(font)
    return _render(_card(text, credential, path, encoder), CARD_SIZE_MM, fmt, path, dpi)


def render_family_sheet(
    items: Sequence[tuple[str, HealthCode]],
    *,
    fmt: Format = "pdf",
    font: str | Path | None = None,
    dpi: int = 300,
    encoder: Encoder = "segno",
) -> bytes:
    """A family's printable sheet (A4): up to :data:`MAX_FAMILY` codes, each a ``(text, credential)`` pair.

    Cells are filled left to right, top to bottom, with cut lines between
    them. More than 8 codes, or none, raise :class:`BadInput`; the other
    arguments are as for :func:`render_card`.
    """
    _check_args(fmt, dpi)
    checked = _check_items(items)
    path = _font_path(font)
    return _render(_sheet(checked, path, encoder), SHEET_SIZE_MM, fmt, path, dpi)


def render_pdfs(
    sheets: Sequence[Sequence[tuple[str, HealthCode]]],
    *,
    font: str | Path | None = None,
    encoder: Encoder = "segno",
) -> list[bytes]:
    """Many PDFs at once: a card for each one-item sheet, a family sheet for each of 2–8 items.

    The same pages as :func:`render_card` and :func:`render_family_sheet`, but
    the font is cut down once to the characters of all of them and that small
    font is embedded instead: fpdf2 parses and subsets its font for every
    document, which for the 7,800-glyph CJK font costs ~100 ms a file, against
    a few ms for the small one. For batches (:mod:`healthcred.batch.run`).
    """
    import tempfile

    path = _font_path(font)
    pages: list[tuple[list[_Element], tuple[float, float]]] = []
    for sheet in sheets:
        items = _check_items(sheet)
        if len(items) == 1:
            pages.append((_card(*items[0], path, encoder), CARD_SIZE_MM))
        else:
            pages.append((_sheet(items, path, encoder), SHEET_SIZE_MM))
    if not pages:
        return []
    for elements, _ in pages:
        _check_layout(elements, path)
    used = {ord(c) for elements, _ in pages for e in elements if isinstance(e, _Text) for c in e.text}
    with tempfile.TemporaryDirectory(prefix="healthcred-font-") as folder:
        small = Path(folder) / f"subset{path.suffix or '.otf'}"
        small.write_bytes(_subset(path, used))
        return [_to_pdf(elements, size, small) for elements, size in pages]
