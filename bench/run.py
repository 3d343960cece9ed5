"""`make bench`: wall time and peak memory of the nightly job against a plain polars CSV→Parquet pass.

Measured in one run, each step a separate process under /usr/bin/time -v:
  baseline   polars scan_csv → sink_parquet over every CSV of the inbox (the cost of just reading the data once)
  full       `cskpi run` from an empty lake
  increment  `cskpi run` again after one more day's files arrive
  full-1M    the same full run on a 1M-message set (memory must stay flat as input grows)
The inbox is read once before the baseline, so that neither the baseline nor the full run pays for reading the
files from disk. Every step runs --repeat times (the full run each time from an empty lake, the increment each
time on a copy of the lake as the full run left it): the median time is the figure, every run is noted, and the
peak memory is the highest of the runs. On a shared machine one run of the same code moved by 30 %.
Results go to bench/results.md. Data sets are generated once into bench/data/ (git-ignored) and reused.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl

from pipeline import sample
from pipeline.sample import generate

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


@dataclass
class Measure:
    name: str
    seconds: float
    peak_mib: float
    note: str = ""


def timed(name: str, argv: list[str], note: str = "") -> Measure:
    # Each step starts with the page cache flushed to disk, so that none pays for writing back the previous one's
    # files (the night's run right after a 537 MB copy of its lake: 13.3-13.5 s without a sync, 11.0-11.4 s with).
    os.sync()
    proc = subprocess.run(["/usr/bin/time", "-v", *argv], capture_output=True, text=True)
    if proc.returncode not in (0,):
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench: {name} failed ({proc.returncode})")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", proc.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    print(f"{name:<10} {seconds:8.1f} s  {rss_kib / 1024:8.0f} MiB  {note}", flush=True)
    return Measure(name, seconds, rss_kib / 1024, note)


def median_of(runs: list[Measure], note: str) -> Measure:
    """The run of median wall time (an odd count), its note listing every run's time; peak RSS the highest seen."""
    middle = sorted(runs, key=lambda m: m.seconds)[len(runs) // 2]
    times = ", ".join(f"{m.seconds:.1f}" for m in runs)
    note = f"{note}; median of {len(runs)} runs ({times} s)" if len(runs) > 1 else note
    return Measure(middle.name, middle.seconds, max(m.peak_mib for m in runs), note)


def repeated(repeat: int, name: str, argv: list[str], note: str, again=None) -> Measure:
    """`repeat` timed runs of argv, `again()` before each after the first (to restore what a run changed); their
    median (median_of)."""
    runs = []
    for i in range(repeat):
        if i and again:
            again()
        runs.append(timed(name, argv, note))
    return median_of(runs, note)


def warm(files: list[Path]) -> None:
    """Read the files once, so that they are in the page cache for every step that follows."""
    for f in files:
        with open(f, "rb") as handle:
            while handle.read(1 << 24):
                pass


def generator_digest() -> str:
    """What the generated data sets depend on: the generator's source (pipeline/sample.py)."""
    return hashlib.sha256(Path(sample.__file__).read_bytes()).hexdigest()[:16]


def cached(out: Path, make) -> Path:
    """`out`, made by `make(out)` unless it was made before by the same generator. A data set kept from an older
    generator is made again: one generated before issue 5 (no refunds, disputes, feedback or bot answers, six
    nightly files instead of ten) was reused by every benchmark until a fresh machine generated it anew."""
    marker = out / ".complete"
    if not (marker.exists() and marker.read_text() == generator_digest()):
        shutil.rmtree(out, ignore_errors=True)
        print(f"generating {out} ...", flush=True)
        make(out)
        marker.write_text(generator_digest())
    return out


def dataset(messages: int) -> Path:
    return cached(HERE / "data" / f"m{messages}",
                  lambda out: generate(out, messages=messages, split_last_day=True, showcase=False))


def inboxes(data: Path, work: Path) -> tuple[Path, list[Path]]:
    """An inbox of every file but the last day's (linked, not copied), and the last day's files."""
    inbox = work / "inbox"
    inbox.mkdir(parents=True)
    nextday = []
    for f in sorted(data.glob("*.csv")):
        if "_nextday" in f.name:
            nextday.append(f)
        else:
            (inbox / f.name).symlink_to(f)
    return inbox, nextday


def run_set(messages: int, incremental: bool, options: list[str], repeat: int) -> list[Measure]:
    data = dataset(messages)
    work = HERE / "work" / f"m{messages}"
    shutil.rmtree(work, ignore_errors=True)
    inbox, nextday = inboxes(data, work)
    label = f"{messages / 1e6:g}M"
    rows = sum(1 for _ in (inbox).glob("messages*"))
    csvs = sorted(inbox.glob("*.csv"))
    warm(csvs)
    results = [repeated(repeat, f"baseline-{label}",
                        [str(BIN / "python"), "-c",
                         "import polars as pl, sys\n"
                         "for i, f in enumerate(sys.argv[1:]):\n"
                         "    pl.scan_csv(f).sink_parquet(f'{sys.argv[1]}.{i}.parquet'.replace('/inbox/', '/'))",
                         *[str(p) for p in csvs]],
                        "polars scan_csv → sink_parquet, every inbox file")]
    lake = work / "lake"
    run = [str(BIN / "cskpi"), "run", str(inbox), "--lake", str(lake), *options]
    results.append(repeated(repeat, f"full-{label}", run, f"cskpi run, empty lake, {rows} message files",
                            again=lambda: shutil.rmtree(lake)))
    if incremental:
        before_night = work / "lake_before_night"
        shutil.copytree(lake, before_night, symlinks=True)
        for f in nextday:
            (inbox / f.name).symlink_to(f)
        warm(nextday)

        def night_again() -> None:
            shutil.rmtree(lake)
            shutil.copytree(before_night, lake, symlinks=True)

        results.append(repeated(repeat, f"incr-{label}", run, f"cskpi run, +{len(nextday)} files of one more day",
                                again=night_again))
    return results


def machine() -> str:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    mem = next((int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines()
                if l.startswith("MemTotal")), 0)
    return (f"{os.cpu_count()} cores ({cpu}), {mem / 1024 / 1024:.1f} GiB RAM, {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()}, polars {pl.__version__}, "
            f"duckdb {duckdb.__version__}; load average at start {os.getloadavg()[0]:.2f}")


def report(results: list[Measure], sizes: dict[str, int], config: Path | None = None) -> str:
    by = {m.name: m for m in results}
    lines = [
        "# Benchmark", "",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `make bench` on {machine()}."
        + (f" cskpi ran with `{config.name}`: `{' '.join(config.read_text().split())}`." if config else ""), "",
        "| step | wall s | peak RSS MiB | what |", "|---|---:|---:|---|",
        *[f"| {m.name} | {m.seconds:.1f} | {m.peak_mib:.0f} | {m.note} |" for m in results], "",
        "| ratio | value | target |", "|---|---:|---|",
    ]
    for label in sizes:
        full, base = by.get(f"full-{label}"), by.get(f"baseline-{label}")
        if full and base:
            lines.append(f"| full / baseline ({label}) | {full.seconds / base.seconds:.2f}× | ≤ 6× |")
        incr = by.get(f"incr-{label}")
        if incr and full:
            lines.append(f"| increment / full ({label}) | {incr.seconds / full.seconds:.1%} | ≤ 10% |")
    labels = list(sizes)
    if len(labels) == 2 and all(f"full-{l}" in by for l in labels):
        small, big = sorted(labels, key=sizes.get)
        lines.append(f"| peak RSS {big} / {small} | {by[f'full-{big}'].peak_mib / by[f'full-{small}'].peak_mib:.2f}× | "
                     "≤ 1.5× |")
        lines.append(f"| peak RSS {big} | {by[f'full-{big}'].peak_mib / 1024:.2f} GiB | ≤ 4 GiB |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--small", type=int, default=1_000_000, help="the second size, for memory growth (0: skip)")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    parser.add_argument("--config", type=Path, help="a cskpi.toml for every cskpi run (default: none)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of every step (median)")
    args = parser.parse_args()
    if args.repeat < 1 or args.repeat % 2 == 0:
        parser.error("--repeat must be odd (the median of its runs is the figure)")
    sizes = {f"{n / 1e6:g}M": n for n in (args.small, args.messages) if n}
    results: list[Measure] = []
    for label, n in sorted(sizes.items(), key=lambda kv: kv[1]):
        options = ["--config", str(args.config.resolve())] if args.config else []
        results += run_set(n, incremental=(n == args.messages), options=options, repeat=args.repeat)
    args.out.write_text(report(results, sizes, args.config))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
