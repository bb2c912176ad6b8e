"""Image sizes read from headers before any pixel is decoded: bombs and empty photos are refused cheaply."""

from __future__ import annotations

import struct
import tracemalloc
import zlib

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.face.detect import ImageDecodeError, decode_image
from backend.face.imagesize import ImageHeaderError, check_image_size, image_size


def jpeg_claiming(width: int, height: int, padding: int = 7000) -> bytes:
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + bytes.fromhex("011100021100031100")
    scan = b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    return b"\xff\xd8" + app0 + sof + scan + b"\x00" * padding + b"\xff\xd9"


def png_claiming(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk


def real(ext: str, width: int = 64, height: int = 48) -> bytes:
    ok, data = cv2.imencode(ext, np.full((height, width, 3), 128, dtype=np.uint8))
    assert ok
    return data.tobytes()


@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_real_images_report_their_size(ext):
    assert image_size(real(ext, 64, 48)) == (64, 48)
    assert decode_image(real(ext, 64, 48)).shape == (48, 64, 3)


def test_progressive_jpeg_size_is_read():
    ok, data = cv2.imencode(".jpg", np.zeros((30, 70, 3), np.uint8), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    assert ok and image_size(data.tobytes()) == (70, 30)


@pytest.mark.parametrize(
    "bomb", [jpeg_claiming(16000, 16000), png_claiming(16000, 16000), png_claiming(1, 10**6)]
)
def test_bombs_are_refused_without_decoding(bomb):
    tracemalloc.start()
    try:
        with pytest.raises(ImageDecodeError, match="too large"):
            decode_image(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # decoding would have allocated 768 MB


@pytest.mark.parametrize(
    "data", [b"", b"\xff\xd8", b"\xff\xd8\xff\xda\x00\x02", b"GIF89a....", b"\x89PNG\r\n\x1a\n"]
)
def test_empty_and_headless_images_are_unreadable(data):
    with pytest.raises(ImageDecodeError):
        decode_image(data)


def test_size_limits():
    assert check_image_size(jpeg_claiming(4096, 4096)) == (4096, 4096)
    with pytest.raises(ImageHeaderError):
        check_image_size(jpeg_claiming(4097, 4096))
    with pytest.raises(ImageHeaderError):
        check_image_size(jpeg_claiming(0, 10))


@settings(max_examples=300, derandomize=True)
@given(st.binary(max_size=64).map(lambda b: b"\xff\xd8" + b) | st.binary(max_size=64))
def test_any_bytes_are_a_size_or_a_header_error(data):
    try:
        width, height = image_size(data)
    except ImageHeaderError:
        return
    assert width >= 0 and height >= 0
