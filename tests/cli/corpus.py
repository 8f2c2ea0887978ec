"""The bad inputs the command-line contract is tested over, built once from a demo folder.

Each kind of input slot (a CODE, a JSON file, a key, a trust folder, a time, …) has its own list
of bad values; every one of them is something an operator has actually fed a command: the SVG
``issue --svg`` wrote, a photo with no QR, a family sheet with three codes, a GB18030 CSV, a huge
or truncated image, a folder where a file belongs, an absurd time.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

__all__ = ["HUGE_BYTES", "Bad", "build_corpus"]

HUGE_BYTES = 50 * 1024 * 1024
"""The size of the random file every file slot is given once (50 MB)."""


@dataclass(frozen=True)
class Bad:
    """One bad value for a slot: ``value`` is what goes on the command line, ``stdin`` what is piped."""

    label: str
    value: str
    stdin: bytes | None = None


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _oversized_png() -> bytes:
    # A valid header declaring 100,000 × 100,000 pixels over a few bytes of data.
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _three_codes_sheet(demo: Path, out: Path) -> None:
    codes = [Image.open(demo / "codes" / f"{name}.png").convert("L") for name in _CODE_NAMES]
    sheet = Image.new("L", (sum(c.width for c in codes) + 40 * len(codes), max(c.height for c in codes)), 255)
    left = 0
    for code in codes:
        sheet.paste(code, (left, 0))
        left += code.width + 40
    sheet.save(out)


_CODE_NAMES = ("green-hangzhou", "yellow-shanghai", "red-ningbo")


def build_corpus(demo: Path, folder: Path) -> dict[str, list[Bad]]:
    """Every slot kind's bad values, with their files written under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)

    def put(name: str, data: bytes) -> str:
        (folder / name).write_bytes(data)
        return str(folder / name)

    green_png = (demo / "codes" / "green-hangzhou.png").read_bytes()
    _three_codes_sheet(demo, folder / "three-codes.png")
    Image.new("RGB", (640, 480), (120, 160, 90)).save(folder / "photo.jpg")
    (folder / "a-folder").mkdir(exist_ok=True)
    deep = "[" * 100_000 + "]" * 100_000
    gb_text = "姓名,出生日期\n张三,1990-01-01\n".encode("gb18030")
    files = [
        Bad("empty file", put("empty.txt", b"")),
        Bad("binary", put("binary.bin", bytes(range(256)) * 16)),
        Bad("random 50 MB", put("huge.bin", os.urandom(HUGE_BYTES))),
        Bad("a folder", str(folder / "a-folder")),
        Bad("missing", str(folder / "no-such-file")),
        Bad("non-UTF-8 text", put("latin1.txt", "Grüße, café".encode("latin-1"))),
        Bad("GB18030 text", put("gb18030.txt", gb_text)),
        Bad("truncated PNG", put("truncated.png", green_png[: len(green_png) // 2])),
        Bad("oversized PNG", put("oversized.png", _oversized_png())),
        Bad("SVG", str(demo / "codes" / "green-hangzhou.svg")),
        Bad("PDF", str(demo / "codes" / "paper-grandmother-card.pdf")),
        Bad("three-code PNG", str(folder / "three-codes.png")),
        Bad("photo without QR", str(folder / "photo.jpg")),
        Bad("binding .cose", str(demo / "codes" / "binding-grandmother.cose")),
        Bad("PEM key", str(demo / "keys" / "zhejiang.pub.pem")),
        Bad("binary on stdin", "-", stdin=os.urandom(4096)),
    ]
    json_files = [
        *files,
        Bad("JSON array", put("array.json", b"[]")),
        Bad("JSON of another kind", put("other.json", json.dumps({"kind": "nothing", "x": 1}).encode())),
        Bad("deep JSON", put("deep.json", deep.encode())),
        Bad(
            "GB18030 JSON",
            put("gb18030.json", json.dumps({"姓名": "张三"}, ensure_ascii=False).encode("gb18030")),
        ),
    ]
    keys = [
        *files,
        Bad("JSON", put("key.json", b'{"kty": "EC"}')),
        Bad(
            "PEM with junk",
            put("junk.pem", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
        ),
        Bad(
            "a certificate-looking PEM",
            put("cert.pem", b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"),
        ),
    ]
    trust = _bad_trust_folders(folder)
    times = [
        Bad("epoch past 9999", "99999999999999999"),
        Bad("negative", "-1"),
        Bad("year 0", "0000-01-01T00:00:00Z"),
        Bad("month 13", "2026-13-01T00:00:00Z"),
        Bad("no offset", "2026-11-23T08:00:00"),
        Bad("words", "yesterday"),
        Bad("empty", ""),
        Bad("before 1970", "1900-01-01T00:00:00Z"),
    ]
    # An output keeps the file name the template gives it ({name}: a command may check its suffix).
    outputs = [
        Bad("under a file", str(folder / "binary.bin" / "{name}")),
        Bad("a folder", str(folder / "folders" / "{name}")),
        Bad("an empty name", ""),
    ]
    output_folders = [
        Bad("under a file", str(folder / "binary.bin" / "out")),
        Bad("a file", str(folder / "binary.bin")),
    ]
    return {
        "out": outputs,
        "outdir": output_folders,
        "code": files,
        "json": json_files,
        "key": keys,
        "pub": [
            *(b for b in keys if b.label != "PEM key"),
            Bad("private key", str(demo / "keys" / "zhejiang.key.pem")),
        ],
        "trust": trust,
        "time": times,
        "file": files,
        "list": files,
        "db": [b for b in files if b.label not in {"missing"}],
        "csv": [*files, Bad("GB18030 CSV with bad rows", put("gb.csv", gb_text))],
    }


def _bad_trust_folders(folder: Path) -> list[Bad]:
    def tree(name: str, files: dict[str, bytes]) -> str:
        root = folder / name
        for rel, data in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        root.mkdir(exist_ok=True)
        return str(root)

    return [
        Bad("missing trust folder", str(folder / "no-such-trust")),
        Bad("empty trust folder", tree("trust-empty", {})),
        Bad("a file for a folder", str(folder / "binary.bin")),
        Bad(
            "garbage list",
            tree("trust-garbage", {"anchors/root.pem": b"not a key", "lists/x.cose": b"\xff" * 64}),
        ),
        Bad("anchors only", tree("trust-anchors-only", {"lists/.keep": b""})),
    ]
