"""Compute: derive → measure → band over the lake, publish a new derived generation.

A computation is either full (every table from every file) or an increment over the files landed since the last
one. An increment derives again only the sessions new messages can change (an exported session whole; a cut
conversation from its last session on, seeded with what came before it) and the conversions those sessions and
the new orders can change; finds the shops and days whose sessions, turns, conversions or dated events (ratings,
complaints, reviews, paid orders, refunds, disputes, feedback, audited bot replies) changed; recomputes the day sums
of the KPI facts and the day histograms of response times of those (shop, day) pairs; and computes the KPI rows of
the periods holding a changed day or a provisional row from the day sums, their percentiles where a day's
histograms changed. Both run the same sql/ files; the increment only gives them narrower inputs (DuckDB schemas
`delta`, `delta_all`, `pairs`, `scoped`, `scope_calendar`, `changed` and `changed_distributions`, whose relations
shadow the lake's), so an increment equals a full computation (tests/test_incremental.py).
"""
from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import duckdb
import polars as pl

from . import sqlfiles
from .band import band
from .config import Config
from .derive import MESSAGES_PER_PASS, PER_MESSAGE_STEPS, derive, params, shop_ranges
from .kinds import KINDS
from .kpis import UNITS
from .service_hours import empty_tables
from .land.ingest import connect
from .land.lake import Lake, Manifest, quote
from .land.views import sharing_keys, source_views, superseded_sql
from .measure import PERIOD_STEPS, measure_days, measure_months, period_inputs, roll_up_periods
from .publish import generation
from .publish.generation import BY_DAY, BY_PERIOD, WHOLE
from .schemas.validate import validate_parquet

DERIVED_ROWS = ("sessions", "turns", "conversions")
DAY_SUMS = ("kpi_facts", "kpi_histograms")
MONTH_SUMS = ("kpi_month_histograms", "kpi_month_facts")
SEEDS = {"shop_id": pl.String, "customer_id": pl.String, "sessions_before": pl.Int64,
         "last_customer_at": pl.Datetime("us"), "last_agent_at": pl.Datetime("us")}
DERIVED = (*DERIVED_ROWS, *DAY_SUMS, *MONTH_SUMS)


def fingerprint(config: Config) -> str:
    """What the derived data depends on besides the lake: the settings, the thresholds and the sql/ definitions (a
    new version of cskpi with other SQL computes everything again rather than adding days of another definition)."""
    thresholds = config.thresholds.read_bytes() if config.thresholds else b""
    settings = json.dumps([config.timezone, str(config.session_gap), str(config.late_reply_window),
                           str(config.complaint_feedback_window), str(config.unanswered_turn_cap),
                           config.service_hours.fingerprint() if config.service_hours else None,
                           sqlfiles.digest()])
    return hashlib.sha256(settings.encode() + thresholds).hexdigest()[:16]


def support_tables(con: duckdb.DuckDBPyConnection, config: Config, kinds: set[str]) -> None:
    """The small tables the sql/ files read besides the lake: which kinds were ever ingested, the settings of the
    configuration they need, the active clocks, the service-hours calendar over the messages' dates, KPI units,
    conversation seeds."""
    sqlfiles.table_from(con, "lake_kinds", pl.DataFrame({"kind": sorted(kinds)}, schema={"kind": pl.String}))
    cap = config.unanswered_turn_cap.total_seconds() if config.unanswered_turn_cap is not None else None
    sqlfiles.table_from(con, "settings", pl.DataFrame({
        "unanswered_turn_cap_seconds": [cap],
        "complaint_feedback_window_us": [round(config.complaint_feedback_window.total_seconds() * 1_000_000)],
    }, schema={"unanswered_turn_cap_seconds": pl.Float64, "complaint_feedback_window_us": pl.Int64}))
    days, windows = empty_tables()
    if config.service_hours is not None:
        first, last = con.execute("SELECT CAST(min(sent_at) AS DATE), CAST(max(sent_at) AS DATE) FROM messages"
                                  ).fetchall()[0]
        if first is not None:
            days, windows = config.service_hours.expand(first, last)
    sqlfiles.table_from(con, "service_days", days)
    sqlfiles.table_from(con, "service_windows", windows)
    clocks = ["wall", "service"] if config.service_hours is not None else ["wall"]
    sqlfiles.table_from(con, "clocks", pl.DataFrame({"clock": clocks}))
    sqlfiles.table_from(con, "kpi_units", pl.DataFrame({"kpi": list(UNITS), "unit": list(UNITS.values())}))
    # A full computation derives every conversation from its first message: no seeds (an increment's are in `delta`).
    sqlfiles.table_from(con, "conversation_seeds", pl.DataFrame(schema=SEEDS))


def up_to_date(manifest: Manifest, config: Config) -> bool:
    current = manifest.derived or {}
    return current.get("inputs") == [f.seq for f in manifest.files] and current.get("config") == fingerprint(config)


def new_files(manifest: Manifest, config: Config) -> set[int] | None:
    """The file sequences an increment would add, or None when only a full computation is right: nothing computed
    yet, another configuration, a kind seen for the first time (it changes which KPIs exist), targets, or files
    gone."""
    current = manifest.derived or {}
    if "tables" not in current or current.get("config") != fingerprint(config):
        return None
    if set(current.get("kinds", [])) != manifest.kinds():
        return None
    if not all(isinstance(current["tables"].get(table), dict) for table in BY_PERIOD):
        return None  # a generation written before the KPI table (the percentiles) was stored per period
    done, now = set(current["inputs"]), {f.seq for f in manifest.files}
    if not done <= now:
        return None
    added = now - done
    # A target belongs to a period, not a day: new targets are rare (monthly), and recompute everything.
    if any(f.kind == "targets" for f in manifest.files if f.seq in added):
        return None
    return added


def compute(lake: Lake, manifest: Manifest, config: Config, thresholds: pl.DataFrame, full: bool = False) -> int:
    """Compute into a new generation recorded in `manifest.derived` (the caller commits), as an increment when that
    is right and `full` is not asked for. Returns the number of KPI rows."""
    lake.tmp.mkdir(parents=True, exist_ok=True)
    con = connect(lake, config)
    # Each written file's schema check (pandera) runs on a thread of its own while the next table is written; the
    # checks are all waited for before the generation is recorded, so a violation still fails the computation.
    checking, checks = ThreadPoolExecutor(max_workers=1), []

    def check_later(*args, **kwargs) -> None:
        checks.append(checking.submit(validate_parquet, *args, **kwargs))

    try:
        # Re-sent keys are resolved once into a small table of the superseded rows, which every read of the kind
        # drops while it scans (materialising the resolved rows instead cost 1.3-1.9 s per run for 1.9M orders).
        superseded = {}
        for name, kind in KINDS.items():
            select = superseded_sql(lake, manifest, kind)
            if select:
                con.execute(f"CREATE TABLE superseded_{name} AS {select}")
                superseded[name] = f"superseded_{name}"
        for name, select in source_views(lake, manifest, superseded).items():
            con.execute(f'CREATE VIEW "{name}" AS {select}')
        support_tables(con, config, manifest.kinds())
        added = None if full else new_files(manifest, config)
        days = replaced = None  # None: a full generation, every file written
        if added is None:
            many = sum(f.accepted for f in manifest.files if f.kind == "messages") > MESSAGES_PER_PASS
            derive(con, config, shop_ranges(con) if many else None)
            measure_days(con)
            measure_months(con)
        else:
            days, replaced = _increment(con, lake, manifest, config, added)
        # The day tables are written first and dropped: the roll-up reads the day and month sums only. (An
        # increment's roll-up reads every day's fact sums of its periods; the changed days' alone are written.)
        sources = {}
        if replaced is not None:
            for table, column in BY_DAY.items():
                of = f"scoped.{table}" if table in DAY_SUMS else table
                listed = ", ".join(f"DATE '{d}'" for d in sorted(replaced[table])) or "NULL"
                con.execute(f"CREATE VIEW written_{table} AS SELECT * FROM {of} WHERE {column} IN ({listed})")
                sources[table] = f"written_{table}"
        with ThreadPoolExecutor(max_workers=1) as pool:
            if replaced is None:
                tables = _write_days(con, lake, manifest, replaced, sources, check_later)
            else:
                # An increment's day files are few and its roll-up reads none of its row tables: they are written
                # (on a connection of their own) while it rolls up, which keeps the second core busier.
                writing = pool.submit(_write_days, con.cursor(), lake, manifest, replaced, sources, check_later,
                                      close=True)
            if days is None:
                period_inputs(con)
            else:
                _calendar_of_dates(con, manifest)
                _seen(con, lake, manifest, added)
            seen = con.execute("SELECT CAST(seen_until AS VARCHAR) FROM seen").fetchall()[0][0]
            periods = None if days is None else _changed_periods(con, lake, manifest, seen)
            if days is not None:
                _facts_of_days(con, lake, manifest, periods)
            if periods is None:
                if days is not None:
                    tables = writing.result()  # before the month sums it reads are replaced
                    _every_histogram(con, replaced["kpi_month_histograms"])
                roll_up_periods(con)
                band(con, thresholds)
            else:
                _roll_up_changed_periods(con, lake, manifest, thresholds, periods, sorted(replaced["kpi_histograms"]),
                                         replaced["kpi_month_histograms"])
            if replaced is not None:
                tables = writing.result()
        if replaced is not None:
            for table in BY_PERIOD:
                replaced[table] = None if periods is None else set(periods)
        tables |= generation.write(con, lake, manifest, (*BY_PERIOD, *WHOLE), replaced, check=check_later)
        for check in checks:
            check.result()
        kpi_files = ", ".join(quote(str(lake.path(f))) for f in tables["kpi"].values())
        rows = con.execute(f"SELECT count(*) FROM read_parquet([{kpi_files}])").fetchall()[0][0]
    finally:
        checking.shutdown(cancel_futures=True)
        con.close()
    manifest.derived = {"generation": generation.number_of(manifest), "dir": generation.folder_of(manifest),
                        "tables": tables, "inputs": [f.seq for f in manifest.files], "config": fingerprint(config),
                        "kinds": sorted(manifest.kinds()), "seen_until": seen,
                        "recomputed_days": "all" if replaced is None else sorted(str(d) for d in days),
                        "recomputed_periods": "all" if replaced is None or replaced["kpi"] is None
                        else sorted(replaced["kpi"])}
    return rows


def _write_days(con: duckdb.DuckDBPyConnection, lake: Lake, manifest: Manifest,
                replaced: dict[str, set[str]] | None, sources: dict[str, str], check, close: bool = False) -> dict:
    """The day tables' files (and the month sums'), each checked by `check`; with `close`, `con` (a cursor of its
    own) is closed after."""
    try:
        tables = {}
        for table in BY_DAY:
            # One at a time, each row table dropped once copied: its memory goes to the next (and the queued checks).
            tables |= generation.write(con, lake, manifest, (table,), replaced, sources, drop=DERIVED_ROWS,
                                       check=check)
        return tables
    finally:
        if close:
            con.close()


def _parts(lake: Lake, manifest: Manifest, seqs: set[int], kind: str) -> list[str]:
    return [str(lake.path(f.data)) for f in manifest.files if f.seq in seqs and f.kind == kind and f.data]


def _scan(files: list[str], columns: str, empty: str) -> str:
    if not files:
        return f"SELECT {empty} WHERE false"
    return f"SELECT {columns} FROM read_parquet([{', '.join(quote(f) for f in files)}])"


def _increment(con: duckdb.DuckDBPyConnection, lake: Lake, manifest: Manifest, config: Config,
               added: set[int]) -> tuple[list[date], dict[str, set[str]]]:
    """Fill sessions, turns and conversions with the rows of the days they are written for and of the (shop, day)
    pairs that changed (scope_pairs), sum those pairs again (schema `pairs`), and give scoped.kpi_facts and
    scoped.kpi_histograms the changed days whole (the other shops' rows from their files) and kpi_facts the changed
    days' months; return the changed days and, per day table, the days whose rows differ (the files to write)."""
    # the turns, conversions and day sums are read for some days only
    for table in ("sessions", "kpi_histograms", *MONTH_SUMS):
        con.execute(f"CREATE VIEW prev_{table} AS {generation.read_sql(lake, manifest, table)}")
    _scope_history(con, lake, manifest, config, added)
    redone = ("EXISTS (SELECT 1 FROM redone_sessions r "
              "WHERE r.shop_id = {t}.shop_id AND r.session_id = {t}.session_id)")
    # The previous sessions derived again, and their turns: a turn is filed under its session's start day, so only
    # those days are read.
    con.execute(f"CREATE TABLE was_redone AS SELECT * FROM was_sessions w WHERE {redone.format(t='w')}")
    redone_days = [d for (d,) in con.execute("SELECT DISTINCT started_on FROM was_redone").fetchall()]
    con.execute(f"CREATE VIEW prev_turns_redone AS {generation.read_sql(lake, manifest, 'turns', redone_days)}")
    con.execute(f"CREATE TABLE was_turns AS SELECT t.* FROM prev_turns_redone t WHERE {redone.format(t='t')}")
    _was_conversions(con, lake, manifest)
    replaced = {
        # kind → (key, the date its facts fall on): every version of a re-sent key, old and new
        "complaints": ("complaint_id", "created_at"),
        "orders": ("order_id", "paid_at"),
        "refunds": ("refund_id", "completed_at"),
        "disputes": ("dispute_id", "opened_at"),
        "feedback": ("feedback_id", "received_at"),
    }
    no_pair = "CAST(NULL AS VARCHAR) AS shop_id, CAST(NULL AS DATE) AS d"
    event_pairs = []
    for kind, column in (("ratings", "rated_at"), ("reviews", "created_at"), ("bot_answers", "answered_at")):
        event_pairs.append(_scan(_parts(lake, manifest, added, kind), f"shop_id, CAST({column} AS DATE) AS d",
                                 no_pair))
    for kind, (key, column) in replaced.items():
        new_keys = _scan(_parts(lake, manifest, added, kind), key, f"CAST(NULL AS VARCHAR) AS {key}")
        every_version = _scan(_parts(lake, manifest, sharing_keys(manifest, kind, added), kind),
                              f"{key}, shop_id, {column}",
                              f"CAST(NULL AS VARCHAR) AS {key}, CAST(NULL AS VARCHAR) AS shop_id, "
                              f"CAST(NULL AS TIMESTAMP) AS {column}")
        event_pairs.append(f"SELECT v.shop_id, CAST(v.{column} AS DATE) AS d FROM ({every_version}) AS v "
                           f"WHERE v.{key} IN ({new_keys})")
    def changed(now: str, was: str, day: str) -> str:
        """The shops and days of rows that are in one relation and not the other (set operations need their
        brackets)."""
        return (f"SELECT shop_id, {day} AS d FROM ((SELECT * FROM {now} EXCEPT SELECT * FROM {was}) "
                f"UNION ALL (SELECT * FROM {was} EXCEPT SELECT * FROM {now})) AS differ")

    def pairs_of(table: str, changes: list[str]) -> None:
        con.execute(f"CREATE TABLE {table} AS SELECT DISTINCT shop_id, d FROM ("
                    + " UNION ALL ".join(f"({q})" for q in changes) + ") AS changed WHERE d IS NOT NULL")

    # A day's facts (and response-time histograms) of a shop depend on that shop's rows of that day only: they are
    # summed again for the (shop, day) pairs whose rows changed (scope_pairs), and the rest of a changed day is
    # taken from its files. A night's late dispute of one shop nine days back sums that shop's day again, not every
    # shop's. Sessions and turns change on fewer days than the facts: each row table is written for its own days.
    pairs_of("session_pairs", [changed("delta.sessions", "was_redone", "started_on"),
                               changed("delta.turns", "was_turns", "started_on")])
    pairs_of("conversion_pairs",
             [changed("delta_all.conversions", "was_conversions", "CAST(session_started_at AS DATE)")])
    pairs_of("scope_pairs", ["SELECT shop_id, d FROM session_pairs", "SELECT shop_id, d FROM conversion_pairs",
                             *event_pairs])
    con.execute("""CREATE TABLE session_days AS SELECT DISTINCT d FROM session_pairs;
        CREATE TABLE conversion_days AS SELECT DISTINCT d FROM conversion_pairs;
        CREATE TABLE scope_days AS SELECT DISTINCT d FROM scope_pairs;
        DROP TABLE session_pairs; DROP TABLE conversion_pairs""")
    # Joins, not EXISTS: DuckDB decorrelates an EXISTS on a computed day through a grouping of every row probed.
    pair_of = "scope_pairs AS q ON q.shop_id = {t}.shop_id AND q.d = {c}"

    def whole_or_pair(relation: str, t: str, c: str, days: str) -> str:
        """The rows of `relation` (alias t, day c) of the days it is written for whole, and those of the pairs."""
        return (f"SELECT {t}.* FROM {relation} {t} LEFT JOIN {pair_of.format(t=t, c=c)} "
                f"WHERE ({c} IN (SELECT d FROM {days}) OR q.d IS NOT NULL)")

    days = [r[0] for r in con.execute("SELECT d FROM scope_days ORDER BY d").fetchall()]
    written = {table: {str(d) for (d,) in con.execute(f"SELECT d FROM {of}").fetchall()}
               for table, of in (("sessions", "session_days"), ("turns", "session_days"),
                                 ("conversions", "conversion_days"), ("kpi_histograms", "session_days"))}
    written["kpi_facts"] = {str(d) for d in days}
    for table in ("sessions", "turns", "conversions"):
        # Stored a file per day: the rebuilt days read just their own files.
        con.execute(f"CREATE VIEW prev_{table}_of_days AS {generation.read_sql(lake, manifest, table, days)}")

    # The sessions not derived again (and their turns) as they were, the others as they are now; the touched
    # conversations' conversions as they are now.
    con.execute(f"""CREATE TABLE sessions AS
        {whole_or_pair('prev_sessions_of_days', 'p', 'p.started_on', 'session_days')} AND NOT {redone.format(t='p')}
        UNION ALL {whole_or_pair('delta.sessions', 's', 's.started_on', 'session_days')}""")
    con.execute(f"""CREATE TABLE turns AS
        {whole_or_pair('prev_turns_of_days', 't', 't.started_on', 'session_days')} AND NOT {redone.format(t='t')}
        UNION ALL {whole_or_pair('delta.turns', 't', 't.started_on', 'session_days')}""")
    day = "CAST({t}.session_started_at AS DATE)"
    con.execute(f"""CREATE TABLE conversions AS
        {whole_or_pair('prev_conversions_of_days', 'p', day.format(t='p'), 'conversion_days')}
            AND p.order_id NOT IN (SELECT order_id FROM was_conversions)
        UNION ALL {whole_or_pair('delta_all.conversions', 'c', day.format(t='c'), 'conversion_days')}""")

    # The day sums of those pairs, by the same sql/ files over inputs narrowed to them.
    con.execute("CREATE SCHEMA pairs")
    for view, column in (("sessions", "v.started_on"), ("turns", "v.started_on"),
                         ("conversions", "CAST(v.session_started_at AS DATE)")):
        con.execute(f"CREATE VIEW pairs.{view} AS SELECT v.* FROM main.{view} v "
                    f"SEMI JOIN {pair_of.format(t='v', c=column)}")
    for view, column in (("ratings", "rated_at"), ("reviews", "created_at"), ("complaints", "created_at"),
                         ("orders", "paid_at"), ("refunds", "completed_at"), ("disputes", "opened_at"),
                         ("feedback", "received_at"), ("bot_answers", "answered_at")):
        # The range of the days as constants too: parts arrive in time order, so the Parquet row groups outside it
        # are skipped by their statistics instead of read.
        after = days[-1] + timedelta(days=1) if days else None
        within = (f" WHERE v.{column} >= CAST(DATE '{days[0].isoformat()}' AS TIMESTAMP) AND "
                  f"v.{column} < CAST(DATE '{after.isoformat()}' AS TIMESTAMP)" if days else "")
        con.execute(f"CREATE VIEW pairs.{view} AS SELECT v.* FROM main.{view} v "
                    f"SEMI JOIN {pair_of.format(t='v', c=f'CAST(v.{column} AS DATE)')}{within}")
    sqlfiles.in_schema(con, "pairs", lambda: measure_days(con))
    # scoped.kpi_facts and scoped.kpi_histograms: the changed days whole, the other shops' rows as they were
    con.execute("CREATE SCHEMA scoped")
    listed_days = [d.isoformat() for d in days]
    for table in DAY_SUMS:
        held = set(_stored(manifest, table))
        stored = [d for d in listed_days if d in held]
        kept = (f" UNION ALL SELECT p.* FROM ({generation.read_sql(lake, manifest, table, stored)}) AS p "
                f"ANTI JOIN {pair_of.format(t='p', c='p.on_date')}") if stored else ""
        con.execute(f"CREATE VIEW scoped.{table} AS SELECT * FROM pairs.{table}{kept}")
    con.execute("DROP SCHEMA delta_all CASCADE; DROP SCHEMA delta CASCADE")
    con.execute("DROP TABLE was_sessions; DROP TABLE was_redone; DROP TABLE was_turns; DROP TABLE was_conversions; "
                "DROP TABLE night_orders; DROP TABLE conversion_scope")
    # The day sums of every day of the changed days' months (the days and weeks the roll-up needs besides are added
    # by _facts_of_days), and those months' sums again; the percentiles read the histograms of the days and months
    # they need (_roll_up_changed_periods), the changed months from here.
    months = sorted({d.replace(day=1) for d in days})
    month_days = [d for d in _stored(manifest, "kpi_facts")
                  if date.fromisoformat(d).replace(day=1) in months and d not in written["kpi_facts"]]
    prev = generation.read_sql(lake, manifest, "kpi_facts", month_days) if month_days else None
    # views, not a copy: kpi_month_facts reads them whole, the roll-up its days only (_facts_of_days adds some)
    con.execute("CREATE VIEW kpi_facts_of_months AS SELECT * FROM scoped.kpi_facts"
                + (f" UNION ALL SELECT * FROM ({prev}) AS p" if prev else ""))
    con.execute("CREATE VIEW kpi_facts AS SELECT * FROM kpi_facts_of_months")
    measure_months(con, ("kpi_month_facts",))
    written["kpi_month_facts"] = {m.isoformat() for m in months}
    # every other month as it was: the roll-up of a quarter or a year reads them
    others = " WHERE month_start NOT IN (" + ", ".join(f"DATE '{m}'" for m in months) + ")" if months else ""
    con.execute(f"INSERT INTO kpi_month_facts SELECT * FROM prev_kpi_month_facts{others}")
    written["kpi_month_histograms"] = _month_sums(con, lake, manifest, sorted(written["kpi_histograms"]))
    return days, written


def _stored(manifest: Manifest, table: str) -> list[str]:
    """The keys (days, months or periods) of a partitioned table's current files."""
    return sorted(d for d in (manifest.derived or {}).get("tables", {}).get(table, {}) if d)


def _calendar_of_dates(con: duckdb.DuckDBPyConnection, manifest: Manifest) -> None:
    """An increment's calendar, by sql/calendar.sql over the dates that hold a fact: the days with a kpi_facts file
    before, but the changed days, and the changed days that hold one now (every day's facts are not loaded)."""
    con.execute("CREATE SCHEMA fact_dates")
    stored = ", ".join(f"(DATE '{d}')" for d in _stored(manifest, "kpi_facts")) or "(CAST(NULL AS DATE))"
    con.execute(f"""CREATE VIEW fact_dates.kpi_facts AS
        SELECT d.on_date FROM (VALUES {stored}) AS d(on_date)
        WHERE d.on_date IS NOT NULL AND d.on_date NOT IN (SELECT d FROM scope_days)
        UNION ALL SELECT DISTINCT on_date FROM scoped.kpi_facts""")
    sqlfiles.in_schema(con, "fact_dates", lambda: sqlfiles.build(con, "calendar"))
    con.execute("CREATE TABLE calendar AS SELECT * FROM fact_dates.calendar")
    con.execute("DROP SCHEMA fact_dates CASCADE")


def _facts_of_days(con: duckdb.DuckDBPyConnection, lake: Lake, manifest: Manifest, periods: list[str] | None) -> None:
    """Add to kpi_facts (the changed days' months) the day sums of the other days of the changed days and weeks
    (`periods`, their files' keys; None: every period, so every day), which the roll-up sums."""
    if periods is None:
        wanted = "SELECT DISTINCT on_date FROM calendar"
    else:
        listed = ", ".join(f"'{p}'" for p in periods if p.startswith(("day_", "week_"))) or "NULL"
        wanted = f"SELECT DISTINCT on_date FROM calendar WHERE {BY_PERIOD['kpi']} IN ({listed})"
    # kpi_facts holds the changed days and every stored day of their months (_increment)
    changed = {str(d) for (d,) in con.execute("SELECT d FROM scope_days").fetchall()}
    stored = set(_stored(manifest, "kpi_facts"))
    loaded = changed | {d for d in stored if d[:7] in {c[:7] for c in changed}}
    extra = sorted(str(d) for (d,) in con.execute(wanted).fetchall() if str(d) not in loaded and str(d) in stored)
    if extra:
        con.execute("CREATE OR REPLACE VIEW kpi_facts AS SELECT * FROM kpi_facts_of_months UNION ALL "
                    f"SELECT * FROM ({generation.read_sql(lake, manifest, 'kpi_facts', extra)})")


def _month_sums(con: duckdb.DuckDBPyConnection, lake: Lake, manifest: Manifest, histogram_days: list[str]) -> set[str]:
    """kpi_month_histograms of the months of the days whose histograms changed, by sql/kpi_month_histograms.sql over
    each month's stored sums, the changed days as they are now and, negated, as they were; returns the months' keys
    (their first days)."""
    months = sorted({day[:8] + "01" for day in histogram_days})
    listed = ", ".join(f"DATE '{d}'" for d in histogram_days) or "NULL"
    con.execute("CREATE SCHEMA month_sums")
    con.execute(f"""CREATE VIEW month_sums.kpi_histograms AS
        SELECT family, clock, shop_id, agent_id, month_start AS on_date, seconds, observations
        FROM ({generation.read_sql(lake, manifest, 'kpi_month_histograms', months)}) AS m
        UNION ALL
        SELECT family, clock, shop_id, agent_id, on_date, seconds, observations
        FROM scoped.kpi_histograms WHERE on_date IN ({listed})
        UNION ALL
        SELECT family, clock, shop_id, agent_id, on_date, seconds, -observations
        FROM ({generation.read_sql(lake, manifest, 'kpi_histograms', histogram_days)}) AS w""")
    sqlfiles.in_schema(con, "month_sums", lambda: measure_months(con, ("kpi_month_histograms",)))
    # a view, not a copy: the schema stays for the rest of the computation
    con.execute("CREATE VIEW kpi_month_histograms AS SELECT * FROM month_sums.kpi_month_histograms")
    return set(months)



def _scope_history(con: duckdb.DuckDBPyConnection, lake: Lake, manifest: Manifest, config: Config,
                   added: set[int]) -> None:
    """Derive again, by the same sql/ files, just the sessions the new files can change (schema `delta`), and the
    conversions those can change (schema `delta_all`).

    What is derived again: an exported session (shop_id, session_id) with new messages, whole; a conversation cut
    into sessions, from its last session on, seeded with what came before it (conversation_seeds); from its first
    new message on, seeded with everything before, when that message comes more than both session_gap and
    late_reply_window after the conversation's last one (it opens a session that nothing before can join); whole,
    when a new message is earlier than the start of its last session. Tables left: was_sessions (the previous
    sessions of the touched conversations, those of the night's messages and orders and those whose exported
    session with new messages named them before, and of those sessions), redone_sessions (those of them derived
    again), night_orders (every version of the night's orders) and conversion_scope (per touched conversation, the
    earliest start of a session derived again, before or now: the orders paid from then on and the night's are the
    ones whose conversions are derived again)."""
    conversation = "shop_id, customer_id"
    no_conversation = "CAST(NULL AS VARCHAR) AS shop_id, CAST(NULL AS VARCHAR) AS customer_id"
    new_messages = _scan(_parts(lake, manifest, added, "messages"),
                         "shop_id, customer_id, session_id, sent_at, sender_role",
                         f"{no_conversation}, CAST(NULL AS VARCHAR) AS session_id, "
                         "CAST(NULL AS TIMESTAMP) AS sent_at, CAST(NULL AS VARCHAR) AS sender_role")
    con.execute(f"CREATE TEMP TABLE new_messages AS {new_messages}")
    con.execute("""CREATE TABLE new_given AS SELECT shop_id, session_id, min(sent_at) AS new_first
        FROM new_messages WHERE session_id IS NOT NULL AND sender_role <> 'system' GROUP BY shop_id, session_id""")
    con.execute("""CREATE TABLE new_cut AS SELECT shop_id, customer_id, min(sent_at) AS new_first
        FROM new_messages WHERE session_id IS NULL AND sender_role <> 'system' GROUP BY shop_id, customer_id""")
    # Every version of a new key lies in the parts whose key intervals meet the new parts': only those are read.
    every_order = _scan(_parts(lake, manifest, sharing_keys(manifest, "orders", added), "orders"),
                        f"order_id, {conversation}, paid_at",
                        f"CAST(NULL AS VARCHAR) AS order_id, {no_conversation}, CAST(NULL AS TIMESTAMP) AS paid_at")
    new_orders = _scan(_parts(lake, manifest, added, "orders"), "order_id", "CAST(NULL AS VARCHAR) AS order_id")
    # every version of the night's orders: a re-sent order may name another customer or payment than before
    con.execute(f"CREATE TABLE night_orders AS SELECT o.* FROM ({every_order}) AS o WHERE o.order_id IN ({new_orders})")
    con.execute(f"""CREATE TABLE scope_conversations AS SELECT DISTINCT shop_id, customer_id FROM (
        SELECT {conversation} FROM new_messages UNION ALL SELECT {conversation} FROM night_orders) AS touched""")
    con.execute("DROP TABLE new_messages")
    # An exported session's rows before may name another customer than its new messages: that conversation is
    # touched too. One scan of the previous sessions finds both; a second reads the rest of such a conversation's
    # sessions, when there is one.
    in_conversations = "EXISTS (SELECT 1 FROM {c} c WHERE c.shop_id = p.shop_id AND c.customer_id = p.customer_id)"
    given_again = ("(p.session_no IS NULL AND EXISTS (SELECT 1 FROM new_given g "
                   "WHERE g.shop_id = p.shop_id AND g.session_id = p.session_id))")
    con.execute(f"""CREATE TABLE was_sessions AS SELECT * FROM prev_sessions p
        WHERE {in_conversations.format(c='scope_conversations')} OR {given_again}""")
    con.execute(f"""CREATE TABLE given_before AS SELECT DISTINCT p.shop_id, p.customer_id FROM was_sessions p
        WHERE {given_again} AND NOT {in_conversations.format(c='scope_conversations')}""")
    if con.execute("SELECT count(*) FROM given_before").fetchone()[0]:
        con.execute(f"""INSERT INTO was_sessions SELECT * FROM prev_sessions p
            WHERE {in_conversations.format(c='given_before')} AND NOT {given_again}""")
    con.execute("DROP TABLE given_before; DROP TABLE scope_conversations")
    certain_gap_us = round(max(config.session_gap, config.late_reply_window).total_seconds() * 1_000_000)
    con.execute(f"""
        CREATE TABLE scope_given AS
        SELECT g.shop_id, g.session_id, least(g.new_first, coalesce(min(w.started_at), g.new_first)) AS from_at
        FROM new_given AS g
        LEFT JOIN was_sessions AS w
            ON w.shop_id = g.shop_id AND w.session_id = g.session_id AND w.session_no IS NULL
        GROUP BY g.shop_id, g.session_id, g.new_first;
        CREATE TABLE scope_cut AS
        WITH tails AS (
            SELECT shop_id, customer_id, max(session_no) AS last_no, max(ended_at) AS last_at,
                   arg_max(started_at, session_no) AS last_started_at,
                   max(last_customer_at) AS customer_at, max(last_agent_at) AS agent_at
            FROM was_sessions WHERE session_no IS NOT NULL GROUP BY shop_id, customer_id
        ),
        before_last AS (
            SELECT w.shop_id, w.customer_id,
                   max(w.last_customer_at) AS customer_at, max(w.last_agent_at) AS agent_at
            FROM was_sessions AS w JOIN tails AS t
                ON t.shop_id = w.shop_id AND t.customer_id = w.customer_id AND w.session_no < t.last_no
            GROUP BY w.shop_id, w.customer_id
        ),
        placed AS (
            -- apart: the first new message opens a session nothing before can join
            SELECT n.shop_id, n.customer_id, n.new_first, t.last_no, t.last_started_at,
                   t.customer_at AS all_customer_at, t.agent_at AS all_agent_at,
                   b.customer_at AS before_customer_at, b.agent_at AS before_agent_at,
                   date_diff('microsecond', t.last_at, n.new_first) > {certain_gap_us} AS apart
            FROM new_cut AS n
            LEFT JOIN tails AS t ON t.shop_id = n.shop_id AND t.customer_id = n.customer_id
            LEFT JOIN before_last AS b ON b.shop_id = n.shop_id AND b.customer_id = n.customer_id
        )
        SELECT shop_id, customer_id,
            CASE WHEN last_no IS NULL THEN new_first
                 WHEN new_first < last_started_at THEN TIMESTAMP '-infinity'
                 WHEN apart THEN new_first
                 ELSE last_started_at END AS from_at,
            CASE WHEN last_no IS NULL OR new_first < last_started_at THEN NULL
                 WHEN apart THEN last_no
                 ELSE last_no - 1 END AS sessions_before,
            CASE WHEN apart THEN all_customer_at ELSE before_customer_at END AS last_customer_at,
            CASE WHEN apart THEN all_agent_at ELSE before_agent_at END AS last_agent_at
        FROM placed;
        CREATE TABLE redone_sessions AS
        SELECT w.shop_id, w.session_id FROM was_sessions AS w
        SEMI JOIN scope_given AS g ON g.shop_id = w.shop_id AND g.session_id = w.session_id
        WHERE w.session_no IS NULL
        UNION ALL
        SELECT w.shop_id, w.session_id FROM was_sessions AS w
        SEMI JOIN scope_cut AS c
            ON c.shop_id = w.shop_id AND c.customer_id = w.customer_id AND w.started_at >= c.from_at
        WHERE w.session_no IS NOT NULL;
        DROP TABLE new_given; DROP TABLE new_cut;
    """)
    # The earliest message either branch needs, as a constant: Parquet parts and row groups wholly before it are
    # skipped by their statistics.
    bounds = {}
    for branch in ("cut", "given"):
        (earliest,) = con.execute(f"SELECT CAST(min(from_at) AS VARCHAR) FROM scope_{branch}").fetchone()
        bounds[branch] = (f" AND m.sent_at >= TIMESTAMP '{earliest}'"
                          if earliest is not None and earliest != "-infinity" else "")
    con.execute("CREATE SCHEMA delta")
    # SEMI JOIN: DuckDB plans an EXISTS with an inequality about 3x slower.
    con.execute(f"""CREATE VIEW delta.messages AS
        SELECT m.* FROM main.messages AS m
        SEMI JOIN scope_cut AS c
            ON c.shop_id = m.shop_id AND c.customer_id = m.customer_id AND m.sent_at >= c.from_at
        WHERE m.session_id IS NULL{bounds['cut']}
        UNION ALL
        SELECT m.* FROM main.messages AS m
        SEMI JOIN scope_given AS g ON g.shop_id = m.shop_id AND g.session_id = m.session_id
        WHERE m.session_id IS NOT NULL{bounds['given']}""")
    con.execute("""CREATE TABLE delta.conversation_seeds AS
        SELECT shop_id, customer_id, sessions_before, last_customer_at, last_agent_at
        FROM scope_cut WHERE sessions_before IS NOT NULL""")
    sqlfiles.in_schema(con, "delta", lambda: [sqlfiles.build(con, step, params(config)) for step in PER_MESSAGE_STEPS])
    # Conversions over every session of the touched conversations: those not derived again, as they were.
    con.execute("CREATE SCHEMA delta_all")
    con.execute("""CREATE VIEW delta_all.sessions AS
        SELECT * FROM was_sessions AS w WHERE NOT EXISTS (
            SELECT 1 FROM redone_sessions r WHERE r.shop_id = w.shop_id AND r.session_id = w.session_id)
        UNION ALL SELECT * FROM delta.sessions""")
    # The orders whose conversion can change: the night's (their latest versions are in the night's parts), and in
    # each touched conversation those paid at or after its earliest session derived again, as it was or as it is
    # now (conversion_scope). An order paid before that credits the same session as before, or none: every session
    # of its conversation that started at or before its payment, before and now, is one not derived again.
    con.execute("""CREATE TABLE conversion_scope AS
        SELECT shop_id, customer_id, min(started_at) AS from_at FROM (
            SELECT w.shop_id, w.customer_id, w.started_at FROM was_sessions AS w
            SEMI JOIN redone_sessions AS r ON r.shop_id = w.shop_id AND r.session_id = w.session_id
            UNION ALL SELECT shop_id, customer_id, started_at FROM delta.sessions
        ) AS s GROUP BY shop_id, customer_id""")
    (earliest,) = con.execute("SELECT CAST(min(from_at) AS VARCHAR) FROM conversion_scope").fetchone()
    # as a constant too: the orders parts and row groups paid wholly before it are skipped by their statistics
    after = f" AND o.paid_at >= TIMESTAMP '{earliest}'" if earliest is not None else ""
    tonight = f"o._seq IN ({', '.join(str(s) for s in sorted(added))})" if added else "false"
    con.execute(f"""CREATE VIEW delta_all.orders AS
        SELECT o.* FROM main.orders AS o
        SEMI JOIN conversion_scope AS c
            ON c.shop_id = o.shop_id AND c.customer_id = o.customer_id AND o.paid_at >= c.from_at
        WHERE NOT ({tonight}){after}
        UNION ALL SELECT o.* FROM main.orders AS o WHERE {tonight}""")
    sqlfiles.in_schema(con, "delta_all", lambda: sqlfiles.build(con, "conversions", params(config)))


def _was_conversions(con: duckdb.DuckDBPyConnection, lake: Lake, manifest: Manifest) -> None:
    """Table was_conversions: the previous conversions of the orders whose conversion is derived again (the night's
    orders, and those paid at or after their conversation's conversion_scope). Only the files of the days that can
    hold one are read: a conversion is filed under its session's start day, the day of its payment or the day
    before, so none is earlier than the day before the earliest of conversion_scope and of the payments of every
    version of the night's orders."""
    (earliest,) = con.execute("""SELECT CAST(CAST(min(t) AS DATE) - INTERVAL 1 DAY AS DATE) FROM (
        SELECT from_at AS t FROM conversion_scope UNION ALL SELECT paid_at FROM night_orders) AS s""").fetchone()
    days = [d for d in _stored(manifest, "conversions") if earliest is not None and d >= earliest.isoformat()]
    prev = generation.read_sql(lake, manifest, "conversions", days) if days else None
    if prev is None:
        con.execute("CREATE TABLE was_conversions AS SELECT * FROM delta_all.conversions WHERE false")
        return
    con.execute(f"""CREATE TABLE was_conversions AS
        SELECT p.* FROM ({prev}) AS p
        WHERE p.order_id IN (SELECT order_id FROM night_orders)
           OR EXISTS (SELECT 1 FROM conversion_scope AS c WHERE c.shop_id = p.shop_id
                      AND c.customer_id = p.customer_id AND p.paid_at >= c.from_at)""")


def _every_histogram(con: duckdb.DuckDBPyConnection, months: set[str]) -> None:
    """An increment that computes every period: the day and month histograms of the whole lake, those of the
    recomputed days and months as they are now."""
    kept = " WHERE month_start NOT IN (" + ", ".join(f"DATE '{m}'" for m in sorted(months)) + ")" if months else ""
    con.execute(f"""CREATE TABLE kpi_histograms AS
        SELECT * FROM prev_kpi_histograms WHERE on_date NOT IN (SELECT d FROM scope_days)
        UNION ALL SELECT * FROM scoped.kpi_histograms;
        DROP VIEW kpi_month_histograms;
        CREATE TABLE kpi_month_histograms AS
        SELECT * FROM prev_kpi_month_histograms{kept}
        UNION ALL SELECT * FROM month_sums.kpi_month_histograms""")


def _seen(con: duckdb.DuckDBPyConnection, lake: Lake, manifest: Manifest, added: set[int]) -> None:
    """The table `seen` of an increment, by sql/seen.sql over the night's rows rather than every part: the latest
    time seen before or the night's latest, whichever is later. With the night's latest at or after the latest
    before, that is exact (every earlier row is at most as late). Otherwise it is exact unless a row of an earlier
    part that the night re-sends (an earlier version of one of its keys) is as late as the latest before: that row
    may have been the latest, and is gone. Then, and when nothing was seen before, sql/seen.sql reads every part."""
    before = (manifest.derived or {}).get("seen_until")
    if before is None or before == "unknown":
        _seen_of_every_part(con)
        return
    listed = ", ".join(str(s) for s in sorted(added))
    night_is_later = _latest(con, "seen_night",
                             lambda name, kind: f'SELECT * FROM main."{name}" WHERE _seq IN ({listed})', before)
    if not night_is_later and _latest(
            con, "seen_replaced", lambda name, kind: _replaced_rows(lake, manifest, added, listed, name, kind), before):
        _seen_of_every_part(con)
    else:
        con.execute("CREATE TABLE seen AS SELECT greatest(CAST(? AS TIMESTAMP), seen_until) AS seen_until "
                    "FROM seen_night_latest", [before])
    con.execute("DROP TABLE seen_night_latest; DROP TABLE IF EXISTS seen_replaced_latest")


def _seen_of_every_part(con: duckdb.DuckDBPyConnection) -> None:
    sqlfiles.build(con, "seen")


def _latest(con: duckdb.DuckDBPyConnection, schema: str, rows, before: str) -> bool:
    """sql/seen.sql over the rows `rows(name, kind)` selects of each kind (in schema `schema`), left in table
    `<schema>_latest`; whether it is at or after `before`."""
    con.execute(f"CREATE SCHEMA {schema}")
    for name, kind in KINDS.items():
        con.execute(f'CREATE VIEW {schema}."{name}" AS {rows(name, kind)}')
    sqlfiles.in_schema(con, schema, lambda: sqlfiles.build(con, "seen"))
    con.execute(f"CREATE TABLE main.{schema}_latest AS SELECT * FROM {schema}.seen")
    con.execute(f"DROP SCHEMA {schema} CASCADE")
    (late,) = con.execute(f"SELECT coalesce(seen_until >= CAST(? AS TIMESTAMP), false) FROM main.{schema}_latest",
                          [before]).fetchone()
    return late


def _replaced_rows(lake: Lake, manifest: Manifest, added: set[int], listed: str, name: str, kind) -> str:
    """Every row of an earlier part whose key a new part of the kind re-sends, for a kind that keeps a key's last
    version (rows replaced before are among them: they can only make _seen read every part when it need not). The
    new parts are read along, filtered out: their columns are the current ones, so an older part that lacks an
    optional column still binds. (`listed`: the new parts' sequence numbers, as SQL.)"""
    none = f'SELECT * FROM main."{name}" WHERE false'
    if kind.keep != "last":
        return none
    new = _parts(lake, manifest, added, name)
    earlier = _parts(lake, manifest, sharing_keys(manifest, name, added) - added, name)
    if not new or not earlier:
        return none
    return (f"SELECT p.* FROM read_parquet([{', '.join(quote(f) for f in earlier + new)}], union_by_name = true) AS p "
            f"WHERE p._seq NOT IN ({listed}) "
            f"AND p._key IN (SELECT _key FROM read_parquet([{', '.join(quote(f) for f in new)}]))")


def _changed_periods(con: duckdb.DuckDBPyConnection, lake: Lake, manifest: Manifest,
                     seen: str | None) -> list[str] | None:
    """The (grain, period)s an increment computes again, as the keys of their kpi files: those holding a changed
    day, and those with a provisional row (the latest time seen may have closed their window). None, meaning every
    period, when the latest time seen went back (a re-sent record moved it earlier: rows that were final could be
    provisional again)."""
    before = (manifest.derived or {}).get("seen_until", "unknown")
    if before == "unknown" or (before is not None and (seen is None or seen < before)):
        return None
    con.execute(f"CREATE VIEW prev_kpi AS {generation.read_sql(lake, manifest, 'kpi')}")
    # The periods of the changed days by sql/calendar.sql itself, over those days: a day left without any fact is in
    # no calendar of the lake, but its periods' rows must go.
    con.execute("CREATE SCHEMA scope_calendar")
    con.execute("CREATE VIEW scope_calendar.kpi_facts AS SELECT d AS on_date FROM scope_days")
    sqlfiles.in_schema(con, "scope_calendar", lambda: sqlfiles.build(con, "calendar"))
    con.execute("""CREATE TABLE changed_periods AS
        SELECT DISTINCT grain, period FROM scope_calendar.calendar
        UNION SELECT DISTINCT grain, period FROM prev_kpi WHERE provisional""")
    return [key for (key,) in con.execute(f"SELECT {BY_PERIOD['kpi']} FROM changed_periods ORDER BY 1").fetchall()]


def _roll_up_changed_periods(con: duckdb.DuckDBPyConnection, lake: Lake, manifest: Manifest,
                             thresholds: pl.DataFrame, periods: list[str], histogram_days: list[str],
                             months: set[str]) -> None:
    """kpi and kpi_distributions of the changed periods (`periods`: their files' keys; `histogram_days`, `months`:
    the keys of the day and month histograms this computation changed), by the same sql/ files over a calendar
    narrowed to them (schema `changed`). Both then hold just those periods' rows (the other periods' files are kept).
    kpi_distributions is computed again (schema `changed_distributions`) from the days' and months' histograms
    (percentiles cannot be summed) for the periods holding a day whose histograms changed, and there only for the
    shops whose day histograms differ; its other rows of the changed periods are read back as they were."""
    con.execute("CREATE SCHEMA changed")
    con.execute("""CREATE TABLE changed.calendar AS
        SELECT c.* FROM main.calendar AS c
        WHERE EXISTS (SELECT 1 FROM changed_periods AS p WHERE p.grain = c.grain AND p.period = c.period)""")
    in_changed = "EXISTS (SELECT 1 FROM changed_periods AS c WHERE c.grain = {t}.grain AND c.period = {t}.period)"
    in_distributed = ("EXISTS (SELECT 1 FROM distributed_periods AS d "
                      "WHERE d.grain = {t}.grain AND d.period = {t}.period)")
    listed = ", ".join(f"DATE '{d}'" for d in histogram_days) or "NULL"
    con.execute(f"""CREATE TABLE distributed_periods AS
        SELECT DISTINCT grain, period FROM scope_calendar.calendar WHERE on_date IN ({listed})""")
    # A day with no histograms before (the night's new day) changed every shop it has rows of; the others are
    # compared with their files.
    stored = set(_stored(manifest, "kpi_histograms"))
    compared = [d for d in histogram_days if d in stored]
    was = generation.read_sql(lake, manifest, "kpi_histograms", compared) if compared else None
    was = was or "SELECT * FROM written_kpi_histograms WHERE false"
    now = "(SELECT * FROM written_kpi_histograms WHERE on_date IN ({}))".format(
        ", ".join(f"DATE '{d}'" for d in compared) or "NULL")
    new_days = ", ".join(f"DATE '{d}'" for d in histogram_days if d not in stored) or "NULL"
    con.execute(f"""CREATE TABLE changed_shops AS
        SELECT DISTINCT shop_id FROM (
            (SELECT * FROM {now} AS n EXCEPT SELECT * FROM ({was}) AS w)
            UNION ALL (SELECT * FROM ({was}) AS w EXCEPT SELECT * FROM {now} AS n)
            UNION ALL (SELECT * FROM written_kpi_histograms WHERE on_date IN ({new_days}))
        ) AS differ""")
    con.execute("CREATE VIEW prev_kpi_distributions AS "
                f"{generation.read_sql(lake, manifest, 'kpi_distributions', periods)}")
    con.execute("CREATE SCHEMA changed_distributions")
    con.execute(f"""CREATE TABLE changed_distributions.calendar AS
        SELECT * FROM changed.calendar AS c WHERE {in_distributed.format(t='c')}""")
    # The histograms those periods read, of the changed shops: the days of their days and weeks, the months of their
    # months, quarters and years; those recomputed here from this computation's tables, the others from their files.
    recomputed = {"kpi_histograms": {str(d) for (d,) in con.execute("SELECT d FROM scope_days").fetchall()},
                  "kpi_month_histograms": months}
    for table, fresh, unit, grains in (
            ("kpi_histograms", "scoped.kpi_histograms", "on_date", "'day', 'week'"),
            ("kpi_month_histograms", "main.kpi_month_histograms", "CAST(date_trunc('month', on_date) AS DATE)",
             "'month', 'quarter', 'year'")):
        needed = {str(d) for (d,) in con.execute(f"SELECT DISTINCT {unit} FROM changed_distributions.calendar "
                                                 f"WHERE grain IN ({grains})").fetchall()}
        ours = ", ".join(f"DATE '{d}'" for d in sorted(needed & recomputed[table])) or "NULL"
        column = BY_DAY[table]
        con.execute(f"""CREATE TABLE changed_distributions.{table} AS
            SELECT * FROM (
                SELECT * FROM {fresh} WHERE {column} IN ({ours})
                UNION ALL
                SELECT * FROM ({generation.read_sql(lake, manifest, table, sorted(needed - recomputed[table]))})
            ) AS h
            WHERE h.shop_id IN (SELECT shop_id FROM changed_shops)""")
    sqlfiles.in_schema(con, "changed_distributions",
                       lambda: roll_up_periods(con, ("period_spans", "kpi_distributions")))
    con.execute(f"""CREATE TABLE changed.kpi_distributions AS
        SELECT * FROM changed_distributions.kpi_distributions
        UNION ALL SELECT * FROM prev_kpi_distributions AS p
        WHERE {in_changed.format(t='p')}
          AND NOT ({in_distributed.format(t='p')} AND p.shop_id IN (SELECT shop_id FROM changed_shops))""")
    con.execute("DROP SCHEMA changed_distributions CASCADE")
    sqlfiles.in_schema(con, "changed", lambda: (
        roll_up_periods(con, tuple(s for s in PERIOD_STEPS if s != "kpi_distributions")), band(con, thresholds)))
    # kpi_target gives a row for every target: only the changed periods' are new.
    # Views, not copies of the rows (754K in the benchmark's night): the writer reads each twice, its key count and
    # its COPY, and the filter costs less than a copy.
    con.execute(f"CREATE VIEW kpi AS SELECT * FROM changed.kpi AS k WHERE {in_changed.format(t='k')}")
    con.execute("CREATE VIEW thresholds AS SELECT * FROM changed.thresholds")
    con.execute("CREATE VIEW kpi_distributions AS SELECT * FROM changed.kpi_distributions")
