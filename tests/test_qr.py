"""QR images: render (segno) and read back (zxing-cpp, and pyzbar where libzbar0 is installed)."""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFilter

from healthcred import read_qr, render_qr
from healthcred.codec.base45 import ALPHABET
from healthcred.codec.qr import qr_version, save_qr
from healthcred.errors import BadImage, BadInput, QRBackendUnavailable, QRError, QRNotFound

TEXT = "JKM1:" + "".join(random.Random(7).choice(ALPHABET) for _ in range(300))


def _pyzbar_available() -> bool:
    try:
        read_qr(render_qr("JKM1:PROBE"), backend="pyzbar")
    except QRBackendUnavailable:
        return False
    return True


BACKENDS = [
    "zxing",
    pytest.param(
        "pyzbar",
        marks=pytest.mark.skipif(
            not _pyzbar_available(), reason="pyzbar or the system library libzbar0 missing"
        ),
    ),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_png_round_trip(backend: str) -> None:
    assert read_qr(render_qr(TEXT), backend=backend) == TEXT  # type: ignore[arg-type]


def test_defaults_are_level_q_with_quiet_zone() -> None:
    assert segno.make_qr(TEXT, error="Q", boost_error=False).version == qr_version(TEXT)
    assert qr_version(TEXT, "L") < qr_version(TEXT, "Q") < qr_version(TEXT, "H")
    picture = Image.open(io.BytesIO(render_qr(TEXT, scale=3))).convert("L")
    modules = 17 + 4 * qr_version(TEXT) + 2 * 4
    assert picture.size == (modules * 3, modules * 3)
    quiet = 4 * 3
    width = picture.size[0]
    for x in range(width):
        for y in (*range(quiet), *range(width - quiet, width)):
            assert picture.getpixel((x, y)) == 255 and picture.getpixel((y, x)) == 255
    assert picture.getpixel((quiet, quiet)) == 0  # the finder pattern starts right after it


def test_svg() -> None:
    svg = render_qr(TEXT, kind="svg").decode("utf-8")
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "<path" in svg and svg.rstrip().endswith("</svg>")


def test_inputs_path_bytes_and_pil(tmp_path: Path) -> None:
    save_qr(TEXT, tmp_path / "code.png")
    save_qr(TEXT, tmp_path / "code.svg")
    assert (tmp_path / "code.svg").read_text().count("<svg") == 1
    assert read_qr(tmp_path / "code.png") == TEXT
    assert read_qr(str(tmp_path / "code.png")) == TEXT
    assert read_qr((tmp_path / "code.png").read_bytes()) == TEXT
    assert read_qr(Image.open(tmp_path / "code.png")) == TEXT
    with pytest.raises(BadInput):
        save_qr(TEXT, tmp_path / "code.gif")


def test_degraded_image_still_reads() -> None:
    picture = Image.open(io.BytesIO(render_qr(TEXT, scale=6))).convert("L")
    smaller = picture.resize((picture.size[0] // 2, picture.size[1] // 2), Image.Resampling.BILINEAR)
    noisy = smaller.filter(ImageFilter.GaussianBlur(0.8))
    rng = random.Random(1)
    pixels = bytes(max(0, min(255, v + rng.randint(-40, 40))) for v in noisy.tobytes())
    noisy = Image.frombytes("L", noisy.size, pixels)
    rotated = noisy.rotate(7, expand=True, fillcolor=255)
    assert read_qr(rotated) == TEXT


def test_not_an_image() -> None:
    for junk in (b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, bytes(random.Random(3).randbytes(500))):
        with pytest.raises(BadImage):
            read_qr(junk)
    with pytest.raises(BadImage):
        read_qr(Path("/nonexistent/code.png"))


def test_blank_image_has_no_code() -> None:
    buffer = io.BytesIO()
    Image.new("L", (300, 300), 255).save(buffer, format="PNG")
    with pytest.raises(QRNotFound):
        read_qr(buffer.getvalue())


def test_two_different_codes_are_refused_not_guessed() -> None:
    left = Image.open(io.BytesIO(render_qr("JKM1:AAAA"))).convert("L")
    right = Image.open(io.BytesIO(render_qr("JKM1:BBBB"))).convert("L")
    both = Image.new("L", (left.size[0] + right.size[0], max(left.size[1], right.size[1])), 255)
    both.paste(left, (0, 0))
    both.paste(right, (left.size[0], 0))
    with pytest.raises(QRError, match="2 different"):
        read_qr(both)
    same = Image.new("L", (left.size[0] * 2, left.size[1]), 255)
    same.paste(left, (0, 0))
    same.paste(left, (left.size[0], 0))
    assert read_qr(same) == "JKM1:AAAA"  # the same code twice is one code


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


def test_huge_declared_image_is_refused_before_decoding() -> None:
    with pytest.raises(BadImage):
        read_qr(_png_header_only(100_000, 100_000))


def test_bad_arguments() -> None:
    with pytest.raises(BadInput):
        read_qr(42)  # type: ignore[arg-type]
    with pytest.raises(BadInput):
        read_qr(render_qr(TEXT), backend="opencv")  # type: ignore[arg-type]
    for kwargs in ({"kind": "gif"}, {"error": "X"}, {"scale": 0}, {"border": -1}):
        with pytest.raises(BadInput):
            render_qr(TEXT, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(BadInput):
        render_qr("")
    with pytest.raises(BadInput):
        render_qr("JKM1:" + "A" * 5000)


@given(st.text(alphabet=ALPHABET, min_size=1, max_size=200))
@settings(max_examples=25, deadline=None)
def test_any_base45_text_round_trips(text: str) -> None:
    assert read_qr(render_qr(text)) == text
