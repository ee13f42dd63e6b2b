"""Reading NAL unit headers of H.264 and HEVC packets, to find safe seek points.

A container's keyframe flag is not enough to seek on: an H.264 I-frame that is
not an IDR picture (or an HEVC picture that is not IRAP) can be followed by
frames that reference pictures before it, so decoding from it gives corrupted
frames. Decoding can safely start only at an IDR (H.264) or IRAP (HEVC) picture.
"""

from __future__ import annotations

import re

H264_IDR = 5
HEVC_IRAP = range(16, 22)

_X264_BUILD = re.compile(rb"x264 - core (\d+)")
_START_CODE = b"\x00\x00\x01"


def nal_length_size(codec: str, extradata: bytes | None) -> int | None:
    """Bytes of the length prefix before each NAL unit of a stream's packets.

    Args:
        codec: Codec name, e.g. "h264" or "hevc".
        extradata: The stream's codec extradata (avcC/hvcC record or Annex-B).

    Returns:
        1 to 4 for length-prefixed packets (mp4, mkv), None for Annex-B packets
        (start codes, as in MPEG-TS) or codecs other than H.264 and HEVC.
    """
    if not extradata or extradata.startswith((_START_CODE, b"\x00" + _START_CODE)):
        return None
    if codec == "h264" and extradata[0] == 1 and len(extradata) >= 7:
        return (extradata[4] & 3) + 1
    if codec == "hevc" and len(extradata) >= 23:
        return (extradata[21] & 3) + 1
    return None


def nal_unit_types(codec: str, data: bytes, length_size: int | None) -> list[int]:
    """NAL unit types in one packet, in order.

    Args:
        codec: "h264" or "hevc".
        data: The packet's bytes.
        length_size: Length prefix size from `nal_length_size`; None for Annex-B.

    Returns:
        The `nal_unit_type` of every NAL unit found.
    """
    headers = (
        _annexb_headers(data)
        if length_size is None
        else _length_prefixed_headers(data, length_size)
    )
    if codec == "hevc":
        return [(h >> 1) & 0x3F for h in headers]
    return [h & 0x1F for h in headers]


def is_random_access(codec: str, data: bytes, length_size: int | None) -> bool:
    """Whether decoding can start at this keyframe packet and be exact.

    Args:
        codec: Codec name.
        data: The packet's bytes.
        length_size: Length prefix size from `nal_length_size`; None for Annex-B.

    Returns:
        For H.264 whether the packet holds an IDR slice, for HEVC whether it holds
        an IRAP picture; True for any other codec (its keyframe flag is trusted).
    """
    if codec == "h264":
        return H264_IDR in nal_unit_types(codec, data, length_size)
    if codec == "hevc":
        return any(t in HEVC_IRAP for t in nal_unit_types(codec, data, length_size))
    return True


def find_x264_build(data: bytes) -> int | None:
    """The x264 build number from the encoder's SEI message, if the data holds one.

    FFmpeg works around bugs of old x264 builds (e.g. 4:4:4 streams before build
    151) only when it knows the build, which it reads from this SEI in the first
    frame. A decoder that starts after a seek never sees it and decodes such
    streams wrongly unless told the build.

    Args:
        data: Packet bytes, usually the first packet of the stream.

    Returns:
        The build number, or None if no x264 SEI is found.
    """
    match = _X264_BUILD.search(data)
    return int(match.group(1)) if match else None


def _length_prefixed_headers(data: bytes, length_size: int) -> list[int]:
    headers = []
    pos = 0
    while pos + length_size < len(data):
        size = int.from_bytes(data[pos : pos + length_size], "big")
        if size:
            headers.append(data[pos + length_size])
        pos += length_size + size
    return headers


def _annexb_headers(data: bytes) -> list[int]:
    headers = []
    pos = data.find(_START_CODE)
    while 0 <= pos < len(data) - 3:
        headers.append(data[pos + 3])
        pos = data.find(_START_CODE, pos + 3)
    return headers
