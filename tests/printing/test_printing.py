"""Printed codes: cards and family sheets as PDF, PNG and SVG, read back and verified; glyphs really drawn."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

import healthcred
from healthcred import GREEN, RED, YELLOW, CredentialKind, DocumentType, HealthCode, Status, Subject
from healthcred.codec.qr import qr_matrix
from healthcred.errors import BadInput, MissingGlyph
from healthcred.flows.idcheck import generate_id_key
from healthcred.flows.issue import issue_paper
from healthcred.printing.cards import (
    CARD_SIZE_MM,
    DEFAULT_FONT,
    SHEET_SIZE_MM,
    check_glyphs,
    module_size_mm,
    region_words,
    render_card,
    render_family_sheet,
    render_pdfs,
    status_words,
)
from tests.helpers.world import CHECKED, ISSUED, World

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
NAMES = ("张三丰", "李四", "王小明", "欧阳娜娜", "赵钱孙", "周杰伦", "吴彦祖", "郑爽")
REGIONS = ("330100", "310104", "330106", "330200")
DPI = 200


def resident_id(body: str) -> str:
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


ID_KEY = generate_id_key("330000")


def paper(world: World, name: str, index: int, status: Status = GREEN) -> tuple[str, HealthCode]:
    number = resident_id(f"33010619500101{index:03d}")
    credential = HealthCode.create(
        subject=Subject.create(name, "1950-01-01", DocumentType.RESIDENT_ID_CARD, number),
        status=status,
        region=REGIONS[index % len(REGIONS)],
        kind=CredentialKind.PAPER,
        issued_at=ISSUED,
        valid_for=timedelta(days=14),
    )
    key = world.shanghai if credential.region.startswith("31") else world.zhejiang
    return issue_paper(credential, key, id_number=number, id_key=ID_KEY), credential


def family(world: World) -> list[tuple[str, HealthCode]]:
    colours = (GREEN, YELLOW, RED)
    return [paper(world, name, i, colours[i % 3]) for i, name in enumerate(NAMES)]


def pdf_page(data: bytes) -> tuple[Image.Image, str]:
    document = pdfium.PdfDocument(data)
    assert len(document) == 1
    page = document[0]
    return page.render(scale=DPI / 72).to_pil().convert("L"), page.get_textpage().get_text_range()


def crop_mm(
    picture: Image.Image, box: tuple[float, float, float, float], page: float = SHEET_SIZE_MM[0]
) -> Image.Image:
    """Cut ``box`` (mm) out of a rendered page ``page`` mm wide."""
    k = picture.width / page
    left, top, right, bottom = (round(v * k) for v in box)
    return picture.crop((left, top, right, bottom))


def read_and_verify(picture: Image.Image, world: World) -> healthcred.VerificationResult:
    return healthcred.verify(healthcred.read_qr(picture), world.store, at=CHECKED)


# --- words ---------------------------------------------------------------------------------------


def test_region_words() -> None:
    assert region_words("330100") == ("浙江省杭州市", "Hangzhou, Zhejiang")
    assert region_words("330000") == ("浙江省", "Zhejiang")
    assert region_words("330106") == ("浙江省杭州市西湖区", "Xihu District, Hangzhou, Zhejiang")
    assert region_words("310104") == ("上海市徐汇区", "Xuhui District, Shanghai")
    assert region_words("330199") == ("浙江省杭州市 330199", "Hangzhou, Zhejiang 330199")
    assert region_words("990000") == ("990000", "990000")
    with pytest.raises(BadInput):
        region_words("33010")


def test_table_has_every_provincial_division_and_its_font_glyphs() -> None:
    from healthcred.regions import _names as _regions

    table = _regions()
    provinces = [code for code in table if code.endswith("0000")]
    assert len(provinces) == 34
    assert len([c for c in table if c.startswith("33") and c.endswith("00") and c != "330000"]) == 11
    check_glyphs("".join(zh for zh, _ in table.values()))


def test_status_words() -> None:
    assert status_words(GREEN) == ("绿码", "green")
    assert status_words(YELLOW) == ("黄码", "yellow")
    assert status_words(RED) == ("红码", "red")
    assert status_words(Status(code=7, name="status-7")) == ("status-7", "status-7")


def test_module_sizes() -> None:
    assert module_size_mm(65) == 0.9
    assert module_size_mm(65, sheet=True) == 0.75
    assert module_size_mm(101) * (101 + 8) <= 75


# --- PDF: rasterised, read back, verified ---------------------------------------------------------


def test_card_pdf_reads_back_and_verifies(world: World) -> None:
    text, credential = paper(world, "张三丰", 0)
    picture, words = pdf_page(render_card(text, credential))
    assert (
        abs(picture.width - CARD_SIZE_MM[0] / 25.4 * DPI) < 1
        and abs(picture.height - CARD_SIZE_MM[1] / 25.4 * DPI) < 1
    )
    result = read_and_verify(picture, world)
    assert result.credential.id == credential.id and result.credential.kind is CredentialKind.PAPER
    for expected in (
        "张*丰",
        "绿码",
        "green",
        "浙江省杭州市",
        "Hangzhou, Zhejiang",
        "请持本人身份证件核验",
        "ID document check required",
        "UTC+8",
        "2026-11-23 16:00",
        "2026-12-07 16:00",
    ):
        assert expected in words, expected


def test_family_sheet_of_8_reads_back_every_code(world: World) -> None:
    items = family(world)
    picture, words = pdf_page(render_family_sheet(items))
    cell_w, cell_h = SHEET_SIZE_MM[0] / 2, SHEET_SIZE_MM[1] / 4
    for index, (_, credential) in enumerate(items):
        left, top = (index % 2) * cell_w, (index // 2) * cell_h
        # read_qr refuses an image with several codes, so each cell is read on its own.
        result = read_and_verify(crop_mm(picture, (left, top, left + cell_w, top + cell_h)), world)
        assert result.credential.id == credential.id
        assert credential.subject.masked_name in words
    assert words.count("请持本人身份证件核验") == 8


def _glyph(char: str, size: int) -> Image.Image:
    """``char`` drawn by Pillow with the bundled font, ink cropped, on white."""
    font = ImageFont.truetype(str(DEFAULT_FONT), size)
    canvas = Image.new("L", (size * 2, size * 2), 255)
    ImageDraw.Draw(canvas).text((size // 2, size // 2), char, font=font, fill=0)
    return _ink(canvas)


def _ink(picture: Image.Image) -> Image.Image:
    box = ImageChops.invert(picture).getbbox()
    assert box is not None
    return picture.crop(box)


def _distance(a: Image.Image, b: Image.Image) -> float:
    size = (24, 24)
    left, right = a.resize(size).tobytes(), b.resize(size).tobytes()
    return sum(abs(x - y) for x, y in zip(left, right, strict=True)) / (255 * size[0] * size[1])


def test_pdf_draws_the_name_glyphs_not_notdef_boxes(world: World) -> None:
    """The masked name's first character, cut from the rasterised PDF, looks like 张, not like .notdef."""
    text, credential = paper(world, "张三丰", 0)
    picture, _ = pdf_page(render_card(text, credential))
    # Find the name line: the layout puts it 1 mm under the QR, left edge at 10 mm, 20 pt high.
    modules = len(qr_matrix(text))
    matrix_side = (modules + 8) * module_size_mm(modules)
    top = 13 + matrix_side + 1
    # 张 is 20 pt = 7.06 mm wide from x = 10 mm; the * follows.
    first = _ink(crop_mm(picture, (9.5, top, 17.05, top + 9), CARD_SIZE_MM[0]))
    real, notdef = _glyph("张", 200), _glyph("\ue000", 200)  # U+E000: private use, not in the font
    assert _distance(first, real) < 0.12
    assert _distance(first, notdef) > 2 * _distance(first, real)


# --- PNG and SVG -----------------------------------------------------------------------------------


def test_png_card_and_sheet(world: World) -> None:
    text, credential = paper(world, "欧阳娜娜", 3)
    card = Image.open(io.BytesIO(render_card(text, credential, fmt="png", dpi=200)))
    assert card.format == "PNG" and abs(card.width - 827) <= 1 and abs(card.height - 1166) <= 1
    assert read_and_verify(card, world).credential.id == credential.id
    items = family(world)[:3]
    sheet = Image.open(io.BytesIO(render_family_sheet(items, fmt="png", dpi=150))).convert("L")
    assert read_and_verify(crop_mm(sheet, (105, 0, 210, 74.25)), world).credential.id == items[1][1].id


def test_png_matches_the_pdf_layout(world: World) -> None:
    """PNG and PDF are the same layout: the name glyph sits at the same place in both."""
    text, credential = paper(world, "张三丰", 0)
    from_pdf, _ = pdf_page(render_card(text, credential))
    from_png = Image.open(io.BytesIO(render_card(text, credential, fmt="png", dpi=DPI))).convert("L")
    assert abs(from_png.width - from_pdf.width) <= 1 and abs(from_png.height - from_pdf.height) <= 1
    box, page = (9.5, 80, 60, 100), CARD_SIZE_MM[0]
    assert _distance(_ink(crop_mm(from_pdf, box, page)), _ink(crop_mm(from_png, box, page))) < 0.1


def _svg_matrix(svg: bytes) -> tuple[tuple[bool, ...], ...]:
    root = ET.fromstring(svg)
    path = next(e for e in root.iter() if e.tag.endswith("path"))
    cells: set[tuple[int, int]] = set()
    for x, y, length in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path.attrib["d"]):
        cells.update((int(x) + i, int(y)) for i in range(int(length)))
    size = max(x for x, _ in cells) + 1
    return tuple(tuple((x, y) in cells for x in range(size)) for y in range(size))


def test_svg_card_has_text_and_the_qr_path(world: World) -> None:
    text, credential = paper(world, "王小明", 2)
    svg = render_card(text, credential, fmt="svg")
    root = ET.fromstring(svg)
    words = [e.text for e in root.iter() if e.tag.endswith("text")]
    assert "王*明" in words and "请持本人身份证件核验" in words
    assert "绿码  green" in words and "红码  red" not in words
    assert b"@font-face" in svg and b"base64," in svg  # the glyphs travel with the file
    modules = _svg_matrix(svg)
    assert modules == qr_matrix(text)
    # Draw the path's modules and read them back.
    picture = Image.new("L", ((len(modules) + 8) * 4,) * 2, 255)
    draw = ImageDraw.Draw(picture)
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle(((x + 4) * 4, (y + 4) * 4, (x + 5) * 4 - 1, (y + 5) * 4 - 1), fill=0)
    assert read_and_verify(picture, world).credential.id == credential.id


def test_svg_escapes_markup(world: World) -> None:
    credential, text = world.code(subject=Subject.create("A<&>B", "1980", DocumentType.PASSPORT, "E12345678"))
    ET.fromstring(render_card(text, credential, fmt="svg"))  # well-formed


# --- refusals --------------------------------------------------------------------------------------


def test_missing_glyph_is_refused_not_boxed(world: World) -> None:
    credential, text = world.code(
        subject=Subject.create("𠀀三𠀁", "1980", DocumentType.PASSPORT, "E12345678")
    )
    for fmt in ("pdf", "png", "svg"):
        with pytest.raises(MissingGlyph, match="U\\+20000"):
            render_card(text, credential, fmt=fmt)
    with pytest.raises(MissingGlyph):
        check_glyphs("䶵")
    check_glyphs("镕喆堃")  # name characters outside GB 2312 that the bundled font carries
    # The middle of a name is masked, so a rare character there prints fine.
    credential, text = world.code(
        subject=Subject.create("张𠀀丰", "1980", DocumentType.PASSPORT, "E12345678")
    )
    render_card(text, credential, fmt="png", dpi=72)


def test_more_than_8_or_bad_arguments(world: World) -> None:
    items = family(world)
    with pytest.raises(BadInput, match="1 to 8"):
        render_family_sheet([*items, items[0]])
    with pytest.raises(BadInput):
        render_family_sheet([])
    text, credential = items[0]
    with pytest.raises(BadInput):
        render_card(text, credential, fmt="jpeg")  # type: ignore[arg-type]
    with pytest.raises(BadInput):
        render_card(text, "not a credential")  # type: ignore[arg-type]
    with pytest.raises(BadInput):
        render_card(text, credential, dpi=10)
    with pytest.raises(BadInput):
        render_card(text, credential, font="/nonexistent.ttf")
    with pytest.raises(BadInput):
        render_pdfs([items * 2])


def test_render_pdfs_matches_single_renders(world: World) -> None:
    items = family(world)
    card, sheet = render_pdfs([[items[0]], items[:3]], encoder="zxing")
    assert read_and_verify(pdf_page(card)[0], world).credential.id == items[0][1].id
    picture, words = pdf_page(sheet)
    assert "李*" in words and "王*明" in words
    # The same words as the one-at-a-time renders (only the QR encoder differs).
    assert pdf_page(card)[1] == pdf_page(render_card(*items[0]))[1]
    assert words == pdf_page(render_family_sheet(items[:3]))[1]
    assert read_and_verify(crop_mm(picture, (0, 74.25, 105, 148.5)), world).credential.id == items[2][1].id


def test_render_qr_zxing_encoder(world: World) -> None:
    _, text = world.code()
    assert healthcred.read_qr(healthcred.render_qr(text, encoder="zxing")) == text
    zxing = qr_matrix(text, encoder="zxing")
    assert len(zxing) == len(qr_matrix(text))
    # The SVG draws exactly zxing-cpp's modules: one stroked run per dark stretch, 4 modules in.
    svg = healthcred.render_qr(text, kind="svg", encoder="zxing")
    root = ET.fromstring(svg)
    assert root.attrib["width"] == str((len(zxing) + 8) * 4)
    path = next(e for e in root.iter() if e.tag.endswith("path"))
    cells = {
        (int(x) - 4 + i, int(y) - 4)
        for x, y, length in re.findall(r"M(\d+) (\d+)\.5h(\d+)", path.attrib["d"])
        for i in range(int(length))
    }
    assert cells == {(x, y) for y, row in enumerate(zxing) for x, dark in enumerate(row) if dark}
    png = Image.open(io.BytesIO(healthcred.render_qr(text, encoder="zxing")))
    assert png.mode == "1" and png.size == ((len(zxing) + 8) * 4,) * 2
    with pytest.raises(BadInput):
        healthcred.render_qr(text, encoder="qrencode")  # type: ignore[arg-type]
    with pytest.raises(BadInput):
        healthcred.render_qr("A" * 5000, encoder="zxing")
