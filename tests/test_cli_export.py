"""`cskpi compute`, `export` and `report` through click's CliRunner: columns, formats, levels, errors, exit codes."""
import csv
import io
import json

import polars as pl
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from tests.conftest import MESSAGE_HEADER, msg, write_csv

COLUMNS = ["grain", "period", "period_start", "shop_id", "agent_id", "kpi", "value", "numerator", "denominator",
           "band", "provisional", "clock"]  # clock: issue 5


def lake_with_kpis(tmp_path):
    inbox = tmp_path / "inbox"
    write_csv(inbox / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c", "customer", "2026-11-27 10:00:00"), msg("2", "c", "agent", "2026-11-27 10:00:08", agent="a1"),
        msg("3", "d", "customer", "2026-11-27 11:00:00", agent="a2")])
    write_csv(inbox / "orders_1.csv", ["order_id", "shop_id", "customer_id", "created_at", "paid_at", "amount"],
              [("o1", "S1", "c", "2026-11-27 10:01:00", "2026-11-27 10:02:00", "99.5")])
    lake = tmp_path / "lake"
    result = CliRunner().invoke(main, ["run", str(inbox), "--lake", str(lake)])
    assert result.exit_code == 0, result.output
    assert "computed" in result.output
    return lake


def test_export_json_has_exactly_the_spec_columns_with_typed_values(tmp_path):
    lake = lake_with_kpis(tmp_path)
    result = CliRunner().invoke(main, ["export", "--lake", str(lake), "--period", "day", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and all(list(r) == COLUMNS for r in rows)
    frt = next(r for r in rows if r["kpi"] == "frt_seconds" and r["agent_id"] is None)
    assert frt == {"grain": "day", "period": "2026-11-27", "period_start": "2026-11-27", "shop_id": "S1",
                   "agent_id": None, "kpi": "frt_seconds", "value": 8.0, "numerator": 8.0, "denominator": 1.0,
                   "band": "AAAAA", "provisional": False, "clock": "wall"}
    a2 = next(r for r in rows if r["kpi"] == "frt_seconds" and r["agent_id"] == "a2")
    assert (a2["value"], a2["band"]) == (None, "no_data")
    conv = next(r for r in rows if r["kpi"] == "inquiry_conversion_rate" and r["agent_id"] is None)
    assert (conv["value"], conv["provisional"]) == (50.0, True)


def test_export_levels_and_csv(tmp_path):
    lake = lake_with_kpis(tmp_path)
    runner = CliRunner()
    shop = runner.invoke(main, ["export", "--lake", str(lake), "--period", "month", "--level", "shop"])
    agent = runner.invoke(main, ["export", "--lake", str(lake), "--period", "month", "--level", "agent"])
    every = runner.invoke(main, ["export", "--lake", str(lake), "--period", "month"])
    shop_rows, agent_rows, all_rows = (list(csv.DictReader(io.StringIO(r.output))) for r in (shop, agent, every))
    assert list(shop_rows[0]) == COLUMNS
    assert all(r["agent_id"] == "" for r in shop_rows) and all(r["agent_id"] for r in agent_rows)
    assert len(all_rows) == len(shop_rows) + len(agent_rows)
    assert {r["period"] for r in all_rows} == {"2026-11"}


def test_export_parquet_to_a_file(tmp_path):
    lake = lake_with_kpis(tmp_path)
    out = tmp_path / "kpi.parquet"
    result = CliRunner().invoke(main, ["export", "--lake", str(lake), "--period", "year", "--format", "parquet",
                                       "-o", str(out)])
    assert result.exit_code == 0 and f"to {out}" in result.output
    frame = pl.read_parquet(out)
    assert frame.columns == COLUMNS
    assert frame.filter(pl.col("kpi") == "reply_rate", pl.col("agent_id").is_null())["value"].to_list() == [50.0]


def test_report_prints_chinese_and_english_names_and_bands(tmp_path):
    lake = lake_with_kpis(tmp_path)
    result = CliRunner().invoke(main, ["report", "--lake", str(lake)])
    assert result.exit_code == 0
    assert "S1 · 2026-11" in result.output
    assert "首次响应时间 First response time" in result.output and "AAAAA" in result.output
    assert "(provisional)" in result.output


def test_export_without_computed_kpis_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(main, ["export", "--lake", str(tmp_path / "nolake"), "--period", "day"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "no KPIs computed yet" in result.output
    assert "Traceback" not in result.output


def test_usage_errors_exit_2(tmp_path):
    lake = lake_with_kpis(tmp_path)
    result = CliRunner().invoke(main, ["export", "--lake", str(lake), "--period", "fortnight"])
    assert result.exit_code == 2
    result = CliRunner().invoke(main, ["export", "--lake", str(lake), "--period", "day", "--format", "xml"])
    assert result.exit_code == 2


def test_bad_thresholds_file_is_an_error_naming_it(tmp_path):
    lake = lake_with_kpis(tmp_path)
    bad = tmp_path / "t.toml"
    bad.write_text('[frt_seconds]\nbetter = "lower"\nAAAAA = 30\nAAAA = 20\nAAA = 10\n')
    result = CliRunner().invoke(main, ["compute", "--lake", str(lake), "--thresholds", str(bad)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {bad}") and "not monotone" in result.output


def test_compute_with_industry_thresholds_changes_bands(tmp_path):
    lake = lake_with_kpis(tmp_path)
    strict = tmp_path / "t.toml"
    strict.write_text('[frt_seconds]\nbetter = "lower"\nAAAAA = 5\nAAAA = 7\nAAA = 9\n')
    assert CliRunner().invoke(main, ["compute", "--lake", str(lake), "--thresholds", str(strict)]).exit_code == 0
    rows = json.loads(CliRunner().invoke(main, ["export", "--lake", str(lake), "--period", "day",
                                                "--level", "shop", "--format", "json"]).output)
    bands = {r["kpi"]: r["band"] for r in rows}
    assert bands["frt_seconds"] == "AAA" and bands["reply_rate"] == "unrated"


def test_bad_config_is_an_error(tmp_path):
    cfg = tmp_path / "cskpi.toml"
    cfg.write_text('session_gap = "soon"\n')
    result = CliRunner().invoke(main, ["run", str(tmp_path), "--lake", str(tmp_path / "lake"), "--config", str(cfg)])
    assert result.exit_code == 1 and "session_gap" in result.output


@pytest.mark.parametrize("line, says", [
    ('skip_unknown = "no"', "skip_unknown must be true or false, not 'no'"),  # a string would have been true
    ("timezone = 8", "timezone must be a string, not 8"),
    ("thresholds = 5", "thresholds must be a string"),
    ("mapping = true", "mapping must be a string"),
    ("encoding = 936", "encoding must be a string"),
    ("profile = 1", "profile must be a string"),
    ('duckdb_memory_limit = 512', "duckdb_memory_limit must be a string"),
    ('duckdb_threads = "2"', "duckdb_threads must be a whole number, not '2'"),
    ("duckdb_threads = true", "duckdb_threads must be a whole number"),
    ("duckdb_threads = 0", "duckdb_threads must be at least 1, not 0"),
])
def test_a_config_value_of_the_wrong_type_is_named(tmp_path, line, says):
    cfg = tmp_path / "cskpi.toml"
    cfg.write_text(line + "\n")
    result = CliRunner().invoke(main, ["run", str(tmp_path), "--lake", str(tmp_path / "lake"), "--config", str(cfg)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {cfg}: {says}"), result.output


def test_every_config_key_has_a_reading():
    from dataclasses import fields

    from pipeline.config import _PLAIN, Config
    special = {"session_gap", "late_reply_window", "complaint_feedback_window", "unanswered_turn_cap", "service_hours",
               "max_reject_ratio", "extra"}
    assert {f.name for f in fields(Config)} == special | set(_PLAIN)
