"""Several byte ranges of a file in one response (multipart/byteranges, RFC 9110 §14.6).

Werkzeug serves one range (`send_file(conditional=True)`) and refuses several with a 416;
GDAL's /vsicurl/ may ask for several at once, so those are answered here.
"""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Iterator

MAX_RANGES = 64
CHUNK = 1 << 16


def resolve_ranges(ranges: list[tuple[int, int | None]], size: int) -> list[tuple[int, int]]:
    """Werkzeug's (start, stop) pairs as absolute [start, stop) within the file.

    A suffix range (-n, None) is the last n bytes; a range starting at or past the end is
    unsatisfiable and dropped.
    """
    resolved = []
    for start, stop in ranges:
        if start < 0:
            start, stop = max(size + start, 0), size
        stop = size if stop is None else min(stop, size)
        if start < stop:
            resolved.append((start, stop))
    return resolved


def multipart_body(path: Path, ranges: list[tuple[int, int]], size: int, media_type: str,
                   boundary: str) -> Iterator[bytes]:
    """The parts, each with its Content-Type and Content-Range, streamed from the file."""
    with open(path, "rb") as fh:
        for start, stop in ranges:
            yield (f"--{boundary}\r\nContent-Type: {media_type}\r\n"
                   f"Content-Range: bytes {start}-{stop - 1}/{size}\r\n\r\n").encode()
            fh.seek(start)
            left = stop - start
            while left > 0:
                data = fh.read(min(CHUNK, left))
                if not data:
                    break
                left -= len(data)
                yield data
            yield b"\r\n"
    yield f"--{boundary}--\r\n".encode()


def multipart_length(ranges: list[tuple[int, int]], size: int, media_type: str,
                     boundary: str) -> int:
    """The byte length multipart_body yields, for Content-Length."""
    total = len(f"--{boundary}--\r\n")
    for start, stop in ranges:
        total += len(f"--{boundary}\r\nContent-Type: {media_type}\r\n"
                     f"Content-Range: bytes {start}-{stop - 1}/{size}\r\n\r\n")
        total += stop - start + 2
    return total


def new_boundary() -> str:
    """A multipart boundary that cannot occur in the file's bytes by chance."""
    return "gisapp-" + secrets.token_hex(12)
