"""open_table: a file on disk -> a LazyFrame of String columns named by the file's headers, plus `_line` and `_error`.

Values are not parsed here (a later stage does that); only empty strings become null (SPEC §1.1).

Every frame has, after the file's columns:
- `_line` (Int64): where the record starts. CSV/TSV: the physical line (header = line 1), exact with LF and CRLF
  endings and quoted newlines. XLSX: the Excel row number (the header is the sheet's first non-empty row, normally
  row 1). JSON Lines: the physical line.
  Parquet: the row number (1-based; there is no header line).
- `_error` (String): null, or why the record is structurally broken (a CSV row with more fields than the header).

Rows that are entirely empty (blank CSV lines, `,,,` rows, empty spreadsheet rows) are dropped.

A file that cannot be read at all raises ReadError. That includes a CSV cut inside a quoted field (polars refuses
the whole file, so the message names the line where the unclosed quote opens) and a line of a JSON Lines file that
is not a JSON object. To make sure no parse error surfaces later as a traceback, open_table parses the whole file
once (streaming, bounded memory) before returning.
"""
from __future__ import annotations

import csv
import json
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from xml.etree import ElementTree

import polars as pl

from pipeline.read.encoding import (
    CHUNK_SIZE, ReadError, check_encoding, detect_encoding, normalise_encoding, transcode_to_utf8,
)
from pipeline.read.headers import DUPLICATE_SUFFIX

LINE, ERROR = "_line", "_error"
_ROW = "__cskpi_row"
_NEWLINES = "__cskpi_newlines"
_OVERFLOW = 4  # extra columns that catch a too-long row's surplus fields, so it can be flagged
_SUFFIXES = {
    ".csv": ("csv", ","), ".csv.gz": ("csv", ","), ".tsv": ("csv", "\t"), ".tsv.gz": ("csv", "\t"),
    ".xlsx": ("xlsx", None), ".parquet": ("parquet", None), ".jsonl": ("jsonl", None), ".ndjson": ("jsonl", None),
}


@dataclass
class RawTable:
    path: Path
    frame: pl.LazyFrame  # every file column pl.String (header stripped), then "_line" (Int64) and "_error" (String)
    encoding: str | None  # "utf-8", "utf-8-sig", "gb18030" (or an override); None for xlsx and parquet
    format: str  # "csv", "xlsx", "parquet", "jsonl"
    source: Path | None = None  # the UTF-8 text polars parses (a transcoded copy, or the file itself)

    @property
    def headers(self) -> list[str]:
        """The file's column names as they appear in `frame` (without `_line`, `_error`)."""
        return [c for c in self.frame.collect_schema().names() if c not in (LINE, ERROR)]


def open_table(path: Path, *, workdir: Path, encoding: str | None = None, chunk_size: int = CHUNK_SIZE) -> RawTable:
    """Open `path` by its file name's format. A non-UTF-8 or gzipped CSV is transcoded into a UTF-8 file in `workdir`
    (the caller removes `workdir` once the frame has been consumed). `encoding` overrides CSV encoding detection."""
    path = Path(path)
    suffix = _suffix_of(path)
    if suffix is None:
        raise ReadError(path, f"unknown file format; known: {', '.join(_SUFFIXES)}")
    if not path.is_file():
        raise ReadError(path, "no such file")
    fmt, sep = _SUFFIXES[suffix]
    if fmt == "csv":
        return _open_csv(path, sep, Path(workdir), encoding, chunk_size)
    if fmt == "xlsx":
        return _open_xlsx(path)
    if fmt == "parquet":
        return _open_parquet(path)
    return _open_jsonl(path)


def _suffix_of(path: Path) -> str | None:
    """The longest of _SUFFIXES the file's name ends in (`.csv.gz` before `.gz`), or None."""
    name = path.name.lower()
    return next((s for s in sorted(_SUFFIXES, key=len, reverse=True) if name.endswith(s)), None)


def column_names(path: Path, headers: list[str]) -> list[str]:
    """Headers stripped of surrounding spaces; an empty one becomes column_<position>; a repeated one
    <name>_duplicated_<k> (k from 0)."""
    names: list[str] = []
    for i, header in enumerate(headers, 1):
        base = name = str(header).strip() or f"column_{i}"
        if name in (LINE, ERROR):
            raise ReadError(path, f"header {name!r} is reserved for the line number and row errors", column=name)
        k = 0
        while name in names:
            name, k = f"{base}{DUPLICATE_SUFFIX}{k}", k + 1
        names.append(name)
    return names


def _nullify_empty(col: str) -> pl.Expr:
    return pl.when(pl.col(col) != "").then(pl.col(col)).alias(col)


def _empty(path: Path, encoding: str | None, fmt: str) -> RawTable:
    return RawTable(path, pl.LazyFrame(schema={LINE: pl.Int64, ERROR: pl.String}), encoding, fmt)


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


# --- CSV -----------------------------------------------------------------------------------------------------------

def _open_csv(path: Path, sep: str, workdir: Path, encoding: str | None, chunk_size: int) -> RawTable:
    overridden = encoding is not None
    if overridden:
        encoding = normalise_encoding(path, encoding)
    else:
        encoding = detect_encoding(path, chunk_size=chunk_size)
    if path.name.lower().endswith(".gz") or encoding not in ("utf-8", "utf-8-sig"):
        workdir.mkdir(parents=True, exist_ok=True)
        source = workdir / f"{path.name}.{uuid.uuid4().hex[:12]}.utf8.csv"
        try:
            transcode_to_utf8(path, encoding, source, chunk_size=chunk_size)
            return _scan_csv(path, source, sep, encoding)
        except BaseException:
            source.unlink(missing_ok=True)
            raise
    if overridden:  # detection has validated the file already; an override has not
        check_encoding(path, encoding, chunk_size=chunk_size)
    return _scan_csv(path, path, sep, encoding)  # polars skips a UTF-8 BOM itself


def _scan_csv(path: Path, source: Path, sep: str, encoding: str) -> RawTable:
    """`source` is `path` as UTF-8."""
    header = _csv_header(path, source, sep)
    if not header:
        return _empty(path, encoding, "csv")
    names = column_names(path, header)
    overflow = [f"__cskpi_overflow_{i}" for i in range(_OVERFLOW)]
    raw = pl.scan_csv(
        source, has_header=False, skip_rows=1, separator=sep, schema={c: pl.String for c in names + overflow},
        missing_columns="insert", extra_columns="ignore", truncate_ragged_lines=True, row_index_name=_ROW,
    ).with_columns(_nullify_empty(c) for c in names + overflow)

    # A record starts 1 line after the previous one, plus the newlines inside the previous records' fields. (A
    # column of its own: written twice in `line`, the count would be computed twice.)
    newlines = pl.sum_horizontal(
        pl.col(c).str.count_matches("\n", literal=True).cast(pl.Int64).fill_null(0) for c in names + overflow
    ).alias(_NEWLINES)
    first_line = 2 + sum(h.count("\n") for h in header)
    line = first_line + pl.col(_ROW).cast(pl.Int64) + pl.col(_NEWLINES).cum_sum() - pl.col(_NEWLINES)
    # The last surplus field present gives the row's field count (capped: further fields were cut by polars).
    n, error = len(names), pl.lit(None, pl.String)
    for k, col in enumerate(overflow):
        count = f"at least {n + k + 1}" if k == _OVERFLOW - 1 else str(n + k + 1)
        reason = pl.lit(f"row has {count} fields, header has {n}")
        error = pl.when(pl.col(col).is_not_null()).then(reason).otherwise(error)
    frame = (
        raw.with_columns(newlines)
        .with_columns(line.alias(LINE), error.alias(ERROR))
        .filter(pl.any_horizontal(pl.col(c).is_not_null() for c in names + overflow))
        .select(*names, LINE, ERROR)
    )

    return RawTable(path, frame, encoding, "csv", source)


def relaxed(raw: RawTable, workdir: Path) -> RawTable:
    """`raw`, a CSV polars could not split into records, read as Excel and Python's csv module read it: a quote inside
    an unquoted field is a character (`他说"好`), only one that opens a field opens a quoted field. Polars' parser
    reads such a field so too, but the splitting of the file into chunks counts every quote, and a stray one refused
    the whole file. The records are written to an RFC 4180 copy in `workdir` (the lines of the records, and so their
    `_line`, unchanged) and scanned like any CSV. Raises ReadError when even this reading fails: a quoted field never
    closed (a truncated file), or text after a closing quote."""
    _, sep = _SUFFIXES[_suffix_of(raw.path)]
    workdir.mkdir(parents=True, exist_ok=True)
    copy = workdir / f"{raw.path.name}.{uuid.uuid4().hex[:12]}.relaxed.csv"
    with open(raw.source, encoding="utf-8-sig", newline="") as text, \
            open(copy, "w", encoding="utf-8", newline="") as out:
        records, write = csv.reader(text, delimiter=sep, strict=True), csv.writer(out, delimiter=sep, lineterminator="\n")
        start, error = 1, None
        try:
            for record in records:
                write.writerow(record)
                start = records.line_num + 1
        except csv.Error as e:
            why = ("a quoted field of the record on this line is never closed (file truncated)"
                   if "unexpected end of data" in str(e) else f"not valid CSV: {e}")
            error = ReadError(raw.path, why, line=start)
    if error is not None:
        copy.unlink(missing_ok=True)
        raise error
    return _scan_csv(raw.path, copy, sep, raw.encoding)


def explain(raw: RawTable, error: Exception) -> ReadError:
    """The ReadError for a failure met while consuming `raw.frame` (the body of a file is parsed only then, once):
    a CSV cut inside a quoted field names the line where the quote opens."""
    if raw.format == "csv" and raw.source is not None:
        opened = _unclosed_quote(raw.source)
        if opened is not None:
            why = 'a quote opened on this line is never closed (file truncated)'
            return ReadError(raw.path, why, line=opened)
    return ReadError(raw.path, f"cannot parse: {_first_line(error)}")


def _csv_header(path: Path, source: Path, sep: str) -> list[str] | None:
    with open(source, "rb") as f:
        head = f.read(1 << 16)
    if b"\n" not in head and re.search(rb"\r[^\r\n]", head):
        # Polars would take the whole file for one line and silently read no rows.
        raise ReadError(path, "lines end in a bare carriage return (old Mac CSV); save it with LF or CRLF line endings")
    try:
        with open(source, encoding="utf-8-sig", newline="") as f:
            return next(csv.reader(f, delimiter=sep), None)
    except csv.Error as e:
        raise ReadError(path, f"cannot read the header: {e}", line=1) from None


def _unclosed_quote(source: Path) -> int | None:
    """The line where a quoted field opens that never closes, or None. Polars toggles its in-quotes state at every
    quote character, so counting quotes line by line follows the same records it does."""
    inside, start = False, None
    with open(source, "rb") as f:
        for number, text in enumerate(f, 1):
            if not inside:
                start = number
            if text.count(b'"') % 2:
                inside = not inside
    return start if inside else None


# --- XLSX ----------------------------------------------------------------------------------------------------------

def _open_xlsx(path: Path) -> RawTable:
    """First sheet, header in its first row. Read eagerly (spreadsheets are small); calamine with schema inference off
    gives every cell as text: 5.0 -> "5", datetimes "YYYY-MM-DD HH:MM:SS[.fff]", dates "YYYY-MM-DD 00:00:00"."""
    try:
        # has_header=False: calamine would rename repeated headers ("a_1"), hiding them from resolve_headers.
        df = pl.read_excel(
            path, engine="calamine", sheet_id=1, has_header=False, infer_schema_length=0,
            drop_empty_rows=False, drop_empty_cols=False, raise_if_empty=False,
        )
    except Exception as e:  # fastexcel raises its own exception types
        raise ReadError(path, f"cannot read as XLSX: {_first_line(e)}") from None
    if df.height == 0:
        return _empty(path, None, "xlsx")
    names = column_names(path, ["" if v is None else v for v in df.row(0)])
    frame = (
        df.slice(1).lazy()
        .rename(dict(zip(df.columns, names)))
        .with_columns(_nullify_empty(c) for c in names)
        .with_row_index(LINE, offset=_first_used_row(path) + 1)
        .with_columns(pl.col(LINE).cast(pl.Int64), pl.lit(None, pl.String).alias(ERROR))
        .filter(pl.any_horizontal(pl.col(c).is_not_null() for c in names))
        .select(*names, LINE, ERROR)
    )
    return RawTable(path, frame, None, "xlsx")


def _first_used_row(path: Path) -> int:
    """The Excel row number of the first sheet's first row holding a value: calamine drops the empty rows above it.
    1 when it cannot tell."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    try:
        with zipfile.ZipFile(path) as z:
            sheet = ElementTree.fromstring(z.read("xl/workbook.xml")).find("m:sheets/m:sheet", ns)
            rel_id = sheet.get(f"{{{ns['r']}}}id")
            rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
            target = next(r.get("Target") for r in rels if r.get("Id") == rel_id)
            target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            with z.open(target) as f:
                for _, el in ElementTree.iterparse(f):  # streams; stops at the first cell with a value
                    has_value = el.find("m:v", ns) is not None or el.find("m:is", ns) is not None
                    if el.tag == f"{{{ns['m']}}}c" and has_value:
                        return int(re.sub(r"[A-Z]", "", el.get("r", "A1")))
    except Exception:  # an unusual but readable workbook: fall back to the documented layout
        return 1
    return 1


# --- Parquet -------------------------------------------------------------------------------------------------------

def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        # "%.f" writes no fraction for whole seconds, else 3/6/9 digits; "%:z" keeps the offset ("+08:00").
        return col.dt.to_string("%Y-%m-%d %H:%M:%S%.f" + ("%:z" if dtype.time_zone else ""))
    if isinstance(dtype, pl.Duration):
        return col.dt.to_string("iso")
    if dtype == pl.Binary:  # a string column some writers store without the UTF-8 annotation
        return col.cast(pl.String)
    if dtype.is_nested():
        # JSON text of the value: wrap in a struct, encode, strip the wrapper.
        encoded = pl.struct(col.alias("v")).struct.json_encode()
        return pl.when(col.is_not_null()).then(encoded.str.slice(5, encoded.str.len_chars() - 6))
    return col.cast(pl.String)


def _open_parquet(path: Path) -> RawTable:
    """Every column as text (datetimes "YYYY-MM-DD HH:MM:SS[.ffffff][+08:00]", lists and structs as JSON, binary
    as UTF-8 text); `_line` is the 1-based row number."""
    try:
        lf = pl.scan_parquet(path)
        schema = lf.collect_schema()
    except Exception as e:
        raise ReadError(path, f"cannot read as Parquet: {_first_line(e)}") from None
    if not schema:
        return _empty(path, None, "parquet")
    names = column_names(path, list(schema.names()))
    frame = (
        lf.select(_as_text(old, dtype).alias(new) for (old, dtype), new in zip(schema.items(), names))
        .with_columns(_nullify_empty(c) for c in names)
        .with_row_index(LINE, offset=1)
        .with_columns(pl.col(LINE).cast(pl.Int64), pl.lit(None, pl.String).alias(ERROR))
        .select(*names, LINE, ERROR)
    )
    binary = [new for (_, dtype), new in zip(schema.items(), names) if dtype == pl.Binary]
    if binary:  # the cast to text fails on bytes that are not UTF-8: find out now rather than downstream
        try:
            frame.select(pl.col(binary).null_count()).collect(engine="streaming")
        except pl.exceptions.PolarsError as e:
            raise ReadError(path, f"binary data that is not UTF-8 text: {_first_line(e)}") from None
    return RawTable(path, frame, None, "parquet")


# --- JSON Lines ----------------------------------------------------------------------------------------------------

def _open_jsonl(path: Path) -> RawTable:
    """One JSON object per line; blank lines are skipped. Values as text: strings as they are, numbers, booleans
    and nested values as JSON text. A line that is not a JSON object is a ReadError naming the line."""
    def fail(e: Exception) -> NoReturn:
        _, bad = _objects_of(path)
        if bad is not None:
            raise ReadError(path, f"not a JSON object: {bad[1]}", line=bad[0]) from None
        raise ReadError(path, f"cannot parse: {_first_line(e)}") from None

    try:
        keys = list(pl.scan_ndjson(path, infer_schema_length=None).collect_schema().names())
    except pl.exceptions.PolarsError as e:
        if not _has_content(path):
            return _empty(path, "utf-8", "jsonl")
        # Polars infers a type per key and fails where a key holds a list on one line and an object on another
        # (no supertype). The values are read as text anyway: only the keys are needed, taken line by line.
        keys, bad = _objects_of(path)
        if bad is not None or not keys:
            fail(e)
    if not keys:
        return _empty(path, "utf-8", "jsonl")
    names = column_names(path, keys)
    data = pl.scan_ndjson(path, schema={k: pl.String for k in keys}, row_index_name=_ROW).rename(dict(zip(keys, names)))
    # scan_ndjson skips blank lines; the line numbers of the non-blank ones, row for row:
    lines = (
        pl.scan_lines(path, name="__cskpi_text", row_index_name=LINE, row_index_offset=1)
        .filter(pl.col("__cskpi_text").str.strip_chars() != "")
        .select(pl.col(LINE).cast(pl.Int64))
    )
    joined = pl.concat([data, lines], how="horizontal")
    try:
        unmatched = joined.select(pl.col(_ROW).null_count() + pl.col(LINE).null_count()).collect(engine="streaming")
    except pl.exceptions.PolarsError as e:
        fail(e)
    if unmatched.item():
        raise ReadError(path, "its lines and JSON records do not pair up (a line holding two objects?)")
    frame = joined.with_columns(_nullify_empty(c) for c in names).with_columns(
        pl.lit(None, pl.String).alias(ERROR)
    ).select(*names, LINE, ERROR)
    return RawTable(path, frame, "utf-8", "jsonl")


def _has_content(path: Path) -> bool:
    with open(path, "rb") as f:
        return any(text.strip() for text in f)


def _objects_of(path: Path) -> tuple[list[str], tuple[int, str] | None]:
    """The keys of the file's JSON objects in the order first seen, and the first line (number, why) that is not a
    JSON object, or None when every non-blank line is one."""
    keys: dict[str, None] = {}
    with open(path, "rb") as f:
        for number, text in enumerate(f, 1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except ValueError as e:  # includes UnicodeDecodeError
                return list(keys), (number, str(e))
            if not isinstance(value, dict):
                return list(keys), (number, f"a JSON {type(value).__name__}, not an object")
            keys.update(dict.fromkeys(value))
    return list(keys), None
