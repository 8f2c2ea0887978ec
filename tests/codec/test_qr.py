"""QR images: render (segno) and read back (zxing-cpp, and pyzbar where libzbar0 is installed)."""

from __future__ import annotations

import builtins
import io
import random
import struct
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import Any

import pytest
import segno
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile, ImageFilter

from healthcred.codec.qr import (
    MAX_IMAGE_PIXELS,
    Backend,
    dark_runs,
    qr_matrix,
    qr_rows,
    qr_version,
    read_qr,
    render_qr,
    save_qr,
)
from healthcred.errors import BadImage, BadInput, QRBackendUnavailable, QRError, QRNotFound

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
TEXT = "JKM1:" + "".join(random.Random(7).choice(BASE45) for _ in range(300))
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
"""What zxing-cpp looks for when a test reads a symbol back itself."""


def _pyzbar_missing() -> str | None:
    try:
        read_qr(render_qr("JKM1:PROBE"), backend="pyzbar")
    except QRBackendUnavailable as exc:
        return str(exc)
    return None


_PYZBAR_MISSING = _pyzbar_missing()
needs_pyzbar = pytest.mark.skipif(
    _PYZBAR_MISSING is not None, reason=f"pyzbar backend unavailable: {_PYZBAR_MISSING}"
)
BACKENDS = ["zxing", pytest.param("pyzbar", marks=needs_pyzbar)]


def _png(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def _grey(text: str, **kwargs: Any) -> Image.Image:
    return Image.open(io.BytesIO(render_qr(text, **kwargs))).convert("L")


def _side_by_side(*pictures: Image.Image) -> Image.Image:
    width = sum(p.size[0] for p in pictures)
    both = Image.new("L", (width, max(p.size[1] for p in pictures)), 255)
    x = 0
    for picture in pictures:
        both.paste(picture, (x, 0))
        x += picture.size[0]
    return both


# --- rendering -------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_png_round_trip(backend: Backend) -> None:
    assert read_qr(render_qr(TEXT), backend=backend) == TEXT


def test_default_level_is_q_not_boosted() -> None:
    # The symbol itself says which level it carries: read it back with zxing-cpp.
    found = zxingcpp.read_barcodes(_grey(TEXT), formats=QR_ONLY)
    assert [b.ec_level for b in found] == ["Q"]
    # A short text leaves room to boost to H at the same version; the default must not.
    short = zxingcpp.read_barcodes(_grey("JKM1:AB"), formats=QR_ONLY)
    assert [b.ec_level for b in short] == ["Q"]
    low = zxingcpp.read_barcodes(_grey("JKM1:AB", error="L"), formats=QR_ONLY)
    assert [b.ec_level for b in low] == ["L"]


def test_qr_version_is_what_segno_records_at_q() -> None:
    reference = segno.make_qr(TEXT, error="Q", boost_error=False)
    assert reference.error == "Q" and reference.mode == "alphanumeric"
    assert qr_version(TEXT) == reference.version
    assert qr_version(TEXT, "L") < qr_version(TEXT) < qr_version(TEXT, "H")
    assert qr_version("JKM1:AB") == 1


def test_png_size_and_quiet_zone() -> None:
    scale = 3
    picture = _grey(TEXT, scale=scale)
    modules = 17 + 4 * qr_version(TEXT) + 2 * 4
    assert picture.size == (modules * scale, modules * scale)
    quiet = 4 * scale
    side = picture.size[0]
    for a in range(side):
        for b in (*range(quiet), *range(side - quiet, side)):
            assert picture.getpixel((a, b)) == 255, (a, b)
            assert picture.getpixel((b, a)) == 255, (b, a)
    assert picture.getpixel((quiet, quiet)) == 0  # the finder pattern starts right after it
    assert _grey(TEXT, scale=1, border=0).size == (modules - 8, modules - 8)


def test_svg_is_svg() -> None:
    svg = render_qr(TEXT, kind="svg", scale=2)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    modules = 17 + 4 * qr_version(TEXT) + 2 * 4
    assert float(root.attrib["width"]) == float(root.attrib["height"]) == modules * 2
    assert root.find("{http://www.w3.org/2000/svg}path") is not None


def test_svg_reads_back_when_a_rasteriser_is_installed() -> None:
    cairosvg = pytest.importorskip("cairosvg", reason="no SVG rasteriser (cairosvg) installed")
    png = cairosvg.svg2png(bytestring=render_qr(TEXT, kind="svg", scale=4))
    assert read_qr(png) == TEXT


def test_save_qr(tmp_path: Path) -> None:
    save_qr(TEXT, tmp_path / "code.png")
    save_qr(TEXT, str(tmp_path / "code.SVG"))
    save_qr(TEXT, tmp_path / "code.bin", kind="svg")
    assert (tmp_path / "code.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert ET.fromstring((tmp_path / "code.SVG").read_bytes()).tag.endswith("svg")
    assert ET.fromstring((tmp_path / "code.bin").read_bytes()).tag.endswith("svg")
    assert read_qr(tmp_path / "code.png") == TEXT
    with pytest.raises(BadInput, match=r"\.png or \.svg"):
        save_qr(TEXT, tmp_path / "code.gif")
    with pytest.raises(BadInput):
        save_qr(TEXT, tmp_path / "no-such-dir" / "code.png")
    with pytest.raises(BadInput):
        save_qr(TEXT, 42)  # type: ignore[arg-type]
    assert not (tmp_path / "code.gif").exists()


@pytest.mark.parametrize(
    "kwargs",
    [{"kind": "gif"}, {"error": "X"}, {"scale": 0}, {"scale": 1.5}, {"scale": True}, {"border": -1}],
)
def test_render_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(BadInput):
        render_qr(TEXT, **kwargs)


@pytest.mark.parametrize("text", ["", b"JKM1:AB", None])
def test_render_needs_non_empty_text(text: Any) -> None:
    with pytest.raises(BadInput):
        render_qr(text)


def test_text_too_long() -> None:
    fits = "A" * 3000  # 40-Q holds 2420 alphanumeric characters, 40-L 4296
    assert qr_version(fits, "L") == 33  # fits at L…
    with pytest.raises(BadInput, match="does not fit"):
        render_qr(fits)  # …but not at the default Q
    with pytest.raises(BadInput, match="does not fit"):
        qr_version("JKM1:" + "A" * 5000, "L")


# --- reading ---------------------------------------------------------------------------------


def test_inputs_path_bytes_and_pil(tmp_path: Path) -> None:
    png = render_qr(TEXT)
    (tmp_path / "code.png").write_bytes(png)
    assert read_qr(tmp_path / "code.png") == TEXT
    assert read_qr(str(tmp_path / "code.png")) == TEXT  # read_qr takes images: here a str is a path
    assert read_qr(png) == TEXT
    assert read_qr(bytearray(png)) == TEXT  # type: ignore[arg-type]
    assert read_qr(Image.open(io.BytesIO(png))) == TEXT
    assert read_qr(Image.open(io.BytesIO(png)).convert("RGB")) == TEXT


def test_jpeg_reads() -> None:
    out = io.BytesIO()
    _grey(TEXT).save(out, format="JPEG", quality=70)
    assert read_qr(out.getvalue()) == TEXT


def test_degraded_image_still_reads_with_zxing() -> None:
    picture = _grey(TEXT, scale=6)
    smaller = picture.resize((picture.size[0] // 2, picture.size[1] // 2), Image.Resampling.BILINEAR)
    blurred = smaller.filter(ImageFilter.GaussianBlur(0.8))
    rng = random.Random(1)
    noisy = Image.frombytes(
        "L", blurred.size, bytes(max(0, min(255, v + rng.randint(-40, 40))) for v in blurred.tobytes())
    )
    assert noisy.tobytes() != smaller.tobytes()
    assert read_qr(noisy) == TEXT
    assert read_qr(noisy.rotate(7, expand=True, fillcolor=255)) == TEXT


@pytest.mark.parametrize("backend", BACKENDS)
def test_transparent_background_reads(backend: Backend) -> None:
    # Dark modules opaque black, light modules transparent *black*: dropping alpha would hide the code.
    grey = _grey("JKM1:TRANSPARENT")
    rgba = Image.new("RGBA", grey.size, (0, 0, 0, 0))
    rgba.putalpha(grey.point(lambda v: 255 - v))
    assert read_qr(rgba, backend=backend) == "JKM1:TRANSPARENT"
    assert read_qr(_png(rgba), backend=backend) == "JKM1:TRANSPARENT"


def test_control_characters_come_back_as_encoded() -> None:
    # zxing-cpp's default text mode would return "A<HT>B<SOH>C".
    assert read_qr(render_qr("JKM1:A\tB\x01C")) == "JKM1:A\tB\x01C"


@pytest.mark.parametrize("backend", BACKENDS)
def test_micro_qr_is_not_a_qr_code(backend: Backend) -> None:
    out = io.BytesIO()
    segno.make_micro("AB").save(out, kind="png", scale=4, border=4)
    micro = Image.open(io.BytesIO(out.getvalue())).convert("L")
    with pytest.raises(QRNotFound):
        read_qr(micro, backend=backend)
    assert read_qr(_side_by_side(micro, _grey("JKM1:AAAA")), backend=backend) == "JKM1:AAAA"


@pytest.mark.parametrize("backend", BACKENDS)
def test_blank_image_has_no_code(backend: Backend) -> None:
    with pytest.raises(QRNotFound):
        read_qr(_png(Image.new("L", (300, 300), 255)), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_different_codes_are_refused_not_guessed(backend: Backend) -> None:
    left, right = _grey("JKM1:AAAA"), _grey("JKM1:BBBB")
    # Each half on its own reads, so a refusal below is about there being two.
    assert read_qr(left, backend=backend) == "JKM1:AAAA"
    assert read_qr(right, backend=backend) == "JKM1:BBBB"
    with pytest.raises(QRError, match="2 different QR codes; crop to one") as info:
        read_qr(_side_by_side(left, right), backend=backend)
    assert type(info.value) is QRError
    # The same code twice is one code.
    assert read_qr(_side_by_side(left, left), backend=backend) == "JKM1:AAAA"


@pytest.mark.parametrize(
    "junk",
    [
        b"",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
        random.Random(3).randbytes(500),
        render_qr(TEXT)[:200],  # a truncated PNG
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",  # EPS: Pillow would hand it to Ghostscript
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    ],
)
def test_not_an_image(junk: bytes) -> None:
    with pytest.raises(BadImage):
        read_qr(junk)


def test_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(BadImage):
        read_qr(tmp_path / "missing.png")
    with pytest.raises(BadImage):
        read_qr(tmp_path)  # a directory
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(BadImage):
        read_qr(tmp_path / "notes.png")


def _png_header_only(width: int, height: int, room: int = 0) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00") + bytes(room))
        + chunk(b"IEND", b"")
    )


def test_huge_declared_image_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    # Any decoding now fails the test (the AssertionError is not a QRError).
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    # A header-only PNG cannot hold the pixels it declares: refused from the header.
    with pytest.raises(BadImage, match="holds only"):
        read_qr(_png_header_only(100_000, 100_000))
    # With room for the data, above our bound (and below Pillow's ~89 Mpx): refused from the header.
    pillow_limit = Image.MAX_IMAGE_PIXELS
    assert pillow_limit is not None and MAX_IMAGE_PIXELS < 8000 * 6000 < pillow_limit
    roomy = _png_header_only(8000, 6000, room=8000 * 6000 // 1000)
    with pytest.raises(BadImage, match="outside the bounds"):
        read_qr(roomy)
    with pytest.raises(BadImage, match="outside the bounds"):
        read_qr(Image.open(io.BytesIO(roomy)))
    # The stub is live: a small header-only PNG does reach decoding.
    with pytest.raises(AssertionError, match="pixels were decoded"):
        read_qr(_png_header_only(10, 10))


@pytest.mark.parametrize("image", [42, None, ["code.png"], 3.5])
def test_wrong_argument_type(image: Any) -> None:
    with pytest.raises(BadInput):
        read_qr(image)


def test_unknown_backend() -> None:
    with pytest.raises(BadInput):
        read_qr(render_qr(TEXT), backend="opencv")  # type: ignore[arg-type]


def test_missing_pyzbar_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyzbar", None)  # makes `import pyzbar` raise ImportError
    monkeypatch.delitem(sys.modules, "pyzbar.pyzbar", raising=False)
    with pytest.raises(QRBackendUnavailable, match=r"healthcred\[pyzbar\].*libzbar0"):
        read_qr(render_qr(TEXT), backend="pyzbar")


def test_missing_libzbar_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def failing_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("pyzbar"):
            raise OSError("libzbar.so.0: cannot open shared object file")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "pyzbar", raising=False)
    monkeypatch.delitem(sys.modules, "pyzbar.pyzbar", raising=False)
    monkeypatch.setattr(builtins, "__import__", failing_import)
    with pytest.raises(QRBackendUnavailable, match="libzbar0"):
        read_qr(render_qr(TEXT), backend="pyzbar")


def test_no_foreign_exception_escapes_on_mangled_images() -> None:
    base = _grey("JKM1:FUZZ", scale=2).convert("RGB")
    seeds = []
    for fmt in ("PNG", "JPEG"):  # the formats a reader opens (others: tests/advisories/test_images.py)
        out = io.BytesIO()
        base.save(out, format=fmt)
        seeds.append(out.getvalue())
    rng = random.Random(11)
    outcomes = set()
    for seed in seeds:
        for _ in range(40):
            data = bytearray(seed)
            for _ in range(rng.randint(1, 6)):
                at = rng.randrange(len(data))
                if rng.random() < 0.7:
                    data[at] = rng.randrange(256)
                else:
                    del data[at : at + rng.randint(1, 40)]
            try:
                read_qr(bytes(data))
                outcomes.add("read")
            except QRError as exc:  # anything else fails the test
                outcomes.add(type(exc).__name__)
    assert "BadImage" in outcomes  # the mangling did reach the error paths


@given(st.text(alphabet=BASE45, min_size=1, max_size=200))
@settings(max_examples=25, deadline=None)
def test_any_base45_text_round_trips(text: str) -> None:
    assert read_qr(render_qr(text)) == text


@pytest.mark.parametrize("mode", ["P", "LA", "L"])
def test_transparent_light_modules_read_in_every_mode(mode: str) -> None:
    # Light modules transparent black in a palette (tRNS), grey-alpha or grey-with-transparency image.
    grey = _grey("JKM1:PALETTE")
    dark = grey.point(lambda v: 0 if v < 128 else 1).convert("L")  # 0 dark, 1 light
    if mode == "P":
        picture = dark.convert("P")
        picture.putpalette([0, 0, 0, 0, 0, 0])
        picture.info["transparency"] = 1
    elif mode == "LA":
        picture = Image.merge("LA", (Image.new("L", grey.size, 0), grey.point(lambda v: 255 - v)))
    else:
        picture = dark.point(lambda v: 0 if v == 0 else 7)
        picture.info["transparency"] = 7
    assert read_qr(_png(picture)) == "JKM1:PALETTE"


@pytest.mark.parametrize("encoder", ["segno", "zxing"])
def test_qr_rows_are_the_matrix_as_bytes(encoder: Any) -> None:
    text = "JKM1:" + "RRQT 9O60GO04I0RI59N6YQ58CKL0G/70CL" * 4
    rows = qr_rows(text, encoder=encoder)
    assert all(isinstance(row, bytes) and set(row) <= {0, 1} for row in rows)
    assert tuple(tuple(map(bool, row)) for row in rows) == qr_matrix(text, encoder=encoder)
    assert len(rows) == len(segno.make_qr(text, error="Q", boost_error=False).matrix)
    with pytest.raises(BadInput):
        qr_rows("A" * 5000, encoder=encoder)


def test_dark_runs_of_bytes_and_booleans() -> None:
    row = bytes([1, 1, 0, 0, 1, 0, 1, 1, 1])
    assert dark_runs(row) == dark_runs(tuple(map(bool, row))) == [(0, 2), (4, 1), (6, 3)]
    assert dark_runs(bytes(5)) == [] and dark_runs(b"\x01" * 3) == [(0, 3)]
