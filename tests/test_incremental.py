"""Nightly runs that add files must give exactly what one run over all the files gives (issue 4)."""
import math
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pipeline import compute, jobs, sqlfiles
from pipeline.config import Config
from pipeline.land.lake import Lake
from pipeline.publish.generation import read_sql
from pipeline.schemas.derived import Sessions
from pipeline.sample import generate
from pipeline.service_hours import ServiceHours
from tests.conftest import MESSAGE_HEADER, msg, write_csv

TIME_COLUMNS = {"messages": "sent_at", "orders": "created_at", "ratings": "rated_at", "complaints": "created_at",
                "reviews": "created_at", "refunds": "requested_at", "disputes": "opened_at",
                "feedback": "received_at", "bot_answers": "answered_at"}
# Issue 5's options change what is derived: a calendar (service clock), an unanswered-turn cap, a shorter window.
ISSUE5 = Config(
    service_hours=ServiceHours.parse({"mon": ["08:00-12:00", "13:00-18:00"], "tue": ["08:00-18:00"],
                                      "wed": ["08:00-18:00"], "thu": ["08:00-18:00"], "fri": ["08:00-18:00"],
                                      "sat": ["10:00-16:00"], "holidays": ["2026-11-02"]}),
    unanswered_turn_cap=timedelta(minutes=10), complaint_feedback_window=timedelta(hours=12))


SESSION_COLUMNS = list(Sessions.to_schema().columns)


def tables(lake: Lake) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(lake.warehouse), read_only=True)
    try:
        out = {}
        for table, key in [("sessions", "shop_id, session_id"), ("turns", "shop_id, session_id, turn_no"),
                           ("conversions", "order_id"),
                           ("kpi", "grain, period, shop_id, agent_id NULLS FIRST, kpi, clock")]:
            out[table] = con.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
    finally:
        con.close()
    # The sums a later increment reads back, besides the published tables: they must not drift either.
    manifest = lake.manifest()
    con = duckdb.connect()
    try:
        for table in ("kpi_facts", "kpi_month_facts", "kpi_histograms", "kpi_month_histograms", "kpi_distributions"):
            out[table] = con.execute(f"SELECT * FROM ({read_sql(lake, manifest, table)}) ORDER BY ALL").fetchall()
    finally:
        con.close()
    return out


def same(a: dict, b: dict) -> None:
    for table in a:
        assert len(a[table]) == len(b[table]), table
        for x, y in zip(a[table], b[table]):
            for u, v in zip(x, y):
                if isinstance(u, float) and isinstance(v, float):
                    assert math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9), (table, x, y)
                else:
                    assert u == v, (table, x, y)


def split_by_night(source: Path, nights: list[str], out: Path) -> list[Path]:
    """Each CSV of `source` cut by its time column into one inbox per night (the last takes the rest). A night
    starts at a date (`2026-11-02`) or a time (`2026-11-02 13:00:00`): the columns hold `YYYY-MM-DD HH:MM:SS`."""
    inboxes = [out / f"night{i + 1}" for i in range(len(nights))]
    for f in sorted(source.glob("*.csv")):
        kind = jobs.kind_of(f, source)
        frame = pl.read_csv(f, infer_schema=False)
        column = TIME_COLUMNS.get(kind)
        for i, inbox in enumerate(inboxes):
            if column is None:  # targets arrive with the first night
                part = frame if i == 0 else frame.clear()
            else:
                day = frame[column]
                upper = nights[i + 1] if i + 1 < len(nights) else "9999-12-31"
                lower = nights[i] if i else "0000-01-01"
                part = frame.filter((day >= lower) & (day < upper))
            if part.height:
                inbox.mkdir(parents=True, exist_ok=True)
                part.write_csv(inbox / f.name)
    return inboxes


def night_of(inbox: Path, n: int, customer: str, asked: str, answered: str, complaint: tuple) -> None:
    """Night `n`'s files: a customer's message and an agent's reply to it (ids 2n-1 and 2n), and a complaint row."""
    write_csv(inbox / f"messages_{n}.csv", MESSAGE_HEADER, [
        msg(str(2 * n - 1), customer, "customer", asked), msg(str(2 * n), customer, "agent", answered, agent="a1")])
    write_csv(inbox / f"complaints_{n}.csv", COMPLAINTS_HEADER, [complaint])


def nightly_and_full(tmp_path: Path, inboxes: list[Path], config: Config,
                     max_days: int | None = 3) -> tuple[Lake, Lake]:
    nightly = Lake(tmp_path / "nightly")
    kinds_before: set[str] = set()
    for i, inbox in enumerate(inboxes):
        result = jobs.run(inbox, nightly, config)
        assert not result.refused
        if i and set(nightly.manifest().kinds()) == kinds_before:
            # the same kinds as before: this night was an increment over the days it changed, not everything
            recomputed = nightly.manifest().derived["recomputed_days"]
            assert recomputed != "all" and (max_days is None or len(recomputed) <= max_days), recomputed
        kinds_before = set(nightly.manifest().kinds())
    everything = tmp_path / "all"
    for inbox in inboxes:
        for f in inbox.iterdir():
            target = everything / f"{inbox.name}_{f.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.read_bytes())
    # One file per kind and night, named so that the kind is still the first word.
    for f in list(everything.iterdir()):
        night, rest = f.name.split("_", 1)
        f.rename(everything / f"{rest.split('.')[0]}_{night}.csv")
    full = Lake(tmp_path / "full")
    jobs.run(everything, full, config)
    return nightly, full


@pytest.mark.parametrize("config", [Config(), ISSUE5], ids=["defaults", "service-hours-cap-window"])
def test_three_nights_equal_one_full_run_on_generated_exports(tmp_path, config):
    source = tmp_path / "gen"
    generate(source, messages=6000, shops=3, days=4, showcase=False)
    inboxes = split_by_night(source, ["2026-11-01", "2026-11-02", "2026-11-03"], tmp_path / "inbox")
    nightly, full = nightly_and_full(tmp_path, inboxes, config)
    a, b = tables(nightly), tables(full)
    assert len(a["sessions"]) > 100 and len(a["conversions"]) > 10
    kpis = {(r[5], r[-1]) for r in a["kpi"]}  # (kpi, clock)
    assert ("frt_p90_seconds", "wall") in kpis and ("dispute_count", "wall") in kpis
    assert (("frt_seconds", "service") in kpis) == (config.service_hours is not None)
    same(a, b)


def test_a_session_crossing_two_nights_and_an_order_paid_the_night_after(tmp_path):
    nights = [tmp_path / "n1", tmp_path / "n2", tmp_path / "n3"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c", "customer", "2026-11-27 23:50:00"),
        msg("2", "d", "customer", "2026-11-27 10:00:00"), msg("3", "d", "agent", "2026-11-27 10:00:09", agent="a1")])
    write_csv(nights[1] / "messages_2.csv", MESSAGE_HEADER, [
        msg("4", "c", "agent", "2026-11-28 00:05:00", agent="a2"),      # answers the session opened last night
        msg("5", "c", "customer", "2026-11-28 00:20:00"),
        msg("6", "e", "customer", "2026-11-28 09:00:00")])
    orders_header = ["order_id", "shop_id", "customer_id", "created_at", "paid_at", "amount"]
    write_csv(nights[1] / "orders_2.csv", orders_header, [("o1", "S1", "d", "2026-11-27 10:05:00", "", "10")])
    write_csv(nights[2] / "orders_3.csv", orders_header, [
        ("o1", "S1", "d", "2026-11-27 10:05:00", "2026-11-28 21:00:00", "10"),   # paid the night after its inquiry
        ("o2", "S1", "c", "2026-11-28 00:30:00", "2026-11-28 23:59:59", "20")])
    write_csv(nights[2] / "messages_3.csv", MESSAGE_HEADER, [msg("7", "e", "agent", "2026-11-29 08:30:00", agent="a1")])
    nightly, full = nightly_and_full(tmp_path, nights, Config())
    a, b = tables(nightly), tables(full)
    same(a, b)
    frt = {s[1]: s[SESSION_COLUMNS.index("frt_seconds")] for s in a["sessions"]}
    # c's session crossed two nights; e's customer waited 23.5 h and the late reply came with the third night.
    assert frt == {"c#1": 900.0, "d#1": 9.0, "e#1": 84600.0}
    assert [(c[0], c[5]) for c in a["conversions"]] == [("o1", "d#1"), ("o2", "c#1")]


def test_nights_at_the_first_and_last_times_a_lake_takes_equal_one_full_run(tmp_path):
    # README "Values": local times of 1900-2999. A night's increment reads the day before and after the times it
    # touches; at year 1 that day was no date Python holds, and the night failed.
    nights = [tmp_path / "n1", tmp_path / "n2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c", "customer", "1900-01-01 00:00:00"), msg("2", "c", "agent", "1900-01-01 00:00:07", agent="a1"),
        msg("3", "d", "customer", "2999-12-31 23:59:00")])
    orders_header = ["order_id", "shop_id", "customer_id", "created_at", "paid_at", "amount"]
    write_csv(nights[1] / "orders_2.csv", orders_header, [
        ("o1", "S1", "c", "1900-01-01 00:00:01", "1900-01-02 23:59:59", "10"),
        ("o2", "S1", "d", "2999-12-31 23:59:30", "2999-12-31 23:59:59", "20")])
    write_csv(nights[1] / "messages_2.csv", MESSAGE_HEADER, [
        msg("4", "d", "agent", "2999-12-31 23:59:59", agent="a1"), msg("5", "c", "customer", "1900-01-01 00:00:08")])
    nightly, full = nightly_and_full(tmp_path, nights, Config())
    a = tables(nightly)
    same(a, tables(full))
    assert sorted((c[0], c[5]) for c in a["conversions"]) == [("o1", "c#1"), ("o2", "d#1")]


def test_a_config_change_recomputes_everything(tmp_path):
    from datetime import timedelta

    inbox = tmp_path / "in"
    write_csv(inbox / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c", "customer", "2026-11-27 10:00:00"), msg("2", "c", "customer", "2026-11-27 10:20:00")])
    lake = Lake(tmp_path / "lake")
    jobs.run(inbox, lake, Config())
    assert len(tables(lake)["sessions"]) == 1
    result = jobs.run(inbox, lake, Config(session_gap=timedelta(minutes=10)))
    assert result.computed and len(tables(lake)["sessions"]) == 2


def test_other_sql_definitions_recompute_everything(tmp_path, monkeypatch):
    """A lake computed by another version's sql/ is not extended day by day with this version's definitions."""
    from pipeline import sqlfiles

    nights = [tmp_path / "n1", tmp_path / "n2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [msg("1", "c", "customer", "2026-11-27 10:00:00")])
    write_csv(nights[1] / "messages_2.csv", MESSAGE_HEADER, [msg("2", "d", "customer", "2026-11-28 10:00:00")])
    lake = Lake(tmp_path / "lake")
    jobs.run(nights[0], lake, Config())
    monkeypatch.setattr(sqlfiles, "digest", lambda: "another version")
    result = jobs.run(nights[1], lake, Config())
    assert result.computed and lake.manifest().derived["recomputed_days"] == "all"
    assert jobs.run(nights[1], lake, Config()).computed is False  # the same definitions again: up to date


ORDERS_HEADER = ["order_id", "shop_id", "customer_id", "created_at", "paid_at", "amount"]
COMPLAINTS_HEADER = ["complaint_id", "shop_id", "created_at", "category", "responded_at", "resolved_at"]


def kpi_row(rows: list[tuple], period: str, kpi: str) -> tuple:
    return next(r for r in rows if r[1] == period and r[4] is None and r[5] == kpi and r[-1] == "wall")


def test_a_provisional_period_no_new_day_touches_becomes_final(tmp_path):
    """Nothing new falls on 11-27, yet its conversion rate stops being provisional once the lake has seen the end of
    the next day: an increment computes again every period that had a provisional row."""
    nights = [tmp_path / "n1", tmp_path / "n2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c", "customer", "2026-11-27 10:00:00"), msg("2", "c", "agent", "2026-11-27 10:00:30", agent="a1")])
    write_csv(nights[0] / "orders_1.csv", ORDERS_HEADER, [("o1", "S1", "c", "2026-11-27 10:05:00",
                                                           "2026-11-27 10:06:00", "10")])
    write_csv(nights[1] / "messages_2.csv", MESSAGE_HEADER, [msg("3", "e", "customer", "2026-11-30 09:00:00")])
    nightly, full = nightly_and_full(tmp_path, nights, Config())
    recomputed = nightly.manifest().derived["recomputed_periods"]
    assert "day_2026-11-30" in recomputed and "day_2026-11-27" in recomputed, recomputed
    a, b = tables(nightly), tables(full)
    same(a, b)
    assert kpi_row(a["kpi"], "2026-11-27", "inquiry_conversion_rate")[-2] is False  # provisional


def test_a_night_that_changes_no_day_still_rolls_up_its_provisional_months_from_their_sums(tmp_path):
    """The second night brings only an unpaid order, created on the 29th: no day's facts change, but the latest time
    seen closes the conversion window of the 27th, and every period with a provisional row is computed again, the
    month and longer from the month sums as stored."""
    nights = [tmp_path / "n1", tmp_path / "n2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c", "customer", "2026-11-27 10:00:00"), msg("2", "c", "agent", "2026-11-27 10:00:30", agent="a1")])
    write_csv(nights[0] / "orders_1.csv", ORDERS_HEADER, [("o1", "S1", "c", "2026-11-27 10:05:00",
                                                           "2026-11-27 10:06:00", "10")])
    write_csv(nights[1] / "orders_2.csv", ORDERS_HEADER, [("o2", "S1", "d", "2026-11-29 10:00:00", "", "20")])
    nightly, full = nightly_and_full(tmp_path, nights, Config(), max_days=None)
    derived = nightly.manifest().derived
    assert derived["recomputed_days"] == [] and "month_2026-11" in derived["recomputed_periods"], derived
    a = tables(nightly)
    same(a, tables(full))
    rate = {k[:2]: k[6:9] + (k[10],) for k in a["kpi"] if k[4] is None and k[5] == "inquiry_conversion_rate"}
    assert rate[("day", "2026-11-27")] == (100.0, 1.0, 1.0, False)  # its window closed
    assert rate[("month", "2026-11")] == rate[("year", "2026")] == (100.0, 1.0, 1.0, True)  # open until 12-02


def test_an_increment_keeps_the_files_of_periods_it_does_not_change(tmp_path):
    nights = [tmp_path / "n1", tmp_path / "n2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c", "customer", "2026-10-27 10:00:00"), msg("2", "c", "agent", "2026-10-27 10:00:30", agent="a1"),
        msg("3", "d", "customer", "2026-11-27 10:00:00")])
    write_csv(nights[1] / "messages_2.csv", MESSAGE_HEADER, [msg("4", "d", "agent", "2026-11-27 10:00:10", agent="a1")])
    nightly, full = nightly_and_full(tmp_path, nights, Config())
    derived = nightly.manifest().derived
    assert derived["recomputed_periods"] == ["day_2026-11-27", "month_2026-11", "quarter_2026-Q4", "week_2026-W48",
                                             "year_2026"]
    for table in ("kpi", "kpi_distributions"):
        kept = derived["tables"][table]
        assert kept["month_2026-10"].startswith("derived/g000001/"), table
        assert kept["month_2026-11"].startswith("derived/g000002/"), table
    same(tables(nightly), tables(full))


def test_a_lake_whose_percentiles_are_one_file_is_computed_again_whole(tmp_path):
    """A generation written before the percentiles were stored per period has them in one file: the next night
    computes every period again, and writes them per period."""
    nights = [tmp_path / "n1", tmp_path / "n2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c", "customer", "2026-11-26 10:00:00"), msg("2", "c", "agent", "2026-11-26 10:00:30", agent="a1")])
    write_csv(nights[1] / "messages_2.csv", MESSAGE_HEADER, [
        msg("3", "d", "customer", "2026-11-27 10:00:00"), msg("4", "d", "agent", "2026-11-27 10:00:10", agent="a1")])
    lake = Lake(tmp_path / "nightly")
    jobs.run(nights[0], lake, Config())
    manifest = lake.manifest()
    one = "derived/g000001/kpi_distributions.parquet"
    duckdb.connect().execute(f"COPY ({read_sql(lake, manifest, 'kpi_distributions')}) TO '{lake.path(one)}'")
    manifest.derived["tables"]["kpi_distributions"] = one
    lake.commit(manifest)
    jobs.run(nights[1], lake, Config())
    derived = lake.manifest().derived
    assert derived["recomputed_days"] == "all" and derived["recomputed_periods"] == "all"
    assert set(derived["tables"]["kpi_distributions"]) == {"", "day_2026-11-26", "day_2026-11-27", "week_2026-W48",
                                                           "month_2026-11", "quarter_2026-Q4", "year_2026"}
    fresh = Lake(tmp_path / "fresh")
    for inbox in nights:
        jobs.run(inbox, fresh, Config())
    same(tables(lake), tables(fresh))


def test_targets_arriving_later_recompute_everything(tmp_path):
    nights = [tmp_path / "n1", tmp_path / "n2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [msg("1", "c", "customer", "2026-11-27 10:00:00")])
    write_csv(nights[0] / "orders_1.csv", ORDERS_HEADER, [("o1", "S1", "c", "2026-11-27 10:05:00",
                                                           "2026-11-27 10:06:00", "10")])
    write_csv(nights[0] / "targets_1.csv", ["shop_id", "period", "target_sales"], [("S1", "2026-Q4", "100")])
    write_csv(nights[1] / "targets_2.csv", ["shop_id", "period", "target_sales"], [("S1", "2026-Q4", "50"),
                                                                                    ("S1", "2026-12", "10")])
    nightly = Lake(tmp_path / "nightly")
    for night in nights:
        jobs.run(night, nightly, Config())
    assert nightly.manifest().derived["recomputed_days"] == "all"
    full = Lake(tmp_path / "full")
    everything = tmp_path / "all"
    write_csv(everything / "messages_1.csv", MESSAGE_HEADER, [msg("1", "c", "customer", "2026-11-27 10:00:00")])
    (everything / "orders_1.csv").write_bytes((nights[0] / "orders_1.csv").read_bytes())
    write_csv(everything / "targets_1.csv", ["shop_id", "period", "target_sales"], [("S1", "2026-Q4", "50"),
                                                                                     ("S1", "2026-12", "10")])
    jobs.run(everything, full, Config())
    a, b = tables(nightly), tables(full)
    same(a, b)
    assert kpi_row(a["kpi"], "2026-Q4", "target_achievement_rate")[6] == 20.0
    assert kpi_row(a["kpi"], "2026-12", "target_achievement_rate")[6] == 0.0


def test_when_the_latest_time_seen_goes_back_every_period_is_computed_again(tmp_path, monkeypatch):
    """A re-sent complaint moves the latest time seen earlier: rows that were final may be provisional again."""
    nights = [tmp_path / "n1", tmp_path / "n2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c", "customer", "2026-11-27 10:00:00"), msg("2", "c", "agent", "2026-11-27 10:00:30", agent="a1")])
    write_csv(nights[0] / "orders_1.csv", ORDERS_HEADER, [("o1", "S1", "c", "2026-11-27 10:05:00",
                                                           "2026-11-27 10:06:00", "10")])
    write_csv(nights[0] / "complaints_1.csv", COMPLAINTS_HEADER, [
        ("k1", "S1", "2026-11-27 11:00:00", "service", "2026-11-27 11:30:00", "2026-12-05 09:00:00")])
    write_csv(nights[1] / "complaints_2.csv", COMPLAINTS_HEADER, [
        ("k1", "S1", "2026-11-27 11:00:00", "service", "2026-11-27 11:30:00", "2026-11-27 12:00:00")])
    every_part = []
    monkeypatch.setattr(compute, "_seen_of_every_part",
                        lambda con: (every_part.append(1), sqlfiles.build(con, "seen")))
    nightly, full = nightly_and_full(tmp_path, nights, Config())
    assert every_part == [1]  # the second night: its re-sent complaint's earlier version held the latest time
    assert nightly.manifest().derived["recomputed_periods"] == "all"
    a, b = tables(nightly), tables(full)
    same(a, b)
    assert kpi_row(a["kpi"], "2026-11-27", "inquiry_conversion_rate")[-2] is True


@pytest.mark.parametrize("day, seen", [("2026-11-27", "2026-11-27 09:00:40"), ("2026-11-26", "2026-11-26 14:00:30")])
def test_a_nights_latest_time_seen_is_read_from_its_own_rows(tmp_path, monkeypatch, day, seen):
    """The latest time seen after a night is the latest before or the night's own: the parts before are not read
    again, when the night's rows are later, and when they are earlier but the complaint it re-sends was earlier
    than that latest time too."""
    nights = [tmp_path / "n1", tmp_path / "n2"]
    night_of(nights[0], 1, "c", "2026-11-26 14:00:00", "2026-11-26 14:00:30",
             ("k1", "S1", "2026-11-26 11:00:00", "service", "2026-11-26 11:30:00", "2026-11-26 12:00:00"))
    night_of(nights[1], 2, "d", f"{day} 09:00:00", f"{day} 09:00:40",
             ("k1", "S1", "2026-11-26 11:00:00", "service", "2026-11-26 11:30:00", "2026-11-26 13:00:00"))
    every_part = []
    monkeypatch.setattr(compute, "_seen_of_every_part",
                        lambda con: (every_part.append(1), sqlfiles.build(con, "seen")))
    nightly, full = nightly_and_full(tmp_path, nights, Config())
    assert every_part == []
    assert nightly.manifest().derived["seen_until"] == seen
    same(tables(nightly), tables(full))


def test_a_day_left_without_facts_loses_its_rows(tmp_path):
    """A re-sent order moves its payment from 11-20 to 11-27: 11-20 then holds nothing, and its complaint-rate rows
    (and its week's) must go, although no date of the lake falls on it any more. The re-sent order also names
    another customer: both conversations are derived again."""
    nights = [tmp_path / "n1", tmp_path / "n2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c", "customer", "2026-11-27 09:00:00"), msg("2", "c", "agent", "2026-11-27 09:00:30", agent="a1"),
        msg("3", "d", "customer", "2026-11-27 10:00:00"), msg("4", "d", "agent", "2026-11-27 10:00:30", agent="a1")])
    write_csv(nights[0] / "orders_1.csv", ORDERS_HEADER, [
        ("o1", "S1", "c", "2026-11-20 09:05:00", "2026-11-20 09:06:00", "10"),
        ("o2", "S1", "c", "2026-11-27 09:05:00", "2026-11-27 09:06:00", "10")])
    write_csv(nights[0] / "complaints_1.csv", COMPLAINTS_HEADER, [
        ("k1", "S1", "2026-11-27 11:00:00", "service", "2026-11-27 11:30:00", "2026-11-27 12:00:00")])
    write_csv(nights[1] / "orders_2.csv", ORDERS_HEADER, [("o1", "S1", "d", "2026-11-27 10:05:00",
                                                           "2026-11-27 10:06:00", "10")])
    write_csv(nights[1] / "messages_2.csv", MESSAGE_HEADER, [msg("5", "e", "customer", "2026-11-27 11:00:00")])
    nightly = Lake(tmp_path / "nightly")
    jobs.run(nights[0], nightly, Config())
    assert any(r[1] == "2026-11-20" for r in tables(nightly)["kpi"])
    nightly, full = nightly_and_full(tmp_path, nights, Config())
    a, b = tables(nightly), tables(full)
    same(a, b)
    assert not any(r[1] in ("2026-11-20", "2026-W47") for r in a["kpi"])
    assert [(c[0], c[2]) for c in a["conversions"]] == [("o1", "d"), ("o2", "c")]


def test_an_increment_recomputes_quarter_and_year_percentiles_from_every_month(tmp_path):
    """A December night changes the quarter and the year: their percentiles must still count October and November,
    whose days are in the increment's calendar through the quarter and year only."""
    from tests.test_distributions import answered

    nights = [tmp_path / "n1", tmp_path / "n2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        *answered("c1", "2026-10-15 10:00:00", 100, "a1"), *answered("c2", "2026-11-30 10:00:00", 5, "a1"),
        *answered("c3", "2026-11-30 11:00:00", 9, "a2")])
    write_csv(nights[1] / "messages_2.csv", MESSAGE_HEADER, [
        *answered("c4", "2026-12-01 10:00:00", 20, "a1"), *answered("c5", "2026-12-02 10:00:00", 7, "a2")])
    nightly, full = nightly_and_full(tmp_path, nights, Config())
    recomputed = nightly.manifest().derived["recomputed_periods"]
    assert "quarter_2026-Q4" in recomputed and "month_2026-10" not in recomputed, recomputed
    a, b = tables(nightly), tables(full)
    same(a, b)
    # Q4 [5, 7, 9, 20, 100]: median 9; p90 h = 3.6: 20 + 0.6·80 = 68.
    assert kpi_row(a["kpi"], "2026-Q4", "frt_median_seconds")[6] == 9.0
    assert kpi_row(a["kpi"], "2026-Q4", "frt_p90_seconds")[6] == pytest.approx(68.0)


def test_an_increment_keeps_the_percentiles_of_shops_no_changed_day_touches(tmp_path):
    """Night 2 brings S2's messages only: S1's month percentiles are kept, S2's computed again, as a full run has
    them."""
    from tests.test_distributions import answered

    nights = [tmp_path / "n1", tmp_path / "n2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        *answered("c1", "2026-11-02 10:00:00", 4, "a1", shop="S1"),
        *answered("c2", "2026-11-03 10:00:00", 30, "a1", shop="S1"),
        *answered("c3", "2026-11-03 10:00:00", 8, "b1", shop="S2")])
    write_csv(nights[1] / "messages_2.csv", MESSAGE_HEADER, [
        *answered("c4", "2026-11-03 11:00:00", 20, "b2", shop="S2"),
        *answered("c5", "2026-11-04 10:00:00", 2, "b1", shop="S2")])
    nightly, full = nightly_and_full(tmp_path, nights, Config())
    a, b = tables(nightly), tables(full)
    same(a, b)
    month = {(r[3], r[5]): r[6] for r in a["kpi"] if r[1] == "2026-11" and r[4] is None and r[-1] == "wall"}
    # S1 [4, 30]: median 17, p90 4 + 0.9·26 = 27.4.   S2 [2, 8, 20]: median 8, p90 h = 1.8: 8 + 0.8·12 = 17.6.
    assert month[("S1", "frt_median_seconds")] == pytest.approx(17.0)
    assert month[("S1", "frt_p90_seconds")] == pytest.approx(27.4)
    assert month[("S2", "frt_median_seconds")] == pytest.approx(8.0)
    assert month[("S2", "frt_p90_seconds")] == pytest.approx(17.6)


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(1, 10_000), hours=st.lists(st.integers(1, 4 * 24 - 1), min_size=1, max_size=3, unique=True),
       issue5=st.booleans())
def test_nights_cut_at_any_hour_equal_one_full_run(tmp_path_factory, seed, hours, issue5):
    """Random exports cut into 2-4 nights at random hours (sessions, turns and next-day payments cross the cuts)."""
    tmp_path = tmp_path_factory.mktemp("nights")
    source = tmp_path / "gen"
    generate(source, messages=1500, shops=2, days=4, seed=seed, showcase=False)
    starts = [f"2026-11-{1 + h // 24:02d} {h % 24:02d}:00:00" for h in sorted(hours)]
    inboxes = [night for night in split_by_night(source, ["2026-11-01", *starts], tmp_path / "inbox") if night.exists()]
    nightly, full = nightly_and_full(tmp_path, inboxes, ISSUE5 if issue5 else Config(), max_days=None)
    a, b = tables(nightly), tables(full)
    assert len(a["sessions"]) > 20
    same(a, b)


# An increment derives a conversation cut into sessions from its last session on, seeded with what came before
# (README "Nightly increments"). Each case below is computed by hand, checked against one full run, and the
# messages the increment derived again are counted.

def derived_again(monkeypatch) -> list[int]:
    """Records, for every derivation an increment runs, how many messages it derives (the delta's messages)."""
    from pipeline import sqlfiles
    counts, build = [], sqlfiles.build

    def counting(con, name, *args, **kwargs):
        if name == "message_sessions" and con.execute("SELECT current_schema()").fetchone()[0] == "delta":
            counts.append(con.execute("SELECT count(*) FROM messages WHERE sender_role <> 'system'").fetchone()[0])
        return build(con, name, *args, **kwargs)

    monkeypatch.setattr(sqlfiles, "build", counting)
    return counts


def nights_and_derived_again(tmp_path: Path, monkeypatch, inboxes: list[Path]) -> tuple[dict, list[int]]:
    """The nightly lake's tables, checked equal to one full run's, and how many messages each increment derived."""
    counts = derived_again(monkeypatch)
    nightly, full = nightly_and_full(tmp_path, inboxes, Config())
    a = tables(nightly)
    same(a, tables(full))
    return a, counts


def two_nights(tmp_path: Path, first: list[tuple], second: list[tuple], orders: list[tuple] = ()) -> list[Path]:
    inboxes = [tmp_path / "night1", tmp_path / "night2"]
    write_csv(inboxes[0] / "messages_1.csv", MESSAGE_HEADER, first)
    write_csv(inboxes[1] / "messages_2.csv", MESSAGE_HEADER, second)
    if orders:  # the first night's
        header = ["order_id", "shop_id", "customer_id", "created_at", "paid_at", "amount"]
        write_csv(inboxes[0] / "orders_1.csv", header, list(orders))
    return inboxes


def session_rows(tables_: dict) -> dict[str, tuple]:
    at = SESSION_COLUMNS.index
    return {s[at("session_id")]: (s[at("customer_id")], s[at("messages")], s[at("is_inquiry")], s[at("session_no")])
            for s in tables_["sessions"]}


def test_a_late_reply_joins_the_last_session_through_a_customer_message_of_the_one_before(tmp_path, monkeypatch):
    # c#1: the customer at 10:00. c#2: a bot 40 min later (more than 30 min: a new session). The next night an agent
    # answers at 11:20: 40 min after the bot, but the customer's 10:00 message has no agent reply yet and is less
    # than 24 h old, so the reply joins the running session c#2. The increment derives c from c#2 on: the 10:00
    # message reaches it only through the seed.
    inboxes = two_nights(tmp_path, [msg("1", "c", "customer", "2026-11-27 10:00:00"),
                                    msg("2", "c", "bot", "2026-11-27 10:40:00")],
                         [msg("3", "c", "agent", "2026-11-27 11:20:00", agent="a1")])
    a, counts = nights_and_derived_again(tmp_path, monkeypatch, inboxes)
    assert session_rows(a) == {"c#1": ("c", 1, True, 1), "c#2": ("c", 2, False, 2)}
    assert counts == [2]  # the bot and the agent: c#1 is not derived again


def test_a_conversation_back_after_more_than_a_day_continues_its_session_numbers(tmp_path, monkeypatch):
    # c#1 and c#2 on the 27th; the customer is back 2 days later: more than both the session gap and the late-reply
    # window after the last message, so the new messages open c#3 and nothing before is derived again.
    inboxes = two_nights(tmp_path, [msg("1", "c", "customer", "2026-11-27 09:00:00"),
                                    msg("2", "c", "agent", "2026-11-27 09:01:00", agent="a1"),
                                    msg("3", "c", "customer", "2026-11-27 15:00:00")],
                         [msg("4", "c", "customer", "2026-11-29 10:00:00"),
                          msg("5", "c", "agent", "2026-11-29 10:02:00", agent="a2")])
    a, counts = nights_and_derived_again(tmp_path, monkeypatch, inboxes)
    assert session_rows(a) == {"c#1": ("c", 2, True, 1), "c#2": ("c", 1, True, 2), "c#3": ("c", 2, True, 3)}
    assert counts == [2]


def test_a_reply_within_the_late_window_rederives_the_last_session_only(tmp_path, monkeypatch):
    # c#2's customer (15:00) waits; the agent replies at 23:00 the same day, from the next night's file: 8 h later,
    # within 24 h, so it joins c#2. c#1 is not derived again.
    inboxes = two_nights(tmp_path, [msg("1", "c", "customer", "2026-11-27 09:00:00"),
                                    msg("2", "c", "agent", "2026-11-27 09:01:00", agent="a1"),
                                    msg("3", "c", "customer", "2026-11-27 15:00:00")],
                         [msg("4", "c", "agent", "2026-11-27 23:00:00", agent="a2")])
    a, counts = nights_and_derived_again(tmp_path, monkeypatch, inboxes)
    assert session_rows(a) == {"c#1": ("c", 2, True, 1), "c#2": ("c", 2, True, 2)}
    assert counts == [2]


@pytest.mark.parametrize("reply, sessions", [
    ("2026-11-28 15:00:00", {"c#1": ("c", 2, True, 1), "c#2": ("c", 2, True, 2)}),          # exactly 24 h: joins
    ("2026-11-28 15:00:01", {"c#1": ("c", 2, True, 1), "c#2": ("c", 1, True, 2), "c#3": ("c", 1, False, 3)}),
], ids=["24h", "24h-and-1s"])
def test_a_night_s_first_message_exactly_a_late_window_after_the_last_is_a_late_reply(tmp_path, monkeypatch, reply,
                                                                                    sessions):
    # c#2's customer (15:00) waits; the next night's first message is the agent's, exactly 24 h later (the larger of
    # the session gap and the late-reply window): a late reply joins c#2, so the night cannot start c afresh from
    # that message. A second later it opens c#3 (found by a mutation of the night's `apart` test, `>` to `>=`).
    inboxes = two_nights(tmp_path, [msg("1", "c", "customer", "2026-11-27 09:00:00"),
                                    msg("2", "c", "agent", "2026-11-27 09:01:00", agent="a1"),
                                    msg("3", "c", "customer", "2026-11-27 15:00:00")],
                         [msg("4", "c", "agent", reply, agent="a2")])
    a, _ = nights_and_derived_again(tmp_path, monkeypatch, inboxes)
    assert session_rows(a) == sessions


@pytest.mark.parametrize("late", ["2026-11-27 11:00:00", "2026-11-27 12:00:00"], ids=["earlier", "same-second"])
def test_a_message_earlier_than_the_last_session_derives_the_conversation_whole(tmp_path, monkeypatch, late):
    # A message arriving a night late, at 11:00, between c#1 (10:00-10:05) and c#2 (12:00): more than 30 min from
    # both, it is a session of its own and the old c#2 becomes c#3: the whole conversation is derived again. At
    # 12:00 exactly, the start of c#2, it joins c#2 (a customer message at the same second, ordered by message_id
    # after it): only c#2 is derived again.
    inboxes = two_nights(tmp_path, [msg("1", "c", "customer", "2026-11-27 10:00:00"),
                                    msg("2", "c", "agent", "2026-11-27 10:05:00", agent="a1"),
                                    msg("3", "c", "customer", "2026-11-27 12:00:00")],
                         [msg("4", "c", "customer", late)])
    a, counts = nights_and_derived_again(tmp_path, monkeypatch, inboxes)
    if late < "2026-11-27 12":
        assert session_rows(a) == {"c#1": ("c", 2, True, 1), "c#2": ("c", 1, True, 2), "c#3": ("c", 1, True, 3)}
        assert counts == [4]
    else:
        assert session_rows(a) == {"c#1": ("c", 2, True, 1), "c#2": ("c", 2, True, 2)}
        assert counts == [2]


def test_an_exported_session_whose_new_message_names_another_customer(tmp_path, monkeypatch):
    # Session G1 was x's, and x's order was credited to it. A new message of G1 names customer "a", which is now the
    # session's customer (the least customer_id of its messages): x, whom nothing new names, has no inquiry left and
    # the order no credited session.
    inboxes = two_nights(tmp_path, [msg("1", "x", "customer", "2026-11-27 10:00:00", session="G1"),
                                    msg("2", "x", "agent", "2026-11-27 10:01:00", agent="a1", session="G1"),
                                    msg("3", "y", "customer", "2026-11-27 10:00:00", session="G2")],
                         [msg("4", "a", "customer", "2026-11-27 10:30:00", session="G1")],
                         orders=[("o1", "S1", "x", "2026-11-27 11:00:00", "2026-11-27 11:00:00", "5")])
    a, counts = nights_and_derived_again(tmp_path, monkeypatch, inboxes)
    assert session_rows(a) == {"G1": ("a", 3, True, None), "G2": ("y", 1, True, None)}
    assert a["conversions"] == []
    assert counts == [3]  # G1's three messages; G2 is not derived again


def reads_of(monkeypatch, table: str) -> list[list[str] | None]:
    """Records the days of every read of a derived table's files (None: every day's)."""
    reads, read_sql = [], compute.generation.read_sql

    def recording(lake, manifest, name, days=None):
        if name == table:
            reads.append(None if days is None else sorted(str(d) for d in days))
        return read_sql(lake, manifest, name, days)

    monkeypatch.setattr(compute.generation, "read_sql", recording)
    return reads


def sums_of(monkeypatch, query: str) -> list:
    """Records, for every computation's day sums (compute.measure_days), what `query` reads of them."""
    summed, measure_days = [], compute.measure_days

    def recording(con):
        measure_days(con)
        summed.append(con.execute(query).fetchall())

    monkeypatch.setattr(compute, "measure_days", recording)
    return summed


def test_conversions_are_derived_again_from_the_earliest_changed_session_or_re_sent_order(tmp_path, monkeypatch):
    # e#1 (the 10th) and f#1 (the 26th) each credited by an order; c#1 (the 20th) by o1, which the second night
    # re-sends paid on the 27th instead: it now credits c#2, though nothing new names c. A message joins d#1 (derived
    # again from 10:00 on): o4, paid after, credits it; f's new message re-derives f#2 (12:00 on), so o6, paid the
    # 26th, is not derived again and keeps f#1. The night reads the conversions of the day before o1's first payment
    # on, not e's.
    nights = [tmp_path / "night1", tmp_path / "night2"]
    header = ["order_id", "shop_id", "customer_id", "created_at", "paid_at", "amount"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "e", "customer", "2026-11-10 10:00:00"), msg("2", "e", "agent", "2026-11-10 10:01:00", agent="a1"),
        msg("3", "c", "customer", "2026-11-20 10:00:00"), msg("4", "c", "agent", "2026-11-20 10:01:00", agent="a1"),
        msg("5", "f", "customer", "2026-11-26 10:00:00"), msg("6", "f", "agent", "2026-11-26 10:01:00", agent="a1"),
        msg("7", "c", "customer", "2026-11-27 09:00:00"), msg("8", "c", "agent", "2026-11-27 09:01:00", agent="a1"),
        msg("9", "d", "customer", "2026-11-27 10:00:00"), msg("10", "d", "agent", "2026-11-27 10:01:00", agent="a2"),
        msg("11", "f", "customer", "2026-11-27 12:00:00")])
    write_csv(nights[0] / "orders_1.csv", header, [
        ("o5", "S1", "e", "2026-11-10 10:20:00", "2026-11-10 10:30:00", "5"),
        ("o1", "S1", "c", "2026-11-20 10:50:00", "2026-11-20 11:00:00", "10"),
        ("o6", "S1", "f", "2026-11-26 10:20:00", "2026-11-26 10:30:00", "6"),
        ("o2", "S1", "d", "2026-11-27 10:20:00", "2026-11-27 10:30:00", "20")])
    write_csv(nights[1] / "messages_2.csv", MESSAGE_HEADER, [
        msg("12", "d", "customer", "2026-11-27 10:20:00"), msg("13", "f", "customer", "2026-11-27 12:10:00")])
    write_csv(nights[1] / "orders_2.csv", header, [
        ("o1", "S1", "c", "2026-11-20 10:50:00", "2026-11-27 09:30:00", "10"),
        ("o4", "S1", "d", "2026-11-27 10:35:00", "2026-11-27 10:40:00", "40")])
    reads = reads_of(monkeypatch, "conversions")
    nightly, full = nightly_and_full(tmp_path, nights, Config(), max_days=None)
    a = tables(nightly)
    same(a, tables(full))
    assert [(c[0], c[5]) for c in a["conversions"]] == [
        ("o1", "c#2"), ("o2", "d#1"), ("o4", "d#1"), ("o5", "e#1"), ("o6", "f#1")]
    # the previous conversions derived again; no read of every day's
    assert ["2026-11-20", "2026-11-26", "2026-11-27"] in reads
    assert reads and all(days is not None and "2026-11-10" not in days for days in reads), reads


def test_an_exported_session_taken_by_another_customer_leaves_its_order_to_an_earlier_session(tmp_path, monkeypatch):
    # x's order o1 was credited to the exported session G1 (10:00), x's latest inquiry. A new message of G1 names a,
    # who takes the session: o1 now credits x#1 (09:00), a session the night's files never name, which the night
    # reads back only through G1's customer before.
    inboxes = two_nights(tmp_path, [msg("1", "x", "customer", "2026-11-27 09:00:00"),
                                    msg("2", "x", "agent", "2026-11-27 09:01:00", agent="a1"),
                                    msg("3", "x", "customer", "2026-11-27 10:00:00", session="G1"),
                                    msg("4", "x", "agent", "2026-11-27 10:01:00", agent="a1", session="G1")],
                         [msg("5", "a", "customer", "2026-11-27 10:10:00", session="G1")],
                         orders=[("o1", "S1", "x", "2026-11-27 10:20:00", "2026-11-27 10:30:00", "5")])
    a, counts = nights_and_derived_again(tmp_path, monkeypatch, inboxes)
    assert session_rows(a) == {"G1": ("a", 3, True, None), "x#1": ("x", 2, True, 1)}
    assert [(c[0], c[5]) for c in a["conversions"]] == [("o1", "x#1")]
    assert counts == [3]  # G1's messages; x#1 is not derived again


def test_a_night_reads_the_day_sums_of_its_months_and_weeks_and_the_other_months_sums(tmp_path, monkeypatch):
    # October's and November's sessions, then a night of the 27th: the quarter and the year are summed from October's
    # month sums as stored and November's again, from November's days; no day of October is read.
    nights = [tmp_path / "night1", tmp_path / "night2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c", "customer", "2026-10-10 10:00:00"), msg("2", "c", "agent", "2026-10-10 10:00:20", agent="a1"),
        msg("3", "d", "customer", "2026-10-30 10:00:00"), msg("4", "d", "agent", "2026-10-30 10:00:40", agent="a1"),
        msg("5", "c", "customer", "2026-11-20 10:00:00"), msg("6", "c", "agent", "2026-11-20 10:01:00", agent="a2")])
    write_csv(nights[1] / "messages_2.csv", MESSAGE_HEADER, [
        msg("7", "e", "customer", "2026-11-27 10:00:00"), msg("8", "e", "agent", "2026-11-27 10:00:30", agent="a2")])
    reads = reads_of(monkeypatch, "kpi_facts")
    nightly, full = nightly_and_full(tmp_path, nights, Config(), max_days=None)
    a = tables(nightly)
    same(a, tables(full))
    assert reads == [["2026-11-20"]]  # the other day of November; the 27th is new
    months = {(r[4].isoformat(), r[3]): r[5:] for r in a["kpi_month_facts"] if r[0] == "frt_seconds"}
    assert months == {("2026-10-01", "a1"): (60.0, 2.0), ("2026-11-01", "a2"): (90.0, 2.0)}  # seconds, first replies
    frt = {(k[0], k[1]): k[6] for k in a["kpi"] if k[5] == "frt_seconds" and k[4] is None}
    assert frt[("quarter", "2026-Q4")] == frt[("year", "2026")] == 37.5  # (20 + 40 + 60 + 30) / 4


def test_a_re_sent_complaint_rewrites_its_days_facts_not_its_sessions(tmp_path):
    """A complaint of the 25th re-sent on the 26th, resolved now: the 25th's facts are computed again, but its
    sessions, turns and response-time histograms did not change, so their files are kept, and its medians are not
    computed again (the 26th's, the week's and the month's are, from the new day's histograms)."""
    nights = [tmp_path / "n1", tmp_path / "n2"]
    night_of(nights[0], 1, "c", "2026-11-25 10:00:00", "2026-11-25 10:00:30",
             ("k1", "S1", "2026-11-25 11:00:00", "service", "2026-11-25 11:30:00", ""))
    night_of(nights[1], 2, "d", "2026-11-26 10:00:00", "2026-11-26 10:00:20",
             ("k1", "S1", "2026-11-25 11:00:00", "service", "2026-11-25 11:30:00", "2026-11-26 09:00:00"))
    nightly, full = nightly_and_full(tmp_path, nights, Config())
    same(tables(nightly), tables(full))
    derived = nightly.manifest().derived
    assert derived["recomputed_days"] == ["2026-11-25", "2026-11-26"]
    files = derived["tables"]
    kept = {t: files[t]["2026-11-25"].split("/")[1] for t in ("sessions", "turns", "kpi_histograms", "kpi_facts")}
    assert kept == {"sessions": "g000001", "turns": "g000001", "kpi_histograms": "g000001", "kpi_facts": "g000002"}
    assert files["sessions"]["2026-11-26"].split("/")[1] == "g000002"
    con = duckdb.connect()
    distributions = con.execute(
        f"SELECT grain, period, n, median_seconds FROM ({read_sql(nightly, nightly.manifest(), 'kpi_distributions')}) "
        "WHERE family = 'frt' AND clock = 'wall' AND agent_id IS NULL ORDER BY grain, period").fetchall()
    assert distributions == [("day", "2026-11-25", 1, 30.0), ("day", "2026-11-26", 1, 20.0),
                             ("month", "2026-11", 2, 25.0), ("quarter", "2026-Q4", 2, 25.0),
                             ("week", "2026-W48", 2, 25.0), ("year", "2026", 2, 25.0)]


def test_a_changed_response_time_moves_its_count_in_the_stored_month(tmp_path):
    """An agent reply that arrives a night late answers the customer earlier: the day's 30 s becomes 10 s, and the
    month's stored histogram loses its 30 s (added as now, subtracted as before: a count of 0 is no row)."""
    nights = [tmp_path / "n1", tmp_path / "n2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c", "customer", "2026-11-27 10:00:00"), msg("2", "c", "agent", "2026-11-27 10:00:30", agent="a1"),
        msg("3", "d", "customer", "2026-11-03 09:00:00"), msg("4", "d", "agent", "2026-11-03 09:00:20", agent="a1")])
    write_csv(nights[1] / "messages_2.csv", MESSAGE_HEADER, [
        msg("5", "c", "agent", "2026-11-27 10:00:10", agent="a1")])
    nightly, full = nightly_and_full(tmp_path, nights, Config())
    a, b = tables(nightly), tables(full)
    same(a, b)
    assert nightly.manifest().derived["recomputed_days"] == ["2026-11-27"]
    shop_a1 = [(family, seconds, observations) for family, clock, shop, agent, month, seconds, observations
               in a["kpi_month_histograms"] if agent == "a1"]
    # 2026-11-03 keeps its 20 s; 2026-11-27's 30 s (FRT and the turn's response) became 10 s
    assert sorted(shop_a1) == [("frt", 10.0, 1.0), ("frt", 20.0, 1.0), ("response", 10.0, 1.0),
                               ("response", 20.0, 1.0)]
    month_median = kpi_row(a["kpi"], "2026-11", "frt_median_seconds")
    assert month_median[-6] == 15.0  # (10 + 20) / 2


def two_answered_nights(tmp_path: Path) -> list[Path]:
    """Two inboxes of one answered question each, on the 26th and the 27th."""
    nights = [tmp_path / "n1", tmp_path / "n2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c", "customer", "2026-11-26 10:00:00"), msg("2", "c", "agent", "2026-11-26 10:00:30", agent="a1")])
    write_csv(nights[1] / "messages_2.csv", MESSAGE_HEADER, [
        msg("3", "c", "customer", "2026-11-27 10:00:00"), msg("4", "c", "agent", "2026-11-27 10:00:20", agent="a1")])
    return nights


def test_an_increment_whose_day_files_fail_to_write_leaves_the_lake_as_it_was(tmp_path, monkeypatch):
    """The day files are written on a thread of their own while the periods are computed: a failure there reaches
    the caller, after the thread is done, and nothing is committed."""
    from pipeline.publish import generation
    from pipeline.schemas.validate import SchemaViolation

    nights = two_answered_nights(tmp_path)
    lake = Lake(tmp_path / "lake")
    jobs.run(nights[0], lake, Config())
    before = lake.manifest().to_json()
    write = generation.write
    threads = []

    def failing(con, lake, manifest, tables, *args, **kwargs):
        if tables == ("turns",):
            import threading
            threads.append(threading.current_thread().name)
            raise SchemaViolation("turns: refused")
        return write(con, lake, manifest, tables, *args, **kwargs)

    monkeypatch.setattr(generation, "write", failing)
    with pytest.raises(SchemaViolation, match="turns: refused"):
        jobs.run(nights[1], lake, Config())
    assert threads and threads[0] != "MainThread"  # the increment's writer thread
    assert lake.manifest().to_json() == before
    monkeypatch.setattr(generation, "write", write)
    jobs.run(nights[1], lake, Config())  # the night again, whole
    assert lake.manifest().derived["recomputed_days"] == ["2026-11-27"]
    _, full = nightly_and_full(tmp_path / "again", nights, Config())
    same(tables(lake), tables(full))


@pytest.mark.parametrize("night", [0, 1])  # a full computation, then an increment
def test_a_written_file_that_breaks_its_schema_fails_the_computation_and_commits_nothing(tmp_path, monkeypatch,
                                                                                         night):
    """The schema checks of the written files run on a thread of their own, beside the next writes: a violation
    still reaches the caller, and the lake is as it was."""
    from pipeline import compute
    from pipeline.schemas.validate import SchemaViolation

    nights = two_answered_nights(tmp_path)
    lake = Lake(tmp_path / "lake")
    if night:
        jobs.run(nights[0], lake, Config())
    before = lake.manifest().to_json() if night else None
    check = compute.validate_parquet
    threads = []

    def failing(files, model, *args, **kwargs):
        if model.__name__ == "Turns":
            import threading
            threads.append(threading.current_thread().name)
            raise SchemaViolation("turns: planted")
        return check(files, model, *args, **kwargs)

    monkeypatch.setattr(compute, "validate_parquet", failing)
    with pytest.raises(SchemaViolation, match="turns: planted"):
        jobs.run(nights[night], lake, Config())
    assert threads and threads[0] != "MainThread"
    if night:
        assert lake.manifest().to_json() == before
    else:
        assert not (tmp_path / "lake" / "manifest.json").exists()


def test_a_late_event_sums_again_its_shop_s_day_only(tmp_path, monkeypatch):
    """A night's late dispute of S2 on 11-20, and a complaint re-sent from S1's 11-20 to S2's 11-21: the day sums
    of 11-20 and 11-21 are summed again for those shops only (S3's 11-20 facts and histograms come from their
    files), and everything equals a full computation."""
    nights = [tmp_path / "n1", tmp_path / "n2"]
    write_csv(nights[0] / "messages_1.csv", MESSAGE_HEADER, [
        msg("1", "c", "customer", "2026-11-20 10:00:00", shop="S1"),
        msg("2", "c", "agent", "2026-11-20 10:00:30", agent="a1", shop="S1"),
        msg("3", "d", "customer", "2026-11-20 11:00:00", shop="S2"),
        msg("4", "d", "agent", "2026-11-20 11:00:20", agent="b1", shop="S2"),
        msg("5", "e", "customer", "2026-11-21 09:00:00", shop="S2"),
        msg("8", "f", "customer", "2026-11-20 09:00:00", shop="S3"),
        msg("9", "f", "agent", "2026-11-20 09:01:00", agent="c1", shop="S3")])
    write_csv(nights[0] / "complaints_1.csv", COMPLAINTS_HEADER, [
        ("k1", "S1", "2026-11-20 12:00:00", "service", "2026-11-20 12:30:00", "2026-11-20 13:00:00")])
    write_csv(nights[0] / "disputes_1.csv", ["dispute_id", "shop_id", "opened_at", "platform_involved"],
              [("j1", "S1", "2026-11-20 15:00:00", "no")])
    write_csv(nights[1] / "messages_2.csv", MESSAGE_HEADER, [
        msg("6", "c", "customer", "2026-11-27 10:00:00", shop="S1"),
        msg("7", "c", "agent", "2026-11-27 10:00:40", agent="a1", shop="S1")])
    write_csv(nights[1] / "disputes_2.csv", ["dispute_id", "shop_id", "opened_at", "platform_involved"],
              [("j2", "S2", "2026-11-20 16:00:00", "yes")])
    write_csv(nights[1] / "complaints_2.csv", COMPLAINTS_HEADER, [
        ("k1", "S2", "2026-11-21 12:00:00", "service", "2026-11-21 12:30:00", "2026-11-22 13:00:00")])
    summed = sums_of(monkeypatch, "SELECT DISTINCT shop_id, CAST(on_date AS VARCHAR) FROM kpi_facts "
                                  "UNION SELECT DISTINCT shop_id, CAST(on_date AS VARCHAR) FROM kpi_histograms")
    nightly, full = nightly_and_full(tmp_path, nights, Config(), max_days=None)
    assert nightly.manifest().derived["recomputed_days"] == ["2026-11-20", "2026-11-21", "2026-11-27"]
    night = set(summed[1])
    assert night == {("S1", "2026-11-20"), ("S2", "2026-11-20"), ("S2", "2026-11-21"), ("S1", "2026-11-27")}, night
    a = tables(nightly)
    same(a, tables(full))
    facts = {(r[2], str(r[4]), r[0]) for r in a["kpi_facts"]}  # (shop, day, kpi)
    assert {("S1", "2026-11-20", "frt_seconds"), ("S2", "2026-11-20", "frt_seconds"),
            ("S2", "2026-11-20", "dispute_count"), ("S2", "2026-11-21", "complaint_feedback_24h_rate")} <= facts
    assert ("S1", "2026-11-20", "complaint_feedback_24h_rate") not in facts
    histograms = {(r[2], str(r[4])) for r in a["kpi_histograms"]}
    assert {("S1", "2026-11-20"), ("S2", "2026-11-20"), ("S3", "2026-11-20")} <= histograms
    assert ("S3", "2026-11-20", "frt_seconds") in facts


@pytest.mark.slow
@pytest.mark.parametrize("seed, config", [(7, Config()), (11, ISSUE5)], ids=["defaults", "service-hours-cap-window"])
def test_the_generated_next_day_with_late_events_equals_one_full_run(tmp_path, monkeypatch, seed, config):
    """The generator's next-day export (`split_last_day`) re-sends orders, complaints and disputes of earlier days,
    as the benchmark's night does: the night sums again those days for the shops they touch only, and equals one
    full run over every file."""
    source = tmp_path / "gen"
    generate(source, messages=40_000, shops=40, days=10, seed=seed, showcase=False, split_last_day=True)
    nights = [tmp_path / "n1", tmp_path / "n2"]
    for f in source.glob("*.csv"):
        # names kept: the full run lands files in name order, and orders_nextday_n2 must come after orders_n1
        night = nights[1] if "_nextday" in f.name else nights[0]
        night.mkdir(exist_ok=True)
        (night / f.name).write_bytes(f.read_bytes())
    summed = sums_of(monkeypatch, "SELECT on_date, count(DISTINCT shop_id) FROM kpi_facts GROUP BY on_date")
    nightly, full = nightly_and_full(tmp_path, nights, config, max_days=None)
    night = dict(summed[1])
    assert len(night) >= 2 and min(night.values()) < 40, night  # earlier days, some shops of them only
    same(tables(nightly), tables(full))
