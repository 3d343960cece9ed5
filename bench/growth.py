"""`make bench-growth`: what a longer lake costs a night (issue 4: a night's cost follows the new data, not the lake).

The same shops and the same messages a day over a short and a long stretch of days (by default 150 shops, 75K
messages a day, 28 and 84 days): each lake is computed from every day but the last, then given its last day's files
as the night, --repeat times on a copy of it (the median is the figure). The nights are alike, so the long lake's
night over the short lake's is what the history costs. Results go to bench/growth.md; data sets are generated once
into bench/data/ (git-ignored) and reused.
"""
from __future__ import annotations

import argparse
import shutil
from datetime import UTC, datetime
from pathlib import Path

from bench.run import BIN, HERE, Measure, cached, inboxes, machine, repeated, timed, warm
from pipeline.sample import generate


def dataset(shops: int, days: int, per_day: int) -> Path:
    return cached(HERE / "data" / f"growth_s{shops}_d{days}_m{per_day}",
                  lambda out: generate(out, messages=days * per_day, shops=shops, days=days, showcase=False,
                                       split_last_day=True))


def night_on(days: int, shops: int, per_day: int, repeat: int) -> Measure:
    """The median night on a lake of `days` - 1 days."""
    work = HERE / "work" / f"growth_d{days}"
    shutil.rmtree(work, ignore_errors=True)
    inbox, nextday = inboxes(dataset(shops, days, per_day), work)
    before, lake = work / "lake_before_night", work / "lake"
    warm(sorted(inbox.glob("*.csv")))
    timed(f"lake-d{days - 1}", [str(BIN / "cskpi"), "run", str(inbox), "--lake", str(before)],
          f"the lake of {days - 1} days, computed once")
    for f in nextday:
        (inbox / f.name).symlink_to(f)
    warm(nextday)
    shutil.copytree(before, lake, symlinks=True)

    def again() -> None:
        shutil.rmtree(lake)
        shutil.copytree(before, lake, symlinks=True)

    return repeated(repeat, f"night-d{days - 1}", [str(BIN / "cskpi"), "run", str(inbox), "--lake", str(lake)],
                    f"cskpi run, +{len(nextday)} files of day {days}, on {days - 1} days of lake", again=again)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=150)
    parser.add_argument("--per-day", type=int, default=75_000, help="messages a day")
    parser.add_argument("--days", type=int, nargs=2, default=[28, 84], metavar=("SHORT", "LONG"))
    parser.add_argument("--repeat", type=int, default=5, help="nights on each lake (median)")
    parser.add_argument("--out", type=Path, default=HERE / "growth.md")
    args = parser.parse_args()
    short, long = (night_on(d, args.shops, args.per_day, args.repeat) for d in sorted(args.days))
    lines = [
        "# What a longer lake costs a night", "",
        (f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make bench-growth` on {machine()}; "
         f"{args.shops} shops, about {args.per_day:,} messages a day."), "",
        "| step | wall s | peak RSS MiB | what |", "|---|---:|---:|---|",
        *[f"| {m.name} | {m.seconds:.1f} | {m.peak_mib:.0f} | {m.note} |" for m in (short, long)], "",
        (f"A lake {(max(args.days) - 1) / (min(args.days) - 1):.1f}x as long: its night takes "
         f"{long.seconds / short.seconds:.2f}x as long ({long.seconds - short.seconds:+.1f} s)."),
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
