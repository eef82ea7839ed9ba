"""Raw access to the tariffs shipped in ``tariffs/data``: ids, TOML tables, absolute CSV paths."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
"""Folder of the shipped tariff files (``<id>.toml`` plus any price-series CSV)."""

_SCHEDULE_KEYS = ("import", "export")


def shipped_ids() -> list[str]:
    """Ids of the shipped tariffs (the file stems of ``data/*.toml``), sorted."""
    return list(_ids())


@lru_cache(maxsize=1)
def _ids() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in DATA_DIR.glob("*.toml")))


@lru_cache(maxsize=32)
def _read(name: str) -> dict[str, Any]:
    path = DATA_DIR / f"{name}.toml"
    with path.open("rb") as handle:
        return tomllib.load(handle)


def shipped_table(name: str) -> dict[str, Any]:
    """The shipped tariff ``name`` as a fresh TOML table, series paths made absolute.

    Raises:
        KeyError: no tariff of that id is shipped.
    """
    if name not in shipped_ids():
        raise KeyError(name)
    table: dict[str, Any] = _copy(_read(name))
    for key in _SCHEDULE_KEYS:
        schedule = table.get(key)
        if isinstance(schedule, dict) and isinstance(schedule.get("series"), dict):
            series = schedule["series"]
            if "file" in series and not Path(series["file"]).is_absolute():
                series["file"] = str(DATA_DIR / series["file"])
    return table


def merge_override(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it: tables merge key by key, other values replace.

    An ``import``/``export`` schedule that switches kind (e.g. a flat ``rate`` over a shipped
    time-of-use schedule) replaces the shipped schedule instead of merging with it.

    >>> merge_override({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}})
    {'a': {'b': 1, 'c': 3}}
    >>> merge_override({"import": {"seasons": []}}, {"import": {"rate": 0.3}})
    {'import': {'rate': 0.3}}
    """
    merged: dict[str, Any] = _copy(base)
    for key, value in override.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict) and not _kind_switch(key, old, value):
            merged[key] = merge_override(old, value)
        else:
            merged[key] = _copy(value)
    return merged


def _kind_switch(key: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    if key not in _SCHEDULE_KEYS:
        return False
    kinds = {"rate", "seasons", "periods", "series"}
    new_kinds = kinds & new.keys()
    return bool(new_kinds) and new_kinds != kinds & old.keys()


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value
