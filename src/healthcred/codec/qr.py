"""QR images: render with segno, read with zxing-cpp (default) or pyzbar.

Rendering keeps the 4-module quiet zone and error correction Q by default.
Reading opens the image with Pillow under a pixel bound, refuses images that
hold more than one distinct QR text (a verifier must not guess), and maps
every failure of Pillow or a backend to a typed :class:`QRError`.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any, Literal

import segno
from PIL import Image

from healthcred.errors import BadImage, BadInput, QRBackendUnavailable, QRError, QRNotFound

__all__ = ["MAX_IMAGE_PIXELS", "qr_version", "read_qr", "render_qr", "save_qr"]

MAX_IMAGE_PIXELS = 40_000_000
"""Largest image (width × height) a reader opens; checked from the header, before decoding."""

_MAX_IMAGE_FILE_BYTES = 64 * 1024 * 1024

ErrorLevel = Literal["L", "M", "Q", "H"]
Kind = Literal["png", "svg"]
Backend = Literal["zxing", "pyzbar"]


def _make(text: str, error: str) -> segno.QRCode:
    if not isinstance(text, str) or not text:
        raise BadInput("QR text must be a non-empty string")
    if error not in ("L", "M", "Q", "H"):
        raise BadInput(f"error correction level must be L, M, Q or H, not {error!r}")
    try:
        return segno.make_qr(text, error=error, boost_error=False)
    except segno.DataOverflowError as exc:
        raise BadInput(f"text of {len(text)} characters does not fit in a QR code at level {error}") from exc


def qr_version(text: str, error: ErrorLevel = "Q") -> int:
    """The QR version (1–40) ``text`` needs at error correction level ``error``."""
    version = _make(text, error).version
    assert isinstance(version, int)
    return version


def render_qr(
    text: str, *, kind: Kind = "png", error: ErrorLevel = "Q", scale: int = 4, border: int = 4
) -> bytes:
    """Render ``text`` as one QR code: PNG or SVG bytes, level Q and a 4-module quiet zone by default."""
    if kind not in ("png", "svg"):
        raise BadInput(f"kind must be 'png' or 'svg', not {kind!r}")
    if not isinstance(scale, int) or scale < 1 or not isinstance(border, int) or border < 0:
        raise BadInput("scale must be ≥ 1 and border ≥ 0")
    code = _make(text, error)
    out = io.BytesIO()
    code.save(out, kind=kind, scale=scale, border=border)
    return out.getvalue()


def save_qr(
    text: str,
    path: str | os.PathLike[str],
    *,
    kind: Kind | None = None,
    error: ErrorLevel = "Q",
    scale: int = 4,
    border: int = 4,
) -> None:
    """Write ``text`` as a QR image file; the kind follows the suffix (``.png`` or ``.svg``) unless given."""
    target = Path(path)
    chosen = kind or target.suffix.lower().lstrip(".")
    if chosen not in ("png", "svg"):
        raise BadInput(f"cannot tell the image kind of {target}: use .png or .svg")
    data = render_qr(text, kind=chosen, error=error, scale=scale, border=border)  # type: ignore[arg-type]
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror}") from exc


def _open(image: Any) -> Image.Image:
    if isinstance(image, Image.Image):
        picture = image
    else:
        if isinstance(image, str | os.PathLike):
            try:
                if os.path.getsize(image) > _MAX_IMAGE_FILE_BYTES:
                    raise BadImage(f"{os.fspath(image)} is larger than {_MAX_IMAGE_FILE_BYTES} bytes")
                source: Any = Path(image).read_bytes()
            except OSError as exc:
                raise BadImage(f"cannot read {os.fspath(image)}: {exc.strerror}") from exc
        elif isinstance(image, bytes | bytearray | memoryview):
            source = bytes(image)
            if len(source) > _MAX_IMAGE_FILE_BYTES:
                raise BadImage(f"image is larger than {_MAX_IMAGE_FILE_BYTES} bytes")
        else:
            raise BadInput(f"an image is a path, bytes or a PIL image, not {type(image).__name__}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                picture = Image.open(io.BytesIO(source))
        except (
            OSError,
            ValueError,
            SyntaxError,
            Image.DecompressionBombWarning,
            Image.DecompressionBombError,
        ) as exc:
            raise BadImage(f"not an image this reader opens: {exc}") from exc
    width, height = picture.size
    if width * height > MAX_IMAGE_PIXELS or width < 1 or height < 1:
        raise BadImage(
            f"image of {width} × {height} pixels is outside the bounds (at most {MAX_IMAGE_PIXELS})"
        )
    try:
        return picture.convert("L")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise BadImage(f"image cannot be decoded: {exc}") from exc


def _read_zxing(picture: Image.Image) -> list[str]:
    try:
        import zxingcpp
    except ImportError as exc:  # pragma: no cover - a required dependency
        raise QRBackendUnavailable("zxing-cpp is not installed (pip install zxing-cpp)") from exc
    try:
        found = zxingcpp.read_barcodes(
            picture, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
        )
    except (ValueError, RuntimeError, TypeError) as exc:
        raise BadImage(f"zxing-cpp cannot read this image: {exc}") from exc
    return [str(b.text) for b in found if getattr(b, "valid", True)]


def _read_pyzbar(picture: Image.Image) -> list[str]:
    try:
        from pyzbar import pyzbar
    except (ImportError, OSError) as exc:
        raise QRBackendUnavailable(
            "the pyzbar backend needs `pip install 'healthcred[pyzbar]'` and the system library libzbar0"
        ) from exc
    try:
        found = pyzbar.decode(picture, symbols=[pyzbar.ZBarSymbol.QRCODE])
    except (ValueError, TypeError, OSError) as exc:
        raise BadImage(f"pyzbar cannot read this image: {exc}") from exc
    texts = []
    for symbol in found:
        try:
            texts.append(symbol.data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise QRNotFound("the QR code does not hold UTF-8 text") from exc
    return texts


def read_qr(image: str | os.PathLike[str] | bytes | Image.Image, *, backend: Backend = "zxing") -> str:
    """The text of the one QR code in ``image`` (a path, image bytes or a PIL image).

    Raises :class:`BadImage` for something that is not a readable image,
    :class:`QRNotFound` when no QR code is found, :class:`QRError` when the
    image holds several different QR codes, and :class:`QRBackendUnavailable`
    when the chosen backend is not installed.
    """
    if backend not in ("zxing", "pyzbar"):
        raise BadInput(f"backend must be 'zxing' or 'pyzbar', not {backend!r}")
    picture = _open(image)
    texts = _read_zxing(picture) if backend == "zxing" else _read_pyzbar(picture)
    distinct = list(dict.fromkeys(texts))
    if not distinct:
        raise QRNotFound("no readable QR code in the image")
    if len(distinct) > 1:
        raise QRError(f"the image holds {len(distinct)} different QR codes; crop it to one")
    return distinct[0]
