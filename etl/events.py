"""In-process hooks called after a load commits (the tile cache registers one)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from etl.pipeline import ImportResult

LayerLoadedCallback = Callable[["ImportResult"], None]
_CALLBACKS: list[LayerLoadedCallback] = []
log = logging.getLogger(__name__)


def on_layer_loaded(callback: LayerLoadedCallback) -> LayerLoadedCallback:
    """Register a callback taking the ImportResult of every committed load; usable as a decorator."""
    if callback not in _CALLBACKS:
        _CALLBACKS.append(callback)
    return callback


def remove_layer_loaded(callback: LayerLoadedCallback) -> None:
    """Unregister a callback (tests, app teardown); unknown callbacks are ignored."""
    if callback in _CALLBACKS:
        _CALLBACKS.remove(callback)


def emit_layer_loaded(result: "ImportResult") -> list[str]:
    """Call every callback; the data is committed, so a failing hook becomes a warning."""
    warnings = []
    for callback in list(_CALLBACKS):
        try:
            callback(result)
        except Exception as exc:  # a hook must not turn a committed load into a failure
            log.exception("layer-loaded hook %r failed", callback)
            warnings.append(f"hook {getattr(callback, '__name__', callback)!r} failed: {exc}")
    return warnings
