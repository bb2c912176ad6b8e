"""An image's dimensions from its header alone, before anything is decoded (pure, no pixels touched).

A 7.8 KB JPEG may claim 16000x16000 pixels; decoding it costs 768 MB. Only JPEG and PNG are taken (what a
phone camera sends); anything else, or a header that cannot be read, is refused as unreadable.
"""

from __future__ import annotations

import struct

MAX_PIXELS = 4096 * 4096  # a 16 MP phone photo; decoded as BGR about 50 MB
MAX_SIDE = 8192

_PNG = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers: SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length


class ImageHeaderError(ValueError):
    """The bytes are not a JPEG or PNG whose size could be read, or the size is refused."""


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's frame header or a PNG's IHDR chunk."""
    if data.startswith(_PNG):
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise ImageHeaderError("a PNG without its IHDR header")
        return struct.unpack(">II", data[16:24])
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    raise ImageHeaderError("not a JPEG or PNG image")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    i, n = 2, len(data)
    while i + 4 <= n:  # every step moves forward at least two bytes: a header of any length ends the walk
        if data[i] != 0xFF:
            raise ImageHeaderError("a JPEG whose segments are malformed")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _STANDALONE:
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or the scan began before any frame header
            break
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if length < 2:
            raise ImageHeaderError("a JPEG whose segments are malformed")
        if marker in _SOF:
            if i + 9 > n or length < 7:
                break
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    raise ImageHeaderError("a JPEG without a frame header")


def check_image_size(data: bytes, max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE) -> tuple[int, int]:
    """The dimensions, or ImageHeaderError when the header is unreadable, empty or too large to decode."""
    width, height = image_size(data)
    if width <= 0 or height <= 0:
        raise ImageHeaderError("an image without pixels")
    if width > max_side or height > max_side or width * height > max_pixels:
        raise ImageHeaderError(f"{width}x{height} pixels is too large (at most {max_pixels // 1_000_000} MP)")
    return width, height
