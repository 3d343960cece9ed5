"""Land files in the lake: read → normalise → split rejects → drop duplicates → write parts → commit.

Every row read ends as exactly one of: accepted (in a data part), rejected (in a rejects part, with file, line,
column, reason, raw value), or a counted duplicate. A file whose rejects exceed `max_reject_ratio`, or that lacks a
required column, is refused whole: none of its rows land.
"""
from __future__ import annotations

import hashlib
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq

from ..config import Config, ConfigError
from ..kinds import KINDS, Kind
from ..normalise import REJECT_COLUMNS, SUSPECT, normalise, parse_values
from ..schemas import TABLES
from ..schemas.validate import SchemaViolation, validate_parquet
from ..read import ReadError, explain, load_mapping, mapping_for, open_table, relaxed, resolve_headers
from ..read.profiles import apply_profile
from .intervals import Cover, coalesce, may_share_keys
from .lake import FileEntry, Lake, Manifest, fsync_file, quote

# The duplicate key of SPEC §1.3; where the id is optional and absent, a hash of the record's content.
_HASHED = {
    "messages": ("shop_id", "customer_id", "sender_role", "sent_at", "content"),
    "ratings": ("shop_id", "rated_at", "level", "session_id", "customer_id", "agent_id"),
    "bot_answers": ("shop_id", "answered_at", "intent_correct", "answer_correct", "session_id", "customer_id",
                    "question"),
}
_HASH_PREFIX = "h:"


def key_sql(kind: Kind) -> str:
    if kind.name == "targets":
        return "shop_id || '|' || period"
    (id_column,) = kind.key
    if kind.name not in _HASHED:
        return id_column
    parts = ", ".join(f"coalesce(CAST({c} AS VARCHAR), '')" for c in _HASHED[kind.name])
    return f"coalesce({id_column}, '{_HASH_PREFIX}' || md5(concat_ws(chr(31), {parts})))"


def parts_to_compare(earlier: list[FileEntry], kind: str, intervals: Cover) -> list[str]:
    """The parts of `kind` among `earlier` that may hold a key lying in `intervals`: those whose key intervals meet
    them. Only these need comparing with a new file's keys to find its duplicates."""
    return [e.data for e in earlier if e.kind == kind and e.data and may_share_keys(e.key_cover(), intervals)]


@dataclass
class FileResult:
    path: Path
    kind: str
    status: str  # "landed" | "seen" | "refused"
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    message: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    sample_rejects: list[dict] = field(default_factory=list)


class Refused(Exception):
    pass


def stat_of(path: Path) -> str:
    """What identifies an unchanged file without reading it: "path|size|mtime_ns"."""
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def sha256_of(path: Path) -> str:
    # file_digest reads into one reused buffer: reading 4 MB chunks as new bytes faulted in fresh pages for each, and
    # hashing took 0.17 s instead of 0.10 s per 109 MB file.
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def land(lake: Lake, manifest: Manifest, files: list[tuple[str, Path]], config: Config) -> list[FileResult]:
    """Land (kind, path) pairs in the order given and add them to `manifest`, which the caller commits (holding the
    lake's write lock). Returns one result per file."""
    mapping = load_mapping(config.mapping) if config.mapping else {}
    results: list[FileResult] = []
    lake.tmp.mkdir(parents=True, exist_ok=True)
    con = connect(lake, config)
    landed: list[FileEntry] = []
    # A nightly inbox keeps last night's files: one whose path, size and modification time match a file already
    # ingested is that file, and is not read again to hash it. The others are hashed on a thread of their own, ahead
    # of the landing (hashlib lets go of the GIL), so that a file's hash is ready when its turn comes.
    hashing = ThreadPoolExecutor(max_workers=1)
    # A landed part's schema check (pandera) runs on another thread while the next file lands. Its violation is a
    # bug of normalise and fails the whole run, nothing committed: later files may already have been compared with
    # that part's keys, so refusing its file alone could drop their rows as duplicates of rows that never land.
    checking = ThreadPoolExecutor(max_workers=1)
    checks: list[tuple[Path, Future]] = []
    try:
        shas: list[str | Future] = []
        for kind_name, path in files:
            fingerprint = stat_of(path)
            known = next((f for f in manifest.files if f.stat == fingerprint and f.kind == kind_name), None)
            shas.append(known.sha256 if known else hashing.submit(sha256_of, path))
        for (kind_name, path), hashed in zip(files, shas):
            kind = KINDS[kind_name]
            sha = hashed if isinstance(hashed, str) else hashed.result()
            # The same bytes as another kind are another file: a 0-byte complaints file after a 0-byte messages one.
            if manifest.seen(sha, kind_name) or any((e.sha256, e.kind) == (sha, kind_name) for e in landed):
                results.append(FileResult(path, kind_name, "seen", message="already ingested (same content)"))
                continue
            seq = manifest.next_seq + len(landed)
            try:
                result, entry = _land_file(con, lake, manifest, landed, kind, path, seq, sha, config, mapping)
            except (ReadError, Refused, ConfigError, SchemaViolation, ValueError) as e:
                results.append(FileResult(path, kind_name, "refused", message=str(e)))
                continue
            finally:
                shutil.rmtree(lake.tmp / f"{seq:06d}", ignore_errors=True)
            results.append(result)
            landed.append(entry)
            checks.append((path, checking.submit(validate_parquet, lake.path(entry.data), TABLES[kind_name])))
        for path, check in checks:
            try:
                check.result()
            except SchemaViolation as e:
                raise SchemaViolation(f"{path}: its landed part {e} (a bug of cskpi: nothing of this run landed)"
                                      ) from None
    finally:
        hashing.shutdown(cancel_futures=True)
        checking.shutdown(cancel_futures=True)
        con.close()
    manifest.files.extend(landed)
    manifest.next_seq += len(landed)
    return results


def connect(lake: Lake, config: Config) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    (lake.tmp / "duckdb").mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = '{config.duckdb_memory_limit}'")
    # DuckDB's blocks come from a pool that keeps its pages once touched. Without it, every eviction at the memory
    # limit handed the allocator's free pages back to the kernel, and they were faulted in again at once: 2.8M page
    # faults and 14-16 s of system time in a 10M computation, against 1.7M and 9 s (bench/PROFILE.md, session 10).
    con.execute(f"SET block_allocator_memory = '{config.duckdb_memory_limit}'")
    con.execute("SET temp_directory = ?", [str(lake.tmp / "duckdb")])
    con.execute("SET preserve_insertion_order = false")
    if config.duckdb_threads:
        con.execute(f"SET threads = {int(config.duckdb_threads)}")
    return con


def polars_key(kind: Kind) -> pl.Expr:
    """key_sql in polars, null where it needs the content hash (which only DuckDB's md5 gives the same)."""
    if kind.name == "targets":
        return pl.concat_str([pl.col("shop_id"), pl.lit("|"), pl.col("period")])
    (id_column,) = kind.key
    return pl.col(id_column)


@dataclass
class Staged:
    path: Path
    # `path` has the columns of a lake part (no reject columns): no row was in doubt, so every row is accepted
    is_part: bool
    # ... and every row has its key: the file can become the part as it is
    keyed: bool


def _stage(frame: pl.LazyFrame, kind: Kind, rename: dict[str, str], tz: str, work: Path, seq: int) -> Staged:
    """The file normalised into a Parquet file of `work`. Values are parsed first, alone, straight into the columns
    of a lake part; the rows that pass may be refused (usually none) are normalised again in full and, with reasons,
    replace their first-pass rows."""
    values = parse_values(frame, kind, rename, tz).with_columns(
        polars_key(kind).alias("_key"), pl.lit(seq, dtype=pl.Int64).alias("_seq"))
    part_columns = [c for c in values.collect_schema().names() if not c.startswith("_")] + ["_key", "_line", "_seq"]
    first, doubts = work / "values.parquet", work / "doubts.parquet"
    # One pass, two outputs: polars parses once for both sinks.
    pl.collect_all([
        values.select(part_columns).sink_parquet(first, compression="snappy", lazy=True),
        values.filter(pl.col(SUSPECT) | pl.col("_key").is_null()).select("_line", SUSPECT)
        .sink_parquet(doubts, lazy=True),
    ])
    doubt = pl.read_parquet(doubts)
    suspects = doubt.filter(pl.col(SUSPECT))["_line"]
    if suspects.is_empty():
        return Staged(first, is_part=True, keyed=doubt.is_empty())
    judged = work / "judged.parquet"
    normalise(frame.filter(pl.col("_line").is_in(suspects.implode())), kind, rename, tz).sink_parquet(
        judged, compression="lz4")
    staged = work / "staged.parquet"
    pl.concat([
        pl.scan_parquet(first).filter(~pl.col("_line").is_in(suspects.implode())).drop("_key", "_seq")
        .with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in REJECT_COLUMNS),
        pl.scan_parquet(judged),
    ]).sink_parquet(staged, compression="lz4")
    return Staged(staged, is_part=False, keyed=False)


def _land_file(con, lake: Lake, manifest: Manifest, landed: list[FileEntry], kind: Kind, path: Path, seq: int,
               sha: str, config: Config, mapping: dict) -> tuple[FileResult, FileEntry]:
    work = lake.tmp / f"{seq:06d}"
    work.mkdir(parents=True, exist_ok=True)
    raw = open_table(path, workdir=work, encoding=config.encoding)
    frame = apply_profile(config.profile, kind.name, raw.frame) if config.profile else raw.frame
    headers = [c for c in frame.collect_schema().names() if not c.startswith("_")]
    header_map = resolve_headers(headers, kind, mapping_for(mapping, kind.name), path=path)
    if header_map.missing_required and headers:  # a 0-byte file has no header and no rows: fine
        raise Refused(f"{path}: missing required column(s) {', '.join(header_map.missing_required)} "
                      f"for kind {kind.name} (headers found: {', '.join(headers) or 'none'})")
    try:
        staged = _stage(frame, kind, header_map.rename, config.timezone, work, seq)
    except pl.exceptions.PolarsError as e:
        if raw.format != "csv" or raw.source is None:
            raise explain(raw, e) from None
        raw = relaxed(raw, work)  # a stray quote inside a field: read the file again as Excel does, once
        frame = apply_profile(config.profile, kind.name, raw.frame) if config.profile else raw.frame
        try:
            staged = _stage(frame, kind, header_map.rename, config.timezone, work, seq)
        except pl.exceptions.PolarsError as e:
            raise explain(raw, e) from None

    if staged.is_part:  # every row accepted: the reject columns are null
        nulls = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in REJECT_COLUMNS)
        con.execute(f"CREATE OR REPLACE VIEW staged AS SELECT * EXCLUDE (_key, _seq), {nulls} "
                    f"FROM read_parquet({quote(str(staged.path))})")
    else:
        con.read_parquet(str(staged.path)).create_view("staged", replace=True)
    read, rejected = con.execute(
        "SELECT count(*), count(_reject_reason) FROM staged").fetchall()[0]
    samples = [dict(zip(("line", "column", "reason", "raw"), r)) for r in con.execute(
        "SELECT _line, _reject_column, _reject_reason, _reject_raw FROM staged "
        "WHERE _reject_reason IS NOT NULL ORDER BY _line LIMIT 5").fetchall()]
    if read and rejected / read > config.max_reject_ratio:
        where = "; ".join(f"line {s['line']} {s['column'] or ''}: {s['reason']}" for s in samples[:3])
        raise Refused(f"{path}: {rejected} of {read} rows rejected ({rejected / read:.2%} > max_reject_ratio "
                      f"{config.max_reject_ratio:.2%}); nothing of it landed. First: {where}")

    columns = [c for c in con.sql("SELECT * FROM staged LIMIT 0").columns if not c.startswith("_")]
    keep_first = kind.keep == "first"
    order = "_line ASC" if keep_first else "_line DESC"
    data_rel = f"data/{kind.name}/{seq:06d}.parquet"
    lake.path(data_rel).parent.mkdir(parents=True, exist_ok=True)
    if staged.keyed:
        con.execute(f"CREATE OR REPLACE VIEW accepted AS SELECT {', '.join(columns)}, _key, _line "
                    f"FROM read_parquet({quote(str(staged.path))})")
    else:
        con.execute(f"CREATE OR REPLACE VIEW accepted AS SELECT {', '.join(columns)}, {key_sql(kind)} AS _key, _line "
                    "FROM staged WHERE _reject_reason IS NULL")
    # A shop's content hashes make an interval of their own: with its ids, they would span every later shop's ids.
    shops = con.execute("SELECT count(*), min(_key), max(_key) FROM accepted "
                        f"GROUP BY shop_id, starts_with(_key, '{_HASH_PREFIX}')").fetchall()
    rows = sum(n for n, _, _ in shops)
    intervals = coalesce([low, high] for _, low, high in shops if low is not None)
    key_min, key_max = (intervals[0][0], intervals[-1][1]) if intervals else (None, None)
    # Keys that hash apart are apart (counting 64-bit hashes is cheaper than strings); a collision only makes the
    # window below run, which is exact anyway.
    hashes = con.execute("SELECT count(DISTINCT hash(_key)) FROM accepted").fetchall()[0][0]
    source, anti_join = "accepted", ""
    earlier = parts_to_compare([*manifest.files, *landed], kind.name, intervals) if keep_first else []
    if earlier:
        # Materialised for the anti-join: over the view of the staged file DuckDB hashed the earlier parts' keys
        # instead of the new rows (3.7 s instead of 1.5 s for a night's files). Without one, the view is faster.
        con.execute("CREATE OR REPLACE TEMP TABLE accepted_rows AS SELECT * FROM accepted")
        source = "accepted_rows"
        con.read_parquet([str(lake.path(p)) for p in earlier]).select("_key").create_view("earlier", replace=True)
        anti_join = "f WHERE NOT EXISTS (SELECT 1 FROM earlier e WHERE e._key = f._key)"
    # Repeats within one file are rare: the window that keeps one row per key runs only when there are some.
    one_per_key = source if rows == hashes else (
        f"(SELECT * FROM {source} QUALIFY row_number() OVER (PARTITION BY _key ORDER BY {order}) = 1)")
    if staged.keyed and not earlier and rows == hashes:
        # Every row accepted, with its key, none repeated: the first pass wrote the part (saves a copy of the file)
        shutil.move(staged.path, lake.path(data_rel))
    else:
        con.execute(f"""
            COPY (
                SELECT *, CAST(? AS BIGINT) AS _seq FROM {one_per_key} {anti_join}
            ) TO {quote(str(lake.path(data_rel)))} (FORMAT parquet, COMPRESSION snappy)
        """, [seq])
    if earlier:
        con.execute("DROP TABLE accepted_rows")
    fsync_file(lake.path(data_rel))
    # The part's schema, the landing's post-condition, is checked by the caller (land) while the next file lands.
    accepted = pq.ParquetFile(lake.path(data_rel)).metadata.num_rows

    rejects_rel = None
    if rejected:
        rejects_rel = f"data/rejects/{seq:06d}.parquet"
        lake.path(rejects_rel).parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"""
            COPY (
                SELECT CAST(? AS VARCHAR) AS kind, CAST(? AS VARCHAR) AS file, _line AS line,
                       _reject_column AS "column", _reject_reason AS reason, _reject_raw AS raw_value,
                       CAST(? AS BIGINT) AS _seq
                FROM staged WHERE _reject_reason IS NOT NULL ORDER BY _line
            ) TO {quote(str(lake.path(rejects_rel)))} (FORMAT parquet, COMPRESSION snappy)
        """, [kind.name, str(path), seq])
        fsync_file(lake.path(rejects_rel))
        validate_parquet(lake.path(rejects_rel), TABLES["rejects"])

    entry = FileEntry(
        seq=seq, sha256=sha, name=str(path), kind=kind.name, read=read, accepted=accepted, rejected=rejected,
        duplicates=read - rejected - accepted, ingested_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        data=data_rel, rejects=rejects_rel, key_min=key_min, key_max=key_max,
        stat=stat_of(path), key_intervals=intervals,
    )
    result = FileResult(path, kind.name, "landed", read, accepted, rejected, entry.duplicates,
                        ignored_columns=header_map.ignored, sample_rejects=samples)
    return result, entry
