"""QR images: render with segno (default) or zxing-cpp, read with zxing-cpp (default) or pyzbar.

Rendering keeps the 4-module quiet zone and error correction Q by default.
The two encoders write the same data bits at the same version and level; they
may choose a different mask pattern (see :func:`render_qr`). segno is the
default because its output is the reference; zxing-cpp is ~15× faster (segno
spends most of its time scoring the eight masks in Python), which matters when
rendering thousands of codes.
Reading takes PNG and JPEG only, told by their magic bytes, refuses an image
whose header declares a size outside the bounds before Pillow decodes it
(:mod:`healthcred.codec.images`), refuses images that hold more than one
distinct QR text (a verifier must not guess), and maps every failure of Pillow or a backend to a
typed :class:`~healthcred.errors.QRError`.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from healthcred.codec import fast
from healthcred.codec.images import IMAGE_FORMATS, MAX_IMAGE_FILE_BYTES, MAX_IMAGE_PIXELS, check_size, sniff
from healthcred.codec.png import modules_png
from healthcred.errors import BadImage, BadInput, QRBackendUnavailable, QRError, QRNotFound
from healthcred.files import write_atomic

if TYPE_CHECKING:  # segno and Pillow are imported where used: a verifier of QR text never loads them
    import segno
    from PIL import Image

__all__ = [
    "IMAGE_FORMATS",
    "MAX_IMAGE_PIXELS",
    "Backend",
    "Encoder",
    "ErrorLevel",
    "Kind",
    "check_encoder",
    "dark_runs",
    "qr_matrix",
    "qr_rows",
    "qr_version",
    "read_qr",
    "render_qr",
    "save_qr",
]

ErrorLevel = Literal["L", "M", "Q", "H"]
"""QR error correction level: about 7, 15, 25 or 30 % of the code words can be restored."""
Kind = Literal["png", "svg"]
"""Image kind :func:`render_qr` produces."""
Backend = Literal["zxing", "pyzbar"]
"""QR reader :func:`read_qr` uses."""
Encoder = Literal["segno", "zxing"]
"""QR encoder :func:`render_qr` and :func:`qr_matrix` use."""

_KINDS: tuple[Kind, ...] = ("png", "svg")
_LEVELS: tuple[ErrorLevel, ...] = ("L", "M", "Q", "H")
_SUFFIX_KINDS: dict[str, Kind] = {".png": "png", ".svg": "svg"}
_PYZBAR_HINT = (
    "install `healthcred[pyzbar]` (pip install 'healthcred[pyzbar]') and the system library libzbar0"
)


def _check_text(text: object, error: object) -> None:
    if not isinstance(text, str) or not text:
        raise BadInput("QR text must be a non-empty string")
    if error not in _LEVELS:
        raise BadInput(f"error correction level must be L, M, Q or H, not {error!r}")


def _make(text: str, error: str) -> segno.QRCode:
    _check_text(text, error)
    import segno

    try:
        # boost_error=False: the level is what the caller asked for, so sizes
        # and reports are reproducible. No mode is forced: uppercase Base45
        # texts get segno's compact alphanumeric mode on their own.
        return segno.make_qr(text, error=error, boost_error=False)
    except segno.DataOverflowError as exc:
        raise BadInput(f"text of {len(text)} characters does not fit in a QR code at level {error}") from exc
    except ValueError as exc:  # segno refuses some inputs (e.g. unencodable text) with ValueError
        raise BadInput(f"segno cannot encode this text: {exc}") from exc


# The level's 2-bit code in the QR format information (ISO/IEC 18004 Table 12).
_FORMAT_LEVEL = {"L": 1, "M": 0, "Q": 3, "H": 2}
# zxing-cpp 3.1's option string drops its first key, hence the leading comma. Were a later release
# to ignore the option, zint would score the masks itself: slower, the same symbol.
_ONE_MASK = ",dataMask=0"


def _zxing_bitmap(text: str, error: str) -> tuple[bytes, int]:
    """``text`` encoded by zxing-cpp: one byte per module, row by row (0 dark), no quiet zone; its side.

    With the C extension, zxing-cpp encodes with one fixed mask and ``_fast.qr_remask`` picks the
    mask as zint scores them, ~6× faster than zint's own choice and the same symbol (tested).
    """
    _check_text(text, error)
    import zxingcpp

    native = fast.native
    options = "" if native is None else _ONE_MASK  # without the chooser, zint scores the masks
    try:
        barcode = zxingcpp.create_barcode(
            text, zxingcpp.BarcodeFormat.QRCode, ec_level=error, options=options
        )
        bitmap = barcode.to_image(scale=1, add_quiet_zones=False)
    except (ValueError, RuntimeError) as exc:  # "Input too long for ECC level Q", unencodable input
        raise BadInput(f"zxing-cpp cannot encode this text at level {error}: {exc}") from exc
    pixels: Any = bitmap  # a buffer of one byte per module; the stub does not declare the protocol
    modules, size = bytes(pixels), bitmap.shape[1]
    if native is not None:
        best = native.qr_remask(modules, size, _FORMAT_LEVEL[error])
        if best is not None:
            return best, size
    return modules, size


_DARK_PIXEL = bytes(v < 128 for v in range(256))


def check_encoder(encoder: object) -> None:
    """Raise :class:`BadInput` unless ``encoder`` is ``"segno"`` or ``"zxing"`` (before any work is done)."""
    if encoder not in ("segno", "zxing"):
        raise BadInput(f"encoder must be 'segno' or 'zxing', not {encoder!r}")


def qr_rows(text: str, *, error: ErrorLevel = "Q", encoder: Encoder = "segno") -> tuple[bytes, ...]:
    """The modules of ``text``'s QR code as one ``bytes`` a row (1 dark, 0 light), no quiet zone.

    What the printers draw from: a row of bytes splits into its dark runs in C
    (:func:`dark_runs`), where a tuple of booleans costs a Python object a module.
    """
    check_encoder(encoder)
    if encoder == "zxing":
        bitmap, size = _zxing_bitmap(text, error)
        data = bitmap.translate(_DARK_PIXEL)  # 1 for a dark module, 0 for a light one
        return tuple(data[start : start + size] for start in range(0, size * size, size))
    return tuple(bytes(row) for row in _make(text, error).matrix)  # segno's rows are 0/1 already


def qr_matrix(
    text: str, *, error: ErrorLevel = "Q", encoder: Encoder = "segno"
) -> tuple[tuple[bool, ...], ...]:
    """The modules of ``text``'s QR code, row by row (``True`` dark), without the quiet zone."""
    return tuple(tuple(map(bool, row)) for row in qr_rows(text, error=error, encoder=encoder))


def dark_runs(row: bytes | tuple[bool, ...]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in one matrix row: what vector renderers draw."""
    # Light modules are 0 bytes: splitting on them leaves the dark runs (C), their lengths give
    # the starts.
    runs, start = [], 0
    for piece in bytes(row).split(b"\0"):
        if piece:
            runs.append((start, len(piece)))
        start += len(piece) + 1
    return runs


def _svg_from_matrix(matrix: tuple[tuple[bool, ...], ...], scale: int, border: int) -> bytes:
    """A standalone SVG of ``matrix``: one path of horizontal runs, like segno writes."""
    size = len(matrix) + 2 * border
    runs = [
        f"M{start + border} {y + border + 0.5}h{length}"
        for y, row in enumerate(matrix)
        for start, length in dark_runs(row)
    ]
    side = size * scale
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{side}" height="{side}" viewBox="0 0 {size} {size}">'
        f'<path stroke="#000" d="{"".join(runs)}"/></svg>\n'
    ).encode()


def qr_version(text: str, error: ErrorLevel = "Q") -> int:
    """The QR version (1–40) segno picks for ``text`` at error correction level ``error``."""
    # make_qr never yields a Micro QR, whose versions are strings ("M1"…).
    return int(_make(text, error).version)


def render_qr(
    text: str,
    *,
    kind: Kind = "png",
    error: ErrorLevel = "Q",
    scale: int = 4,
    border: int = 4,
    encoder: Encoder = "segno",
) -> bytes:
    """Render ``text`` as one QR code and return PNG or SVG bytes.

    ``scale`` is pixels (PNG) or units (SVG) per module; ``border`` is the
    quiet zone in modules, 4 by default as the QR standard asks: scanners find
    codes with a narrower margin less reliably. Raises :class:`BadInput` for an
    empty text, a text too long for any QR code, or a bad argument.

    ``encoder="zxing"`` encodes with zxing-cpp (~1 ms instead of ~18 ms for a
    native code): same mode, version, error correction level and data bits as
    segno, but zxing-cpp scores the masks differently, so in about one code in
    five it picks another of the eight mask patterns. Both are valid QR codes of
    the same text; the PNG is 1-bit greyscale either way, the same size (zxing's
    is written by :func:`healthcred.codec.png.modules_png`, without Pillow).
    """
    if kind not in _KINDS:
        raise BadInput(f"kind must be 'png' or 'svg', not {kind!r}")
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise BadInput(f"scale must be an integer ≥ 1, not {scale!r}")
    if isinstance(border, bool) or not isinstance(border, int) or border < 0:
        raise BadInput(f"border must be an integer ≥ 0, not {border!r}")
    check_encoder(encoder)
    if encoder == "zxing":
        if kind == "svg":
            return _svg_from_matrix(qr_matrix(text, error=error, encoder="zxing"), scale, border)
        modules, size = _zxing_bitmap(text, error)
        return modules_png(modules, size, scale=scale, border=border)  # no Pillow: ~15× faster
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
    encoder: Encoder = "segno",
) -> None:
    """Write ``text`` as a QR image file; the kind follows the suffix (``.png`` or ``.svg``) unless given."""
    if not isinstance(path, str | os.PathLike):
        raise BadInput(f"path must be a str or os.PathLike, not {type(path).__name__}")
    try:
        target = Path(path)
    except TypeError as exc:  # a PathLike that yields bytes
        raise BadInput(f"path must name a file as text: {exc}") from exc
    chosen = kind if kind is not None else _SUFFIX_KINDS.get(target.suffix.lower())
    if chosen is None:
        raise BadInput(f"cannot tell the image kind of {target}: use .png or .svg, or pass kind=")
    data = render_qr(text, kind=chosen, error=error, scale=scale, border=border, encoder=encoder)
    write_atomic(target, data)


def _load_source(image: object) -> bytes:
    """The bytes of a path or bytes-like ``image``, bounded in size."""
    if isinstance(image, str | os.PathLike):
        try:
            name = os.fspath(image)
            # Check the size first so a huge file is never read into memory.
            if os.path.getsize(name) > MAX_IMAGE_FILE_BYTES:
                raise BadImage(f"{name!r} is larger than {MAX_IMAGE_FILE_BYTES} bytes")
            with open(name, "rb") as handle:
                return handle.read(MAX_IMAGE_FILE_BYTES + 1)
        except OSError as exc:
            raise BadImage(f"cannot read image file {image!r}: {exc.strerror or exc}") from exc
        except (TypeError, ValueError) as exc:  # a bytes PathLike, a NUL in the name
            raise BadInput(f"not a usable image path: {image!r}") from exc
    if isinstance(image, bytes | bytearray | memoryview):
        return bytes(image)
    raise BadInput(f"an image is a path, image bytes or a PIL image, not {type(image).__name__}")


def _open(image: object) -> Image.Image:
    """A Pillow image for ``image``, not yet decoded when it came as a path or bytes.

    Bytes reach Pillow only as a PNG or JPEG whose header declares a size inside
    the bounds (:func:`~healthcred.codec.images.sniff`); ``Image.open`` then reads
    the header again, lazily, and must agree with it.
    """
    from PIL import Image

    if isinstance(image, Image.Image):
        check_size(*image.size)
        return image
    source = _load_source(image)
    if len(source) > MAX_IMAGE_FILE_BYTES:
        raise BadImage(f"image is larger than {MAX_IMAGE_FILE_BYTES} bytes")
    declared = sniff(source)
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own bound; make that a refusal too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(declared.data), formats=(declared.format,))
    except (
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as exc:
        raise BadImage(f"not a {declared.format} image this reader opens: {exc}") from exc
    if picture.size != (declared.width, declared.height):
        size = f"{declared.width} × {declared.height}"
        raise BadImage(f"{declared.format} header declares {size} pixels; the decoder reads {picture.size}")
    return picture


def _greyscale(picture: Image.Image) -> Image.Image:
    """Decode ``picture`` (its first frame) to 8-bit grey on a white background."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if "A" in picture.mode or "transparency" in picture.info:
                # Why: a code saved with a transparent background has light
                # modules that are often transparent *black*; dropping the alpha
                # channel would make them dark and the code unreadable. Grey and
                # alpha planes (2 bytes a pixel) rather than RGBA ones (8).
                grey_alpha = picture.convert("LA")
                white = Image.new("L", picture.size, 255)
                white.paste(grey_alpha.getchannel("L"), mask=grey_alpha.getchannel("A"))
                return white
            return picture.convert("L")
    except (
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as exc:
        raise BadImage(f"image cannot be decoded: {exc}") from exc


def _read_zxing(picture: Image.Image) -> list[str]:
    try:
        import zxingcpp
    except ImportError as exc:  # pragma: no cover - a required dependency
        raise QRBackendUnavailable("the zxing backend needs zxing-cpp (pip install zxing-cpp)") from exc
    try:
        found = zxingcpp.read_barcodes(
            picture,
            formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode),
            # Plain: the decoded text as is. The default (HRI) rewrites control
            # characters as "<HT>", "<NUL>"…, which is not the text encoded.
            text_mode=zxingcpp.TextMode.Plain,
        )
    except (ValueError, RuntimeError, TypeError) as exc:
        raise BadImage(f"zxing-cpp cannot read this image: {exc}") from exc
    # zxing-cpp 3 counts Micro QR into the QRCode filter; only full QR codes
    # carry health codes (and pyzbar sees only those), so keep those alone.
    return [str(b.text) for b in found if b.valid and b.format == zxingcpp.BarcodeFormat.QRCode]


def _read_pyzbar(picture: Image.Image) -> list[str]:
    try:
        # Loading pyzbar loads libzbar: ImportError or OSError when it is missing.
        from pyzbar import pyzbar
    except (ImportError, OSError) as exc:
        raise QRBackendUnavailable(f"the pyzbar backend is not available: {_PYZBAR_HINT}") from exc
    try:
        found = pyzbar.decode(picture, symbols=[pyzbar.ZBarSymbol.QRCODE])
    except (pyzbar.PyZbarError, ValueError, TypeError, OSError) as exc:
        raise BadImage(f"pyzbar cannot read this image: {exc}") from exc
    texts = []
    for symbol in found:
        try:
            texts.append(bytes(symbol.data).decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise QRNotFound("a QR code was found but does not hold UTF-8 text") from exc
    return texts


def read_qr(image: str | os.PathLike[str] | bytes | Image.Image, *, backend: Backend = "zxing") -> str:
    """The text of the one QR code in ``image``: a path, PNG or JPEG bytes, or a PIL image.

    Raises :class:`BadImage` for something that is not a readable PNG or JPEG,
    or whose declared size is outside the bounds of :mod:`healthcred.codec.images`
    (:data:`MAX_IMAGE_PIXELS`, a side, the aspect), :class:`QRNotFound` when no QR code
    is found, :class:`QRError` when the image holds several different QR codes
    (the same code twice counts once), :class:`QRBackendUnavailable` when the
    chosen backend is not installed, and :class:`BadInput` for an argument of
    the wrong type.
    """
    if backend not in ("zxing", "pyzbar"):
        raise BadInput(f"backend must be 'zxing' or 'pyzbar', not {backend!r}")
    picture = _greyscale(_open(image))
    texts = _read_zxing(picture) if backend == "zxing" else _read_pyzbar(picture)
    distinct = list(dict.fromkeys(texts))
    if not distinct:
        raise QRNotFound("no readable QR code in the image")
    if len(distinct) > 1:
        # Which one was meant is not knowable; picking one could verify the wrong code.
        raise QRError(f"image holds {len(distinct)} different QR codes; crop to one")
    return distinct[0]
