"""Security regressions of image input, "data is never a path" and prefix errors, as named tests.

Each test names the class of attack or defect it guards against and builds the original input.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile

import healthcred.codec.qr as qr
from healthcred import verify, verify_all
from healthcred.codec.images import (
    MAX_IMAGE_ASPECT,
    MAX_IMAGE_PIXELS,
    MAX_IMAGE_SIDE,
    MAX_JPEG_SCANS,
    MAX_JPEG_SEGMENTS,
    MAX_PNG_CHUNKS,
    sniff,
)
from healthcred.codec.prefix import KNOWN_PREFIXES, strip_prefix
from healthcred.codec.qr import read_qr, render_qr
from healthcred.errors import BadImage, BadPrefix, HealthCredError
from healthcred.flows.family import FamilyBundle, verify_family
from healthcred.flows.verify import code_text
from tests.helpers.world import CHECKED, World

# --- builders ----------------------------------------------------------------------------------


def _tiff(entries: list[tuple[int, int, int, bytes | int]], tail: bytes) -> bytes:
    """A little-endian TIFF with one IFD of ``(tag, type, count, value)`` entries, then ``tail``."""
    data_at = 8 + 2 + 12 * len(entries) + 4
    head, blob = b"II*\x00" + struct.pack("<IH", 8, len(entries)), b""
    for tag, kind, count, value in sorted(entries):
        if isinstance(value, int):
            head += struct.pack("<HHII", tag, kind, count, value)
        elif len(value) <= 4:
            head += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")
        else:
            head += struct.pack("<HHII", tag, kind, count, data_at + len(blob))
            blob += value
    return head + b"\x00\x00\x00\x00" + blob + tail


def _float_strip_offsets_tiff() -> bytes:
    """An 8 × 8 grey TIFF whose StripOffsets tag is a FLOAT: Pillow's loader seeks to it (TypeError)."""
    short, long_, float_ = 3, 4, 11
    entries: list[tuple[int, int, int, bytes | int]] = [
        (256, short, 1, 8),  # width
        (257, short, 1, 8),  # height
        (258, short, 1, 8),  # bits per sample
        (259, short, 1, 1),  # no compression
        (262, short, 1, 1),  # black is zero
        (273, float_, 1, struct.pack("<f", 200.0)),  # StripOffsets, of the wrong type
        (277, short, 1, 1),  # samples per pixel
        (278, short, 1, 8),  # rows per strip
        (279, long_, 1, 64),  # strip byte counts
    ]
    return _tiff(entries, bytes(300))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, idat: bytes = zlib.compress(b"\x00"), extra: bytes = b"") -> bytes:
    """A grey 8-bit PNG header declaring ``width`` × ``height``, with ``idat`` as its data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + extra + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _png_with_room(width: int, height: int) -> bytes:
    """As :func:`_png`, with enough IDAT bytes that the declared pixels could be there."""
    return _png(width, height, bytes(width * height // 1000 + 64))


def _jpeg(frame: int, width: int, height: int, *, before: bytes = b"", after: bytes = b"") -> bytes:
    """SOI, ``before``, a one-component frame header of marker ``frame``, ``after`` and EOI."""
    sof = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    return (
        b"\xff\xd8"
        + before
        + b"\xff"
        + bytes([frame])
        + struct.pack(">H", 2 + len(sof))
        + sof
        + after
        + b"\xff\xd9"
    )


@pytest.fixture
def no_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if Pillow opens or decodes anything."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Pillow was handed the bytes")

    monkeypatch.setattr(Image, "open", refuse)
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


# --- untyped exceptions and attack surface --------------------------------------------------------


def test_tiff_with_mistyped_tags_never_reaches_pillow(no_pillow: None) -> None:
    """Untyped exception: a small TIFF made Pillow raise TypeError out of read_qr and verify (issue 12)."""
    tiff = _float_strip_offsets_tiff()
    assert len(tiff) < 713
    with pytest.raises(BadImage, match="not a PNG or JPEG image"):
        read_qr(tiff)
    with pytest.raises(BadImage):
        verify(tiff, None)  # type: ignore[arg-type]  # refused before trust is looked at


def test_tiff_typeerror_is_real_in_pillow() -> None:
    """The seed above still breaks Pillow itself, so the test before it guards something real."""
    with pytest.raises(TypeError):
        Image.open(io.BytesIO(_float_strip_offsets_tiff()), formats=("TIFF",)).load()


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "WEBP", "PPM", "ICO"])
def test_formats_outside_the_allow_list_never_reach_pillow(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attack surface: only PNG and JPEG decoders run on a stranger's bytes (TIFF codecs, libwebp, …)."""
    out = io.BytesIO()
    Image.new("L", (64, 64), 255).save(out, format=fmt)
    opened: list[object] = []
    real_open = Image.open

    def spying_open(*args: Any, **kwargs: Any) -> Any:
        opened.append(args)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(Image, "open", spying_open)
    with pytest.raises(BadImage, match="not a PNG or JPEG image"):
        read_qr(out.getvalue())
    assert opened == []
    assert qr.IMAGE_FORMATS == ("PNG", "JPEG")


# --- declared size before decoding ----------------------------------------------------------------


def test_tiny_png_declaring_33_million_pixels_is_refused_without_decoding(no_pillow: None) -> None:
    """CPU and memory amplification: a ~70-byte PNG of 1 × 33.6 M pixels cost a second and ~600 MB."""
    bomb = _png(1, 33_554_432)
    assert len(bomb) < 100
    with pytest.raises(BadImage, match="holds only"):
        read_qr(bomb)
    with pytest.raises(BadImage, match="outside the bounds"):
        read_qr(_png_with_room(1, 33_554_432))  # with the data there, a side is out of bounds


@pytest.mark.parametrize(
    ("width", "height", "bound"),
    [
        (5_000, 5_000, "pixels"),  # 25 M > MAX_IMAGE_PIXELS
        (MAX_IMAGE_SIDE + 1, 1_000, "a side"),
        (MAX_IMAGE_ASPECT * 100 + 1, 100, "sides at most"),
        (0, 10, "no pixels"),
    ],
)
def test_declared_size_is_bounded_before_decoding(
    no_pillow: None, width: int, height: int, bound: str
) -> None:
    """Memory amplification: the header's size is checked against every bound before Pillow sees it."""
    assert MAX_IMAGE_PIXELS == 24_000_000
    with pytest.raises(BadImage, match=bound):
        read_qr(_png_with_room(width, height))


def test_pil_image_of_a_caller_is_bounded_too() -> None:
    """Memory amplification: a PIL image handed in is checked before conversion allocates planes."""
    with pytest.raises(BadImage, match="sides at most"):
        read_qr(Image.new("1", (MAX_IMAGE_ASPECT * 10 + 1, 10)))


def test_png_chunk_flood_is_bounded(no_pillow: None) -> None:
    """CPU amplification: Pillow walks every chunk in Python; a file of tiny chunks is refused by count."""
    flood = _chunk(b"tEXt", b"") * MAX_PNG_CHUNKS
    with pytest.raises(BadImage, match=f"more than {MAX_PNG_CHUNKS} chunks"):
        read_qr(_png(100, 100, extra=flood))


def test_jpeg_declaring_more_pixels_than_its_bytes_can_hold_is_refused(no_pillow: None) -> None:
    """Memory amplification: a truncated JPEG header of 4000 × 4000 would allocate the whole image."""
    with pytest.raises(BadImage, match="holds only"):
        read_qr(_jpeg(0xC0, 4_000, 4_000))


@pytest.mark.parametrize("frame", [0xC3, 0xC5, 0xC9, 0xCA, 0xCB, 0xCD, 0xCF])
def test_jpeg_other_than_huffman_sequential_or_progressive_is_refused(no_pillow: None, frame: int) -> None:
    """Attack surface: lossless, hierarchical and arithmetic JPEG are decoders no camera needs."""
    with pytest.raises(BadImage, match="coding process"):
        read_qr(_jpeg(frame, 8, 8, after=bytes(64)))


def test_jpeg_scan_and_segment_floods_are_bounded(no_pillow: None) -> None:
    """CPU amplification: each progressive scan is a pass over all blocks; each segment a Python step."""
    scans = (b"\xff\xda" + struct.pack(">H", 8) + b"\x01\x01\x00\x00\x3f\x00") * (MAX_JPEG_SCANS + 1)
    with pytest.raises(BadImage, match=f"at most {MAX_JPEG_SCANS}"):
        read_qr(_jpeg(0xC2, 16, 16, after=scans))
    comments = (b"\xff\xfe" + struct.pack(">H", 2)) * (MAX_JPEG_SEGMENTS + 1)
    with pytest.raises(BadImage, match=f"more than {MAX_JPEG_SEGMENTS} segments"):
        read_qr(_jpeg(0xC0, 16, 16, before=comments))


def test_real_png_and_jpeg_still_read() -> None:
    """The bounds refuse attacks, not codes: rendered PNGs and camera-like JPEGs read as before."""
    text = "JKM1:BOUNDS"
    png = render_qr(text)
    assert read_qr(png) == text
    out = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(out, format="JPEG", quality=80, progressive=True)
    assert read_qr(out.getvalue()) == text


FUZZ_FINDINGS = Path(__file__).parents[1] / "data" / "advisories" / "images"


@pytest.mark.parametrize("name", ["png-iccp-after-idat.png", "png-iccp-short.png"])
def test_fuzzed_png_with_a_broken_colour_profile_is_typed(name: str) -> None:
    """Found by fuzz/verify_image: a short iCCP chunk made Pillow's chunk parser raise IndexError."""
    with pytest.raises(HealthCredError):
        read_qr((FUZZ_FINDINGS / name).read_bytes())


def test_png_ancillary_chunks_never_reach_a_decoder() -> None:
    """Attack surface: a code's PNG with broken iCCP, zTXt and private chunks still reads: only the
    chunks its pixels need (critical ones and tRNS) are handed to Pillow."""
    text = "JKM1:CHUNKS"
    png = render_qr(text)
    hostile = _chunk(b"iCCP", b"x") + _chunk(b"zTXt", b"k\x00\x00\xff") + _chunk(b"prIv", b"\x00" * 9)
    after_header = 8 + 25  # signature, then the IHDR chunk
    tampered = png[:after_header] + hostile + png[after_header:-12] + hostile + png[-12:]
    assert read_qr(tampered) == text
    assert set(_chunk_kinds(sniff(tampered).data)) <= {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}


def _chunk_kinds(png: bytes) -> list[bytes]:
    kinds: list[bytes] = []
    at = 8
    while at + 8 <= len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kinds.append(png[at + 4 : at + 8])
        at += 12 + length
    return kinds


# --- data is never a path -------------------------------------------------------------------------


def test_family_bundle_code_naming_a_file_on_the_verifiers_disk_is_not_read(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Confused deputy: a bundle's code naming a QR image on the verifier's disk was read and accepted."""
    _, text = world.code()
    image = tmp_path / "guardian.png"
    image.write_bytes(render_qr(text))
    assert verify(image, world.store, at=CHECKED).kid  # the file does hold a valid code

    read: list[object] = []
    monkeypatch.setattr(qr, "read_qr", lambda *a, **k: read.append(a))
    with pytest.raises(BadPrefix) as present:
        verify_family(FamilyBundle(str(image), ()), world.store, at=CHECKED)
    with pytest.raises(BadPrefix) as absent:
        verify_family(FamilyBundle(str(tmp_path / "guardian.jpg"), ()), world.store, at=CHECKED)
    assert read == []
    # Oracle: the answer does not tell whether a path exists on the verifier's disk.
    assert present.value.message == absent.value.message


def test_a_str_is_always_code_text(world: World, tmp_path: Path) -> None:
    """Confused deputy: verify, verify_all and code_text never open a str as a file."""
    image = tmp_path / "code.png"
    _, text = world.code()
    image.write_bytes(render_qr(text))
    assert code_text(str(image)) == str(image)
    outcome = verify_all([str(image), image], world.store, at=CHECKED)
    assert isinstance(outcome[0], BadPrefix)
    assert not isinstance(outcome[1], Exception)


# --- prefix errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("shc:56762909524320603460292437404460", "looks like a SMART Health Card but lacks '/' after 'shc:'"),
        ("SHC:/5676", "'shc:/' in this case exactly"),
        ("HC1NCFOXN", "looks like an EU Digital COVID Certificate but lacks ':' after 'HC1'"),
        ("hc1:NCFOXN", "'HC1:' in this case exactly"),
        ("\ufeffJKM1:6BF", "1 blank or byte-order-mark character before the prefix"),
        ("  JKM1:6BF", "2 blank or byte-order-mark characters before the prefix"),
        ("JKM2:6BF", "unsupported healthcred format version 'JKM2:'"),
        ("HC1:6BF", "this is an EU Digital COVID Certificate ('HC1:')"),
        ("hello", "does not start with a known prefix"),
    ],
)
def test_prefix_errors_name_what_was_expected_and_seen(text: str, says: str) -> None:
    """Misleading error: a near-miss ``shc:5676…`` was told only "does not start with 'JKM1:'"."""
    with pytest.raises(BadPrefix) as info:
        strip_prefix(text)
    message = info.value.message
    assert says in message
    assert "expected 'JKM1:'" in message
    assert repr(text[:8] + ("…" if len(text) > 8 else "")) in message
    assert all(repr(prefix) in message for prefix in KNOWN_PREFIXES)


def test_an_empty_image_says_it_is_empty() -> None:
    """An empty file (a failed camera save) is told as empty, not as an unknown format."""
    with pytest.raises(BadImage, match="empty"):
        read_qr(b"")
