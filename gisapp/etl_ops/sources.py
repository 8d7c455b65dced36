"""Where a run's file comes from: an upload, the import directory or an allowed URL."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from gisapp.errors import BadRequest
from gisapp.etl_ops import spool
from gisapp.settings import Settings


@dataclass(frozen=True)
class Prepared:
    """A source copied into its spool: the file the pipeline opens and what to tell it."""

    spool: Path
    path: Path
    source_layer: str | None


def describe(*, filename: str | None = None, reference: str | None = None,
             url: str | None = None) -> str:
    """The run's `source` text: what the operator gave, never our spool path."""
    if filename is not None:
        return f"upload:{filename}"
    if reference is not None:
        return f"import-dir:{reference}"
    return f"url:{url}"


URL_SCHEMES = ("http://", "https://")


def is_url(source: str) -> bool:
    """Whether a schedule's source is fetched (an http(s) URL) or read from the import dir."""
    return source.startswith(URL_SCHEMES)


def check_source(settings: Settings, source: str) -> str:
    """A schedule's source, checked by the rules its runs apply (a 400 otherwise)."""
    if is_url(source):
        spool.check_url(source, settings.import_url_allow)
    else:
        spool.check_reference(source, settings.import_dir)
    return source


def describe_name(*, filename: str | None = None, reference: str | None = None,
                  url: str | None = None) -> str:
    """The source as the operator named it: the file's name, the path or the URL."""
    return next(x for x in (filename, reference, url, "the upload") if x)


def prepare(settings: Settings, *, upload: BinaryIO | None = None, filename: str | None = None,
            reference: str | None = None, url: str | None = None,
            source_layer: str | None = None) -> Prepared:
    """Copy exactly one of upload / reference / url into a new spool and pick the file.

    Anything refused raises BadRequest or PayloadTooLarge, and the spool is removed.
    """
    given = [x for x in (upload, reference, url) if x is not None]
    if len(given) != 1:
        raise BadRequest("give exactly one source: a file upload (field 'file'), 'path' "
                         "under the import directory, or 'url'")
    limits = spool.Limits.from_settings(settings)
    where = spool.new_spool(settings.data_dir)
    try:
        if upload is not None:
            saved = spool.save_upload(upload, filename or "", where, limits)
        elif reference is not None:
            saved = spool.copy_reference(reference, settings.import_dir, where, limits)
        else:
            saved = spool.fetch_url(url, settings.import_url_allow, where, limits)
        if saved.suffix == spool.ARCHIVE_SUFFIX:
            unpacked = where / "unpacked"
            unpacked.mkdir()
            files = spool.unpack(saved, unpacked, limits, label=describe_name(
                filename=filename, reference=reference, url=url))
            saved.unlink()
        else:
            files = [saved]
        path, left = spool.choose_source(files, source_layer)
        return Prepared(where, path, left)
    except BaseException:
        spool.remove_spool(where)
        raise
