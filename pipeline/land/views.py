"""How the committed lake reads: one relation per kind, duplicates resolved as SPEC §1.3 says.

Messages, ratings and reviews keep their first arrival when landing, so their parts hold no duplicates; orders,
complaints and targets keep every arrival and the view picks the latest (highest file sequence, then last line).
"""
from __future__ import annotations

from ..kinds import KINDS, Kind
from .lake import Lake, Manifest, quote

_SQL_TYPES = {
    "string": "VARCHAR", "role": "VARCHAR", "category": "VARCHAR", "period": "VARCHAR",
    "timestamp": "TIMESTAMP", "int": "INTEGER", "level": "INTEGER", "stars": "INTEGER", "decimal": "DOUBLE",
    "flag": "BOOLEAN", "reason": "VARCHAR",
}


def columns(kind: Kind) -> list[tuple[str, str]]:
    cols = [(c.name, _SQL_TYPES[c.type]) for c in kind.columns]
    if kind.name == "targets":
        cols += [("grain", "VARCHAR"), ("period_start", "DATE")]
    return cols + [("_key", "VARCHAR"), ("_line", "BIGINT"), ("_seq", "BIGINT")]


REJECT_COLUMNS = [("kind", "VARCHAR"), ("file", "VARCHAR"), ("line", "BIGINT"), ("column", "VARCHAR"),
                  ("reason", "VARCHAR"), ("raw_value", "VARCHAR"), ("_seq", "BIGINT")]


def _files(lake: Lake, parts: list[str]) -> str:
    return "[" + ", ".join(quote(str(lake.path(p))) for p in parts) + "]"


def _empty(cols: list[tuple[str, str]]) -> str:
    return "SELECT " + ", ".join(f'CAST(NULL AS {t}) AS "{n}"' for n, t in cols) + " WHERE false"


def kind_sql(lake: Lake, manifest: Manifest, kind: Kind) -> str:
    parts = manifest.parts(kind.name)
    cols = columns(kind)
    if not parts:
        return _empty(cols)
    select = ", ".join(f'"{n}"' for n, _ in cols)
    # union_by_name: parts landed before a kind gained an optional column (complaints.agreed_at) read it as null
    source = f"SELECT {select} FROM read_parquet({_files(lake, parts)}, union_by_name = true)"
    if kind.keep == "last" and parts_may_share_keys(manifest, kind):
        source += " QUALIFY row_number() OVER (PARTITION BY _key ORDER BY _seq DESC, _line DESC) = 1"
    return source


def parts_may_share_keys(manifest: Manifest, kind: Kind) -> bool:
    """Whether a key may be in more than one part of `kind`. A part holds each key once (landing keeps one row per
    key of a file), so only parts whose key ranges meet can; with none, the latest version is the only one."""
    parts = [f for f in manifest.files if f.kind == kind.name and f.data and f.accepted]
    if any(f.key_min is None or f.key_max is None for f in parts):
        return True  # landed before key ranges were recorded
    ranges = sorted((f.key_min, f.key_max) for f in parts)
    # Sorted by their lowest key, ranges are disjoint when each ends before the next begins.
    return any(following[0] <= current[1] for current, following in zip(ranges, ranges[1:]))


def rejects_sql(lake: Lake, manifest: Manifest) -> str:
    parts = manifest.reject_parts()
    if not parts:
        return _empty(REJECT_COLUMNS)
    return f"SELECT * FROM read_parquet({_files(lake, parts)})"


def source_views(lake: Lake, manifest: Manifest) -> dict[str, str]:
    """View name → SELECT for every kind and the rejects."""
    views = {name: kind_sql(lake, manifest, kind) for name, kind in KINDS.items()}
    views["rejects"] = rejects_sql(lake, manifest)
    return views
