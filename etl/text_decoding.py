"""Which encoding a source's text is read with, and the legacy conversion after reading.

Order of authority: the operator's `encoding`, then a Shapefile's `.cpg`, then its DBF
language byte, then detection per column (etl.encodings). Legacy text (TCVN3, VNI,
Windows-1258, or an unknown single-byte code page) is read as latin-1, which keeps every
byte, and converted by etl.encodings; UTF-8 is read as UTF-8 and normalised to NFC.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from etl.archives import UNREADABLE_ZIP_ERRORS
from etl.encodings import UnknownEncoding, canonical_encoding, decode_frame
from etl.errors import ImportRefused

LATIN1 = "ISO-8859-1"  # latin-1, under the name both GDAL (iconv) and Python know
# DBF language driver ids that name a code page we can act on (0x00: none declared).
DBF_LDID = {0x57: None, 0x03: None, 0x01: None}  # ANSI / cp1252 / cp437: legacy, detect
UTF8_CPG = ("utf-8", "utf8", "65001")


@dataclass(frozen=True)
class TextPlan:
    """How to read a source's text: `read` goes to the reader, `convert` to decode_frame."""

    read: str | None          # encoding the reader decodes bytes with (None: its default)
    convert: str | None       # legacy encoding to convert from, or None to detect
    detect: bool              # run per-column detection after reading
    origin: str               # why: "operator", ".cpg", "dbf", "detect", "utf-8"


def _shapefile_sidecar(path: Path, suffix: str) -> bytes | None:
    """The bytes of `<stem><suffix>` beside a .shp, or inside the zip that holds it."""
    if path.suffix.lower() == ".shp":
        for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate.read_bytes()[:4096]
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if PurePosixPath(n).suffix.lower() == suffix
                     and not n.startswith("__MACOSX/")]
            return zf.read(names[0])[:4096] if len(names) == 1 else None
    except (*UNREADABLE_ZIP_ERRORS, OSError):
        return None  # unreadable: the reader refuses the archive with the reason


def _legacy_or_utf8(name: str, origin: str) -> TextPlan:
    if name.strip().lower() in UTF8_CPG:
        return TextPlan("utf-8", None, False, origin)
    try:
        enc = canonical_encoding(name)
    except UnknownEncoding:  # e.g. a .cpg saying 1252 or ANSI: TCVN3/VNI often hide there
        return TextPlan(LATIN1, None, True, origin)
    if enc == "utf-8":
        return TextPlan("utf-8", None, False, origin)
    return TextPlan(LATIN1, enc, False, origin)


def plan_text(path: Path, fmt: str, encoding: str | None) -> TextPlan:
    """Decide how `path` (of format `fmt`) is read; refuses an unknown operator encoding."""
    if encoding:
        try:
            canonical_encoding(encoding)
        except UnknownEncoding as exc:
            raise ImportRefused(str(exc)) from None
        return _legacy_or_utf8(encoding, "operator")
    if fmt == "ESRI Shapefile":
        cpg = _shapefile_sidecar(path, ".cpg")
        if cpg and cpg.strip():
            return _legacy_or_utf8(cpg.decode("ascii", "replace").strip(), ".cpg")
        dbf = _shapefile_sidecar(path, ".dbf")
        if dbf and len(dbf) > 29 and dbf[29] not in DBF_LDID and dbf[29] != 0:
            return TextPlan(None, None, True, "dbf")  # GDAL maps the declared code page
        return TextPlan(LATIN1, None, True, "detect")
    if fmt == "CSV":
        raw = path.read_bytes()[: 1 << 22]
        try:
            raw.decode("utf-8")
            return TextPlan("utf-8-sig", None, True, "utf-8")
        except UnicodeDecodeError as exc:
            if exc.start > len(raw) - 4:  # cut inside a character at the sample's end
                return TextPlan("utf-8-sig", None, True, "utf-8")
            return TextPlan(LATIN1, None, True, "detect")
    # GeoJSON and GeoPackage are UTF-8 by definition; legacy text inside still shows up as
    # latin-1-range characters, which detection recognises.
    return TextPlan(None, None, True, "utf-8")


def _nfc(frame: pd.DataFrame) -> pd.DataFrame:
    """NFC for text already decoded as Unicode (only non-ASCII values are looked at)."""
    return decode_frame(frame, "unicode")[0]


def decode_text(frame: pd.DataFrame, plan: TextPlan) -> tuple[pd.DataFrame, list[str]]:
    """Convert the frame's text per plan; the warnings say what was found, per column."""
    decoder = TextDecoder(plan)
    return decoder.decode(frame), decoder.warnings()


class TextDecoder:
    """decode_text over a source read in batches: one decision per column, warnings at the end."""

    def __init__(self, plan: TextPlan):
        self.plan = plan
        self.decided: dict[str, tuple[str, float]] = {}
        self.report: dict[str, dict] = {}
        self.rows = 0

    def decode(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The batch converted; row positions in the report count from the source's start."""
        offset, self.rows = self.rows, self.rows + len(frame)
        if self.plan.convert is None and not self.plan.detect:
            return _nfc(frame)
        frame, report = decode_frame(frame, self.plan.convert, self.decided)  # NFC included
        for column, entry in report.items():
            total = self.report.setdefault(column, dict(entry, changed=0, lost_u_horn=[]))
            if entry["encoding"] not in ("ascii",) or total["encoding"] == "ascii":
                total.update(encoding=entry["encoding"], confidence=entry["confidence"],
                             converted=entry["converted"])
            total["changed"] += entry["changed"]
            total["lost_u_horn"] += [offset + i for i in entry["lost_u_horn"]]
        return frame

    def warnings(self) -> list[str]:
        """What was found, per column, over every batch decoded so far."""
        warnings = []
        plan = self.plan
        for column, entry in self.report.items():
            if entry["converted"] and entry["changed"]:
                warnings.append(f"text column {column}: {entry['encoding']} ({plan.origin}, "
                                f"confidence {entry['confidence']}), {entry['changed']} values "
                                "converted to Unicode")
            elif not entry["converted"] and entry["encoding"] not in ("ascii", "unicode"):
                warnings.append(f"text column {column}: encoding unclear (best guess "
                                f"{entry['encoding']}, confidence {entry['confidence']}); left "
                                "as read; give --encoding to convert it")
            if entry["lost_u_horn"]:
                rows = ", ".join(str(i + 1) for i in entry["lost_u_horn"][:10])
                warnings.append(f"text column {column}: {len(entry['lost_u_horn'])} values "
                                f"probably lost a TCVN3 'ư' (byte 0xAD deleted by some tool), "
                                f"rows {rows}")
        return warnings
