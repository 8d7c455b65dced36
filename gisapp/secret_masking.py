"""Passwords never reach a log line or a printed message: one mask, one logging filter.

`mask_passwords` hides the password of URLs (`postgresql://user:secret@host` ->
`postgresql://user:***@host`) and of libpq keyword strings (`password=secret`).
`install()` puts `MaskPasswords` on every log record the process creates (the app, gunicorn,
the worker, procrastinate, libraries), including exception tracebacks, whichever handler
writes it.
"""
from __future__ import annotations

import logging
import re

MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*:)[^\s/@]*(?=@)")
_KEYWORD_PASSWORD = re.compile(
    r"(?P<head>\b(?:password|PGPASSWORD)\s*=\s*)(?:'(?:[^'\\]|\\.)*'|\"[^\"]*\"|[^\s&,;]+)",
    re.IGNORECASE)


def mask_passwords(text: str) -> str:
    """The text with every URL or keyword password replaced by ***."""
    if "=" not in text and "@" not in text:
        return text
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return _KEYWORD_PASSWORD.sub(lambda m: m.group("head") + MASK, text)


class MaskPasswords(logging.Filter):
    """Masks passwords in a record's message, traceback and stack (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler's own error path
            return True
        masked = mask_passwords(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_passwords(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_passwords(record.stack_info)
        return True


_FILTER = MaskPasswords()


def install() -> None:
    """Mask every log record this process creates from now on (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "masks_passwords", False):
        return

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        record = current(*args, **kwargs)
        _FILTER.filter(record)
        return record

    masked_record.masks_passwords = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masked_record)
