"""Band: the thresholds of SPEC §5 (packaged Table A.1 defaults or an industry's own file), validated on load,
and the `kpi` table that grades every value with them (sql/kpi.sql)."""
from __future__ import annotations

import math
import tomllib
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from .. import sqlfiles
from ..config import ConfigError
from ..kpis import KPI_CODES

LEVELS = ("AAAAA", "AAAA", "AAA")
_LIMITS = ("limit", "platform_limit", "industry_limit")
_KEYS = {"better", "strict", *_LIMITS, *LEVELS}


# A threshold is compared exactly as a DECIMAL(38, 6) times a denominator (sql/kpi.sql): TOML's inf and nan, or a
# number beyond this, would fail that cast in the middle of a computation.
_LARGEST = 1e12


def _number(source: str, kpi: str, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{source}: [{kpi}] {key} must be a number, not {value!r}")
    if not math.isfinite(value) or abs(value) > _LARGEST:
        raise ConfigError(f"{source}: [{kpi}] {key} must be a finite number of at most 1e12 either side of 0, "
                          f"not {value!r}")
    return float(value)


def load_thresholds(path: Path | None = None) -> pl.DataFrame:
    """One row per KPI: better, aaaaa/aaaa/aaa with their strictness, pass_limit. Raises ConfigError on bad files."""
    if path is None:
        source, text = "default thresholds", resources.files("pipeline.band").joinpath("thresholds.toml").read_text("utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such thresholds file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML ({e})") from None
    rows = []
    for kpi, spec in data.items():
        if kpi not in KPI_CODES:
            raise ConfigError(f"{source}: unknown KPI code [{kpi}]; known: {', '.join(KPI_CODES)}")
        if not isinstance(spec, dict):
            raise ConfigError(f"{source}: {kpi} must be a table [{kpi}]")
        unknown = set(spec) - _KEYS
        if unknown:
            raise ConfigError(f"{source}: [{kpi}] unknown keys {', '.join(sorted(unknown))}")
        better = spec.get("better")
        if better not in ("higher", "lower"):
            raise ConfigError(f"{source}: [{kpi}] better must be \"higher\" or \"lower\", not {better!r}")
        levels = {lvl: _number(source, kpi, lvl, spec[lvl]) for lvl in LEVELS if lvl in spec}
        if levels and len(levels) != 3:
            raise ConfigError(f"{source}: [{kpi}] needs all of AAAAA, AAAA, AAA (has {', '.join(levels)})")
        if levels:
            a5, a4, a3 = (levels[lvl] for lvl in LEVELS)
            monotone = a5 >= a4 >= a3 if better == "higher" else a5 <= a4 <= a3
            if not monotone:
                sign = ">=" if better == "higher" else "<="
                raise ConfigError(f"{source}: [{kpi}] levels are not monotone: need AAAAA {sign} AAAA {sign} AAA "
                                  f"(got {a5:g}, {a4:g}, {a3:g})")
        strict = spec.get("strict", [])
        if not isinstance(strict, list) or not set(strict) <= set(LEVELS):
            raise ConfigError(f"{source}: [{kpi}] strict must be a list of level names from {', '.join(LEVELS)}")
        limits = [_number(source, kpi, k, spec[k]) for k in _LIMITS if k in spec]
        if limits and levels:
            raise ConfigError(f"{source}: [{kpi}] has both levels and a pass/fail limit; choose one")
        # Table A.2: where platform and industry both set a limit, the stricter one applies (the lower of two
        # limits on a lower-is-better KPI such as the bad-review rate).
        limit = (min(limits) if better == "lower" else max(limits)) if limits else None
        rows.append({
            "kpi": kpi, "better": better,
            "aaaaa": levels.get("AAAAA"), "aaaa": levels.get("AAAA"), "aaa": levels.get("AAA"),
            "aaaaa_strict": "AAAAA" in strict, "aaaa_strict": "AAAA" in strict, "aaa_strict": "AAA" in strict,
            "pass_limit": limit,
        })
    schema = {"kpi": pl.String, "better": pl.String, "aaaaa": pl.Float64, "aaaa": pl.Float64, "aaa": pl.Float64,
              "aaaaa_strict": pl.Boolean, "aaaa_strict": pl.Boolean, "aaa_strict": pl.Boolean,
              "pass_limit": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def band(con: duckdb.DuckDBPyConnection, thresholds: pl.DataFrame) -> None:
    sqlfiles.table_from(con, "thresholds", thresholds)
    sqlfiles.build(con, "kpi")


def describe(thresholds: pl.DataFrame) -> str:
    """One line per KPI: the value each band needs, or its pass limit, or `unrated`."""
    lines = []
    for t in thresholds.iter_rows(named=True):
        ge, gt = (">=", ">") if t["better"] == "higher" else ("<=", "<")
        if t["pass_limit"] is not None:
            rule = f"pass {ge} {t['pass_limit']:g}"
        elif t["aaa"] is not None:
            rule = ", ".join(f"{lvl} {gt if t[lvl.lower() + '_strict'] else ge} {t[lvl.lower()]:g}" for lvl in LEVELS)
        else:
            rule = "unrated (no levels, no limit)"
        lines.append(f"{t['kpi']:<30} {rule}")
    return "\n".join(lines)
