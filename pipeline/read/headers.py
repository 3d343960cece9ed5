"""Header matching (SPEC §1.2): file headers -> a kind's canonical column names.

Candidates, matched ignoring surrounding spaces and letter case: the user's mapping (wins), the canonical names,
the kind's alias table (Chinese export headers).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import ConfigError
from pipeline.kinds import KINDS, Kind
from pipeline.read.encoding import ReadError

# open_table names the second and later columns of a repeated header "<name>_duplicated_<k>" (polars' convention),
# so that resolve_headers can still tell that two columns carry the same header.
DUPLICATE_SUFFIX = "_duplicated_"
_DUPLICATE = re.compile(rf"^(.*){DUPLICATE_SUFFIX}\d+$", re.S)


@dataclass
class HeaderMap:
    rename: dict[str, str] = field(default_factory=dict)  # header in file -> canonical column name
    ignored: list[str] = field(default_factory=list)  # headers that map to nothing
    missing_required: list[str] = field(default_factory=list)  # required canonical columns with no header


def _norm(text: str) -> str:
    return text.strip().casefold()


def resolve_headers(
    headers: list[str], kind: Kind, mapping: dict[str, str] | None = None, *, path: Path | None = None
) -> HeaderMap:
    """Map a file's headers onto `kind`'s columns.

    `mapping` is canonical name -> header in the file, for this kind (see `mapping_for`). A canonical column the user
    maps is taken only from the user's header: the kind's own name and aliases for it no longer apply. Two headers
    that map to the same column are a ReadError (`path` names the file in it).
    """
    mapping = mapping or {}
    unknown = sorted(set(mapping) - set(kind.names))
    if unknown:
        known = ", ".join(kind.names)
        raise ValueError(f"mapping names unknown {kind.name} columns {', '.join(unknown)}; known: {known}")

    user: dict[str, str] = {}
    for canonical, header in mapping.items():
        key = _norm(header)
        if key in user and user[key] != canonical:
            raise ValueError(f"mapping maps header {header!r} to both {user[key]!r} and {canonical!r}")
        user[key] = canonical
    builtin = {_norm(n): n for n in kind.names} | {_norm(a): c for a, c in kind.aliases.items()}
    builtin = {k: c for k, c in builtin.items() if c not in mapping.keys()}
    candidates = builtin | user

    result = HeaderMap()
    taken: dict[str, str] = {}  # canonical -> header
    for header in headers:
        canonical = candidates.get(_norm(header))
        repeated = _DUPLICATE.match(header)
        if canonical is None and repeated and repeated.group(1) in headers:
            first = repeated.group(1)
            if first_canonical := candidates.get(_norm(first)):
                raise ReadError(path, f"headers {first!r} and {first!r} (a second column of that name) both map to "
                                      f"column {first_canonical!r}")
        if canonical is None:
            if header not in result.ignored:
                result.ignored.append(header)
            continue
        if canonical in taken:
            raise ReadError(path, f"headers {taken[canonical]!r} and {header!r} both map to column {canonical!r}")
        taken[canonical] = header
        result.rename[header] = canonical
    result.missing_required = [c for c in kind.required if c not in taken]
    return result


def load_mapping(path: Path) -> dict[str, dict[str, str]]:
    """Read a user mapping file (TOML) into {kind name or "*": {canonical: header}}.

    Top-level `canonical = "header"` pairs apply to every kind that has that column; a table `[orders]` applies to
    that kind only. Unknown kinds, unknown column names and non-string headers are a ConfigError (a ValueError).
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such mapping file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from None

    every_name = {n for k in KINDS.values() for n in k.names}
    result: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in KINDS:
                raise ConfigError(f"{path}: [{key}] is not a kind; known kinds: {', '.join(KINDS)}")
            names, target = set(KINDS[key].names), result.setdefault(key, {})
            pairs = value.items()
        else:
            names, target, pairs = every_name, result.setdefault("*", {}), [(key, value)]
        for canonical, header in pairs:
            where = f"{key}.{canonical}" if isinstance(value, dict) else canonical
            if canonical not in names:
                raise ConfigError(f"{path}: {where}: unknown column {canonical!r}; known: {', '.join(sorted(names))}")
            if not isinstance(header, str) or not header.strip():
                raise ConfigError(f"{path}: {where}: the header must be a non-empty string, not {header!r}")
            target[canonical] = header
    return result


def mapping_for(mapping: dict[str, dict[str, str]] | None, kind_name: str) -> dict[str, str]:
    """The mapping for one kind: the top-level entries that name its columns, overridden by its own table."""
    if not mapping:
        return {}
    names = set(KINDS[kind_name].names)
    common = {c: h for c, h in mapping.get("*", {}).items() if c in names}
    return common | mapping.get(kind_name, {})
