"""Odd files of every format through `cskpi ingest`: each is refused with one `Error:` line naming it, or lands with
read = accepted + rejected + duplicates, lands in the warehouse as counted and computes; never a traceback (SPEC §1.3,
§7).

The files are drawn by hypothesis: any subset and order of a kind's columns; cells valid, invalid or strange (NUL,
newlines, quotes, emoji, right-to-left marks, out-of-range times and numbers); CSV in UTF-8, BOM, GB18030 or UTF-16,
TSV, gzip (possibly cut), XLSX with typed cells, Parquet with typed and nested columns, JSON Lines with values of any
JSON type, and bytes at random. Every rejected row is kept (`max_reject_ratio = 1`), so the landing runs too.
"""
from __future__ import annotations

import datetime as dt
import decimal
import gzip
import json
import re

import polars as pl
import pytest
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings, strategies as st

from pipeline.cli import main
from pipeline.kinds import KINDS
from tests.conftest import warehouse

CELLS = ["", " ", "S1", "C1", "2026-11-27 10:00:00", "2026-11-27T10:00:00+08:00", "2026/11/27 10:00", "customer",
         "agent", "客服", "5", "4.0", "很满意", "-1", "1e400", "nan", "¥1,234.50", "是", "true", "2026-W48", "2026-11",
         "2026-Q4", "\x00", "a\nb", 'he said "hi"', '="123"', "9999999999999999999999", "0000-00-00 00:00:00",
         "2026-02-30 10:00:00", "2026-11-27 24:00:00", "\u202e", "😀", "\r", "\t", "NULL", "2 Stars", "5星",
         "2026-11-27 10:00:00.1234567891", "2026-11-27 10:00:00+14:00", "9999-12-31 23:59:59", "0001-01-01 00:00:00",
         "1e35", "0001-Q1", "1900-01-01 00:00:00", "2999-12-31 23:59:59"]
FORMATS = ["csv", "tsv", "gz", "xlsx", "parquet", "jsonl", "bytes"]
COUNTS = re.compile(r"read (\d+), accepted (\d+), rejected (\d+), duplicates (\d+)")


def cell(column: str):
    ids = st.sampled_from([f"{column[:2]}{i}" for i in range(4)])
    return ids | st.sampled_from(CELLS) if column.endswith("_id") else st.sampled_from(CELLS)


@st.composite
def odd_files(draw, fmt: str):
    kind = draw(st.sampled_from(sorted(KINDS)))
    columns = draw(st.permutations(list(KINDS[kind].names)))
    if draw(st.integers(0, 3)) == 0:  # a file missing columns, required ones too, now and then
        columns = columns[: draw(st.integers(1, len(columns)))]
    rows = draw(st.lists(st.tuples(*[cell(c) for c in columns]), max_size=12))
    typed = draw(st.lists(st.sampled_from(["text", "int", "float", "time", "bool", "decimal", "list", "date"]),
                          min_size=len(columns), max_size=len(columns)))
    if fmt == "bytes":
        header = draw(st.sampled_from([b"", ",".join(columns).encode() + b"\n"]))
        return kind, "csv", header + draw(st.binary(max_size=200))
    if fmt in ("csv", "tsv", "gz"):
        sep = "\t" if fmt == "tsv" else ","
        text = "".join(sep.join(_quoted(v, sep) for v in row) + "\n" for row in [columns, *rows])
        if draw(st.booleans()):
            text = text.replace("\n", "\r\n")
        if fmt == "gz":
            data = gzip.compress(text.encode())
            return kind, "csv.gz", data[: draw(st.integers(0, len(data)))] if draw(st.booleans()) else data
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
        return kind, fmt, text.encode(encoding, errors="replace") if encoding != "gb18030" else text.encode(encoding)
    if fmt == "jsonl":
        values = st.sampled_from([None, 5, 5.5, True, [1], {"a": 1}, 10 ** 20])
        lines = [json.dumps({c: draw(values) if draw(st.booleans()) else v for c, v in zip(columns, row)},
                            ensure_ascii=draw(st.booleans())) for row in rows]
        return kind, "jsonl", ("\n".join(lines) + "\n").encode()
    if fmt == "xlsx":
        return kind, "xlsx", {c: _typed(t, [r[i] for r in rows], spreadsheet=True)
                              for i, (c, t) in enumerate(zip(columns, typed))}
    return kind, "parquet", {c: _typed(t, [r[i] for r in rows]) for i, (c, t) in enumerate(zip(columns, typed))}


def _quoted(value: str, sep: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(ch in value for ch in (sep, '"', "\n", "\r")) else value


def _typed(kind: str, texts: list[str], spreadsheet: bool = False):
    n = len(texts)
    if kind == "int":
        return pa.array([10 ** 12 + i for i in range(n)], pa.int64())
    if kind == "float":
        return pa.array([[1.5, float("nan"), float("inf"), -0.0][i % 4] for i in range(n)], pa.float64())
    if kind == "time":
        times = [dt.datetime(2026, 11, 27, 10, i % 60, 0, 500000 * (i % 2)) for i in range(n)]
        return pa.array(times, pa.timestamp("us"))
    if kind == "bool":
        return pa.array([i % 2 == 0 for i in range(n)], pa.bool_())
    if kind == "decimal" and not spreadsheet:
        return pa.array([decimal.Decimal("12.34")] * n, pa.decimal128(10, 2))
    if kind == "list" and not spreadsheet:
        return pa.array([[1, 2]] * n, pa.list_(pa.int64()))
    if kind == "date":
        return pa.array([dt.date(2026, 11, 1 + i % 30) for i in range(n)], pa.date32())
    return pa.array([t or None for t in texts], pa.string())


def write(path, fmt: str, content) -> None:
    if fmt == "xlsx":
        pl.DataFrame(pa.table(content)).write_excel(path)
    elif fmt == "parquet":
        pq.write_table(pa.table(content), path)
    else:
        path.write_bytes(content)


@pytest.mark.parametrize("form", FORMATS)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_an_odd_file_is_refused_with_one_error_line_or_lands_as_counted(tmp_path_factory, form, data):
    kind, fmt, content = data.draw(odd_files(form))
    root = tmp_path_factory.mktemp("odd")
    path = root / f"{kind}_odd.{fmt}"
    write(path, fmt, content)
    (root / "cskpi.toml").write_text("max_reject_ratio = 1.0\n")
    lake = root / "lake"
    result = CliRunner().invoke(main, ["ingest", kind, str(path), "--lake", str(lake), "--config",
                                       str(root / "cskpi.toml")])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1), result.output
    event(f"{fmt}: {'refused' if result.exit_code else 'landed'}")
    if result.exit_code == 1:
        assert f"Error: {path}" in result.output, result.output
        return
    (counts,) = COUNTS.findall(result.output)
    read, accepted, rejected, duplicates = map(int, counts)
    assert read == accepted + rejected + duplicates
    # one file: the earlier copies of a repeated key are its duplicates, whichever copy the kind keeps
    assert warehouse(lake, f'SELECT count(*) FROM "{kind}"') == [(accepted,)]
    assert warehouse(lake, "SELECT count(*) FROM rejects") == [(rejected,)]
    # and whatever landed computes: an amount of 1e35 or a time of year 1 landed and failed every computation after
    computed = CliRunner().invoke(main, ["compute", "--lake", str(lake)])
    assert computed.exit_code == 0, computed.output
