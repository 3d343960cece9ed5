"""The commands' library functions: ingest files, compute the KPIs, run the nightly job. The CLI only calls these."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .band import load_thresholds
from .config import Config
from .kinds import KINDS
from .land.ingest import FileResult, land
from .land.lake import Lake, LakeError
from .publish.export import export as export_rows
from .publish.report import report as report_text
from .publish.warehouse import refresh_warehouse
from .compute import compute as compute_into, up_to_date


class UnknownFiles(Exception):
    pass


@dataclass
class RunResult:
    files: list[FileResult] = field(default_factory=list)
    computed: bool = False
    kpi_rows: int = 0

    @property
    def refused(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "refused"]


def kind_of(path: Path, inbox: Path) -> str | None:
    """The kind of a file by its name's first word (`messages_S001.csv`) or the folder it sits in (SPEC §1.1).

    A kind whose name has an underscore (`bot_answers`) is its name's first words: the longest kind that the
    name starts with, followed by nothing, `_`, `-` or `.`, wins."""
    stem = path.name.split(".")[0].replace("-", "_").lower()
    for kind in sorted(KINDS, key=len, reverse=True):
        if stem == kind or stem.startswith(kind + "_"):
            return kind
    for parent in path.relative_to(inbox).parents:
        if parent.name.lower() in KINDS:
            return parent.name.lower()
    return None


def inbox_files(inbox: Path, skip_unknown: bool) -> tuple[list[tuple[str, Path]], list[Path]]:
    if not inbox.is_dir():
        raise UnknownFiles(f"{inbox}: not a folder")
    found, unknown = [], []
    for path in sorted(p for p in inbox.rglob("*") if p.is_file() and not p.name.startswith(".")):
        kind = kind_of(path, inbox)
        (found.append((kind, path)) if kind else unknown.append(path))
    if unknown and not skip_unknown:
        names = ", ".join(str(p) for p in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise UnknownFiles(f"cannot tell the kind of {names}: name a file after its kind "
                           f"({', '.join(KINDS)}) or put it in a folder of that name; "
                           "nothing was ingested (--skip-unknown ingests the rest)")
    return found, unknown


def ingest_files(lake: Lake, files: list[tuple[str, Path]], config: Config) -> list[FileResult]:
    """Land files as one commit (no computation) and refresh the warehouse's views of them."""
    with lake.writing() as manifest:
        results = land(lake, manifest, files, config)
        if any(r.status == "landed" for r in results):
            lake.commit(manifest)
        refresh_warehouse(lake, manifest)
    return results


def compute(lake: Lake, config: Config, force: bool = True) -> int | None:
    """Derive, measure and band everything in the lake; publish a new derived generation and the warehouse.

    With force=False, does nothing when the derived tables already cover every ingested file with this config.
    Returns the number of KPI rows, or None when nothing needed computing."""
    thresholds = load_thresholds(config.thresholds)
    with lake.writing() as manifest:
        if force or not up_to_date(manifest, config):
            rows = compute_into(lake, manifest, config, thresholds, full=force)
            lake.commit(manifest)
        else:
            rows = None
        refresh_warehouse(lake, manifest)
    return rows


def run(inbox: Path, lake: Lake, config: Config) -> RunResult:
    """The nightly job: land the inbox's new files and recompute, committed together (SPEC §1.3: a run killed at
    any point leaves the lake as before or as after it)."""
    files, _ = inbox_files(inbox, config.skip_unknown)
    thresholds = load_thresholds(config.thresholds)
    with lake.writing() as manifest:
        result = RunResult(files=land(lake, manifest, files, config))
        if not up_to_date(manifest, config):
            result.kpi_rows = compute_into(lake, manifest, config, thresholds)
            result.computed = True
            lake.commit(manifest)
        refresh_warehouse(lake, manifest)
    return result


def repair(lake: Lake) -> None:
    """Rewrite the warehouse views of a moved or copied lake (SPEC §6); a lake busy with a run is left alone."""
    if not lake.exists():
        return
    try:
        with lake.writing() as manifest:
            refresh_warehouse(lake, manifest)
    except LakeError:
        pass


def export(lake: Lake, grain: str, level: str, fmt: str, output: Path | None) -> int:
    repair(lake)
    return export_rows(lake, grain, level, fmt, output)


def report(lake: Lake, grain: str, level: str) -> str:
    repair(lake)
    return report_text(lake, grain, level)
