"""An independent reference of ingestion ("ingest oracle"), written from SPEC §1 and README "Inputs" /
"Reference → Ingest", with `pipeline/kinds.py` read as declared configuration only (kinds, columns, keys,
keep-first/keep-last, aliases, value labels). It shares no code with `pipeline/read`, `pipeline/normalise` or
`pipeline/land`.

Given the files of one or more runs, in the order the pipeline lands them, it says per file whether it lands,
is refused or is skipped as already seen (content hash), its read / accepted / rejected / duplicates, every
rejected row (file, physical line, first failing column, reason category, raw value), and per kind the rows the
warehouse view shows (duplicates resolved: the first arrival of keep-first kinds, the latest of keep-last kinds),
with typed values.

Readings of the text this reference makes (see the report of the test for where they are ambiguous):
- files of a run in path order (README Ingest: "Files of one run are ingested in path order"), compared
  component by component;
- CSV: UTF-8 with or without BOM when the whole file decodes as UTF-8, else GB18030; LF or CRLF; quoted fields
  may hold newlines; a bare CR is text; blank lines and rows of empty fields are not rows but count in line
  numbers; the line of a row is the physical line it starts on (header = line 1); a quoted field never closed
  refuses the file;
- XLSX: first sheet, line = Excel row (header = row 1); native datetime cells are local times; a numeric cell in a
  text column is its number written without a trailing `.0`;
- a row with more fields than the header is rejected without a column; fewer fields: the missing cells are empty;
- a rejected row is reported with the first failing column in the kind's column order;
- reject ratio = rejected / read; more than max_reject_ratio refuses the file (exactly the ratio lands);
- keep-first kinds (messages, ratings, reviews, bot_answers): a key seen before (earlier file or earlier row of
  the file) is a duplicate; keep-last kinds: within a file the earlier copies of a key are duplicates, a row of a
  later file replacing an earlier file's row is accepted, the view shows the row of the file ingested last;
- messages without message_id (ratings without rating_id, bot_answers without answer_id) are keyed by their
  parsed values (role mapped, time parsed), so the same record written differently is still a duplicate.
"""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.kinds import CATEGORY_LABELS, FLAG_LABELS, KINDS, LEVEL_LABELS, REASON_LABELS, ROLE_LABELS

csv.field_size_limit(1 << 30)

# Reason categories of this reference and a phrase the pipeline's reason text is expected to hold.
REASON_PHRASES = {
    "missing": "missing required value",
    "timestamp": "not a timestamp",
    "role": "unknown sender role",
    "level": "level outside 1",
    "stars": "rating outside 1",
    "negative": "negative amount",
    "large": "amount over 10^15 yuan",
    "number": None,          # not a number: the README gives no wording
    "period": "not a period label",
    "flag": "not a yes/no value",
    "order": "before",       # completed_at before requested_at
    "fields": None,          # more fields than the header: the README gives no wording
}

# README "Values": free text is kept as written; every other text column (ids, labels) is trimmed and unwrapped
FREE_TEXT = {"content"}


class Refused(Exception):
    """The whole file is refused; `why` is a category: columns, duplicate-header, ratio, unterminated."""

    def __init__(self, why: str, detail: str = "", line: int | None = None):
        super().__init__(f"{why}: {detail}")
        self.why = why
        self.detail = detail
        self.line = line


class Bad(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --- kinds of files ---------------------------------------------------------------------------------------------

def kind_of(path: Path, inbox: Path | None = None) -> str | None:
    """The kind from the file name's first word(s) (`bot_answers_x.csv` is bot_answers), else the folder."""
    stem = path.name.split(".")[0].casefold()
    best = None
    for name in KINDS:
        if stem == name or stem.startswith(name + "_"):
            if best is None or len(name) > len(best):
                best = name
    if best:
        return best
    if inbox is not None:
        folders = path.relative_to(inbox).parts[:-1]
    else:
        folders = (path.parent.name,)
    for folder in reversed(folders):
        if folder.casefold() in KINDS:
            return folder.casefold()
    return None


def inbox_files(inbox: Path) -> list[tuple[Path, str]]:
    """The files of an inbox with their kinds, in path order: component by component (`orders/x.csv` comes
    before `orders.csv`, as pathlib sorts; a plain string sort would put it after)."""
    files = sorted((p for p in inbox.rglob("*") if p.is_file()), key=lambda p: p.relative_to(inbox).parts)
    return [(p, kind_of(p, inbox)) for p in files]


# --- reading a file into (line, cells) ----------------------------------------------------------------------------

BARE_CR = "\ue000"


def decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def csv_records(text: str, delimiter: str = ",") -> list[tuple[int, list[str]]]:
    """(first physical line, fields) of every non-blank record."""
    text = re.sub(r"\r(?!\n)", BARE_CR, text)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln + "\n" for ln in lines]
    reader = csv.reader(iter(lines), delimiter=delimiter, strict=True)
    out = []
    start = 1
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise Refused("unterminated", str(e), start) from None
        if any(f != "" for f in rec):  # README Ingest: a row of empty fields (`,,,`) is no row
            out.append((start, [f.replace(BARE_CR, "\r") for f in rec]))
        start = reader.line_num + 1
    return out


def xlsx_records(path: Path) -> tuple[list[str], list[tuple[int, list]]]:
    import polars as pl

    try:
        df = pl.read_excel(path, sheet_id=1, infer_schema_length=None, drop_empty_rows=False,
                           drop_empty_cols=False, raise_if_empty=False)
    except Exception:  # an empty workbook
        return [], []
    header = list(df.columns)
    rows = []
    for i, rec in enumerate(df.iter_rows()):
        if all(v is None or (isinstance(v, str) and v == "") for v in rec):
            continue
        rows.append((i + 2, list(rec)))
    return header, rows


def read_table(path: Path) -> tuple[list[str] | None, list[tuple[int, list]]]:
    """Header (None for an empty file) and the records with their lines."""
    name = path.name.casefold()
    if name.endswith(".xlsx"):
        header, rows = xlsx_records(path)
        return (header or None), rows
    data = path.read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    text = decode(data)
    records = csv_records(text, "\t" if name.endswith(".tsv") or name.endswith(".tsv.gz") else ",")
    if not records:
        return None, []
    (_, header), rows = records[0], records[1:]
    return header, rows


def resolve_header(kind: str, header: list) -> dict[int, str]:
    """position → canonical column; refuses on two headers for one column or a missing required column."""
    k = KINDS[kind]
    lookup = {n.casefold(): n for n in k.names}
    lookup.update({a.strip().casefold(): c for a, c in k.aliases.items()})
    out: dict[int, str] = {}
    for i, h in enumerate(header):
        key = str(h if h is not None else "").strip().casefold()
        canonical = lookup.get(key)
        if canonical is None:
            continue
        if canonical in out.values():
            raise Refused("duplicate-header", canonical)
        out[i] = canonical
    missing = [c for c in k.required if c not in out.values()]
    if missing:
        raise Refused("columns", ",".join(missing))
    return out


# --- values -------------------------------------------------------------------------------------------------------

# README "Values": also one-digit months, days and hours, a space before the fraction or the offset, spaces around
# the value; a fraction beyond microseconds is cut.
TS = re.compile(
    r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})([ T])(\d{1,2}):(\d{2})(?::(\d{2})(?: ?\.(\d+))?)?"
    r" ?(Z|[+-]\d{2}:\d{2}|[+-]\d{4})?")


def parse_timestamp(text: str, tz: ZoneInfo) -> dt.datetime:
    m = TS.fullmatch(text.strip())
    if not m:
        raise Bad("timestamp")
    y, sep, mo, d, t, hh, mi, ss, frac, off = m.groups()
    if sep == "/" and t == "T":
        raise Bad("timestamp")
    try:
        value = dt.datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss or 0),
                            int((frac or "0")[:6].ljust(6, "0")))
    except ValueError:
        raise Bad("timestamp") from None
    if off:
        if off == "Z":
            offset = dt.timedelta(0)
        else:
            sign = -1 if off[0] == "-" else 1
            digits = off[1:].replace(":", "")
            offset = sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        value = value.replace(tzinfo=dt.timezone(offset)).astimezone(tz).replace(tzinfo=None)
    if not 1900 <= value.year <= 2999:  # README "Values": local times of the years 1900-2999
        raise Bad("timestamp")
    return value


def parse_decimal(text: str) -> Decimal:
    cleaned = re.sub(r"[¥￥元,\s]", "", text)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise Bad("number") from None
    if not value.is_finite():
        raise Bad("number")
    if value < 0:
        raise Bad("negative")
    if value > 10 ** 15:
        raise Bad("large")
    return value


def parse_int_1_5(text: str, reason: str, labels: dict[str, int] | None = None, suffix: str = "") -> int:
    if labels and text in labels:
        return labels[text]
    t = text[: -len(suffix)] if suffix and text.endswith(suffix) else text
    try:
        value = Decimal(t.strip())
    except InvalidOperation:
        raise Bad(reason) from None
    if not value.is_finite() or value != value.to_integral_value() or not 1 <= value <= 5:
        raise Bad(reason)
    return int(value)


def iso_week_monday(year: int, week: int) -> dt.date:
    return dt.date.fromisocalendar(year, week, 1)


def parse_period(text: str) -> tuple[str, str, dt.date]:
    """(label, grain, period_start)."""
    if not (text[:4].isdigit() and 1900 <= int(text[:4]) <= 2999):
        raise Bad("period")  # README "Values": periods of the years 1900-2999, as timestamps
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
            return text, "day", dt.date(*map(int, m.groups()))
        if m := re.fullmatch(r"(\d{4})-W(\d{2})", text):
            return text, "week", iso_week_monday(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            return text, "month", dt.date(int(m[1]), int(m[2]), 1)
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", text):
            return text, "quarter", dt.date(int(m[1]), 3 * int(m[2]) - 2, 1)
        if m := re.fullmatch(r"(\d{4})", text):
            return text, "year", dt.date(int(m[1]), 1, 1)
    except ValueError:
        pass
    raise Bad("period")


def cell_text(value) -> str | None:
    """A raw cell as text (XLSX cells may be numbers or datetimes); None for empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat(sep=" ")
    return str(value)


def unwrap_id(text: str) -> str:
    text = text.strip()
    m = re.fullmatch(r'="(.*)"', text, flags=re.S)
    if m:
        text = m[1].strip()
    return text


def parse_value(column, raw, tz: ZoneInfo):
    """The typed value of one cell, None for an empty one; raises Bad(reason)."""
    kind_type = column.type
    if isinstance(raw, dt.datetime) and kind_type == "timestamp":
        return raw
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime) and kind_type == "timestamp":
        return dt.datetime(raw.year, raw.month, raw.day)
    text = cell_text(raw)
    if text is None:
        return None
    if kind_type == "string" and column.name not in FREE_TEXT:
        text = unwrap_id(text)
        return text or None
    if kind_type == "string":
        return text or None  # free text is kept as written; only an empty cell is null
    if text.strip() == "":
        return None
    s = text.strip()
    if kind_type == "timestamp":
        return parse_timestamp(s, tz)
    if kind_type == "role":
        role = ROLE_LABELS.get(s.casefold(), ROLE_LABELS.get(s))
        if role is None:
            raise Bad("role")
        return role
    if kind_type == "level":
        return parse_int_1_5(s, "level", LEVEL_LABELS)
    if kind_type == "stars":
        # README: `5`, `5.0`, `5星`, `5 stars` (any letter case), with or without spaces around
        return parse_int_1_5(re.sub(r"\s*(星|stars?)$", "", s, flags=re.IGNORECASE), "stars")
    if kind_type == "decimal":
        return parse_decimal(s)
    if kind_type == "category":
        return CATEGORY_LABELS.get(s.casefold(), CATEGORY_LABELS.get(s, text))
    if kind_type == "reason":
        return REASON_LABELS.get(s.casefold(), REASON_LABELS.get(s, text))
    if kind_type == "flag":
        flag = FLAG_LABELS.get(s.casefold())
        if flag is None:
            raise Bad("flag")
        return flag
    if kind_type == "period":
        return parse_period(s)
    raise AssertionError(kind_type)


def parse_row(kind: str, cells: dict[str, object], tz: ZoneInfo) -> tuple[dict | None, tuple | None]:
    """(values, None) or (None, (column, reason, raw_text))."""
    k = KINDS[kind]
    values: dict[str, object] = {}
    for col in k.columns:
        raw = cells.get(col.name)
        try:
            v = parse_value(col, raw, tz)
        except Bad as e:
            return None, (col.name, e.reason, cell_text(raw))
        if v is None and col.required:
            return None, (col.name, "missing", cell_text(raw) if cell_text(raw) not in (None, "") else None)
        values[col.name] = v
        if col.not_before and v is not None and values.get(col.not_before) is not None \
                and v < values[col.not_before]:
            return None, (col.name, "order", cell_text(raw))
    if kind == "targets":
        label, grain, start = values["period"]
        values["period"], values["grain"], values["period_start"] = label, grain, start
    return values, None


def row_key(kind: str, values: dict) -> tuple:
    k = KINDS[kind]
    if kind == "messages" and values.get("message_id") is None:
        return ("#hash",) + tuple(values.get(c) for c in ("shop_id", "customer_id", "sender_role", "sent_at",
                                                          "content"))
    if kind in ("ratings", "bot_answers") and values.get(k.key[0]) is None:
        return ("#hash",) + tuple(values.get(c) for c in k.names)
    return tuple(values.get(c) for c in k.key)


# --- the lake as the reference sees it ----------------------------------------------------------------------------

@dataclass
class FileOutcome:
    file: str
    kind: str
    status: str            # landed | refused | seen
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    why: str | None = None
    seq: int | None = None
    line: int | None = None     # the line a refusal names (a quote never closed)


@dataclass
class Reject:
    kind: str
    file: str
    line: int
    column: str | None
    reason: str
    raw: str | None


@dataclass
class Landed:
    kind: str
    file: str
    line: int
    seq: int
    values: dict


@dataclass
class IngestOracle:
    timezone: str = "Asia/Shanghai"
    max_reject_ratio: float = 0.01
    seq: int = 0
    hashes: set = field(default_factory=set)
    outcomes: list[FileOutcome] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    # keep-first kinds: key -> Landed (first); keep-last kinds: key -> Landed (latest)
    current: dict[str, dict[tuple, Landed]] = field(default_factory=lambda: {k: {} for k in KINDS})
    ingested_kinds: set = field(default_factory=set)

    def run(self, files: list[tuple[Path, str]]) -> list[FileOutcome]:
        out = [self.ingest(path, kind) for path, kind in files]
        self.outcomes.extend(out)
        return out

    def run_inbox(self, inbox: Path) -> list[FileOutcome]:
        return self.run(inbox_files(inbox))

    def ingest(self, path: Path, kind: str) -> FileOutcome:
        name = str(path)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        if sha in self.hashes:
            return FileOutcome(name, kind, "seen")
        tz = ZoneInfo(self.timezone)
        try:
            header, records = read_table(path)
            if header is None:
                mapping = {}
                records = []
            else:
                mapping = resolve_header(kind, header)
        except Refused as e:
            return FileOutcome(name, kind, "refused", why=e.why, line=e.line)
        width = len(header) if header is not None else 0
        rejects: list[Reject] = []
        good: list[tuple[int, dict]] = []
        for line, fields in records:
            if len(fields) > width:
                rejects.append(Reject(kind, name, line, None, "fields", None))
                continue
            fields = list(fields) + [None] * (width - len(fields))
            cells = {c: fields[i] for i, c in mapping.items()}
            values, bad = parse_row(kind, cells, tz)
            if bad:
                rejects.append(Reject(kind, name, line, bad[0], bad[1], bad[2]))
            else:
                good.append((line, values))
        read = len(records)
        if read and len(rejects) / read > self.max_reject_ratio:
            return FileOutcome(name, kind, "refused", read=read, rejected=len(rejects), why="ratio")
        seq = self.seq + 1
        k = KINDS[kind]
        table = self.current[kind]
        accepted = duplicates = 0
        if k.keep == "first":
            for line, values in good:
                key = row_key(kind, values)
                if key in table:
                    duplicates += 1
                else:
                    table[key] = Landed(kind, name, line, seq, values)
                    accepted += 1
        else:
            last: dict[tuple, tuple[int, dict]] = {}
            for line, values in good:
                key = row_key(kind, values)
                if key in last:
                    duplicates += 1
                last[key] = (line, values)
            for key, (line, values) in last.items():
                table[key] = Landed(kind, name, line, seq, values)
                accepted += 1
        self.seq = seq
        self.hashes.add(sha)
        self.ingested_kinds.add(kind)
        self.rejects.extend(rejects)
        return FileOutcome(name, kind, "landed", read, accepted, len(rejects), duplicates, seq=seq)

    def view(self, kind: str) -> list[Landed]:
        """The rows of a kind's warehouse view, by (file seq, line)."""
        return sorted(self.current[kind].values(), key=lambda r: (r.seq, r.line))
