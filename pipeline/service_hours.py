"""Service hours: a weekly calendar of opening windows, holidays and dated exceptions (README "Service hours").

When a calendar is configured, response times are also measured in service time: the length of an interval's
overlap with the windows. The calendar is expanded here into two small tables that sql/service_clock.sql joins by
date (equality joins only, so the SQL stays portable):
  service_days(on_date, clock_before)         service seconds of every earlier date in the range
  service_windows(on_date, opens_at, closes_at) the windows of each date, as local timestamps
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import polars as pl

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Window = tuple[int, int]  # (opens, closes) in seconds after midnight; closes may be 86400 (24:00)


class ServiceHoursError(ValueError):
    pass


def _windows(value: object, where: str) -> tuple[Window, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ServiceHoursError(f"{where} must be a list of \"HH:MM-HH:MM\" windows, not {value!r}")
    out = []
    for text in value:
        m = _WINDOW.match(text)
        if not m:
            raise ServiceHoursError(f"{where}: {text!r} is not a window such as \"08:00-23:00\"")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if m1 > 59 or m2 > 59 or h1 > 23 or h2 > 24 or (h2 == 24 and m2):
            raise ServiceHoursError(f"{where}: {text!r} is not a time of day (up to 24:00)")
        opens, closes = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
        if opens >= closes:
            raise ServiceHoursError(f"{where}: {text!r} must open before it closes (a window stays within a day)")
        out.append((opens, closes))
    out.sort()
    for (_, end), (start, _) in zip(out, out[1:]):
        if start < end:
            raise ServiceHoursError(f"{where}: windows overlap")
    return tuple(out)


def _date(value: object, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ServiceHoursError(f"{where}: {value!r} is not a date (YYYY-MM-DD)")


@dataclass(frozen=True)
class ServiceHours:
    weekly: tuple[tuple[Window, ...], ...]  # Monday first
    holidays: frozenset[date] = frozenset()
    dates: dict[date, tuple[Window, ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: object, source: str = "service_hours") -> "ServiceHours":
        if not isinstance(data, dict):
            raise ServiceHoursError(f"{source}: [service_hours] must be a table")
        unknown = set(data) - set(WEEKDAYS) - {"holidays", "dates"}
        if unknown:
            raise ServiceHoursError(f"{source}: [service_hours] unknown keys {', '.join(sorted(unknown))}; "
                                    f"known: {', '.join(WEEKDAYS)}, holidays, dates")
        weekly = tuple(_windows(data.get(day, []), f"{source}: service_hours.{day}") for day in WEEKDAYS)
        holidays = data.get("holidays", [])
        if not isinstance(holidays, list):
            raise ServiceHoursError(f"{source}: service_hours.holidays must be a list of dates")
        dated = data.get("dates", {})
        if not isinstance(dated, dict):
            raise ServiceHoursError(f"{source}: [service_hours.dates] must be a table of date = [windows]")
        dates = {_date(k, f"{source}: service_hours.dates"): _windows(v, f"{source}: service_hours.dates.{k}")
                 for k, v in dated.items()}
        hours = cls(weekly, frozenset(_date(h, f"{source}: service_hours.holidays") for h in holidays), dates)
        if not any(hours.weekly) and not any(hours.dates.values()):
            raise ServiceHoursError(f"{source}: [service_hours] has no opening window at all")
        return hours

    def windows_on(self, day: date) -> tuple[Window, ...]:
        if day in self.dates:
            return self.dates[day]
        if day in self.holidays:
            return ()
        return self.weekly[day.weekday()]

    def fingerprint(self) -> str:
        return repr((self.weekly, sorted(self.holidays), sorted(self.dates.items())))

    def expand(self, first: date, last: date) -> tuple[pl.DataFrame, pl.DataFrame]:
        """service_days and service_windows for every date from `first` to `last` (inclusive)."""
        days: list[tuple[date, float]] = []
        windows: list[tuple[date, datetime, datetime]] = []
        clock = 0.0
        day = first
        while day <= last:
            days.append((day, clock))
            midnight = datetime.combine(day, time())
            for opens, closes in self.windows_on(day):
                windows.append((day, midnight + timedelta(seconds=opens), midnight + timedelta(seconds=closes)))
                clock += closes - opens
            day += timedelta(days=1)
        return (
            pl.DataFrame(days, schema={"on_date": pl.Date, "clock_before": pl.Float64}, orient="row"),
            pl.DataFrame(windows, schema={"on_date": pl.Date, "opens_at": pl.Datetime("us"),
                                          "closes_at": pl.Datetime("us")}, orient="row"),
        )


def empty_tables() -> tuple[pl.DataFrame, pl.DataFrame]:
    """No calendar: nothing is measured in service time."""
    return (pl.DataFrame(schema={"on_date": pl.Date, "clock_before": pl.Float64}),
            pl.DataFrame(schema={"on_date": pl.Date, "opens_at": pl.Datetime("us"), "closes_at": pl.Datetime("us")}))
