"""The printing font: where it is, which characters it draws, how wide text is, and subsets of it.

Text is set in the bundled font (a subset of Noto Sans CJK SC, see
``fonts/README.md``) or a font passed as ``font=``. Every character to be drawn
is checked against the font's character map first (:func:`check_glyphs`), so
one the font lacks raises :class:`~healthcred.errors.MissingGlyph` rather than
printing a box.
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources
from pathlib import Path

from PIL import ImageFont

from healthcred.errors import BadInput, MissingGlyph

__all__ = ["ASCENT", "DEFAULT_FONT", "PT_MM", "check_glyphs", "font_path", "subset_font", "width_mm"]

DEFAULT_FONT: Path = Path(str(resources.files("healthcred") / "fonts" / "HealthcredSansSC-Regular.ttf"))
"""The bundled font: Noto Sans CJK SC Regular, subset to ASCII + GB 2312 + common name characters."""

PT_MM = 25.4 / 72
"""One typographic point in millimetres."""

ASCENT = 1.16
"""The bundled font's ascent per em, for placing text tops (baseline = top + ascent)."""


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


def font_path(font: str | Path | None) -> Path:
    """The font file to print with: ``font``, checked to exist, or :data:`DEFAULT_FONT` for ``None``."""
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
    path = font_path(font)
    chars = _font_chars(path)
    missing = sorted({c for c in text if ord(c) not in chars and not c.isspace()})
    if missing:
        listed = " ".join(f"{c} (U+{ord(c):04X})" for c in missing)
        raise MissingGlyph(
            f"the font {path.name} has no glyph for {listed}; print with font= a fuller CJK font"
        )


def width_mm(text: str, size_pt: float, font: Path) -> float:
    """How wide ``text`` prints at ``size_pt`` in ``font``, in millimetres (unshaped advance widths)."""
    return _measure_font(font).getlength(text) / 1000 * size_pt * PT_MM


def subset_font(font: Path, chars: set[int]) -> bytes:
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
