"""How the committed lake reads: one relation per kind, duplicates resolved as SPEC §1.3 says.

Messages, ratings and reviews keep their first arrival when landing, so their parts hold no duplicates; orders,
complaints and targets keep every arrival and the view picks the latest (highest file sequence, then last line).
"""
from __future__ import annotations

from ..kinds import KINDS, Kind
from .intervals import may_share_keys, meeting_an_earlier
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


def kind_sql(lake: Lake, manifest: Manifest, kind: Kind, superseded: str | None = None) -> str:
    """The kind's rows, each key's latest version only. `superseded` names a table holding superseded_sql's rows,
    when the caller has computed them once for many reads."""
    parts = manifest.parts(kind.name)
    cols = columns(kind)
    if not parts:
        return _empty(cols)
    select = ", ".join(f'p."{n}"' for n, _ in cols)
    # union_by_name: parts landed before a kind gained an optional column (complaints.agreed_at) read it as null
    source = f"SELECT {select} FROM read_parquet({_files(lake, parts)}, union_by_name = true) AS p"
    later = superseding_parts(manifest, kind) if kind.keep == "last" else []
    # ANTI and SEMI JOIN rather than [NOT] EXISTS: DuckDB plans an EXISTS with an inequality 4-5x slower (the
    # orders of the 10M benchmark: 0.37-0.50 s against 0.09-0.10 s).
    if later and superseded:
        source += f" ANTI JOIN {superseded} AS s ON s._key = p._key AND s._seq = p._seq"
    elif later:
        # The latest version of a key is the one no later part holds (a part holds a key once): an anti-join with
        # just the parts that can hold an earlier part's keys, rather than a window over every row.
        source += f" ANTI JOIN read_parquet({_files(lake, later)}) AS q ON q._key = p._key AND q._seq > p._seq"
    return source


def sharing_keys(manifest: Manifest, kind: str, seqs: set[int]) -> set[int]:
    """The parts of `kind` (sequence numbers) that may hold a key some part in `seqs` holds, those parts included:
    where every version of their keys lies, found from the key intervals without reading any part."""
    parts = [f for f in manifest.files if f.kind == kind and f.data and f.accepted]
    covers = [f.key_cover() for f in parts if f.seq in seqs]
    return {f.seq for f in parts if f.seq in seqs or any(may_share_keys(f.key_cover(), c) for c in covers)}


def superseded_sql(lake: Lake, manifest: Manifest, kind: Kind) -> str | None:
    """The (_key, _seq) of the rows a later part re-sends, or None when no part can. They are few (a night's
    re-sent keys), so a table of them lets each reader drop them by a small anti-join while it scans. Only the parts
    that may share a key with a superseding part are read."""
    later = superseding_parts(manifest, kind) if kind.keep == "last" else []
    if not later:
        return None
    later_seqs = {f.seq for f in manifest.files if f.kind == kind.name and f.data in later}
    meeting = sharing_keys(manifest, kind.name, later_seqs)
    candidates = [f.data for f in manifest.files if f.kind == kind.name and f.data and f.seq in meeting]
    return (f"SELECT p._key, p._seq FROM read_parquet({_files(lake, candidates)}) AS p "
            f"SEMI JOIN read_parquet({_files(lake, later)}) AS q ON q._key = p._key AND q._seq > p._seq")


def superseding_parts(manifest: Manifest, kind: Kind) -> list[str]:
    """The parts of `kind` that may hold a key an earlier part holds too. A part holds each key once (landing keeps
    one row per key of a file), so only a part whose key intervals meet an earlier part's can; [] when none does."""
    parts = [f for f in manifest.files if f.kind == kind.name and f.data and f.accepted]
    meeting = meeting_an_earlier({f.seq: f.key_cover() for f in parts})
    return [f.data for f in parts if f.seq in meeting]


def rejects_sql(lake: Lake, manifest: Manifest) -> str:
    parts = manifest.reject_parts()
    if not parts:
        return _empty(REJECT_COLUMNS)
    return f"SELECT * FROM read_parquet({_files(lake, parts)})"


def source_views(lake: Lake, manifest: Manifest, superseded: dict[str, str] | None = None) -> dict[str, str]:
    """View name → SELECT for every kind and the rejects; `superseded`: kind → the table of its superseded rows."""
    superseded = superseded or {}
    views = {name: kind_sql(lake, manifest, kind, superseded.get(name)) for name, kind in KINDS.items()}
    views["rejects"] = rejects_sql(lake, manifest)
    return views
