"""One typed configuration object, read from `cskpi.toml` and passed down to every stage."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .service_hours import ServiceHours, ServiceHoursError


class ConfigError(ValueError):
    """A configuration or mapping file that cannot be used; the message says which key and why."""


def _duration(value: object, key: str) -> timedelta:
    """'30min', '24h', '90s', '1d' or a number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        units = {"ms": 0.001, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "d": 86400}
        text = value.strip().lower()
        for unit in sorted(units, key=len, reverse=True):
            if text.endswith(unit):
                number = text[: -len(unit)].strip()
                try:
                    return timedelta(seconds=float(number) * units[unit])
                except ValueError:
                    break
    raise ConfigError(f"{key}: {value!r} is not a duration (use e.g. '30min', '24h', '90s' or seconds)")


@dataclass(frozen=True)
class Config:
    timezone: str = "Asia/Shanghai"
    session_gap: timedelta = timedelta(minutes=30)
    late_reply_window: timedelta = timedelta(hours=24)
    max_reject_ratio: float = 0.01
    thresholds: Path | None = None  # None: the packaged defaults (Table A.1, apparel conversion)
    encoding: str | None = None  # None: detect UTF-8 / UTF-8-BOM / GB18030 per file
    mapping: Path | None = None  # user header mapping (TOML: canonical = "header in the file")
    profile: str | None = None  # a built-in source layout such as "twcs"
    skip_unknown: bool = False
    # DuckDB spills to LAKE/tmp beyond this: memory stays flat as input grows. 448MB rather than 512MB: the peak of
    # 10M messages 778 -> 717 MiB (1M: 504 -> 495), with no measurable cost in time (bench/PROFILE.md, session 6).
    duckdb_memory_limit: str = "448MB"
    duckdb_threads: int | None = None
    # Issue 5 (README "Table A.2" and "Service hours"): the 24-hour complaint rule's window, the service-hours
    # calendar (None: wall-clock only) and the unanswered-turn policy (None: left out; a duration: counted at it).
    complaint_feedback_window: timedelta = timedelta(hours=24)
    service_hours: ServiceHours | None = None
    unanswered_turn_cap: timedelta | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"timezone: {self.timezone!r} is not a known time zone") from None
        if not 0 <= self.max_reject_ratio <= 1:
            raise ConfigError(f"max_reject_ratio: {self.max_reject_ratio} is not between 0 and 1")
        if not re.fullmatch(r"\d+(\.\d+)?\s*(K|M|G|T)i?B", self.duckdb_memory_limit, re.IGNORECASE):
            # It is spliced into DuckDB's SET statement (which takes no bound parameters): only a size gets there.
            raise ConfigError(f"duckdb_memory_limit: {self.duckdb_memory_limit!r} is not a size such as '1GB'")
        if self.session_gap <= timedelta(0) or self.late_reply_window < timedelta(0):
            raise ConfigError("session_gap must be positive and late_reply_window not negative")
        if self.complaint_feedback_window < timedelta(0):
            raise ConfigError("complaint_feedback_window must not be negative")
        if self.unanswered_turn_cap is not None and self.unanswered_turn_cap < timedelta(0):
            raise ConfigError("unanswered_turn_cap must not be negative")

    def with_(self, **changes) -> "Config":
        """A copy with the given fields changed; None values leave a field as it is (unset CLI options)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def load(cls, path: Path | None) -> "Config":
        if path is None:
            return cls()
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML ({e})") from None
        known = {f.name for f in fields(cls)} - {"extra"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{path}: unknown keys {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        kwargs: dict = {}
        for key, value in data.items():
            if key in ("session_gap", "late_reply_window", "complaint_feedback_window", "unanswered_turn_cap"):
                kwargs[key] = _duration(value, key)
            elif key == "service_hours":
                try:
                    kwargs[key] = ServiceHours.parse(value, str(path))
                except ServiceHoursError as e:
                    raise ConfigError(str(e)) from None
            elif key == "max_reject_ratio":
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise ConfigError(f"{path}: max_reject_ratio must be a number, not {value!r}")
                kwargs[key] = float(value)
            elif not isinstance(value, _PLAIN[key]) or (_PLAIN[key] is int and isinstance(value, bool)):
                # `skip_unknown = "no"` would otherwise be true, and a number where a name belongs fail deep down
                raise ConfigError(f"{path}: {key} must be {_TYPE_NAMES[_PLAIN[key]]}, not {value!r}")
            elif key in ("thresholds", "mapping"):
                kwargs[key] = (Path(path).parent / value).resolve()
            else:
                kwargs[key] = value
        if kwargs.get("duckdb_threads", 1) < 1:
            raise ConfigError(f"{path}: duckdb_threads must be at least 1, not {kwargs['duckdb_threads']}")
        return cls(**kwargs)


# The keys of cskpi.toml taken as they are: the TOML type each must have.
_PLAIN = {"timezone": str, "thresholds": str, "mapping": str, "encoding": str, "profile": str, "skip_unknown": bool,
          "duckdb_memory_limit": str, "duckdb_threads": int}
_TYPE_NAMES = {str: "a string", bool: "true or false", int: "a whole number"}
