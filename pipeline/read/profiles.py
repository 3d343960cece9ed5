"""Built-in source layouts that need more than a header mapping: a profile turns the raw frame of a file into
one with canonical headers (still text) that the normalise stage takes like any other export."""
from __future__ import annotations

import polars as pl

PROFILES: dict[str, dict] = {}


def apply_profile(name: str, kind: str, frame: pl.LazyFrame) -> pl.LazyFrame:
    try:
        transforms = PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES) or 'none'}") from None
    if kind not in transforms:
        raise ValueError(f"profile {name!r} has no layout for kind {kind!r}")
    return transforms[kind](frame)
