"""The printing font: where it is, which characters it draws, how wide text is, and subsets of it.

Text is set in the bundled font (a subset of Noto Sans CJK SC, see
``fonts/README.md``) or a font passed as ``font=``. Every character to be drawn
is checked against the font's character map first (:func:`check_glyphs`), so
one the font lacks raises :class:`~healthcred.errors.MissingGlyph` rather than
printing a box.
"""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path

from healthcred.errors import BadInput, MissingGlyph
from healthcred.printing.truetype import Face, read_font

__all__ = [
    "ASCENT",
    "DEFAULT_FONT",
    "PT_MM",
    "Face",
    "check_glyphs",
    "font_path",
    "load_font",
    "subset_font",
    "width_mm",
]

DEFAULT_FONT: Path = Path(str(resources.files("healthcred") / "fonts" / "HealthcredSansSC-Regular.ttf"))
"""The bundled font: Noto Sans CJK SC Regular, subset to ASCII + GB 2312 + common name characters."""

PT_MM = 25.4 / 72
"""One typographic point in millimetres."""

ASCENT = 1.16
"""The bundled font's ascent per em, for placing text tops (baseline = top + ascent)."""


_FACES: dict[tuple[Path, int, int], Face] = {}
"""Fonts read in this process, by path, modification time and size (a changed file is read again)."""


def load_font(font: str | Path | Face | None) -> Face:
    """The prepared font to print with: ``font`` itself if it is a :class:`Face`, else the file read.

    A file is read once per process (keyed by its path, modification time and
    size, so a replaced file is read again): printing a thousand cards parses
    the font once. Pass the :class:`Face` on to print with no lookup at all.
    """
    if isinstance(font, Face):
        return font
    path = font_path(font)
    try:
        stat = path.stat()
    except OSError as exc:
        raise BadInput(f"cannot read the font {path}: {exc.strerror}") from exc
    key = (path, stat.st_mtime_ns, stat.st_size)
    face = _FACES.get(key)
    if face is None:
        for stale in [k for k in _FACES if k[0] == path]:
            del _FACES[stale]
        face = _FACES[key] = read_font(path)
    return face


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


def check_glyphs(text: str, font: str | Path | Face | None = None) -> None:
    """Raise :class:`MissingGlyph` unless ``font`` (default: the bundled one) draws every character."""
    face = load_font(font)
    missing = sorted({c for c in text if ord(c) not in face.cmap and not c.isspace()})
    if missing:
        listed = " ".join(f"{c} (U+{ord(c):04X})" for c in missing)
        raise MissingGlyph(
            f"the font {face.path.name} has no glyph for {listed}; print with font= a fuller CJK font"
        )


def width_mm(text: str, size_pt: float, font: Face) -> float:
    """How wide ``text`` prints at ``size_pt`` in ``font``, in millimetres (unshaped advance widths).

    Plain advance widths, as the PDF and SVG back ends place unshaped text.
    """
    units = sum(font.advance(c) for c in text)
    return units / font.units_per_em * size_pt * PT_MM


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
