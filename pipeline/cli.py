"""`cskpi`: a thin command layer. Each command parses its options, calls one library function, prints the result.

Exit codes (SPEC §7): 0 done; 1 a file was refused or the input is unusable; 2 usage error.
"""
from __future__ import annotations

import os
import sys
from functools import wraps
from pathlib import Path

import click

from . import jobs
from .band import describe, load_thresholds
from .config import Config, ConfigError
from .kinds import KINDS
from .land.ingest import FileResult
from .land.lake import Lake, LakeError
from .publish.export import FORMATS, GRAINS, LEVELS, ExportError
from .read import ReadError
from .schemas.validate import SchemaViolation

_EXPECTED = (ConfigError, LakeError, ExportError, ReadError, SchemaViolation, jobs.UnknownFiles, OSError)


def _errors(fn):
    """Expected failures become one `Error: ...` line and exit code 1, never a traceback."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except _EXPECTED as e:
            click.echo(f"Error: {e}", err=True)
            sys.exit(1)
        except Exception as e:  # a bug: still one line, with the traceback only on request
            if os.environ.get("CSKPI_DEBUG"):
                raise
            click.echo(f"Error: internal error {type(e).__name__}: {e} (set CSKPI_DEBUG=1 for the traceback)",
                       err=True)
            sys.exit(1)
    return wrapper


def _config(config_file: Path | None, **overrides) -> Config:
    config = Config.load(config_file)
    return config.with_(**overrides)


def _print_files(results: list[FileResult]) -> None:
    ignored_seen: set[str] = set()
    for r in results:
        if r.status == "landed":
            click.echo(f"{r.path}: {r.kind}: read {r.read}, accepted {r.accepted}, rejected {r.rejected}, "
                       f"duplicates {r.duplicates}")
            for s in r.sample_rejects:
                raw = "" if s["raw"] is None else f" ({s['raw']!r})"
                click.echo(f"  rejected line {s['line']}" + (f", column {s['column']}" if s["column"] else "")
                           + f": {s['reason']}{raw}")
            if r.rejected > len(r.sample_rejects):
                click.echo(f"  ... {r.rejected - len(r.sample_rejects)} more in the rejects table")
            new = [c for c in r.ignored_columns if c not in ignored_seen]
            if new:
                click.echo(f"  ignored columns: {', '.join(new)}")
                ignored_seen.update(new)
        elif r.status == "seen":
            click.echo(f"{r.path}: {r.kind}: skipped, {r.message}")
        else:
            click.echo(f"Error: {r.message}", err=True)


config_option = click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
                             help="cskpi.toml: timezone, session_gap, late_reply_window, max_reject_ratio, thresholds.")
lake_option = click.option("--lake", required=True, type=click.Path(file_okay=False, path_type=Path),
                           help="The lake folder (created if missing).")
read_options = [
    click.option("--encoding", default=None, help="CSV encoding, overriding detection (utf-8, gb18030, ...)."),
    click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="TOML header mapping: canonical name = header in the file."),
    click.option("--profile", type=click.Choice(["twcs"]), help="A built-in source layout (twcs: Twitter support)."),
]


def _with(options):
    def decorate(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn
    return decorate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cskpi")
def main() -> None:
    """Customer-service KPIs of the e-commerce service standard, from shop exports."""


@main.command()
@click.argument("inbox", type=click.Path(exists=True, file_okay=False, path_type=Path))
@lake_option
@config_option
@click.option("--skip-unknown", is_flag=True, default=None, help="Ingest the files of known kinds, skip the rest.")
@click.option("--thresholds", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_with(read_options)
@_errors
def run(inbox, lake, config_file, skip_unknown, thresholds, encoding, mapping, profile):
    """The nightly job: ingest new files of INBOX, derive, compute every grain, band, refresh the warehouse."""
    config = _config(config_file, skip_unknown=skip_unknown, thresholds=thresholds, encoding=encoding,
                     mapping=mapping, profile=profile)
    result = jobs.run(inbox, Lake(lake), config)
    _print_files(result.files)
    if result.computed:
        click.echo(f"computed {result.kpi_rows} KPI rows into {lake}")
    else:
        click.echo("nothing new: KPIs already up to date")
    if result.refused:
        sys.exit(1)


@main.command()
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@lake_option
@config_option
@_with(read_options)
@_errors
def ingest(kind, files, lake, config_file, encoding, mapping, profile):
    """Land FILES of one KIND in the lake."""
    config = _config(config_file, encoding=encoding, mapping=mapping, profile=profile)
    results = jobs.ingest_files(Lake(lake), [(kind, Path(f)) for f in files], config)
    _print_files(results)
    if any(r.status == "refused" for r in results):
        sys.exit(1)


@main.command()
@lake_option
@config_option
@click.option("--thresholds", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_errors
def compute(lake, config_file, thresholds):
    """Derive sessions, turns and conversions, compute and band every KPI, refresh the warehouse."""
    config = _config(config_file, thresholds=thresholds)
    rows = jobs.compute(Lake(lake), config)
    click.echo(f"computed {rows} KPI rows into {lake}")


@main.command()
@lake_option
@click.option("--period", "grain", required=True, type=click.Choice(GRAINS))
@click.option("--level", default="all", show_default=True, type=click.Choice(LEVELS))
@click.option("--format", "fmt", default="csv", show_default=True, type=click.Choice(FORMATS))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default stdout).")
@_errors
def export(lake, grain, level, fmt, output):
    """Write the KPI rows of one grain (SPEC §6 columns)."""
    rows = jobs.export(Lake(lake), grain, level, fmt, output)
    if output is not None:
        click.echo(f"wrote {rows} rows to {output}")


@main.command()
@lake_option
@click.option("--period", "grain", default="month", show_default=True, type=click.Choice(GRAINS))
@click.option("--level", default="shop", show_default=True, type=click.Choice(LEVELS))
@_errors
def report(lake, grain, level):
    """Print the banded KPI table, KPI names in Chinese and English."""
    click.echo(jobs.report(Lake(lake), grain, level))


@main.command()
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--messages", default=20_000, show_default=True, type=click.IntRange(min=1))
@click.option("--shops", default=None, type=click.IntRange(min=1))
@click.option("--days", default=None, type=click.IntRange(min=2))
@click.option("--seed", default=7, show_default=True, type=int)
@_errors
def sample(out, messages, shops, days, seed):
    """Write realistic sample exports (messages, orders, ratings, complaints, reviews, targets) into OUT."""
    from .sample import generate

    counts = generate(out, messages=messages, shops=shops, days=days, seed=seed)
    for kind, n in counts.items():
        click.echo(f"{kind}: {n} rows")


@main.command("check-thresholds")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_errors
def check_thresholds(path):
    """Validate a thresholds file and print the bands it sets."""
    click.echo(describe(load_thresholds(path)))
