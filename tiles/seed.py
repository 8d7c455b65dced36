"""Seeding: render every tile of an area and zoom range into the shared tile store."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from layers import Access, Layer
from tiles.grid import tiles_in_bbox
from tiles.service import TileService


@dataclass
class SeedSummary:
    """What a seed run did."""

    tiles: int = 0
    empty: int = 0
    size_bytes: int = 0
    largest: int = 0
    seconds: float = 0.0

    @property
    def tiles_per_second(self) -> float:
        return round(self.tiles / self.seconds, 1) if self.seconds else 0.0


def seed_tiles(service: TileService, layers: tuple[Layer, ...], zooms: range,
               bbox: tuple[float, float, float, float], levels: frozenset[Access],
               progress: Callable[[int], None] | None = None) -> SeedSummary:
    """Fill the service's caches with every tile of bbox × zooms, as `levels` sees them.

    Tiles already stored for the current data versions are kept, not rendered again.
    """
    started, summary = time.perf_counter(), SeedSummary()
    for tile in tiles_in_bbox(bbox, zooms):
        body = service.get_tile(layers, levels, tile)
        summary.tiles += 1
        summary.empty += body.is_empty
        summary.size_bytes += len(body.data)
        summary.largest = max(summary.largest, len(body.data))
        if progress:
            progress(1)
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary
