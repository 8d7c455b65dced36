"""The import spool: uploads, fetched URLs and referenced files copied under generated names.

Nothing a client sends reaches GDAL as a path: every file is written by us into
`data_dir/spool/<uuid>/`, archives are checked and unpacked by us (no `..`, absolute
paths, links, bombs), and only files whose content matches an allowed format are kept.
"""
from __future__ import annotations

import re
import shutil
import stat
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from etl.archives import UNREADABLE_ZIP_ERRORS, unreadable_reason
from gisapp.errors import BadRequest, PayloadTooLarge
from gisapp.settings import Settings

SOURCE_SUFFIXES = (".geojson", ".json", ".gpkg", ".csv", ".shp", ".osm", ".pbf")
SIDECAR_SUFFIXES = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
ARCHIVE_SUFFIX = ".zip"
MAX_NESTING = 2
CHUNK = 1 << 20
_SAFE_STEM = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Limits:
    """Size bounds for one import, from settings."""

    upload_bytes: int
    unpacked_bytes: int
    archive_files: int
    compression_ratio: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        return cls(settings.max_upload_mb << 20, settings.max_unpacked_mb << 20,
                   settings.max_archive_files, settings.max_compression_ratio)


def new_spool(data_dir: Path) -> Path:
    """A fresh private directory data_dir/spool/<uuid>/."""
    path = Path(data_dir) / "spool" / uuid.uuid4().hex
    path.mkdir(parents=True, mode=0o700)
    return path


def _suffix(name: str) -> str:
    suffix = PurePosixPath(name.lower()).suffix
    if suffix not in SOURCE_SUFFIXES + (ARCHIVE_SUFFIX,):
        raise BadRequest(f"file type {suffix or '(none)'!r} is not accepted; accepted: "
                         f"{', '.join(SOURCE_SUFFIXES + (ARCHIVE_SUFFIX,))}")
    return suffix


def copy_limited(stream: BinaryIO, target: Path, limit: int) -> int:
    """Copy `stream` into a new file, refusing (413) once more than `limit` bytes arrive."""
    written = 0
    with open(target, "xb") as out:
        while chunk := stream.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise PayloadTooLarge(f"the source is larger than the {limit >> 20} MB allowed")
            out.write(chunk)
    return written


def check_filename(filename: str) -> str:
    """An uploaded file's name, kept to name it in runs and messages: no control characters."""
    if any(ord(c) < 32 or ord(c) == 127 for c in filename) or len(filename) > 255:
        raise BadRequest("the uploaded file's name must be at most 255 characters without "
                         "control characters")
    return filename


def save_upload(stream: BinaryIO, filename: str, spool: Path, limits: Limits) -> Path:
    """Write an uploaded file as spool/upload<suffix>; the client's name only gives the type."""
    target = spool / f"upload{_suffix(check_filename(filename))}"
    copy_limited(stream, target, limits.upload_bytes)
    return target


def check_reference(reference: str, import_dir: Path | None) -> Path:
    """Where a path reference points inside the import directory; a 400 if it may not.

    The same check refuses a schedule when it is written and its source when it runs.
    """
    if import_dir is None:
        raise BadRequest("no import directory is configured (GISAPP_IMPORT_DIR); "
                         "upload the file or give an allowed URL")
    root = Path(import_dir).resolve()
    candidate = PurePosixPath(reference)
    if (candidate.is_absolute() or ".." in candidate.parts or reference.startswith("/vsi")
            or "\\" in reference or "\0" in reference or not candidate.name):
        raise BadRequest(f"path {reference!r} must be relative to the import directory, "
                         "without '..'")
    _suffix(candidate.name)
    source = (root / candidate).resolve()
    if not source.is_relative_to(root):
        raise BadRequest(f"path {reference!r} leads outside the import directory")
    return source


def copy_reference(reference: str, import_dir: Path | None, spool: Path, limits: Limits) -> Path:
    """Copy a file named relative to the import directory into the spool."""
    source = check_reference(reference, import_dir)
    if not source.is_file():
        raise BadRequest(f"no file {reference!r} in the import directory")
    target = spool / f"upload{_suffix(source.name)}"
    with open(source, "rb") as stream:
        copy_limited(stream, target, limits.upload_bytes)
    return target


def allowed_url(url: str, allow: str) -> bool:
    """True when `url` starts with one of the comma-separated allowed prefixes."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        return False
    segments = urllib.parse.unquote(parts.path).split("/")
    if any(seg in (".", "..") for seg in segments) or "\\" in parts.path:
        return False  # the server would resolve them past the allowed prefix
    prefixes = [p.strip() for p in allow.split(",") if p.strip()]
    return any(url.startswith(p if p.endswith("/") else p + "/") or url == p for p in prefixes)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect could leave the allow-list
        return None


def check_url(url: str, allow: str) -> str:
    """The file type of an allow-listed URL; a 400 for any other (checked when written and run)."""
    if not allowed_url(url, allow):
        raise BadRequest(f"URL {url!r} is not on the import allow-list "
                         "(GISAPP_IMPORT_URL_ALLOW); ask an administrator to add its prefix")
    return _suffix(urllib.parse.urlsplit(url).path)


def fetch_url(url: str, allow: str, spool: Path, limits: Limits, timeout: float = 30) -> Path:
    """Download an allow-listed http(s) URL into the spool (no redirects, size-limited)."""
    suffix = check_url(url, allow)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=timeout) as response:
            length = int(response.headers.get("Content-Length") or 0)
            if length > limits.upload_bytes:
                raise PayloadTooLarge(f"{url} is {length >> 20} MB; at most "
                                      f"{limits.upload_bytes >> 20} MB is allowed")
            target = spool / f"upload{suffix}"
            copy_limited(response, target, limits.upload_bytes)
            return target
    except urllib.error.HTTPError as exc:
        raise BadRequest(f"fetching {url} failed: HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise BadRequest(f"fetching {url} failed: {getattr(exc, 'reason', exc)}") from None


@dataclass
class Budget:
    """What is left to unpack: bytes and files, shared by an archive and those inside it."""

    unpacked_bytes: int
    files: int

    @classmethod
    def from_limits(cls, limits: Limits) -> "Budget":
        return cls(limits.unpacked_bytes, limits.archive_files)


def _check_archive(zf: zipfile.ZipFile, limits: Limits, label: str,
                   budget: Budget) -> list[zipfile.ZipInfo]:
    members = [m for m in zf.infolist() if not m.is_dir()]
    budget.files -= len(members)
    if budget.files < 0:
        raise BadRequest(f"{label} holds {limits.archive_files - budget.files} files with the "
                         f"archives inside it; at most {limits.archive_files} are allowed")
    total = 0
    for m in members:
        path = PurePosixPath(m.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", m.filename):
            raise BadRequest(f"{label} holds an unsafe path {m.filename!r}; archive members "
                             "must be relative and stay inside the archive")
        if stat.S_ISLNK(m.external_attr >> 16):
            raise BadRequest(f"{label} holds a symbolic link {m.filename!r}; links are refused")
        unreadable = unreadable_reason(m)
        if unreadable:
            raise BadRequest(f"{label}: {unreadable}")
        ratio = m.file_size // max(m.compress_size, 1)
        if ratio > limits.compression_ratio and m.file_size > CHUNK:
            raise BadRequest(f"{label}: {m.filename!r} expands {ratio}-fold; at most "
                             f"{limits.compression_ratio}-fold is allowed")
        total += m.file_size
    if total > budget.unpacked_bytes:
        raise BadRequest(f"{label} unpacks to {_megabytes(total)} MB; at most "
                         f"{limits.unpacked_bytes >> 20} MB is allowed, archives inside "
                         "archives included")
    return members


def _megabytes(size: int) -> str:
    return f"{size / (1 << 20):.1f}".removesuffix(".0")


def _extract(zf: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, label: str,
             limits: Limits, budget: Budget) -> None:
    """Write one member, counted against the shared budget; unreadable data is a 400."""
    try:
        with zf.open(member) as stream:
            budget.unpacked_bytes -= copy_limited(stream, target, max(budget.unpacked_bytes, 0))
    except PayloadTooLarge:
        raise BadRequest(f"{label} unpacks to more than {limits.unpacked_bytes >> 20} MB "
                         "with the archives inside it") from None
    except (*UNREADABLE_ZIP_ERRORS, ValueError) as exc:
        raise BadRequest(f"{label}: {member.filename!r} cannot be read: {exc}") from None
    except OSError as exc:
        if exc.errno is not None:  # the disk, not the data
            raise
        raise BadRequest(f"{label}: {member.filename!r} cannot be read: {exc}") from None


def unpack(archive: Path, into: Path, limits: Limits, label: str | None = None,
           depth: int = 1, budget: Budget | None = None) -> list[Path]:
    """Check and unpack a zip ourselves; return the files written (nested zips unpacked too).

    Members are written flat under generated stems (sidecars keep their .shp's stem), so
    no archive name is ever used as a path. `label` names the archive in messages as the
    operator knows it; archives inside it share its byte and file budget.
    """
    label = label or archive.name
    budget = budget or Budget.from_limits(limits)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise
        raise BadRequest(f"{label} is not a valid zip archive") from None
    written: list[Path] = []
    stems: dict[str, str] = {}
    with zf:
        for m in _check_archive(zf, limits, label, budget):
            path = PurePosixPath(m.filename.replace("\\", "/"))
            suffix = path.suffix.lower()
            if path.parts[0] == "__MACOSX" or suffix not in (
                    SOURCE_SUFFIXES + SIDECAR_SUFFIXES + (ARCHIVE_SUFFIX,)):
                continue
            key = str(path.with_suffix("")).lower()
            stem = stems.setdefault(key, f"{_SAFE_STEM.sub('_', path.stem)[:40]}-{len(stems) + 1}")
            target = into / f"{stem}{suffix}"
            _extract(zf, m, target, label, limits, budget)
            if suffix == ARCHIVE_SUFFIX:
                if depth >= MAX_NESTING:
                    raise BadRequest(f"{label} nests archives more than "
                                     f"{MAX_NESTING} deep")
                inner = into / f"{stem}.d"
                inner.mkdir()
                written += unpack(target, inner, limits, f"{label}/{m.filename}", depth + 1,
                                  budget)
                budget.unpacked_bytes += target.stat().st_size  # its members count instead
                target.unlink()
            else:
                written.append(target)
    return written


def _original_stem(path: Path) -> str:
    return path.stem.rpartition("-")[0] or path.stem


def choose_source(files: list[Path], source_layer: str | None) -> tuple[Path, str | None]:
    """The one importable file among `files`, and the source layer left for the reader.

    With several candidates `source_layer` names the file (its stem inside the archive);
    otherwise it is passed on (a GeoPackage's layer).
    """
    candidates = [f for f in files if f.suffix.lower() in SOURCE_SUFFIXES]
    if len(candidates) == 1:
        return check_content(candidates[0]), source_layer
    wanted = _SAFE_STEM.sub("_", source_layer or "")
    chosen = [f for f in candidates if source_layer and _original_stem(f) == wanted]
    if len(chosen) == 1:
        return check_content(chosen[0]), None
    names = ", ".join(sorted(f"{_original_stem(f)}{f.suffix}" for f in candidates)) or "none"
    raise BadRequest(f"the archive must hold one importable file or source_layer must name "
                     f"one (found: {names})")


_MAGIC = {".gpkg": (b"SQLite format 3\x00", 0), ".shp": (b"\x00\x00\x27\x0a", 0)}


def check_content(path: Path) -> Path:
    """The path, if its first bytes match its type; GDAL would otherwise sniff the driver."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    suffix = path.suffix.lower()
    ok = True
    if suffix in _MAGIC:
        magic, offset = _MAGIC[suffix]
        ok = head[offset:offset + len(magic)] == magic
        if suffix == ".gpkg":
            ok = ok and head[68:72] in (b"GPKG", b"GP10", b"GP11")
    elif suffix in (".geojson", ".json"):
        ok = head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
    elif suffix == ".csv":
        ok = not head.lstrip().startswith(b"<") and b"\x00" not in head
    elif suffix == ".osm":  # OSM XML: <?xml ...?> then the <osm> root element
        ok = (head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"<?xml", b"<osm"))
              and b"<osm" in head)
    elif suffix == ".pbf":  # a 4-byte header length, then the first BlobHeader, "OSMHeader"
        ok = b"OSMHeader" in head[4:32]
    if not ok or b"OGRVRTDataSource" in head or b"/vsi" in head[:64]:
        raise BadRequest(f"the {suffix} file's content is not {suffix[1:].upper()}; "
                         "accepted: GeoJSON, GeoPackage, Shapefile, CSV, OpenStreetMap XML/PBF "
                         "(never VRT)")
    return path


def remove_spool(spool: Path) -> None:
    """Delete a spool directory and everything in it."""
    shutil.rmtree(spool, ignore_errors=True)
