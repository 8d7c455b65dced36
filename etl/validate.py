"""Row checks: typed fields with reasons (types, required, choices), duplicate keys, rejects."""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd
import shapely

from etl.fields import coerce, describe_bad_value, describe_choice
from etl.runs import json_safe
from layers import Table


def _set_reason(reasons: np.ndarray, mask: np.ndarray, make) -> None:
    for i in np.flatnonzero(mask & (reasons == None)):  # noqa: E711
        reasons[i] = make(i)


def coerce_fields(frame: pd.DataFrame, mapping: dict[str, str], decl: Table
                  ) -> tuple[pd.DataFrame, np.ndarray]:
    """Every imported field as a typed column (missing columns -> NULL) and a reason per bad row."""
    n = len(frame)
    reasons = np.full(n, None, dtype=object)
    columns: dict[str, pd.Series] = {}
    for f in decl.imported_fields:
        if f.name not in mapping:
            columns[f.name] = pd.Series([None] * n, dtype=object)
            continue
        raw = frame[mapping[f.name]].reset_index(drop=True)
        result = coerce(raw, f)
        values = result.values.reset_index(drop=True)
        _set_reason(reasons, result.bad, lambda i, f=f, raw=raw: describe_bad_value(f, raw[i]))
        missing = values.isna().to_numpy() & ~result.bad
        if f.required:
            _set_reason(reasons, missing, lambda i, f=f: f"missing required field {f.name}")
        if f.choices:
            outside = ~missing & ~result.bad & ~values.isin(f.choices).to_numpy()
            _set_reason(reasons, outside, lambda i, f=f, v=values: describe_choice(f, v[i]))
        columns[f.name] = values
    return pd.DataFrame(columns), reasons


class SeenKeys:
    """The business keys accepted in earlier batches of a source, with the row of each."""

    def __init__(self, decl: Table):
        self.names = list(decl.key)
        self.frame: pd.DataFrame | None = None

    def first_rows(self, keys: pd.DataFrame) -> pd.Series:
        """Per row of `keys` (same order): the earlier batch's row holding that key, or NA."""
        if self.frame is None or keys.empty:
            return pd.Series(pd.NA, index=range(len(keys)), dtype="Int64")
        found = keys.reset_index(drop=True).merge(self.frame, how="left", on=self.names)
        return found["first_row"].astype("Int64")

    def add(self, keys: pd.DataFrame, rows: np.ndarray) -> None:
        new = keys.reset_index(drop=True).assign(first_row=rows)
        self.frame = new if self.frame is None else pd.concat([self.frame, new],
                                                              ignore_index=True)


def mark_duplicate_keys(typed: pd.DataFrame, decl: Table, reasons: np.ndarray,
                        seen: SeenKeys | None = None, offset: int = 0) -> None:
    """Reject the second and later rows (1-based numbers) that repeat a business key.

    A batch of a longer source passes the keys of the batches before it as `seen` and its
    first row's position in the source as `offset`.
    """
    ok = np.flatnonzero(reasons == None)  # noqa: E711
    keys = typed.iloc[ok][list(decl.key)]
    rows = ok + 1 + offset
    dup = keys.duplicated(keep="first").to_numpy()
    earlier = seen.first_rows(keys) if seen is not None else None
    if earlier is not None:
        dup = dup | earlier.notna().to_numpy()
        seen.add(keys[~dup], rows[~dup])
    if not dup.any():
        return
    first = (pd.Series(rows, index=keys.index)
             .groupby([keys[k] for k in decl.key], sort=False, dropna=False).transform("first"))
    if earlier is not None:
        first = pd.Series(np.where(earlier.notna().to_numpy(), earlier.fillna(0).to_numpy(),
                                   first.to_numpy()), index=keys.index)
    for pos in np.flatnonzero(dup):
        i = ok[pos]
        key = ", ".join(str(typed.at[typed.index[i], k]) for k in decl.key)
        reasons[i] = f"duplicate key ({key}): first seen at row {first.iloc[pos]}"


def rejected_rows(frame: pd.DataFrame, geoms: np.ndarray | None, reasons: np.ndarray,
                  offset: int = 0) -> Iterator[tuple[int, str, dict, str | None]]:
    """(row_number, reason, original attributes as JSON-safe dict, source geometry WKT).

    `offset`: the position of the frame's first row in the source (a batch of it).
    """
    bad = np.flatnonzero(reasons != None)  # noqa: E711
    if bad.size == 0:
        return
    records = frame.iloc[bad].to_dict("records")
    wkts = (shapely.to_wkt(geoms[bad], rounding_precision=-1) if geoms is not None
            else [None] * bad.size)
    for i, record, wkt in zip(bad, records, wkts):
        attrs = {str(k): json_safe(v) for k, v in record.items()}
        yield offset + int(i) + 1, str(reasons[i]), attrs, wkt
