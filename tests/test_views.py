"""The lake's kind views resolve re-sent keys with a window only when two parts can share a key."""
from __future__ import annotations

from pathlib import Path

from pipeline.kinds import KINDS
from pipeline.land.lake import FileEntry, Lake, Manifest
from pipeline.land.views import kind_sql


def _entry(seq: int, low: str | None, high: str | None, accepted: int = 10) -> FileEntry:
    return FileEntry(seq=seq, sha256=f"{seq}", name=f"orders_{seq}.csv", kind="orders", read=accepted,
                     accepted=accepted, rejected=0, duplicates=0, ingested_at="", data=f"data/orders/{seq:06d}.parquet",
                     rejects=None, key_min=low, key_max=high)


def _windowed(*entries: FileEntry) -> bool:
    return "QUALIFY" in kind_sql(Lake(Path("/lake")), Manifest(files=list(entries)), KINDS["orders"])


def test_window_only_where_key_ranges_meet():
    assert not _windowed(_entry(1, "O1", "O5"))
    assert not _windowed(_entry(1, "O1", "O5"), _entry(2, "O6", "O9"))
    assert not _windowed(_entry(2, "O6", "O9"), _entry(1, "O1", "O5"), _entry(3, "O0", "O0"))
    assert _windowed(_entry(1, "O1", "O5"), _entry(2, "O5", "O9"))  # O5 may be in both
    assert _windowed(_entry(1, "O1", "O9"), _entry(2, "O2", "O3"), _entry(3, "P1", "P2"))
    assert _windowed(_entry(1, "O1", "O5"), _entry(2, None, None))  # a range not recorded: assume the worst
    assert not _windowed(_entry(1, "O1", "O5"), _entry(2, None, None, accepted=0))  # an empty part holds nothing
