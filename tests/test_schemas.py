"""The pandera schemas hold what normalise accepts (hypothesis over raw text), and catch what they must."""
from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import given, settings, strategies as st

from pipeline.kinds import KINDS
from pipeline.normalise import normalise
from pipeline.schemas import TABLES
from pipeline.schemas.validate import SchemaViolation, validate_frame, validate_parquet

TEXT = st.one_of(st.none(), st.text(max_size=6),
                 st.sampled_from(["2026-11-27 10:00:00", "2026/11/27 10:00", "2026-11-27T02:00:00.5Z", "25:00",
                                  "-1", "0", "3", "5.0", "7", "很满意", "一般", "顾客", "客服", "机器人", "系统",
                                  "customer", "bogus", "1,234.50", "¥12", "2026-W53", "2026-Q4", "2026-13",
                                  " ", "商品质量", "物流"]))


@pytest.mark.parametrize("kind", list(KINDS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_whatever_normalise_accepts_fits_the_landed_schema(kind, data):
    k = KINDS[kind]
    rows = data.draw(st.lists(st.fixed_dictionaries({c: TEXT for c in k.names}), min_size=1, max_size=8))
    raw = pl.DataFrame(rows, schema={c: pl.String for c in k.names}).with_row_index("_line", offset=2)
    out = normalise(raw.lazy(), k, {c: c for c in k.names}, "Asia/Shanghai").collect()
    accepted = out.filter(pl.col("_reject_reason").is_null()).drop("_reject_column", "_reject_reason", "_reject_raw")
    landed = accepted.with_columns(pl.lit("k").alias("_key"), pl.col("_line").cast(pl.Int64),
                                   pl.lit(1, dtype=pl.Int64).alias("_seq"))
    validate_frame(landed, TABLES[kind], "accepted rows")
    # Every row is either accepted or carries a reason; a reason always comes with the raw text's column or none.
    assert out.height == len(rows)
    rejected = out.filter(pl.col("_reject_reason").is_not_null())
    assert rejected["_reject_column"].is_in(list(k.names)).all()


def test_a_violation_lists_every_failure_at_once():
    bad = pl.DataFrame({"kind": ["messages"], "file": ["f.csv"], "line": pl.Series([0], dtype=pl.Int64),
                        "column": [None], "reason": [None], "raw_value": ["x"],
                        "_seq": pl.Series([1], dtype=pl.Int64)}, schema_overrides={"column": pl.String,
                                                                                    "reason": pl.String})
    with pytest.raises(SchemaViolation) as e:
        validate_frame(bad, TABLES["rejects"], "rejects part")
    assert "line" in str(e.value) and "reason" in str(e.value) and str(e.value).startswith("rejects part")


def _messages(roles: list[str], shops: list[str | None]) -> pl.DataFrame:
    n = len(roles)
    return pl.DataFrame({
        "message_id": [f"m{i}" for i in range(n)], "session_id": [None] * n, "shop_id": shops,
        "customer_id": ["c1"] * n, "agent_id": [None] * n, "sender_role": roles,
        "sent_at": [datetime(2026, 11, 27, 10, i) for i in range(n)], "content": ["hi"] * n,
        "_key": [f"m{i}" for i in range(n)], "_line": list(range(2, n + 2)), "_seq": [1] * n,
    }, schema=_dtypes("messages"))


@pytest.mark.parametrize("batch_rows", [2, 100])
def test_parquet_files_are_checked_value_by_value(tmp_path, batch_rows):
    """Files are checked as lazy scans, whose value checks pandera runs only at validation depth SCHEMA_AND_DATA:
    a bad value is caught in whichever batch (a slice of a file, or files together) it falls, with every failure
    of its batch in the report."""
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    _messages(["customer", "agent", "bot"], ["S1", "S1", "S1"]).write_parquet(first)
    _messages(["customer", "agent", "customer"], ["S1", "S1", "S1"]).write_parquet(second)
    assert validate_parquet([first, second], TABLES["messages"], batch_rows=batch_rows) == 6
    _messages(["customer", "agent", "pirate"], ["S1", "S1", None]).write_parquet(second)
    with pytest.raises(SchemaViolation) as e:
        validate_parquet([first, second], TABLES["messages"], batch_rows=batch_rows)
    assert "sender_role" in str(e.value) and "pirate" in str(e.value) and "shop_id" in str(e.value)


def test_a_parquet_file_is_checked_by_the_models_frame_checks(tmp_path):
    row = {"grain": "day", "period": "2026-11-27", "period_start": date(2026, 11, 27), "shop_id": "S1",
           "agent_id": None, "kpi": "reply_rate", "value": None, "numerator": 0.0, "denominator": 2.0,
           "band": "below", "provisional": False, "clock": "wall"}
    path = tmp_path / "kpi.parquet"
    pl.DataFrame([{**row, "value": 0.0}], schema=_dtypes("kpi")).write_parquet(path)
    assert validate_parquet(path, TABLES["kpi"]) == 1
    pl.DataFrame([row], schema=_dtypes("kpi")).write_parquet(path)
    with pytest.raises(SchemaViolation, match="no_value_without_denominator|no_data_band_iff_no_value"):
        validate_parquet(path, TABLES["kpi"])


def test_kpi_schema_ties_no_data_to_missing_values():
    row = {"grain": "day", "period": "2026-11-27", "period_start": pl.date(2026, 11, 27), "shop_id": "S1",
           "agent_id": None, "kpi": "reply_rate", "value": None, "numerator": 0.0, "denominator": 2.0,
           "band": "below", "provisional": False, "clock": "wall"}
    frame = pl.select(**{k: (v if isinstance(v, pl.Expr) else pl.lit(v)) for k, v in row.items()}).with_columns(
        pl.col("agent_id").cast(pl.String), pl.col("value").cast(pl.Float64))
    with pytest.raises(SchemaViolation, match="no_value_without_denominator|no_data_band_iff_no_value"):
        validate_frame(frame, TABLES["kpi"], "kpi")
    validate_frame(frame.with_columns(value=pl.lit(0.0)), TABLES["kpi"], "kpi")


def _dtypes(table: str) -> dict:
    return {c: d.type for c, d in TABLES[table].to_schema().dtypes.items()}


def _turns(shops: list[str], sessions: list[str], numbers: list[int]) -> pl.DataFrame:
    n = len(shops)
    return pl.DataFrame({
        "shop_id": shops, "session_id": sessions, "turn_no": numbers, "started_on": [date(2026, 11, 27)] * n,
        "started_at": [datetime(2026, 11, 27, 10)] * n, "answered_at": [None] * n, "agent_id": [None] * n,
        "response_seconds": [None] * n, "response_service_seconds": [None] * n,
    }, schema=_dtypes("turns"))


@pytest.mark.parametrize("batch_rows", [1, 2, 100])
def test_a_table_key_repeated_across_files_and_slices_is_caught(tmp_path, batch_rows):
    """The unique key of a table is checked over all its files at once, not within each slice read."""
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    _turns(["S1", "S1", "S2"], ["s#1", "s#1", "s#1"], [1, 2, 1]).write_parquet(first)
    _turns(["S2", "S3"], ["s#2", "s#1"], [1, 1]).write_parquet(second)
    assert validate_parquet([first, second], TABLES["turns"], batch_rows=batch_rows) == 5
    _turns(["S3", "S2"], ["s#1", "s#1"], [1, 1]).write_parquet(second)  # S2's s#1 turn 1 again
    with pytest.raises(SchemaViolation, match=r"\(shop_id, session_id, turn_no\) is not unique.*'S2', 's#1', 1"):
        validate_parquet([first, second], TABLES["turns"], batch_rows=batch_rows)


def test_a_null_in_a_key_repeats_like_a_value(tmp_path):
    """A shop row's agent_id is null: two shop rows of one KPI and period are a repeat."""
    path = tmp_path / "h.parquet"
    row = {"family": "frt", "clock": "wall", "shop_id": "S1", "agent_id": None, "on_date": date(2026, 11, 27),
           "seconds": 3.0, "observations": 1.0}
    schema = _dtypes("kpi_histograms")
    pl.DataFrame([row, {**row, "agent_id": "A1"}], schema=schema).write_parquet(path)
    validate_parquet(path, TABLES["kpi_histograms"])
    pl.DataFrame([row, row], schema=schema).write_parquet(path)
    with pytest.raises(SchemaViolation, match="not unique"):
        validate_parquet(path, TABLES["kpi_histograms"])


def test_a_month_histogram_is_dated_the_first_of_its_month(tmp_path):
    row = {"family": "response", "clock": "wall", "shop_id": "S1", "agent_id": "A1",
           "month_start": date(2026, 11, 1), "seconds": 12.0, "observations": 3.0}
    frame = pl.DataFrame([row], schema=_dtypes("kpi_month_histograms"))
    validate_frame(frame, TABLES["kpi_month_histograms"], "kpi_month_histograms")
    with pytest.raises(SchemaViolation, match="first_of_a_month"):
        validate_frame(frame.with_columns(month_start=pl.lit(date(2026, 11, 27))), TABLES["kpi_month_histograms"],
                       "kpi_month_histograms")
    with pytest.raises(SchemaViolation, match="observations"):
        validate_frame(frame.with_columns(observations=pl.lit(0.0)), TABLES["kpi_month_histograms"],
                       "kpi_month_histograms")
