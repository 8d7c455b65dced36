"""Zip members this Python can read: the compression methods zipfile decompresses, no encryption.

Deflate64 (9), PPMd (98), Zstandard (93), AES (99) and other methods, and encrypted members,
would fail half-way through reading; the spool and the zipped-Shapefile reader refuse them
up front with a message naming the member and its method.
"""
from __future__ import annotations

import importlib.util
import zipfile
import zlib

METHOD_NAMES = {0: "stored", 8: "Deflate", 9: "Deflate64", 10: "PKWARE DCL Implode",
                12: "bzip2", 14: "LZMA", 93: "Zstandard", 95: "XZ", 96: "JPEG",
                97: "WavPack", 98: "PPMd", 99: "AES encryption"}
OPTIONAL_METHODS = {zipfile.ZIP_BZIP2: "bz2", zipfile.ZIP_LZMA: "lzma"}
READABLE_METHODS = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
    | {m for m, module in OPTIONAL_METHODS.items() if importlib.util.find_spec(module)})
ENCRYPTED = 0x1  # general purpose bit 0
# What reading a damaged or unsupported member raises: zipfile raises NotImplementedError for
# a compression method it lacks and RuntimeError for an encrypted member.
UNREADABLE_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
                         RuntimeError)


def unreadable_reason(member: zipfile.ZipInfo) -> str | None:
    """Why this member cannot be read ("… is encrypted", "… Deflate64 …"), or None."""
    if member.flag_bits & ENCRYPTED:
        return f"{member.filename!r} is encrypted; give an archive without a password"
    if member.compress_type not in READABLE_METHODS:
        method = METHOD_NAMES.get(member.compress_type, f"method {member.compress_type}")
        readable = ", ".join(METHOD_NAMES[m] for m in sorted(READABLE_METHODS))
        return (f"{member.filename!r} is compressed with {method}, which cannot be read; "
                f"re-zip it with one of: {readable}")
    return None
