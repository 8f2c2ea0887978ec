"""Where everything on a card or a family sheet goes, and the words printed there.

Each code is printed with its QR (error correction Q, 4-module quiet zone), the
masked name, the status at issue in Chinese and English, the validity in China
Standard Time (UTC+8), the issuing region in words (GB/T 2260 names from
:mod:`healthcred.regions`) and, for a paper code, the reminder that the holder
is checked against an ID document.

One layout function per page kind places every element in millimetres; the
backends in :mod:`healthcred.printing.render` draw the same list of elements,
so the formats agree.

Sizes: a card is A6 (105 × 148 mm) with QR modules of 0.9 mm, a family sheet is
A4 (210 × 297 mm) in 2 × 4 cells of 105 × 74.25 mm with modules of 0.75 mm
(both for a native code of version 12 or below; larger versions get smaller
modules so the code fits, see :func:`module_size_mm`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta, timezone

from healthcred.codec.qr import Encoder, qr_rows
from healthcred.model import CredentialKind, HealthCode, Status
from healthcred.printing.fonts import ASCENT, PT_MM, Face, check_glyphs, width_mm
from healthcred.regions import region_words

__all__ = [
    "CARD_SIZE_MM",
    "CHINA_TIME",
    "MAX_FAMILY",
    "QUIET",
    "RGB",
    "SHEET_SIZE_MM",
    "Box",
    "Element",
    "Matrix",
    "QRBlock",
    "Text",
    "card_layout",
    "check_layout",
    "drawn_chars",
    "module_size_mm",
    "sheet_layout",
    "status_words",
]

CARD_SIZE_MM = (105.0, 148.0)
"""A card's page: A6 portrait."""
SHEET_SIZE_MM = (210.0, 297.0)
"""A family sheet's page: A4 portrait, 2 columns × 4 rows of cells."""
MAX_FAMILY = 8
"""Most codes on one family sheet."""
CHINA_TIME = timezone(timedelta(hours=8), "UTC+8")
"""The time zone validity is printed in (China Standard Time)."""
QUIET = 4
"""Modules of quiet zone around a QR, as the QR standard asks."""

_CARD_MODULE_MM = 0.9
_SHEET_MODULE_MM = 0.75
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
"""A colour: red, green, blue from 0 to 255."""
Matrix = tuple[bytes, ...]
"""A QR's modules, one ``bytes`` a row, 1 for dark and 0 for light (quiet zone not included)."""


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


# --- elements -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """A line of text: left edge and baseline in mm, size in pt."""

    x: float
    y: float
    size: float
    text: str
    colour: RGB


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in mm, filled, outlined (0.2 mm) or both."""

    x: float
    y: float
    w: float
    h: float
    fill: RGB | None
    stroke: RGB | None = None


@dataclass(frozen=True, slots=True)
class QRBlock:
    """A QR code: the top left of its quiet zone and its module size, in mm."""

    x: float
    y: float
    module: float
    matrix: Matrix


Element = Text | Box | QRBlock
"""One thing drawn on a page."""


def drawn_chars(elements: Sequence[Element]) -> str:
    """Every character the elements draw, in order (for glyph checks and font subsets)."""
    return "".join(e.text for e in elements if isinstance(e, Text))


def check_layout(elements: Sequence[Element], font: Face) -> None:
    """Raise :class:`~healthcred.errors.MissingGlyph` unless ``font`` draws every character placed."""
    check_glyphs(drawn_chars(elements), font)


# --- layout ---------------------------------------------------------------------------------


def module_size_mm(modules: int, *, sheet: bool = False) -> float:
    """The printed size of one QR module for a code of ``modules`` per side (version 12: 65).

    0.9 mm on a card and 0.75 mm on a family sheet, smaller only when a large
    code would not fit its space (75 mm on a card, 58 mm on a sheet, quiet
    zone included); rounded down to 0.05 mm. Phone cameras and gate scanners
    read 0.5 mm modules at arm's length; the margin is for worn paper.
    """
    preferred, room = (_SHEET_MODULE_MM, 58.0) if sheet else (_CARD_MODULE_MM, 75.0)
    fitted = room / (modules + 2 * QUIET)
    return min(preferred, int(fitted * 20) / 20)


def _line(
    out: list[Element],
    x: float,
    top: float,
    text: str,
    size: float,
    width: float,
    font: Face,
    colour: RGB = _BLACK,
) -> float:
    """Place one line of text at ``top`` (shrunk to fit ``width``); return the next line's top."""
    fitted = size
    while fitted > 5 and width_mm(text, fitted, font) > width:
        fitted -= 0.5
    out.append(Text(x, top + fitted * PT_MM * ASCENT, fitted, text, colour))
    return top + fitted * PT_MM * 1.45


def _labels(
    out: list[Element], credential: HealthCode, x: float, top: float, width: float, font: Face, scale: float
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


def card_layout(text: str, credential: HealthCode, font: Face, encoder: Encoder) -> list[Element]:
    """The elements of one person's A6 card: a colour band with the kind, the QR, the words."""
    width, _ = CARD_SIZE_MM
    out: list[Element] = []
    colour = _STATUS_COLOURS.get(credential.status.code, _OTHER_COLOUR)
    kind_zh, kind_en = _KIND_WORDS.get(credential.kind, ("健康码", "Health code"))
    out.append(Box(0, 0, width, 11, colour))
    _line(out, 8, 2.2, f"{kind_zh}  {kind_en}", 13, width - 16, font, (255, 255, 255))
    matrix = qr_rows(text, error="Q", encoder=encoder)
    module = module_size_mm(len(matrix))
    side = (len(matrix) + 2 * QUIET) * module
    out.append(QRBlock((width - side) / 2, 13, module, matrix))
    _labels(out, credential, 10, 13 + side + 1, width - 20, font, 1.0)
    return out


def sheet_layout(items: Sequence[tuple[str, HealthCode]], font: Face, encoder: Encoder) -> list[Element]:
    """The elements of an A4 family sheet: one cell per ``(text, credential)``, with cut lines."""
    page_w, page_h = SHEET_SIZE_MM
    cell_w, cell_h = page_w / 2, page_h / 4
    out: list[Element] = []
    for index, (text, credential) in enumerate(items):
        left, top = (index % 2) * cell_w, (index // 2) * cell_h
        out.append(Box(left, top, cell_w, cell_h, None, _CUT))  # cut lines
        colour = _STATUS_COLOURS.get(credential.status.code, _OTHER_COLOUR)
        out.append(Box(left, top, 2.5, cell_h, colour))  # a colour edge, readable in black and white too
        matrix = qr_rows(text, error="Q", encoder=encoder)
        module = module_size_mm(len(matrix), sheet=True)
        side = (len(matrix) + 2 * QUIET) * module
        out.append(QRBlock(left + 3, top + (cell_h - side) / 2, module, matrix))
        text_left = left + 3 + side + 1
        kind_zh, kind_en = _KIND_WORDS.get(credential.kind, ("健康码", "Health code"))
        column = cell_w - (text_left - left) - 4
        y = _line(out, text_left, top + 5, f"{kind_zh} {kind_en}", 7, column, font, _GREY)
        _labels(out, credential, text_left, y, column, font, 0.62)
    return out
