"""Printable codes: a single-person card and a family sheet of up to 8 codes, as PDF, SVG or PNG.

The public entry points and their argument checks. Where the elements go and
the words printed are in :mod:`healthcred.printing.layout`, the font in
:mod:`healthcred.printing.fonts`, and the PDF, PNG and SVG back ends (which
draw the same elements, so the formats agree) in :mod:`healthcred.printing.render`.
A character the font lacks raises :class:`~healthcred.errors.MissingGlyph`
rather than printing a box.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from healthcred.codec.qr import Encoder
from healthcred.errors import BadInput
from healthcred.model import HealthCode
from healthcred.printing.fonts import DEFAULT_FONT, Face, check_glyphs, load_font
from healthcred.printing.layout import (
    CARD_SIZE_MM,
    CHINA_TIME,
    MAX_FAMILY,
    SHEET_SIZE_MM,
    Element,
    card_layout,
    check_layout,
    module_size_mm,
    sheet_layout,
    status_words,
)
from healthcred.printing.render import render, to_pdf
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

_FORMATS: tuple[Format, ...] = ("pdf", "svg", "png")


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
    font: str | Path | Face | None = None,
    dpi: int = 300,
    encoder: Encoder = "segno",
) -> bytes:
    """One person's printable card (A6): the QR of ``text`` and ``credential``'s details in words.

    ``text`` is the code as issued from ``credential`` (``healthcred.issue``).
    ``fmt`` is ``"pdf"``, ``"svg"`` (text as text, the font subset embedded,
    the QR as one path) or ``"png"`` (at ``dpi``). ``font`` replaces the
    bundled font: a file (read once per process) or a :class:`Face` from
    :func:`~healthcred.printing.fonts.load_font`. ``encoder`` chooses the QR encoder (see
    :func:`healthcred.codec.qr.render_qr`). Raises :class:`MissingGlyph` when
    the font lacks a character to be printed and :class:`BadInput` for a bad
    argument.
    """
    _check_args(fmt, dpi)
    text, credential = _check_item(text, credential)
    face = load_font(font)
    return render(card_layout(text, credential, face, encoder), CARD_SIZE_MM, fmt, face, dpi)


def render_family_sheet(
    items: Sequence[tuple[str, HealthCode]],
    *,
    fmt: Format = "pdf",
    font: str | Path | Face | None = None,
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
    face = load_font(font)
    return render(sheet_layout(checked, face, encoder), SHEET_SIZE_MM, fmt, face, dpi)


def render_pdfs(
    sheets: Sequence[Sequence[tuple[str, HealthCode]]],
    *,
    font: str | Path | Face | None = None,
    encoder: Encoder = "segno",
) -> list[bytes]:
    """Many PDFs at once: a card for each one-item sheet, a family sheet for each of 2–8 items.

    The same pages as :func:`render_card` and :func:`render_family_sheet`;
    every sheet is checked (and a bad one refused) before any PDF is made.
    Each PDF embeds the glyphs it draws and no others. For batches
    (:mod:`healthcred.batch.run`).
    """
    face = load_font(font)
    pages: list[tuple[list[Element], tuple[float, float]]] = []
    for sheet in sheets:
        items = _check_items(sheet)
        if len(items) == 1:
            pages.append((card_layout(*items[0], face, encoder), CARD_SIZE_MM))
        else:
            pages.append((sheet_layout(items, face, encoder), SHEET_SIZE_MM))
    for elements, _ in pages:
        check_layout(elements, face)
    return [to_pdf(elements, size, face) for elements, size in pages]
