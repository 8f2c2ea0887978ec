"""Build the CJK font bundled for printed codes: a subset of Noto Sans CJK SC Regular (SIL OFL 1.1).

Run once by a maintainer, with Debian's ``fonts-noto-cjk`` installed (the source font) and
fontTools (a dependency of fpdf2)::

    apt-get install fonts-noto-cjk
    .venv/bin/python scripts/build_font.py

It writes ``src/healthcred/fonts/HealthcredSansSC-Regular.ttf``. The glyph set: printable
ASCII, all of GB 2312 (6,763 hanzi in levels 1 and 2, and its 682 symbols, punctuation and
full-width forms), the name characters outside GB 2312 listed below, every character of the
region table (``data/regions.tsv``) and the few symbols the layout uses. The family is renamed
"Healthcred Sans SC" because the OFL asks a modified version (a subset is one) not to keep a
Reserved Font Name; the OFL text and the upstream copyright travel with it (``fonts/OFL.txt``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SOURCE_FACE = "Noto Sans CJK SC"
ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "src" / "healthcred" / "fonts" / "HealthcredSansSC-Regular.ttf"
REGIONS = ROOT / "src" / "healthcred" / "data" / "regions.tsv"
FAMILY = "Healthcred Sans SC"

# Characters common in personal names but outside GB 2312 (most are in the 2013 Table of
# General Standard Chinese Characters, which registration offices use for names).
NAME_EXTRAS = (
    "喆堃玥珺赟昇翀祎琇镕彧昳熠禛旻晞玟珈瑷瑄璟锜淏溥曌龑垚犇焱鑫淼森磊晗昊昱晟晔"
    "炜煜烨炅钰铠锴铖锋镭妍婕婧媛嫣姝娅婷琪琦瑜瑾璐璇瑶琳珊玲珍琬琰琮琛瑛瑞璋璞珩珏"
    "玮玠玳玹珅珞珥琎琚琤瑀瑢瑭璁璨璠璘璩瓒"
    "昉昀晖晏暄暐曦朗桦梓楠榕槿樾橦檀柘栎栩桐"
    "淇淳渼湉湲滢潆澍澜濛灏"
    "祐祯禧禹秭稹"
    "翊翚翱羿"
    "芃芊芮苒茜荨莜萱蒽蓁蔚蕙蕤薇"
    "骞骁骅骐"
    "鹍鹏鹓"
    "頔"
)
LAYOUT_SYMBOLS = "—–·•→×：（）《》「」、，。\u3000"  # \u3000: the ideographic space


def gb2312() -> set[str]:
    """Every character of GB 2312: rows 1–9 (symbols) and 16–87 (hanzi, levels 1 and 2)."""
    chars = set()
    for row in [*range(1, 10), *range(16, 88)]:
        for cell in range(1, 95):
            try:
                chars.add(bytes([0xA0 + row, 0xA0 + cell]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def region_chars() -> set[str]:
    """Every character in the region table's names."""
    found: set[str] = set()
    for line in REGIONS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            found.update("".join(line.split("\t")[1:]))
    return found


def to_truetype(font: TTFont) -> None:
    """Replace the CFF outlines by TrueType (quadratic) ones, in place.

    Why: fontTools recomputes every CFF glyph's bounds by running its charstring
    when it saves a subset, and fpdf2 saves one per PDF: ~60 ms a document for
    CJK glyphs, against ~2 ms with glyf outlines. The file grows by a third.
    """
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = font.getGlyphOrder()
    glyf.glyphs = {}
    for name in glyf.glyphOrder:
        pen = TTGlyphPen(glyph_set)
        # 1 unit of 1,000 per em: the approximation error is below what print or screen shows.
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attribute in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                      "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attribute, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font["post"].formatType = 2.0  # keep glyph names: rebuilding them from cmap costs every reader time
    font["post"].extraNames = []
    font["post"].mapping = {}
    font.sfntVersion = "\x00\x01\x00\x00"


def main() -> int:
    """Subset the source face and write the bundled font; print its size and glyph count."""
    collection = TTCollection(str(SOURCE))
    font = next(f for f in collection.fonts if f["name"].getDebugName(1) == SOURCE_FACE)
    wanted = {chr(c) for c in range(0x20, 0x7F)} | gb2312() | set(NAME_EXTRAS) | region_chars()
    wanted |= set(LAYOUT_SYMBOLS)
    cmap = font.getBestCmap()
    missing = sorted(c for c in wanted if ord(c) not in cmap and c != "\u3000")
    if missing:
        print(f"not in the source font, left out: {''.join(missing)}", file=sys.stderr)
    options = subset.Options()
    options.layout_features = ["kern", "vert", "vrt2"]  # no shaping is needed for hanzi and Latin
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # keep the copyright and licence records
    options.notdef_outline = True  # a visible .notdef, should anything ever reach it
    options.hinting = False  # print and raster sizes here render fine unhinted; saves space
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in wanted if ord(c) in cmap])
    subsetter.subset(font)
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 4, 16):
            record.string = FAMILY if record.nameID != 4 else f"{FAMILY} Regular"
        elif record.nameID == 6:
            record.string = "HealthcredSansSC-Regular"
        elif record.nameID == 3:
            record.string = "HealthcredSansSC-Regular; subset of Noto Sans CJK SC 2.004"
    to_truetype(font)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(TARGET))
    glyphs = len(font.getGlyphOrder())
    print(f"wrote {TARGET.relative_to(ROOT)}: {TARGET.stat().st_size:,} bytes, {glyphs} glyphs, "
          f"{len(font.getBestCmap())} characters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
