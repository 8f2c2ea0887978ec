"""The PDF back end: the font read once per process, each PDF embedding exactly the glyphs it draws."""

from __future__ import annotations

import ctypes
import io
import os
import shutil
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from fontTools.ttLib.sfnt import calcChecksum
from fontTools.ttLib.tables._g_l_y_f import Glyph, GlyphComponent

from healthcred.errors import BadInput
from healthcred.printing import fonts
from healthcred.printing.cards import DEFAULT_FONT, render_card, render_family_sheet, render_pdfs
from healthcred.printing.fonts import load_font
from healthcred.printing.layout import Text, card_layout, drawn_chars
from healthcred.printing.render import to_pdf
from healthcred.printing.truetype import Face, read_font
from tests.helpers.world import World
from tests.printing.test_printing import family, paper


def embedded_fonts(data: bytes) -> list[bytes]:
    """The font programs of a PDF's text objects, as pdfium reads them from the file."""
    document = pdfium.PdfDocument(data)
    found: dict[bytes, None] = {}
    for page in document:
        for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT]):
            font = pdfium_c.FPDFTextObj_GetFont(obj.raw)
            size = ctypes.c_ulong(0)
            pdfium_c.FPDFFont_GetFontData(font, None, 0, ctypes.byref(size))
            buffer = (ctypes.c_ubyte * size.value)()
            assert pdfium_c.FPDFFont_GetFontData(font, buffer, size.value, ctypes.byref(size))
            found[bytes(buffer)] = None
    return list(found)


def outline(font: TTFont, char: str) -> list[tuple[int, int]]:
    glyph = font["glyf"][font.getBestCmap()[ord(char)]]
    coordinates, _, _ = glyph.getCoordinates(font["glyf"])
    return [(int(x), int(y)) for x, y in coordinates]


@pytest.fixture
def counted_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every font file read from now on (the process's fonts forgotten first)."""
    reads: list[Path] = []

    def counting(path: Path) -> Face:
        reads.append(path)
        return read_font(path)

    monkeypatch.setattr(fonts, "_FACES", {})
    monkeypatch.setattr(fonts, "read_font", counting)
    return reads


def test_the_font_is_read_once_for_many_cards(world: World, counted_reads: list[Path]) -> None:
    items = family(world)
    for item in items[:3]:
        render_card(*item)
    render_family_sheet(items[:4])
    render_pdfs([[item] for item in items])
    render_card(*items[0], fmt="png", dpi=72)
    assert counted_reads == [DEFAULT_FONT]


def test_a_changed_font_file_is_read_again(world: World, counted_reads: list[Path], tmp_path: Path) -> None:
    copy = tmp_path / "font.ttf"
    shutil.copyfile(DEFAULT_FONT, copy)
    item = paper(world, "张三丰", 0)
    render_card(*item, font=copy)
    render_card(*item, font=copy)
    assert counted_reads == [copy]
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    render_card(*item, font=copy)
    assert counted_reads == [copy, copy]
    face = load_font(copy)
    render_card(*item, font=face)  # a prepared font is used as it is
    assert counted_reads == [copy, copy]


def test_a_card_embeds_exactly_the_glyphs_it_draws(world: World) -> None:
    text, credential = paper(world, "张三丰", 0)
    data = render_card(text, credential)
    [program] = embedded_fonts(data)
    embedded = TTFont(io.BytesIO(program))
    drawn = set(drawn_chars(card_layout(text, credential, load_font(None), "segno")))
    assert {"张", "丰", "绿", "码", "验", "g"} <= drawn
    assert {chr(c) for c in embedded.getBestCmap()} == drawn
    assert embedded["maxp"].numGlyphs == len(drawn) + 1  # and .notdef
    original = TTFont(str(DEFAULT_FONT))
    for char in drawn:  # the same outlines, not just the same character map
        assert outline(embedded, char) == outline(original, char), char
    # The copyright and licence records travel with the subset.
    assert "SIL Open Font License" in embedded["name"].getDebugName(13)


def test_each_pdf_of_a_batch_embeds_only_its_own_glyphs(world: World) -> None:
    items = family(world)
    pdfs = render_pdfs([[items[0]], [items[1]], items[2:5]])
    face = load_font(None)
    for pdf, layout in zip(
        pdfs,
        [card_layout(*items[0], face, "segno"), card_layout(*items[1], face, "segno")],
        strict=False,
    ):
        [program] = embedded_fonts(pdf)
        assert {chr(c) for c in TTFont(io.BytesIO(program)).getBestCmap()} == set(drawn_chars(layout))
    [sheet_font] = embedded_fonts(pdfs[2])
    sheet_chars = {chr(c) for c in TTFont(io.BytesIO(sheet_font)).getBestCmap()}
    assert "王" in sheet_chars and "张" not in sheet_chars  # 王*明 is on the sheet, 张*丰 is not


def test_pdf_text_is_extracted_as_printed(world: World) -> None:
    text, credential = paper(world, "欧阳娜娜", 3)
    words = pdfium.PdfDocument(render_card(text, credential))[0].get_textpage().get_text_range()
    assert "欧**娜" in words and "请持本人身份证件核验" in words and "签发地区 Issued by" in words


def _composite_font(path: Path) -> None:
    """.notdef, a bar for "C", a square for "A", and "B" drawn as a composite of two squares."""
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "bar", "square", "double"])
    builder.setupCharacterMap({ord("C"): "bar", ord("A"): "square", ord("B"): "double"})

    def box(x0: int, y0: int, x1: int, y1: int) -> Glyph:
        pen = TTGlyphPen(None)
        pen.moveTo((x0, y0))
        pen.lineTo((x0, y1))
        pen.lineTo((x1, y1))
        pen.lineTo((x1, y0))
        pen.closePath()
        return pen.glyph()

    double = Glyph()
    double.numberOfContours = -1
    components = []
    for dx in (0, 500):
        component = GlyphComponent()
        component.glyphName, component.x, component.y, component.flags = "square", dx, 0, 0x0001 | 0x0002
        components.append(component)
    double.components = components
    glyphs = {
        ".notdef": TTGlyphPen(None).glyph(),
        "bar": box(50, 0, 100, 700),
        "square": box(100, 0, 500, 700),
    }
    builder.setupGlyf({**glyphs, "double": double})
    builder.setupHorizontalMetrics(
        {".notdef": (500, 0), "bar": (150, 50), "square": (600, 100), "double": (1100, 100)}
    )
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "Composite Test", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    builder.save(str(path))


def test_a_composite_glyph_brings_its_components(tmp_path: Path) -> None:
    path = tmp_path / "composite.ttf"
    _composite_font(path)
    face = read_font(path)
    subset = TTFont(io.BytesIO(face.subset("B").data))
    assert subset.getBestCmap() == {ord("B"): subset.getGlyphOrder()[2]}
    double = subset["glyf"][subset.getGlyphOrder()[2]]
    assert double.isComposite()
    # The components now name the square at its new glyph id (1), not its old one (2); no bar.
    assert subset["maxp"].numGlyphs == 3
    assert [subset.getGlyphID(c.glyphName) for c in double.components] == [1, 1]
    original = TTFont(str(path))
    assert outline(subset, "B") == outline(original, "B")
    page = to_pdf([Text(5, 20, 12, "BAB", (0, 0, 0))], (60.0, 30.0), face)
    assert "BAB" in pdfium.PdfDocument(page)[0].get_textpage().get_text_range()


def check_checksums(data: bytes) -> None:
    """Every table's checksum in the directory is its own, and the file sums to the magic number."""
    reader = TTFont(io.BytesIO(data)).reader
    for tag in reader.tables:
        table = reader[tag]
        if tag == "head":  # its checksum is taken with checkSumAdjustment zeroed
            table = table[:8] + bytes(4) + table[12:]
        assert calcChecksum(table) == reader.tables[tag].checkSum, tag
    assert calcChecksum(data) == 0xB1B0AFBA


def test_subset_checksums_are_right(world: World, tmp_path: Path) -> None:
    text, credential = paper(world, "张三丰", 0)
    [program] = embedded_fonts(render_card(text, credential, encoder="zxing"))
    check_checksums(program)
    path = tmp_path / "composite.ttf"
    _composite_font(path)
    check_checksums(read_font(path).subset("AB").data)  # a renumbered composite is summed again


def test_an_unreadable_font_is_bad_input(world: World, tmp_path: Path) -> None:
    text, credential = paper(world, "张三丰", 0)
    for name, data in (("garbage.ttf", b"not a font"), ("short.ttf", DEFAULT_FONT.read_bytes()[:5000])):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(BadInput, match="cannot read the font"):
            render_card(text, credential, font=path)
    with pytest.raises(BadInput):
        render_card(text, credential, font=3)  # type: ignore[arg-type]


def test_a_cff_font_is_printed_through_fpdf2(tmp_path: Path) -> None:
    path = tmp_path / "cff.otf"
    builder = FontBuilder(1000, isTTF=False)
    builder.setupGlyphOrder([".notdef", "square"])
    builder.setupCharacterMap({ord("A"): "square"})
    pen = T2CharStringPen(600, None)
    pen.moveTo((100, 0))
    pen.lineTo((100, 700))
    pen.lineTo((500, 700))
    pen.lineTo((500, 0))
    pen.closePath()
    empty = T2CharStringPen(500, None)
    builder.setupCFF(
        "CffTest",
        {"FullName": "CffTest"},
        {".notdef": empty.getCharString(), "square": pen.getCharString()},
        {},
    )
    builder.setupHorizontalMetrics({".notdef": (500, 0), "square": (600, 100)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "CffTest", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    builder.save(str(path))
    face = read_font(path)
    assert face.outlines is None
    page = to_pdf([Text(5, 20, 12, "AAA", (0, 0, 0))], (60.0, 30.0), face)
    assert "AAA" in pdfium.PdfDocument(page)[0].get_textpage().get_text_range()
    with pytest.raises(BadInput, match="no TrueType outlines"):
        face.subset("A")
