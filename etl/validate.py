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


def mark_duplicate_keys(typed: pd.DataFrame, decl: Table, reasons: np.ndarray) -> None:
    """Reject the second and later rows (1-based numbers) that repeat a business key."""
    ok = np.flatnonzero(reasons == None)  # noqa: E711
    keys = typed.iloc[ok][list(decl.key)]
    dup = keys.duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    first = (pd.Series(ok + 1, index=keys.index)
             .groupby([keys[k] for k in decl.key], sort=False, dropna=False).transform("first"))
    for pos in np.flatnonzero(dup):
        i = ok[pos]
        key = ", ".join(str(typed.at[typed.index[i], k]) for k in decl.key)
        reasons[i] = f"duplicate key ({key}): first seen at row {first.iloc[pos]}"


def rejected_rows(frame: pd.DataFrame, geoms: np.ndarray | None, reasons: np.ndarray
                  ) -> Iterator[tuple[int, str, dict, str | None]]:
    """(row_number, reason, original attributes as JSON-safe dict, source geometry WKT)."""
    bad = np.flatnonzero(reasons != None)  # noqa: E711
    if bad.size == 0:
        return
    records = frame.iloc[bad].to_dict("records")
    wkts = (shapely.to_wkt(geoms[bad], rounding_precision=-1) if geoms is not None
            else [None] * bad.size)
    for i, record, wkt in zip(bad, records, wkts):
        attrs = {str(k): json_safe(v) for k, v in record.items()}
        yield int(i) + 1, str(reasons[i]), attrs, wkt
