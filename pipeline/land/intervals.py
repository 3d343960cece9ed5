"""Sets of duplicate keys described by sorted, disjoint, closed [low, high] intervals of strings (a "cover"), and
whether two covers can share a key. None stands for a cover that is not known: it may hold any key."""
from __future__ import annotations

import heapq
from collections.abc import Iterable

Cover = list[list[str]]


def coalesce(intervals: Iterable[list[str]]) -> Cover:
    """The [low, high] intervals sorted, overlapping ones merged: the same keys as disjoint intervals."""
    merged: Cover = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


def may_share_keys(a: Cover | None, b: Cover | None) -> bool:
    """Whether some interval of `a` meets some interval of `b` (a sweep along both)."""
    if a is None or b is None:
        return a != [] and b != []  # an unknown cover may hold any key, an empty one holds none
    if not a or not b or a[-1][1] < b[0][0] or b[-1][1] < a[0][0]:
        return False  # apart as a whole: ids that grow with time, whatever the shop
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i][1] < b[j][0]:
            i += 1
        elif b[j][1] < a[i][0]:
            j += 1
        else:
            return True
    return False


def meeting_an_earlier(covers: dict[int, Cover | None]) -> set[int]:
    """The sequence numbers whose cover may share a key with the cover of a smaller one.

    One sweep over every interval in order of its low end, rather than a sweep per pair: the intervals begun
    earlier that reach the current low end are exactly those that meet the current interval."""
    holding = {seq: cover for seq, cover in covers.items() if cover != []}
    unknown = [seq for seq, cover in holding.items() if cover is None]
    found = set()
    if unknown:
        found = {seq for seq in holding if seq > min(unknown)} | {seq for seq in unknown if seq > min(holding)}
    starts = sorted((low, high, seq) for seq, cover in holding.items() if cover for low, high in cover)
    reaching: list[tuple[str, int]] = []  # (high, seq) of the intervals begun so far, lowest high first
    for low, high, seq in starts:
        while reaching and reaching[0][0] < low:
            heapq.heappop(reaching)
        # A part's intervals are disjoint, so at most one per part reaches `low`: this loop is short.
        for _, other in reaching:
            if other != seq:
                found.add(max(seq, other))
        heapq.heappush(reaching, (high, seq))
    return found
