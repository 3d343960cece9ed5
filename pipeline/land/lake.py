"""The lake folder: Parquet parts per kind, rejects, derived tables and a manifest that commits them atomically.

Layout of LAKE/:
    manifest.json            what is committed: ingested files (by content hash), their parts, the derived generation
    data/<kind>/<seq>.parquet  accepted rows of the file ingested as number <seq>
    data/rejects/<seq>.parquet rejected rows of that file
    derived/g<n>/<table>.parquet sessions, turns, conversions, kpi ... of derived generation n
    warehouse.duckdb         views over all of the above, for analysts

A part or derived folder that the manifest does not name is debris of a killed run: it is invisible to readers and
removed by the next writer. The manifest is replaced with write-aside + fsync + rename, so a run is committed whole
or not at all.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .intervals import Cover

MANIFEST = "manifest.json"
WAREHOUSE = "warehouse.duckdb"


@dataclass
class FileEntry:
    seq: int
    sha256: str
    name: str
    kind: str
    read: int
    accepted: int
    rejected: int
    duplicates: int
    ingested_at: str
    data: str | None  # part paths relative to the lake
    rejects: str | None
    # The smallest and largest duplicate key landed: a later file whose keys lie outside need not be compared.
    key_min: str | None = None
    key_max: str | None = None
    stat: str | None = None  # "path|size|mtime_ns" when ingested
    # The keys landed as sorted, disjoint [low, high] intervals: each shop's range (of its ids, and of its content
    # hashes apart), overlapping ones merged. Ids are often numbered per shop, so a file's overall range meets every
    # earlier file's while its shops' ranges meet none.
    key_intervals: Cover | None = None

    def key_cover(self) -> Cover | None:
        """Sorted, disjoint intervals holding every key of the part; None when not recorded (it may hold any key)."""
        if self.key_intervals is not None:
            return self.key_intervals
        if self.key_min is None or self.key_max is None:
            return None  # landed before key ranges were recorded
        return [[self.key_min, self.key_max]]


@dataclass
class Manifest:
    version: int = 1
    next_seq: int = 1
    files: list[FileEntry] = field(default_factory=list)
    derived: dict | None = None  # {"dir": "derived/g3", "generation": 3, "inputs": [seq, ...]}
    warehouse: str | None = None  # the state the warehouse views were last written for (see warehouse_state)

    def seen(self, sha256: str, kind: str) -> FileEntry | None:
        return next((f for f in self.files if (f.sha256, f.kind) == (sha256, kind)), None)

    def parts(self, kind: str) -> list[str]:
        return [f.data for f in self.files if f.kind == kind and f.data]

    def reject_parts(self) -> list[str]:
        return [f.rejects for f in self.files if f.rejects]

    def warehouse_state(self, root: Path) -> str:
        """Where the lake is and what it holds: the warehouse must be rewritten when this changes."""
        return f"{root}|{self.next_seq}|{(self.derived or {}).get('generation', 0)}"

    def derived_files(self, table: str | None = None, days: list | None = None) -> list[str]:
        """Lake-relative files of the current derived tables (of one table, or all); with `days`, of a day-partitioned
        table only the files of those days and the empty file that carries its column types. That file comes last:
        DuckDB estimates a file list's rows from its first file, and an empty first file made every join build its
        hash table on the wrong side (the increment's scans of the previous sessions and turns took 2-3x longer)."""
        held = (self.derived or {}).get("tables", {})
        names = [table] if table else list(held)
        wanted = None if days is None else {"", *(str(d) for d in days)}
        out: list[str] = []
        for name in names:
            entry = held.get(name)
            if isinstance(entry, dict):
                out += [f for d, f in sorted(entry.items(), key=lambda item: (item[0] == "", item[0]))
                        if wanted is None or d in wanted]
            elif entry:
                out.append(entry)
        return out

    def kinds(self) -> set[str]:
        return {f.kind for f in self.files}

    def to_json(self) -> str:
        # One line per file entry, each written by json's C encoder: with indent=, json encodes in Python (0.04 s
        # per commit of the 10M benchmark's manifest, one line per key interval bound) and the file is half again
        # as large.
        def dump(value) -> str:
            return json.dumps(value, ensure_ascii=False)

        files = ",\n  ".join(dump(vars(f)) for f in self.files)
        return (f'{{"version": {dump(self.version)}, "next_seq": {dump(self.next_seq)},\n'
                f' "files": [\n  {files}\n ],\n'
                f' "derived": {dump(self.derived)},\n'
                f' "warehouse": {dump(self.warehouse)}}}\n')

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        d = json.loads(text)
        return cls(
            version=d["version"],
            next_seq=d["next_seq"],
            files=[FileEntry(**f) for f in d["files"]],
            derived=d.get("derived"),
            warehouse=d.get("warehouse"),
        )


class LakeError(Exception):
    pass


class Lake:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    # -- paths ---------------------------------------------------------------------------------------------------
    def path(self, relative: str) -> Path:
        return self.root / relative

    @property
    def warehouse(self) -> Path:
        return self.root / WAREHOUSE

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def exists(self) -> bool:
        return (self.root / MANIFEST).exists()

    # -- manifest ------------------------------------------------------------------------------------------------
    def manifest(self) -> Manifest:
        p = self.root / MANIFEST
        if not p.exists():
            return Manifest()
        try:
            return Manifest.from_json(p.read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError) as e:
            raise LakeError(f"{p}: manifest is unreadable ({e})") from None

    def commit(self, manifest: Manifest) -> None:
        """Make `manifest` the lake's state: everything it names becomes visible at once."""
        self.root.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.root / MANIFEST, manifest.to_json().encode("utf-8"))

    # -- writing -------------------------------------------------------------------------------------------------
    @contextmanager
    def writing(self):
        """Hold the lake's write lock, clear debris of killed runs, and give the current manifest."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LakeError(f"{self.root}: another cskpi command is writing this lake") from None
            manifest = self.manifest()
            self._remove_debris(manifest)
            yield manifest

    def _remove_debris(self, manifest: Manifest) -> None:
        named = {p for f in manifest.files for p in (f.data, f.rejects) if p}
        data = self.root / "data"
        if data.exists():
            for part in data.rglob("*.parquet"):
                if part.relative_to(self.root).as_posix() not in named:
                    part.unlink()
        derived = self.root / "derived"
        if derived.exists():
            # A generation may reuse day files of earlier ones: keep exactly the files the manifest names.
            kept = set(manifest.derived_files())
            for f in derived.rglob("*"):
                if f.is_file() and f.relative_to(self.root).as_posix() not in kept:
                    f.unlink()
            for d in sorted((d for d in derived.rglob("*") if d.is_dir()), key=lambda d: len(d.parts), reverse=True):
                if not any(d.iterdir()):
                    d.rmdir()
        shutil.rmtree(self.tmp, ignore_errors=True)
        for stray in self.root.glob("*.tmp"):
            stray.unlink()


def _atomic_write(target: Path, data: bytes) -> None:
    aside = target.with_name(target.name + ".tmp")
    with open(aside, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(aside, target)
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def quote(text: str) -> str:
    """A SQL string literal (for paths in DDL and COPY, where DuckDB takes no bound parameters)."""
    return "'" + text.replace("'", "''") + "'"
