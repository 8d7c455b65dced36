"""Field mapping (source columns -> declared fields) and vectorised type coercion."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.errors import ImportRefused
from layers import Field, FieldType, Table

TRUE_WORDS = {"true", "t", "1", "yes", "y", "có", "co", "x"}
FALSE_WORDS = {"false", "f", "0", "no", "n", "không", "khong"}
TYPE_WORDS = {FieldType.INTEGER: "an integer", FieldType.FLOAT: "a number",
              FieldType.DATE: "a date (YYYY-MM-DD or DD/MM/YYYY)",
              FieldType.BOOLEAN: "a boolean (true/false, 1/0, có/không)"}


@dataclass
class Coerced:
    """A field's typed values (COPY-ready) and the rows whose value could not be converted."""

    values: pd.Series
    bad: np.ndarray  # bool per row


def column_names(f: Field) -> tuple[str, ...]:
    """The source column names a field is read from, lower case: its own name, then `sources`."""
    return tuple(name.lower() for name in (f.name, *f.sources))


def map_columns(columns: list[str], decl: Table) -> tuple[dict[str, str], list[str]]:
    """Field name -> source column (own name first, then `sources`, case-insensitive).

    Raises ImportRefused when a required field has no column; returns the unused source
    columns too (reported once as a warning).
    """
    by_lower: dict[str, str] = {}
    for col in columns:
        by_lower.setdefault(str(col).strip().lower(), col)
    mapping: dict[str, str] = {}
    for f in decl.imported_fields:
        for name in column_names(f):
            if name in by_lower:
                mapping[f.name] = by_lower[name]
                break
    missing = [f for f in decl.imported_fields if f.required and f.name not in mapping]
    if missing:
        wanted = "; ".join(f"{f.name} (accepted names: {', '.join((f.name, *f.sources))})"
                           for f in missing)
        raise ImportRefused(f"missing required column for {decl.id}: {wanted}; "
                            f"the file has: {', '.join(map(str, columns)) or 'no columns'}")
    used = set(mapping.values())
    return mapping, [str(c) for c in columns if c not in used]


def parse_numbers(series: pd.Series) -> pd.Series:
    """Floats (NaN where unparseable); accepts Vietnamese decimal commas ("1.234,5", "12,5")."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype("float64")
    text = series.astype("string").str.strip().str.replace(" ", "", regex=False)
    both = text.str.contains(",", regex=False) & text.str.contains(".", regex=False)
    text = text.where(~both.fillna(False), text.str.replace(".", "", regex=False))
    text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _as_text(series: pd.Series) -> pd.Series:
    if pd.api.types.is_integer_dtype(series) or pd.api.types.is_bool_dtype(series):
        out = series.astype("string")
    elif pd.api.types.is_float_dtype(series):
        ints = series.notna() & (series == np.floor(series))
        out = series.astype("string")
        out[ints] = series[ints].astype("int64").astype("string")
    elif pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        out = series.astype("string")  # all text already: no per-value Python call
    else:
        out = series.map(lambda v: v if v is None or isinstance(v, str) else str(v),
                         na_action="ignore").astype("string")
    out = out.str.strip()
    return out.mask(out == "")


def _as_date(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = series
    else:
        text = _as_text(series)
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        dmy = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
        parsed = parsed.fillna(dmy)
    values = parsed.dt.strftime("%Y-%m-%d").astype(object)
    return values.where(parsed.notna(), None), parsed.isna().to_numpy()


def coerce(series: pd.Series, field: Field) -> Coerced:
    """Convert a source column to the field's type; empty text counts as missing."""
    present = series.notna().to_numpy()
    if field.type == FieldType.TEXT:
        values = _as_text(series)
        return Coerced(values.astype(object).where(values.notna(), None),
                       np.zeros(len(series), dtype=bool))
    if field.type in (FieldType.INTEGER, FieldType.FLOAT):
        text = _as_text(series) if not pd.api.types.is_numeric_dtype(series) else series
        present = text.notna().to_numpy()
        numbers = parse_numbers(text)
        bad = present & ~np.isfinite(numbers.to_numpy())
        if field.type == FieldType.INTEGER:
            integral = np.isfinite(numbers) & (numbers == np.floor(numbers))
            bad |= present & ~integral.to_numpy()
            return Coerced(numbers.where(integral).astype("Int64"), bad)
        return Coerced(numbers.where(~pd.Series(bad, index=numbers.index)), bad)
    if field.type == FieldType.DATE:
        text = _as_text(series) if not pd.api.types.is_datetime64_any_dtype(series) else series
        present = text.notna().to_numpy()
        values, unparsed = _as_date(text)
        return Coerced(values, present & unparsed)
    words = _as_text(series).str.lower()
    present = words.notna().to_numpy()
    values = words.map(lambda w: True if w in TRUE_WORDS else False if w in FALSE_WORDS
                       else None, na_action="ignore").astype("boolean")
    return Coerced(values, present & values.isna().to_numpy())


def describe_bad_value(field: Field, raw: object) -> str:
    """The reject reason for a value that is not of the field's type."""
    return f"{field.name}: {str(raw)!r} is not {TYPE_WORDS[field.type]}"


def describe_choice(field: Field, value: object) -> str:
    """The reject reason for a value outside the field's declared choices."""
    return f"{field.name}: {str(value)!r} is not one of {', '.join(field.choices)}"
