"""``verify`` on image bytes: the vectors' QR images as PNG, JPEG, GIF, BMP, TIFF, WebP and PPM."""

from __future__ import annotations

import io
from collections.abc import Iterator
from itertools import islice

from fuzz import seeds
from fuzz.harness import Target
from fuzz.png_mutator import png_mutator
from fuzz.targets.common import verified
from fuzz.world import AT

_FORMATS = ("JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM")


def run(data: bytes) -> None:
    """Verify the image bytes at the vectors' validation time."""
    verified(data, AT)


def seed_inputs() -> Iterator[bytes]:
    """Eight of the vectors' QR PNGs, and the first one again in every other allowed format."""
    from PIL import Image

    pngs = list(islice(seeds.vector_images(), 8))
    yield from pngs
    image = Image.open(io.BytesIO(pngs[0])).convert("L")
    for fmt in _FORMATS:
        out = io.BytesIO()
        image.save(out, format=fmt)
        yield out.getvalue()


TARGET = Target("verify_image", run, seed_inputs, png_mutator)
