"""Printed codes: A6 cards and A4 family sheets as PDF, PNG or SVG, with the bundled CJK font."""

from healthcred.printing.cards import (
    CARD_SIZE_MM,
    CHINA_TIME,
    DEFAULT_FONT,
    MAX_FAMILY,
    SHEET_SIZE_MM,
    Format,
    check_glyphs,
    module_size_mm,
    region_words,
    render_card,
    render_family_sheet,
    render_pdfs,
    status_words,
)
from healthcred.printing.fonts import Face, load_font

__all__ = [
    "CARD_SIZE_MM",
    "CHINA_TIME",
    "DEFAULT_FONT",
    "MAX_FAMILY",
    "SHEET_SIZE_MM",
    "Face",
    "Format",
    "check_glyphs",
    "load_font",
    "module_size_mm",
    "region_words",
    "render_card",
    "render_family_sheet",
    "render_pdfs",
    "status_words",
]
