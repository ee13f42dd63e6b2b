from __future__ import annotations

import pytest

from etholoop.video.nal import (
    find_x264_build,
    is_random_access,
    nal_length_size,
    nal_unit_types,
)

SPS, PPS, SEI, IDR, NON_IDR = 0x67, 0x68, 0x06, 0x65, 0x41  # H.264 NAL header bytes
HEVC_CRA, HEVC_TRAIL = 21 << 1, 1 << 1  # HEVC NAL header first bytes


def annexb(*headers: int) -> bytes:
    return b"".join(
        b"\x00\x00\x00\x01" + bytes([h]) + b"\x88\x84\x00\x33" for h in headers
    )


def length_prefixed(*headers: int, size: int = 4) -> bytes:
    payload = b"\x88\x84\x00\x01\x02"
    return b"".join(
        (1 + len(payload)).to_bytes(size, "big") + bytes([h]) + payload for h in headers
    )


def test_h264_types_from_both_packet_layouts() -> None:
    assert nal_unit_types("h264", annexb(SPS, PPS, IDR), None) == [7, 8, 5]
    assert nal_unit_types("h264", length_prefixed(SEI, IDR), 4) == [6, 5]
    assert nal_unit_types("h264", length_prefixed(NON_IDR, size=2), 2) == [1]


def test_hevc_types() -> None:
    assert nal_unit_types("hevc", length_prefixed(HEVC_CRA, HEVC_TRAIL), 4) == [21, 1]


@pytest.mark.parametrize(
    ("codec", "data", "length_size", "expected"),
    [
        ("h264", annexb(SPS, PPS, IDR), None, True),
        ("h264", annexb(SEI, NON_IDR), None, False),  # open-GOP I-frame
        ("h264", length_prefixed(SEI, IDR), 4, True),
        ("h264", length_prefixed(NON_IDR), 4, False),
        ("hevc", length_prefixed(HEVC_CRA), 4, True),
        ("hevc", annexb(HEVC_TRAIL), None, False),
        ("wmv3", b"\x00\x01", None, True),  # other codecs: trust the keyframe flag
    ],
)
def test_is_random_access(
    codec: str, data: bytes, length_size: int | None, expected: bool
) -> None:
    assert is_random_access(codec, data, length_size) is expected


def test_nal_length_size() -> None:
    avcc = bytes([1, 0xF4, 0, 0x1E, 0xFF, 0xE1]) + bytes(10)
    assert nal_length_size("h264", avcc) == 4
    assert nal_length_size("h264", bytes([1, 0x64, 0, 0x1F, 0xFD, 0xE1, 0])) == 2
    hvcc = bytearray(30)
    hvcc[0], hvcc[21] = 1, 0x0F
    assert nal_length_size("hevc", bytes(hvcc)) == 4
    assert nal_length_size("h264", annexb(SPS, PPS)) is None
    assert nal_length_size("h264", None) is None
    assert nal_length_size("mpeg4", b"\x01\x02\x03\x04\x05\x06\x07") is None


def test_find_x264_build() -> None:
    sei = b"\x05\xff\xdc\x45x264 - core 148 r2643 5c65704 - H.264/MPEG-4 AVC codec"
    assert find_x264_build(length_prefixed(SEI) + sei) == 148
    assert find_x264_build(annexb(IDR)) is None
