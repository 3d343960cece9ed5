"""Where a `cskpi run` spends its time and memory: stage timers and the peak RSS within each stage.

    python -m bench.profile INBOX --lake DIR [--snapshot DIR]

Runs the nightly job in this process with timers around the pipeline's stages (landing each file, each sql/ step,
the increment's own statements, writing, validation, the warehouse) and a thread sampling VmRSS every 20 ms.
Prints one line per stage: wall seconds, CPU seconds of the process (every thread), and the highest RSS seen
while it ran. With --snapshot, the lake is first
replaced by a copy of that folder (to profile the same increment again).
"""
from __future__ import annotations

import argparse
import shutil
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

_rss = {"now": 0.0, "peak": 0.0}
_stack: list[list] = []  # [name, start, peak]
_totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0, 0.0])


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _sample() -> None:
    while True:
        now = _rss_mib()
        _rss["now"] = now
        _rss["peak"] = max(_rss["peak"], now)
        for frame in _stack:
            frame[2] = max(frame[2], now)
        time.sleep(0.02)


@contextmanager
def stage(name: str):
    frame = [name, time.perf_counter(), _rss_mib()]
    cpu = time.process_time()
    _stack.append(frame)
    try:
        yield
    finally:
        _stack.remove(frame)
        total = _totals[name]
        total[0] += time.perf_counter() - frame[1]
        total[1] = max(total[1], frame[2])
        total[2] += 1
        total[3] += time.process_time() - cpu


def _wrap(module, attr: str, label) -> None:
    original = getattr(module, attr)

    def wrapped(*args, **kwargs):
        with stage(label(*args, **kwargs) if callable(label) else label):
            return original(*args, **kwargs)

    setattr(module, attr, wrapped)


class _TimedConnection:
    """A DuckDB connection whose statements are timed one by one (--statements)."""

    def __init__(self, con):
        self._con = con

    def execute(self, sql, *args, **kwargs):
        words = " ".join(str(sql).split())
        with stage(f"    {words[:70]}"):
            return self._con.execute(sql, *args, **kwargs)

    def cursor(self):
        # the increment's day files are written on a cursor, in a thread: its statements are timed too
        return _TimedConnection(self._con.cursor())

    def __getattr__(self, name):
        return getattr(self._con, name)


def instrument(statements: bool = False) -> None:
    from pipeline import compute, sqlfiles, jobs
    from pipeline.land import ingest
    from pipeline.publish import generation, warehouse
    from pipeline.schemas import validate

    _wrap(sqlfiles, "build", lambda con, name, *a, **k: f"sql {name}")
    _wrap(ingest, "_land_file", lambda con, lake, manifest, landed, kind, *a, **k: f"land {kind.name}")
    _wrap(ingest, "_stage", lambda frame, kind, *a, **k: f"  normalise {kind.name}")
    _wrap(ingest, "sha256_of", "  hash")
    _wrap(validate, "validate_parquet", lambda path, model, *a, **k: f"  pandera {model.__name__}")
    for module in (ingest, generation, compute):
        module.validate_parquet = validate.validate_parquet
    _wrap(generation, "write", "write generation")
    from pipeline.land import lake
    _wrap(lake, "fsync_file", "  fsync")
    for module in (ingest, generation):
        module.fsync_file = lake.fsync_file
    _wrap(compute, "_increment", "increment (derive, day sums)")
    _wrap(compute, "_changed_periods", "increment: changed periods")
    _wrap(compute, "_roll_up_changed_periods", "increment: roll-up of changed periods")
    _wrap(jobs, "land", "land")
    _wrap(jobs, "compute_into", "compute")
    _wrap(jobs, "refresh_warehouse", "warehouse")
    if statements:
        connect = compute.connect
        compute.connect = ingest.connect = lambda *a, **k: _TimedConnection(connect(*a, **k))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inbox", type=Path)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--snapshot", type=Path)
    parser.add_argument("--statements", action="store_true", help="time each statement of the computation")
    parser.add_argument("--config", type=Path, help="a cskpi.toml")
    parser.add_argument("--compute", action="store_true", help="a full computation of the lake (no inbox read)")
    args = parser.parse_args()
    if args.snapshot:
        shutil.rmtree(args.lake, ignore_errors=True)
        shutil.copytree(args.snapshot, args.lake, symlinks=True)
    threading.Thread(target=_sample, daemon=True).start()
    start = time.perf_counter()
    with stage("imports"):
        from pipeline.config import Config
        from pipeline.land.lake import Lake
        from pipeline import jobs
    instrument(args.statements)
    config = Config.load(args.config)
    with stage("run"):
        if args.compute:
            jobs.compute(Lake(args.lake), config)
        else:
            jobs.run(args.inbox, Lake(args.lake), config)
    print(f"{'stage':<40} {'calls':>5} {'s':>8} {'cpu s':>8} {'peak MiB':>9}")
    for name, (seconds, peak, calls, cpu) in _totals.items():
        print(f"{name:<40} {calls:>5} {seconds:8.2f} {cpu:8.2f} {peak:9.0f}")
    print(f"{'total':<40} {'':>5} {time.perf_counter() - start:8.2f} {time.process_time():8.2f} {_rss['peak']:9.0f}")


if __name__ == "__main__":
    main()
