"""`cskpi check-thresholds`: validates a thresholds file and says, per KPI, what each band needs."""
from click.testing import CliRunner

from pipeline.cli import main


def test_packaged_thresholds_are_described_per_kpi():
    from importlib import resources
    path = resources.files("pipeline.band").joinpath("thresholds.toml")
    result = CliRunner().invoke(main, ["check-thresholds", str(path)])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(None, 1) for line in result.output.splitlines())
    assert lines["complaint_rate"] == "AAAAA < 0.03, AAAA <= 0.05, AAA <= 0.1"
    assert lines["frt_seconds"] == "AAAAA <= 10, AAAA <= 20, AAA <= 30"
    assert lines["feedback_handling_rate"] == "pass >= 100"
    assert lines["bad_review_rate"] == "unrated (no levels, no limit)"


def test_a_limit_file_takes_the_stricter_limit(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[refund_duration_hours]\nbetter = "lower"\nplatform_limit = 48\nindustry_limit = 36\n'
                    '[bot_accuracy]\nbetter = "higher"\nlimit = 90\nplatform_limit = 95\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["check-thresholds", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["refund_duration_hours          pass <= 36",
                                          "bot_accuracy                   pass >= 95"]


def test_an_unknown_kpi_code_is_a_one_line_error(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[frt_median]\nbetter = "lower"\nlimit = 5\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["check-thresholds", str(path)])
    assert result.exit_code != 0
    assert result.output.startswith("Error: ") and "unknown KPI code [frt_median]" in result.output
    assert len(result.output.strip().splitlines()) == 1
