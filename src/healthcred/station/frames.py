"""Camera frames read at the station: 8-bit grey pixels the page sends, decoded with zxing-cpp.

The station's other decoder (the page's own is jsQR, in the browser). Measured here
(docs/architecture.md): zxing-cpp reads a 640 × 480 grey frame in about 2 ms of CPU, against
40–60 ms for jsQR in the page, so the frame's trip over the loopback costs less than it saves.
"""

from __future__ import annotations

from healthcred.codec.qr import read_qr
from healthcred.errors import BadInput, QRBackendUnavailable, QRError

__all__ = ["MAX_FRAME_SIDE", "read_frame"]

MAX_FRAME_SIDE = 1920
"""The largest frame side the station reads (a 1080p camera's width)."""


def read_frame(pixels: bytes, width: int, height: int) -> str | None:
    """The QR text in a ``width`` × ``height`` grey frame, or ``None`` when it holds no code.

    A frame with several different codes is ``None`` too (the person shows one; the next
    frame decides). Sizes outside 16…:data:`MAX_FRAME_SIDE`, or pixels that do not fill
    the frame exactly, are :class:`BadInput`.
    """
    from PIL import Image  # only a station that reads frames loads Pillow for them

    if not (16 <= width <= MAX_FRAME_SIDE and 16 <= height <= MAX_FRAME_SIDE):
        raise BadInput(f"a frame is 16–{MAX_FRAME_SIDE} pixels a side")
    if len(pixels) != width * height:
        raise BadInput(f"a {width} × {height} grey frame is {width * height} bytes, not {len(pixels)}")
    try:
        return read_qr(Image.frombytes("L", (width, height), pixels))
    except QRBackendUnavailable:  # this station's setup, not the frame
        raise
    except QRError:  # no code, several codes, or a frame zxing-cpp refuses: nothing this frame
        return None
