"""The two app icons, drawn with a tiny PNG writer (run once; the PNGs are committed).

python -m adapters.teams.icons   # rewrites adapters/teams/assets/{color,outline}.png
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"
ACCENT = (0x46, 0x4E, 0xB8)  # Teams-like indigo
Pixel = tuple[int, int, int, int]


def png(width: int, height: int, pixel: Callable[[float, float], Pixel]) -> bytes:
    """An 8-bit RGBA PNG; ``pixel(x, y)`` gets coordinates scaled to 0..1."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # no filter
        for x in range(width):
            rows.extend(pixel((x + 0.5) / width, (y + 0.5) / height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _arrow(x: float, y: float) -> bool:
    """An upward arrow: a question going up to the experts."""
    head = 0.18 <= y <= 0.52 and abs(x - 0.5) <= (y - 0.18) * 0.95
    shaft = 0.5 <= y <= 0.84 and abs(x - 0.5) <= 0.11
    return head or shaft


def color(x: float, y: float) -> Pixel:
    return (255, 255, 255, 255) if _arrow(x, y) else (*ACCENT, 255)


def outline(x: float, y: float) -> Pixel:
    return (255, 255, 255, 255) if _arrow(x, y) else (0, 0, 0, 0)


def write_icons(target: Path = ASSETS) -> None:
    target.mkdir(parents=True, exist_ok=True)
    (target / "color.png").write_bytes(png(192, 192, color))
    (target / "outline.png").write_bytes(png(32, 32, outline))


if __name__ == "__main__":
    write_icons()
