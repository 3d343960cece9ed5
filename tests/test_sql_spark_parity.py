"""The sql/ files give the same results on Spark as on DuckDB (/work/shared/PORTABLE_SQL.md).

Marked `spark` (deselected by default; run with `pytest -m spark`); skipped when pyspark or Java is missing.
pyspark is not a dependency of cskpi: install it into the test environment to run this.

The edge-case fixture tests/fixtures/sql_edge/ holds: a gap of exactly 30 min and one of 30 min + 1 s, a late reply
within 24 h that crosses midnight and one after 24 h, a bot between customer and agent, an agent-initiated session,
same-second messages (agent listed first, two customer messages tied on time), sessions crossing midnight, month
and year end, exported session ids, a system message, fractional and microsecond timestamps, orders paid the next
day at 23:59:59 and one second later, two orders crediting one session, an order paid before the session, ratings,
complaints (one on a day without paid orders: zero denominator; service complaints answered at exactly 24 h, one
second later, and by an agreed time), reviews, targets of every grain (one of 0), refunds (one open, one of zero
length), disputes, feedback and audited bot answers. The configuration sets a service-hours calendar (split shifts,
a holiday, a dated exception) and an unanswered-turn cap, so that the service clock runs on both engines.

1. The lake is built the pipeline's way: pipeline.jobs.ingest_files + pipeline.jobs.compute (DuckDB).
2. The inputs compute saw (source views, the support tables of pipeline.compute.support_tables, thresholds) are
   written to Parquet, as a Spark cluster would read the lake.
3. DuckDB reference: the chain is rebuilt from those Parquet files with pipeline.sqlfiles.build in compute's
   order; its sessions/turns/conversions/kpi must equal what compute published.
4. Spark (local mode, spark.sql.session.timeZone=UTC, ANSI on): each sql file is transpiled with sqlglot
   (read="duckdb", write="spark") with its named parameters substituted as literals, run, checkpointed and
   registered as a temp view under its table name.
5. Every table of the chain must hold the same rows on both engines: same columns, same type families, values
   equal (floats to 1e-9).
"""
from __future__ import annotations

import decimal
from datetime import timedelta
import math
import os
import shutil
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

pytestmark = pytest.mark.spark

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None and not (
        os.environ.get("JAVA_HOME") and (Path(os.environ["JAVA_HOME"]) / "bin" / "java").exists()):
    pytest.skip("Spark parity needs Java (no `java` on PATH, no JAVA_HOME)", allow_module_level=True)

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import types as T  # noqa: E402

from pipeline import jobs, sqlfiles  # noqa: E402
from pipeline.compute import support_tables  # noqa: E402
from pipeline.config import Config  # noqa: E402
from pipeline.kinds import KINDS  # noqa: E402
from pipeline.service_hours import ServiceHours  # noqa: E402
from pipeline.derive import STEPS as DERIVE_STEPS, params as derive_params  # noqa: E402
from pipeline.land.lake import Lake  # noqa: E402
from pipeline.measure import STEPS as MEASURE_STEPS  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "sql_edge"
CONFIG = Config(
    service_hours=ServiceHours.parse({
        "mon": ["09:00-12:00", "13:30-18:00"], "tue": ["09:00-12:00", "13:30-18:00"], "wed": ["09:00-18:00"],
        "thu": ["09:00-18:00"], "fri": ["08:00-23:00"], "sat": ["10:00-16:00"],
        "holidays": ["2026-12-25"], "dates": {"2026-11-29": ["10:00-10:30"]}}),
    unanswered_turn_cap=timedelta(minutes=10),
)
SUPPORT = ("lake_kinds", "settings", "clocks", "service_days", "service_windows", "kpi_units", "conversation_seeds")
CHAIN = [*DERIVE_STEPS, *MEASURE_STEPS, "kpi"]
PUBLISHED = ("sessions", "turns", "conversions", "kpi")
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def spark():
    session = (
        SparkSession.builder.master("local[2]").appName("cskpi-sql-parity")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def spark_sql(name: str, params: dict[str, int]) -> str:
    """sql/<name>.sql in Spark's dialect, its $parameters replaced by literals."""
    tree = sqlglot.parse_one(sqlfiles.text(name), read="duckdb")
    tree = tree.transform(lambda n: exp.Literal.number(params[n.name])
                          if isinstance(n, (exp.Placeholder, exp.Parameter)) else n)
    return tree.sql(dialect="spark")


# --- normalised rows ------------------------------------------------------------------------------------------

def _duck_family(type_code: str) -> str:
    t = str(type_code).upper()
    if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return "timestamp_ltz"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t.startswith("DECIMAL"):
        return "decimal"
    return {"DATE": "date", "DOUBLE": "float", "FLOAT": "float", "BOOLEAN": "bool", "VARCHAR": "string",
            "TINYINT": "int", "SMALLINT": "int", "INTEGER": "int", "BIGINT": "int", "HUGEINT": "int",
            "UBIGINT": "int", "UINTEGER": "int"}.get(t, t)


def _spark_family(dtype: T.DataType) -> str:
    if isinstance(dtype, T.TimestampNTZType):
        return "timestamp"
    if isinstance(dtype, T.TimestampType):
        return "timestamp_ltz"  # zone-aware: a reader in another zone sees other wall-clock times
    if isinstance(dtype, T.DecimalType):
        return "decimal"
    for cls, family in ((T.DateType, "date"), (T.DoubleType, "float"), (T.FloatType, "float"),
                        (T.BooleanType, "bool"), (T.StringType, "string"),
                        (T.ByteType, "int"), (T.ShortType, "int"), (T.IntegerType, "int"), (T.LongType, "int")):
        if isinstance(dtype, cls):
            return family
    return dtype.simpleString()


def _value(v):
    return float(v) if isinstance(v, decimal.Decimal) else v


class Table:
    def __init__(self, columns: list[str], families: list[str], rows: list[tuple]):
        self.columns, self.families = columns, families
        self.rows = sorted((tuple(_value(v) for v in r) for r in rows), key=self._key)

    @staticmethod
    def _key(row: tuple) -> tuple:
        return tuple((v is None, f"{v:.6f}" if isinstance(v, float) else str(v)) for v in row)


def duck_table(con: duckdb.DuckDBPyConnection, name: str) -> Table:
    cur = con.execute(f"SELECT * FROM {name}")
    desc = cur.description
    return Table([d[0].lower() for d in desc], [_duck_family(d[1]) for d in desc], cur.fetchall())


def spark_table(df) -> Table:
    # A zone-aware TIMESTAMP would be collected in the Python process's zone: read it as its UTC wall clock.
    from pyspark.sql import functions as F
    cols = [F.col(f"`{f.name}`").cast("timestamp_ntz").alias(f.name) if isinstance(f.dataType, T.TimestampType)
            else F.col(f"`{f.name}`") for f in df.schema.fields]
    return Table([f.name.lower() for f in df.schema.fields], [_spark_family(f.dataType) for f in df.schema.fields],
                 [tuple(r) for r in df.select(*cols).collect()])


def differences(name: str, left: Table, right: Table, left_name: str, right_name: str) -> list[str]:
    if left.columns != right.columns:
        return [f"{name}: columns differ: {left_name} {left.columns} vs {right_name} {right.columns}"]
    out = [f"{name}.{c}: type {lf} on {left_name}, {rf} on {right_name}"
           for c, lf, rf in zip(left.columns, left.families, right.families) if lf != rf]
    if len(left.rows) != len(right.rows):
        only_l = sorted(set(map(str, left.rows)) - set(map(str, right.rows)))[:5]
        only_r = sorted(set(map(str, right.rows)) - set(map(str, left.rows)))[:5]
        return out + [f"{name}: {len(left.rows)} rows on {left_name}, {len(right.rows)} on {right_name}; "
                      f"only on {left_name}: {only_l}; only on {right_name}: {only_r}"]
    for lrow, rrow in zip(left.rows, right.rows):
        for col, a, b in zip(left.columns, lrow, rrow):
            same = (math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
                    if isinstance(a, float) and isinstance(b, float) else a == b)
            if not same:
                out.append(f"{name}.{col}: {a!r} on {left_name}, {b!r} on {right_name} in row {lrow}")
    return out


# --- the run --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lake_inputs(tmp_path_factory):
    """The fixture lake computed by the pipeline, and its inputs written to Parquet."""
    root = tmp_path_factory.mktemp("sql_parity")
    config = CONFIG
    lake = Lake(root / "lake")
    results = jobs.ingest_files(lake, [(kind, FIXTURE / f"{kind}.csv") for kind in KINDS], config)
    problems = [(r.path.name, r.status, r.rejected, r.duplicates, r.message, r.sample_rejects)
                for r in results if r.status != "landed" or r.rejected or r.duplicates]
    assert not problems, f"the edge fixture must land whole: {problems}"
    jobs.compute(lake, config)

    inputs = root / "inputs"
    inputs.mkdir()
    con = duckdb.connect(str(lake.warehouse), read_only=True)
    try:
        for name in (*KINDS, "thresholds"):
            con.execute(f"COPY (SELECT * FROM {name}) TO '{inputs / name}.parquet' (FORMAT parquet)")
        published = {name: duck_table(con, name) for name in PUBLISHED}
    finally:
        con.close()
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TABLE messages AS SELECT * FROM read_parquet('{inputs / 'messages'}.parquet')")
        support_tables(con, config, set(lake.manifest().kinds()))
        for name in SUPPORT:
            con.execute(f"COPY (SELECT * FROM {name}) TO '{inputs / name}.parquet' (FORMAT parquet)")
    finally:
        con.close()
    return config, inputs, published


@pytest.fixture(scope="module")
def duck_chain(lake_inputs):
    config, inputs, _ = lake_inputs
    con = duckdb.connect()
    for path in sorted(inputs.glob("*.parquet")):
        con.execute(f"CREATE TABLE {path.stem} AS SELECT * FROM read_parquet('{path}')")
    for step in CHAIN:
        sqlfiles.build(con, step, derive_params(config) if step in DERIVE_STEPS else None)
    tables = {step: duck_table(con, step) for step in CHAIN}
    con.close()
    return tables


def test_duckdb_reference_chain_is_what_compute_published(lake_inputs, duck_chain):
    _, _, published = lake_inputs
    diffs = [d for name in PUBLISHED
             for d in differences(name, published[name], duck_chain[name], "compute", "rebuilt")]
    assert diffs == []


def test_fixture_exercises_the_edges(duck_chain):
    sessions = duck_chain["sessions"]
    by_customer = {}
    for row in sessions.rows:
        by_customer.setdefault(row[sessions.columns.index("customer_id")], []).append(row)
    assert len(by_customer["c1"]) == 1 and len(by_customer["c2"]) == 2  # exactly 30 min / 30 min + 1 s
    assert len(by_customer["c3"]) == 1 and len(by_customer["c11"]) == 2  # late reply within / after 24 h
    conversions = {r[0] for r in duck_chain["conversions"].rows}
    assert "o1" in conversions and "o2" not in conversions  # paid next day 23:59:59 / one second later
    kpi = duck_chain["kpi"]
    den, band, prov = (kpi.columns.index(c) for c in ("denominator", "band", "provisional"))
    assert any(r[den] == 0 and r[band] == "no_data" for r in kpi.rows)  # kpi.sql's zero-denominator guard
    assert any(r[prov] for r in kpi.rows) and not all(r[prov] for r in kpi.rows)
    code, clock, value = (kpi.columns.index(c) for c in ("kpi", "clock", "value"))
    kpis = {r[code] for r in kpi.rows}
    assert {"refund_duration_hours", "dispute_count", "platform_help_rate", "feedback_handling_rate", "bot_accuracy",
            "complaint_feedback_24h_rate", "frt_p90_seconds", "frt_bucket_1_5min"} <= kpis
    service = [r for r in kpi.rows if r[clock] == "service" and r[code] == "frt_seconds" and r[value] is not None]
    wall = [r for r in kpi.rows if r[clock] == "wall" and r[code] == "frt_seconds" and r[value] is not None]
    assert service and len(service) == len(wall)


def test_every_sql_file_gives_the_same_rows_on_spark(spark, lake_inputs, duck_chain):
    config, inputs, _ = lake_inputs
    for path in sorted(inputs.glob("*.parquet")):
        spark.read.parquet(str(path)).createOrReplaceTempView(path.stem)
    params = derive_params(config)
    diffs, failures = [], []
    for step in CHAIN:
        sql = spark_sql(step, params)
        try:
            df = spark.sql(sql).localCheckpoint(eager=True)
        except Exception as e:  # noqa: BLE001 - report which file fails, then stop: later steps need it
            failures.append(f"{step}: Spark cannot run the transpiled SQL: {str(e)[:1500]}")
            break
        df.createOrReplaceTempView(step)
        diffs += differences(step, duck_chain[step], spark_table(df), "duckdb", "spark")
    assert failures == [] and diffs == [], "\n".join(failures + diffs)


@pytest.mark.parametrize("query", [
    "SELECT message_id, epoch(sent_at) AS s FROM messages",
    "SELECT message_id, date_diff('second', TIMESTAMP '2026-11-27 10:00:00.9', sent_at) AS s FROM messages",
])
def test_parity_comparison_catches_what_the_rules_ban(spark, lake_inputs, query):
    """The comparison can fail: constructs PORTABLE_SQL.md bans give other rows on Spark over this fixture."""
    _, inputs, _ = lake_inputs
    spark.read.parquet(str(inputs / "messages.parquet")).createOrReplaceTempView("messages")
    con = duckdb.connect()
    con.execute(f"CREATE TABLE messages AS SELECT * FROM read_parquet('{inputs / 'messages.parquet'}')")
    con.execute(f"CREATE TABLE q AS {query}")
    expected = duck_table(con, "q")
    con.close()
    got = spark_table(spark.sql(sqlglot.transpile(query, read="duckdb", write="spark")[0]))
    assert differences("q", expected, got, "duckdb", "spark") != []


def test_seeded_derivation_gives_the_same_rows_on_spark(spark, lake_inputs, tmp_path):
    """An increment derives a conversation from its last session on, seeded with what came before
    (conversation_seeds). The seeded form of the per-message steps must be portable too: every cut conversation of
    the fixture gets a seed (sessions before, and latest customer and agent times an hour or a day earlier, or
    none), and message_sessions, service_clock, sessions and turns must agree on both engines."""
    config, inputs, _ = lake_inputs
    con = duckdb.connect()
    for path in sorted(inputs.glob("*.parquet")):
        if path.stem != "conversation_seeds":
            con.execute(f"CREATE TABLE {path.stem} AS SELECT * FROM read_parquet('{path}')")
    con.execute("""CREATE TABLE conversation_seeds AS
        SELECT shop_id, customer_id,
               CAST(row_number() OVER (ORDER BY shop_id, customer_id) AS BIGINT) AS sessions_before,
               CASE WHEN row_number() OVER (ORDER BY shop_id, customer_id) % 3 = 0 THEN NULL
                    ELSE min(sent_at) - INTERVAL 1 HOUR END AS last_customer_at,
               CASE WHEN row_number() OVER (ORDER BY shop_id, customer_id) % 2 = 0 THEN NULL
                    ELSE min(sent_at) - INTERVAL 1 DAY END AS last_agent_at
        FROM messages WHERE session_id IS NULL GROUP BY shop_id, customer_id""")
    assert con.execute("SELECT count(*), count(last_customer_at), count(last_agent_at) FROM conversation_seeds"
                       ).fetchone()[0] >= 5
    seeds = tmp_path / "conversation_seeds.parquet"
    con.execute(f"COPY conversation_seeds TO '{seeds}' (FORMAT parquet)")
    steps = DERIVE_STEPS[:-1]  # the per-message steps; conversions read sessions only
    params = derive_params(config)
    for step in steps:
        sqlfiles.build(con, step, params)
    expected = {step: duck_table(con, step) for step in steps}
    numbers = sorted({r[expected["sessions"].columns.index("session_no")] for r in expected["sessions"].rows} - {None})
    con.close()
    assert numbers and numbers[0] > 1  # the seeds' session counts carried into the numbering

    for path in sorted(inputs.glob("*.parquet")):
        spark.read.parquet(str(path)).createOrReplaceTempView(path.stem)
    spark.read.parquet(str(seeds)).createOrReplaceTempView("conversation_seeds")
    diffs = []
    for step in steps:
        df = spark.sql(spark_sql(step, params)).localCheckpoint(eager=True)
        df.createOrReplaceTempView(step)
        diffs += differences(step, expected[step], spark_table(df), "duckdb", "spark")
    assert diffs == [], "\n".join(diffs)
