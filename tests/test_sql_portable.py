"""The sql/ files stay portable to Spark SQL (/work/shared/PORTABLE_SQL.md): a fast, static check.

Every sql/*.sql file must
- parse with sqlglot (read="duckdb") as exactly one query and transpile to Spark (write="spark") without error;
- start with a header comment that names its table (`-- <name>: ...`) and states its grain (`Grain:`);
- read only the source views, tables built before it in the pipeline's order, or its own CTEs, and use only the
  named parameters the pipeline binds for it;
- contain none of the constructs PORTABLE_SQL.md bans (each finding below carries the rule's tag):
  epoch            epoch()/epoch_ms()/extract(epoch)/date_part('epoch'): whole seconds on Spark (rule 1)
  date_diff        date_diff/datediff/date_sub with any unit but 'microsecond': boundary counting (rule 1)
  quantile         quantile_cont/quantile_disc/quantile/percentile_cont/disc ... WITHIN GROUP (rule 5)
  weekday          dayofweek/isodow/week()/weekofyear/yearweek, extract(dow|isodow|week), strftime week codes (rule 5)
  ordered_first    first/last/any_value(x ORDER BY ...) (rule 5)
  time_bucket, generate_series (also range()), age, asof (ASOF and POSITIONAL joins) (rule 5)
  sum_bool         sum()/avg() of a comparison, a boolean expression or a boolean column (rule 3)
  window_order     row_number/rank/lag/lead/first_value/... OVER a window without ORDER BY, or whose ORDER BY ends
                   in a time column or a constant, which is never a unique tie-breaker (rule 2)
  window_frame     an aggregate OVER an ordered window without an explicit ROWS frame (RANGE peers differ) (rule 2).
                   An aggregate over a whole partition (no ORDER BY) is order-independent and allowed.
  division         `/`, `//` or `%` by anything but a non-zero number literal or NULLIF(..., 0) (rule 3: Spark's
                   ANSI mode raises on /0). A division inside a CASE branch that an earlier `WHEN d = 0` (or its own
                   `WHEN d <> 0` / `d > 0`) guards is accepted too: it cannot divide by zero on either engine (the
                   parity test exercises it), though NULLIF is the documented form.
  decimal_literal  a decimal literal such as 0.5 in arithmetic (DECIMAL on both engines, not DOUBLE; 1e6 is DOUBLE) (rule 3)
  trunc_cast       date_trunc not directly wrapped in CAST(... AS DATE|TIMESTAMP) (rule 4: Spark returns TIMESTAMP)
  timezone         now()/current_timestamp/current_date, AT TIME ZONE, TIMESTAMPTZ (rule 4: zone-less local time)

The checker walks sqlglot's AST; the self-tests at the bottom feed it each banned construct and assert it is caught.
"""
from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from pipeline import sqlfiles
from pipeline.band import load_thresholds
from pipeline.config import Config
from pipeline.kinds import KINDS
from pipeline.derive import STEPS as DERIVE_STEPS, params as derive_params
from pipeline.measure import STEPS as MEASURE_STEPS

# What pipeline.jobs.compute builds before the first file: the source views and the support tables; `thresholds`
# before kpi.
SOURCES = {*KINDS, "rejects", "lake_kinds", "settings", "clocks", "service_days", "service_windows", "kpi_units",
           "conversation_seeds"}
CHAIN = [*DERIVE_STEPS, *MEASURE_STEPS, "kpi"]
EXTRA_BEFORE = {"kpi": {"thresholds"}}
PARAMS = {step: set(derive_params(Config())) for step in DERIVE_STEPS}

RANKING = tuple(getattr(exp, n) for n in (
    "RowNumber", "Rank", "DenseRank", "Lag", "Lead", "FirstValue", "LastValue", "NthValue", "Ntile",
    "PercentRank", "CumeDist") if hasattr(exp, n))
ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod)
BOOLEAN_EXPR = (exp.Predicate, exp.Connector, exp.Not, exp.Boolean)
TIME_NAME = re.compile(r"(^|_)(at|on|ts|time|date|day|timestamp)$", re.I)
EPOCH_PARTS = {"epoch", "epoch_ms", "epoch_us", "epoch_ns"}
WEEK_PARTS = {"dow", "dayofweek", "weekday", "isodow", "week", "weeks", "w", "weekofyear", "yearweek", "isoyear"}
WEEK_FORMATS = re.compile(r"%[uwUWVGga]")


def _name(node: exp.Expression) -> str:
    """The lower-case SQL name of a function node (the written name for functions sqlglot does not know)."""
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql_name().lower() if isinstance(node, exp.Func) else ""


def _unwrap(node: exp.Expression | None) -> exp.Expression | None:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _orders_by_its_groups(window: exp.Window, keys: list) -> bool:
    """Whether the window's ORDER BY holds every GROUP BY key of the SELECT it is computed in (its rows are the
    groups, so those keys tie on no two rows)."""
    select = window.find_ancestor(exp.Select)
    group = select.args.get("group") if select is not None else None
    if group is None or not group.expressions:
        return False
    ordered = {_unwrap(k.this).sql() for k in keys}
    return all(_unwrap(g).sql() in ordered for g in group.expressions)


def _parent(node: exp.Expression) -> exp.Expression | None:
    parent = node.parent
    while isinstance(parent, (exp.Paren, exp.Neg)):
        parent = parent.parent
    return parent


def _date_part(node: exp.Expression) -> str | None:
    """The part name of extract(part FROM x) or date_part('part', x)."""
    if isinstance(node, exp.Extract):
        return node.this.name.lower()
    if isinstance(node, exp.Anonymous) and _name(node) in ("date_part", "datepart") and node.expressions:
        first = node.expressions[0]
        return first.name.lower() if isinstance(first, (exp.Literal, exp.Var, exp.Column)) else None
    return None


def _is_boolean(node: exp.Expression | None, bool_columns: set[str]) -> bool:
    node = _unwrap(node)
    if isinstance(node, BOOLEAN_EXPR):
        return True
    if isinstance(node, exp.Cast) and node.to.is_type("boolean"):
        return True
    if isinstance(node, exp.Coalesce):
        return _is_boolean(node.this, bool_columns)
    return isinstance(node, exp.Column) and node.name.lower() in bool_columns


def boolean_outputs(tree: exp.Expression) -> set[str]:
    """Names of the boolean columns a query defines (aliases of boolean expressions)."""
    found: set[str] = set()
    for _ in range(3):  # a boolean alias may be built from another one
        for alias in tree.find_all(exp.Alias):
            if _is_boolean(alias.this, found):
                found.add(alias.alias.lower())
    return found


def _window_spec(window: exp.Window) -> tuple[exp.Order | None, exp.WindowSpec | None]:
    """ORDER BY and frame of a window, following `OVER w` to the query's `WINDOW w AS (...)`."""
    order, spec = window.args.get("order"), window.args.get("spec")
    ref = window.args.get("alias")
    if ref is not None and order is None:
        select = window.find_ancestor(exp.Select)
        for named in (select.args.get("windows") or []) if select else []:
            if named.this.name == ref.name:
                return named.args.get("order"), spec or named.args.get("spec")
    return order, spec


def _guarded(div: exp.Expression, den: exp.Expression) -> bool:
    """True when a CASE branch around the division guards its denominator against zero."""
    den_sql = den.sql(dialect="duckdb")

    def is_zero_test(cond: exp.Expression, ops: tuple) -> bool:
        cond = _unwrap(cond)
        if isinstance(cond, exp.Or) and ops == (exp.EQ,):
            return is_zero_test(cond.this, ops) or is_zero_test(cond.expression, ops)
        if isinstance(cond, exp.And) and ops != (exp.EQ,):
            return is_zero_test(cond.this, ops) or is_zero_test(cond.expression, ops)
        return (isinstance(cond, ops) and _unwrap(cond.this).sql(dialect="duckdb") == den_sql
                and isinstance(cond.expression, exp.Literal) and cond.expression.name in ("0", "0.0"))

    child, node = div, div.parent
    while node is not None:
        if isinstance(node, exp.Case):
            ifs = node.args.get("ifs") or []
            branch = next((i for i, b in enumerate(ifs) if child is b), len(ifs))  # len(ifs): the ELSE
            if branch < len(ifs) and is_zero_test(ifs[branch].this, (exp.NEQ, exp.GT)):
                return True
            if any(is_zero_test(b.this, (exp.EQ,)) for b in ifs[:branch]):
                return True
        if isinstance(node, exp.If) and child is node.this:
            return False  # inside a WHEN condition: nothing guards it
        child, node = node, node.parent
    return False


def violations(sql: str, name: str = "snippet", bool_columns: set[str] = frozenset(),
               params: set[str] = frozenset()) -> list[str]:
    """Every breach of PORTABLE_SQL.md in one file's SQL, as '<tag>: <detail>' strings (empty when clean)."""
    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError as e:
        return [f"parse: {name} does not parse as DuckDB SQL: {e}"]
    trees = [t for t in trees if t is not None]
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        return [f"parse: {name} must hold exactly one query, found {[type(t).__name__ for t in trees]}"]
    tree = trees[0]
    try:
        sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as e:
        return [f"transpile: {name} does not transpile to Spark: {e}"]

    found: list[str] = []

    def bad(tag: str, node: exp.Expression, why: str) -> None:
        found.append(f"{tag}: {why}: {node.sql(dialect='duckdb')[:120]}")

    bools = set(bool_columns) | boolean_outputs(tree)
    for node in tree.walk():
        fname = _name(node)
        part = _date_part(node)
        # rule 1: durations
        if isinstance(node, (exp.TimeToUnix, exp.UnixToTime)) or fname in EPOCH_PARTS or part in EPOCH_PARTS:
            bad("epoch", node, "epoch seconds are whole seconds on Spark; use date_diff('microsecond', a, b) / 1e6")
        if isinstance(node, (exp.DateDiff, exp.TimestampDiff, exp.DatetimeDiff, exp.TimeDiff)):
            unit = node.args.get("unit")
            if unit is None or unit.name.lower() not in ("microsecond", "microseconds", "us"):
                bad("date_diff", node, "date_diff counts unit boundaries on DuckDB, not on Spark; use 'microsecond'")
        if isinstance(node, exp.Anonymous) and fname in ("date_sub", "datesub", "date_diff", "datediff"):
            unit = node.expressions[0].name.lower() if node.expressions else ""
            if unit not in ("microsecond", "microseconds", "us"):
                bad("date_diff", node, "date_sub/date_diff with a unit other than 'microsecond'")
        # rule 5: constructs without a faithful Spark translation
        if isinstance(node, (exp.PercentileCont, exp.PercentileDisc, exp.Quantile, exp.WithinGroup,
                             exp.ApproxQuantile)) or fname in ("quantile_cont", "quantile_disc", "quantile"):
            bad("quantile", node, "quantiles become approximate or fail on Spark (median is translated)")
        if (isinstance(node, (exp.DayOfWeek, exp.DayOfWeekIso, exp.Week, exp.WeekOfYear))
                or fname in ("dayofweek", "isodow", "week", "weekofyear", "yearweek", "weekday", "isoyear")
                or part in WEEK_PARTS):
            bad("weekday", node, "weekday and week numbers differ (0-6 vs 1-7, week definitions)")
        if isinstance(node, exp.TimeToStr) and WEEK_FORMATS.search(node.args["format"].name if isinstance(
                node.args.get("format"), exp.Literal) else ""):
            bad("weekday", node, "strftime week/weekday codes have no equal Spark pattern")
        if (isinstance(node, (exp.First, exp.Last, exp.AnyValue)) or fname in ("first", "last", "any_value")) \
                and isinstance(node.this, exp.Order):
            bad("ordered_first", node, "an ordered first(x ORDER BY ...) is not translated; use arg_min/arg_max")
        if isinstance(node, exp.DateBin) or fname == "time_bucket":
            bad("time_bucket", node, "time_bucket has no Spark equivalent")
        if isinstance(node, (exp.GenerateSeries, exp.GenerateDateArray, exp.GenerateTimestampArray)) \
                or fname in ("generate_series", "range"):
            bad("generate_series", node, "generate_series/range is not portable")
        if fname == "age":
            bad("age", node, "age() has no Spark equivalent")
        if isinstance(node, exp.Join) and str(node.args.get("method") or "").upper() in ("ASOF", "POSITIONAL"):
            bad("asof", node, "ASOF/POSITIONAL joins do not exist on Spark")
        # rule 3: aggregates, ratios, literals
        if isinstance(node, (exp.Sum, exp.Avg)) and _is_boolean(node.this, bools):
            bad("sum_bool", node, "sum/avg of a boolean; write sum(CASE WHEN cond THEN 1 ELSE 0 END)")
        if isinstance(node, (exp.Div, exp.IntDiv, exp.Mod)):
            den = _unwrap(node.expression)
            if isinstance(den, exp.Cast):
                den = _unwrap(den.this)
            literal_ok = isinstance(den, exp.Literal) and not den.is_string and float(den.name) != 0
            if not (literal_ok or isinstance(den, exp.Nullif) or _guarded(node, den)):
                bad("division", node, "the denominator can be zero; divide by NULLIF(denominator, 0)")
        if isinstance(node, exp.Literal) and not node.is_string and "." in node.name \
                and "e" not in node.name.lower() and isinstance(_parent(node), ARITHMETIC):
            bad("decimal_literal", _parent(node), f"decimal literal {node.name} in arithmetic is DECIMAL, not DOUBLE")
        # rule 4: period keys and time zones
        if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc, exp.DatetimeTrunc)) or fname == "date_trunc":
            parent = _parent(node)
            if not (isinstance(parent, (exp.Cast, exp.TryCast)) and (
                    parent.to.is_type("date") or parent.to.is_type("timestamp"))):
                bad("trunc_cast", node, "wrap date_trunc in CAST(... AS DATE) (Spark returns a TIMESTAMP)")
        if isinstance(node, (exp.AtTimeZone, exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime)) \
                or fname in ("now", "today", "get_current_timestamp", "timezone", "current_localtimestamp"):
            bad("timezone", node, "the SQL is zone-less and deterministic: no clock and no time zone")
        if isinstance(node, exp.DataType) and node.this in (exp.DataType.Type.TIMESTAMPTZ,
                                                            exp.DataType.Type.TIMESTAMPLTZ):
            bad("timezone", node, "timestamps are zone-less: TIMESTAMP, not TIMESTAMPTZ")
        # parameters the pipeline binds for this file
        if isinstance(node, (exp.Placeholder, exp.Parameter)) and node.name not in params:
            bad("parameter", node, f"parameter ${node.name} is not bound for {name} (bound: {sorted(params)})")
        # rule 2: windows
        if isinstance(node, exp.Window) and not isinstance(node.this, exp.Identifier):  # not a WINDOW w AS def
            order, spec = _window_spec(node)
            keys = order.expressions if order is not None else []
            ordered_frame = isinstance(node.this, exp.AggFunc) and not isinstance(node.this, RANKING) and bool(keys)
            if isinstance(node.this, RANKING) or ordered_frame:
                if not keys:
                    bad("window_order", node, "a ranking or offset window needs ORDER BY with a unique tie-breaker")
                else:
                    last = _unwrap(keys[-1].this)
                    if _orders_by_its_groups(node, keys):
                        pass  # the grouped SELECT's keys, each row's own: unique whatever their names
                    elif isinstance(last, exp.Literal) or (
                            isinstance(last, exp.Column) and TIME_NAME.search(last.name)):
                        bad("window_order", node, f"ORDER BY ends in {last.sql(dialect='duckdb')}, which ties; "
                                                  "end it with a unique key")
            if ordered_frame and (spec is None or str(spec.args.get("kind", "")).lower() != "rows"):
                bad("window_frame", node, "an ordered aggregate window must spell ROWS BETWEEN UNBOUNDED PRECEDING "
                                          "AND CURRENT ROW (the default RANGE frame includes peers)")
    return found


def header_problems(text: str, name: str) -> list[str]:
    lines = text.splitlines()
    header = []
    for line in lines:
        if not line.startswith("--"):
            break
        header.append(line)
    problems = []
    if not header or not re.match(rf"--\s*{re.escape(name)}\s*:", header[0]):
        problems.append(f"header: {name}.sql must start with '-- {name}: <what one row is>'")
    if not any("Grain:" in line for line in header):
        problems.append(f"header: {name}.sql's header comment must state its grain ('Grain: ...')")
    return problems


def dependency_problems(chain: list[str], texts: dict[str, str]) -> list[str]:
    """Each file reads only sources, tables built before it, or its own CTEs."""
    problems, built = [], set(SOURCES)
    for name in chain:
        tree = sqlglot.parse_one(texts[name], read="duckdb")
        ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            t = table.name.lower()
            if t and t not in built and t not in ctes and t not in EXTRA_BEFORE.get(name, set()):
                problems.append(f"dependency: {name}.sql reads {t}, which is not built before it")
        built.add(name)
    return problems


def _all_boolean_columns() -> set[str]:
    cols = {c for c, t in load_thresholds().schema.items() if str(t) == "Boolean"}
    for name in sqlfiles.names():
        cols |= boolean_outputs(sqlglot.parse_one(sqlfiles.text(name), read="duckdb"))
    return cols


BOOL_COLUMNS = _all_boolean_columns()


# --- the sql/ files --------------------------------------------------------------------------------------------

def test_every_file_is_built_in_the_chain_and_only_reads_what_is_built_before_it():
    assert sorted(CHAIN) == sqlfiles.names(), "every sql/ file is built exactly once by compute, and nothing else"
    assert dependency_problems(CHAIN, {n: sqlfiles.text(n) for n in CHAIN}) == []


@pytest.mark.parametrize("name", sqlfiles.names())
def test_sql_file_has_a_header_naming_table_and_grain(name):
    assert header_problems(sqlfiles.text(name), name) == []


@pytest.mark.parametrize("name", sqlfiles.names())
def test_sql_file_is_portable_to_spark(name):
    assert violations(sqlfiles.text(name), name, BOOL_COLUMNS, PARAMS.get(name, set())) == []


# --- self-tests: every check can fail ---------------------------------------------------------------------------

BANNED = [
    ("epoch", "SELECT epoch(ts) AS s FROM t"),
    ("epoch", "SELECT epoch_ms(ts) AS s FROM t"),
    ("epoch", "SELECT extract(epoch FROM ts) AS s FROM t"),
    ("epoch", "SELECT date_part('epoch', ts) AS s FROM t"),
    ("date_diff", "SELECT date_diff('second', a, b) AS s FROM t"),
    ("date_diff", "SELECT datediff('minute', a, b) AS s FROM t"),
    ("date_diff", "SELECT date_sub('hour', a, b) AS s FROM t"),
    ("quantile", "SELECT quantile_cont(x, 0.5) AS q FROM t"),
    ("quantile", "SELECT quantile_disc(x, 0.9) AS q FROM t"),
    ("quantile", "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS q FROM t"),
    ("weekday", "SELECT dayofweek(d) AS w FROM t"),
    ("weekday", "SELECT isodow(d) AS w FROM t"),
    ("weekday", "SELECT week(d) AS w FROM t"),
    ("weekday", "SELECT extract(dow FROM d) AS w FROM t"),
    ("weekday", "SELECT date_part('isodow', d) AS w FROM t"),
    ("weekday", "SELECT strftime(d, '%G-W%V') AS w FROM t"),
    ("ordered_first", "SELECT first(x ORDER BY ts, id) AS f FROM t"),
    ("time_bucket", "SELECT time_bucket(INTERVAL 1 HOUR, ts) AS b FROM t"),
    ("generate_series", "SELECT * FROM generate_series(1, 3)"),
    ("generate_series", "SELECT * FROM range(3)"),
    ("age", "SELECT age(a, b) AS a FROM t"),
    ("asof", "SELECT * FROM a ASOF JOIN b ON a.k = b.k AND a.ts >= b.ts"),
    ("sum_bool", "SELECT sum(x > 1) AS n FROM t"),
    ("sum_bool", "SELECT sum(is_inquiry) AS n FROM sessions"),
    ("sum_bool", "SELECT avg(a AND b) AS n FROM t"),
    ("sum_bool", "WITH f AS (SELECT x IS NULL AS missing FROM t) SELECT sum(missing) AS n FROM f"),
    ("window_order", "SELECT row_number() OVER (PARTITION BY a) AS r FROM t"),
    ("window_order", "SELECT lag(x) OVER (PARTITION BY a) AS p FROM t"),
    ("window_order", "SELECT row_number() OVER (PARTITION BY a ORDER BY b, sent_at) AS r FROM t"),
    ("window_order", "SELECT a, sent_at, row_number() OVER (ORDER BY sent_at) AS r FROM t GROUP BY a, sent_at"),
    ("window_order", "SELECT lag(x) OVER w AS p FROM t WINDOW w AS (PARTITION BY a)"),
    ("window_frame", "SELECT sum(x) OVER (PARTITION BY a ORDER BY id) AS s FROM t"),
    ("window_frame", "SELECT sum(x) OVER (PARTITION BY a ORDER BY id RANGE BETWEEN UNBOUNDED PRECEDING "
                     "AND CURRENT ROW) AS s FROM t"),
    ("division", "SELECT n / d AS r FROM t"),
    ("division", "SELECT n / 0 AS r FROM t"),
    ("division", "SELECT n // d AS r FROM t"),
    ("division", "SELECT CASE WHEN d = 1 THEN NULL ELSE n / d END AS r FROM t"),
    ("division", "SELECT CASE WHEN n / d > 1 THEN 1 ELSE 0 END AS r FROM t WHERE d <> 0"),
    ("decimal_literal", "SELECT x * 0.5 AS h FROM t"),
    ("decimal_literal", "SELECT x / 2.5 AS h FROM t"),
    ("trunc_cast", "SELECT date_trunc('month', ts) AS m FROM t"),
    ("timezone", "SELECT now() AS n FROM t"),
    ("timezone", "SELECT current_date AS n FROM t"),
    ("timezone", "SELECT ts AT TIME ZONE 'UTC' AS n FROM t"),
    ("timezone", "SELECT CAST(ts AS TIMESTAMPTZ) AS n FROM t"),
    ("parameter", "SELECT x FROM t WHERE x > $not_bound"),
    ("parse", "SELEC x FROM t"),
    ("parse", "SELECT 1 AS a; SELECT 2 AS b"),
]

ALLOWED = [
    "SELECT CAST(date_diff('microsecond', a, b) AS DOUBLE) / 1e6 AS s FROM t",
    "SELECT sum(CASE WHEN x > 1 THEN 1 ELSE 0 END) AS n, count_if(x > 1) AS m, median(x) AS md, "
    "arg_min(a, b) AS am, string_agg(s, ',') AS sa FROM t",
    "SELECT n / NULLIF(d, 0) AS r, n * 100 / NULLIF(d, 0) AS p, (x - 1) / 7 AS w FROM t",
    "SELECT CASE WHEN d = 0 THEN NULL ELSE n / d END AS r, CASE WHEN d <> 0 THEN n / d END AS s FROM t",
    "SELECT row_number() OVER (PARTITION BY a ORDER BY ts, id) AS r, lag(x) OVER w AS p, "
    "sum(x) OVER (PARTITION BY a ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS s, "
    "sum(x) OVER (PARTITION BY a) AS total FROM t WINDOW w AS (PARTITION BY a ORDER BY pos)",
    "SELECT CAST(date_trunc('month', ts) AS DATE) AS m, strftime(d, '%Y-%m') AS p, "
    "CAST(d + INTERVAL 1 DAY AS DATE) AS e FROM t QUALIFY row_number() OVER (PARTITION BY a ORDER BY id) = 1",
    "SELECT x FROM t WHERE x > $gap_us",
    "SELECT first_day, last_day, row_number() OVER (ORDER BY first_day, last_day) AS n FROM t "
    "GROUP BY first_day, last_day",
]


@pytest.mark.parametrize("tag,snippet", BANNED, ids=[f"{t}-{i}" for i, (t, _) in enumerate(BANNED)])
def test_checker_catches_banned_construct(tag, snippet):
    found = violations(snippet, "snippet", {"is_inquiry"}, {"gap_us"})
    assert any(v.startswith(f"{tag}:") for v in found), (tag, snippet, found)


@pytest.mark.parametrize("snippet", ALLOWED)
def test_checker_accepts_the_documented_forms(snippet):
    assert violations(snippet, "snippet", {"is_inquiry"}, {"gap_us"}) == []


def test_header_and_dependency_checks_can_fail():
    assert header_problems("SELECT 1 AS a", "x") != []
    assert any("Grain" in p for p in header_problems("-- x: a table\nSELECT 1 AS a", "x"))
    assert any("must start" in p for p in header_problems("-- y: a table\n-- Grain: one row\nSELECT 1", "x"))
    assert header_problems("-- x: a table\n-- Grain: one row\nSELECT 1 AS a", "x") == []
    problems = dependency_problems(["a", "b"], {"a": "SELECT * FROM b", "b": "SELECT * FROM messages"})
    assert problems == ["dependency: a.sql reads b, which is not built before it"]
