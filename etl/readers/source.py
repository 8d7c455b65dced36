"""What a source reader produces: rows in source order, their geometries and CRS."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pyproj import CRS


@dataclass
class Source:
    """What a reader produced: rows in source order (row_number = index + 1)."""

    frame: pd.DataFrame            # attribute columns under their source names
    geoms: np.ndarray | None       # shapely geometries (None entries allowed), or None
    crs: CRS | None                # from the file; None when it declares none
    format: str
    warnings: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.frame)
