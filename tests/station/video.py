"""A fake-camera video for the browser test: real codes, each held for a while, as a Y4M file.

Chromium's ``--use-file-for-fake-video-capture`` plays a Y4M (4:2:0) file as the camera, in a
loop, at the file's frame rate. Each frame carries its number in the top-left corner
(:data:`MARKER_BITS` black/white cells of :data:`MARKER_CELL` pixels, read by the page only in
its ``#stats`` mode), so the test knows which frame the page was looking at when it read a code.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from healthcred.codec.qr import render_qr

__all__ = ["FPS", "HEIGHT", "MARKER_BITS", "MARKER_CELL", "WIDTH", "Shot", "write_y4m"]

WIDTH, HEIGHT = 640, 480
FPS = 15
MARKER_BITS = 12  # as in static/station.js
MARKER_CELL = 16


@dataclass(frozen=True)
class Shot:
    """One stretch of the video: a code's text (or ``None``: no code) held for ``frames`` frames."""

    text: str | None
    frames: int


def _code_image(text: str) -> Image.Image:
    png = render_qr(text, scale=5, border=4)
    image = Image.open(io.BytesIO(png)).convert("L")
    side = min(HEIGHT - 2 * MARKER_CELL - 16, max(image.size))
    return image.resize((side, side), Image.Resampling.NEAREST) if image.size[0] > side else image


def _planes(image: Image.Image, number: int) -> bytes:
    frame = image.copy()
    for bit in range(MARKER_BITS):  # the frame number, most significant bit first; black = 1
        on = (number >> (MARKER_BITS - 1 - bit)) & 1
        box = (bit * MARKER_CELL, 0, (bit + 1) * MARKER_CELL, MARKER_CELL)
        frame.paste(0 if on else 255, box)
    luma = frame.tobytes()
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    return luma + chroma + chroma


def write_y4m(path: Path, shots: Sequence[Shot]) -> list[int]:
    """Write the video; return the first frame number of each shot."""
    blank = Image.new("L", (WIDTH, HEIGHT), 200)
    starts: list[int] = []
    number = 0
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for shot in shots:
            starts.append(number)
            scene = blank.copy()
            if shot.text is not None:
                code = _code_image(shot.text)
                scene.paste(
                    code, ((WIDTH - code.size[0]) // 2, (HEIGHT - code.size[1]) // 2 + MARKER_CELL // 2)
                )
            for _ in range(shot.frames):
                out.write(b"FRAME\n" + _planes(scene, number))
                number += 1
    return starts
