"""The KPI export of the checked-in sample data against its golden file (a regression guard for every sql/ file).

Regenerate after an intended change with:
    cskpi run sample_data --lake /tmp/lake && cskpi export --lake /tmp/lake --period month --level all --format csv \
        -o tests/golden/sample_data_month.csv
and review the diff: every changed row must be explained by the change.
"""
import csv
import math
from pathlib import Path

from pipeline import jobs
from pipeline.config import Config
from pipeline.land.lake import Lake

ROOT = Path(__file__).resolve().parents[1]


def test_sample_data_month_export_matches_golden(tmp_path):
    lake = Lake(tmp_path / "lake")
    result = jobs.run(ROOT / "sample_data", lake, Config())
    assert not result.refused and result.computed
    jobs.export(lake, "month", "all", "csv", tmp_path / "kpi.csv")
    got = list(csv.DictReader(open(tmp_path / "kpi.csv", encoding="utf-8")))
    want = list(csv.DictReader(open(ROOT / "tests/golden/sample_data_month.csv", encoding="utf-8")))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        for column in w:
            if column in ("value", "numerator", "denominator") and w[column]:
                assert math.isclose(float(g[column]), float(w[column]), rel_tol=1e-9), (column, g, w)
            else:
                assert g[column] == w[column], (column, g, w)
