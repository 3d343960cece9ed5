"""The pandera schemas hold what normalise accepts (hypothesis over raw text), and catch what they must."""
import polars as pl
import pytest
from hypothesis import given, settings, strategies as st

from pipeline.kinds import KINDS
from pipeline.normalise import normalise
from pipeline.schemas import TABLES
from pipeline.schemas.validate import SchemaViolation, validate_frame

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


def test_kpi_schema_ties_no_data_to_missing_values():
    row = {"grain": "day", "period": "2026-11-27", "period_start": pl.date(2026, 11, 27), "shop_id": "S1",
           "agent_id": None, "kpi": "reply_rate", "value": None, "numerator": 0.0, "denominator": 2.0,
           "band": "below", "provisional": False, "clock": "wall"}
    frame = pl.select(**{k: (v if isinstance(v, pl.Expr) else pl.lit(v)) for k, v in row.items()}).with_columns(
        pl.col("agent_id").cast(pl.String), pl.col("value").cast(pl.Float64))
    with pytest.raises(SchemaViolation, match="no_value_without_denominator|no_data_band_iff_no_value"):
        validate_frame(frame, TABLES["kpi"], "kpi")
    validate_frame(frame.with_columns(value=pl.lit(0.0)), TABLES["kpi"], "kpi")
