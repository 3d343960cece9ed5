"""Landing normalises in two passes (values first, then reasons for the rows that may be refused): the staged rows
must be exactly what one full normalise gives, whatever mix of good, odd and bad values a file holds."""
from __future__ import annotations

import polars as pl
import pytest

from pipeline.kinds import KINDS
from pipeline.land.ingest import _stage
from pipeline.normalise import REJECT_COLUMNS, normalise
from pipeline.read import open_table, resolve_headers
from tests.conftest import write_csv

ODD = {  # per column type: text that parses, text that is refused, and text that is cut to nothing
    "identifier": ["x1", "  x2\t", '="0012"', "   ", '=""', None],
    "timestamp": ["2026-11-27 10:00:00", "2026/11/27 10:00:00", "2026-11-27T02:00:00Z", "2026-11-27 10:00",
                  "27.11.2026", "  2026-11-27 10:00:00 ", "2026-02-30 10:00:00", None],
    "role": ["customer", " 客服 ", "robot", None],
    "level": ["5", "满意", "7", "4.5", None],
    "stars": ["5星", "3 stars", "0", None],
    "decimal": ["99.50", "¥1,200", "-3", "abc", None],
    "category": ["product", "物流", None],
    "period": ["2026-11", "2026-W48", "2026-Q4", "2026", "2026-13", "2026-W60", None],
    "content": ["你好", "", None],
}


def _cells(column, i: int) -> str | None:
    options = ODD.get(column.type, ODD["content" if column.name == "content" else "identifier"])
    return options[(i * 7 + len(column.name)) % len(options)]


@pytest.mark.parametrize("kind_name", sorted(KINDS))
@pytest.mark.parametrize("dirty", [0, 1, 5, 40])
def test_two_passes_equal_one_full_normalise(tmp_path, kind_name, dirty):
    kind = KINDS[kind_name]
    good = {"identifier": "id", "timestamp": "2026-11-27 10:00:00", "role": "agent", "level": "4", "stars": "4",
            "decimal": "10", "category": "service", "period": "2026-11", "content": "hi"}
    rows = []
    for i in range(60):
        if i < dirty:
            rows.append([_cells(c, i) for c in kind.columns])
        else:
            rows.append([f"{good['identifier']}{i}" if c.type not in good else good[c.type] for c in kind.columns])
    rows.append([_cells(c, 0) for c in kind.columns] + ["surplus"]) if dirty else None
    path = write_csv(tmp_path / f"{kind_name}.csv", list(kind.names), rows)
    raw = open_table(path, workdir=tmp_path / "read")
    rename = resolve_headers(raw.headers, kind, {}, path=path).rename
    (tmp_path / "work").mkdir()
    staged = _stage(raw.frame, kind, rename, "Asia/Shanghai", tmp_path / "work", seq=7)
    rows = pl.read_parquet(staged.path)
    full = normalise(raw.frame, kind, rename, "Asia/Shanghai").collect()
    # A file with no row in doubt is staged as a lake part: no reject columns (all would be null), its key and seq.
    assert not staged.is_part or full["_reject_reason"].is_null().all()
    if dirty == 0 and kind_name in ("messages", "orders", "targets"):
        assert staged.is_part
    if staged.is_part:
        assert rows["_seq"].to_list() == [7] * len(rows)
        assert staged.keyed and rows["_key"].null_count() == 0
        rows = rows.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in REJECT_COLUMNS)
    assert rows.select(full.columns).sort("_line").equals(full.sort("_line"))
