"""Programs shipped with voltbridge (``programs/data/*.toml``): list them, load one by id, and
resolve a site's ``[[programs]]`` entry (a shipped id, an inline definition, or a shipped program
with some figures overridden)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from voltbridge.programs.models import Program
from voltbridge.tariffs.registry import merge_override

DATA_DIR = Path(__file__).resolve().parent / "data"
"""Folder of the shipped program files (``<id>.toml``)."""

META_KEYS = frozenset({"id", "title", "currency", "timezone", "region", "notes", "sources"})
"""Top-level keys that describe a program rather than state a figure of it."""


class UnknownProgram(KeyError):
    """No shipped program has this id; the message names the ids there are."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        known = ", ".join(shipped_ids())
        return f"no shipped program {self.name!r}; shipped programs are: {known}"


def shipped_ids() -> list[str]:
    """Ids of the shipped programs (the file stems of ``data/*.toml``), sorted."""
    return list(_ids())


@lru_cache(maxsize=1)
def _ids() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in DATA_DIR.glob("*.toml")))


@lru_cache(maxsize=16)
def _read(name: str) -> dict[str, Any]:
    with (DATA_DIR / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


def shipped_table(name: str) -> dict[str, Any]:
    """The shipped program ``name`` as a fresh TOML table; ``UnknownProgram`` if none."""
    if name not in shipped_ids():
        raise UnknownProgram(name)
    return merge_override(_read(name), {})


def load_shipped(name: str) -> Program:
    """The shipped program ``name``, validated; ``UnknownProgram`` if none.

    >>> load_shipped("elrp").event.per_kwh
    2.0
    """
    return Program.model_validate(shipped_table(name))


def list_shipped() -> list[Program]:
    """Every shipped program, validated, in id order."""
    return [load_shipped(name) for name in shipped_ids()]


def resolve_program(name: str, definition: dict[str, Any] | None) -> Program:
    """The program a site entry means.

    - ``definition`` None: the shipped program ``name``.
    - ``name`` shipped and a ``definition``: the shipped program with those figures laid over it
      (tables merge key by key).
    - ``name`` not shipped: ``definition`` is the whole program (its ``id`` is ``name``).

    Raises:
        UnknownProgram: ``name`` is not shipped and no definition was given.
        pydantic.ValidationError: the resulting program is invalid.
    """
    if definition is None:
        return load_shipped(name)
    base = shipped_table(name) if name in shipped_ids() else {}
    if base:
        # A site that changes a shipped figure states its own source, or none.
        base.pop("sources", None)
    table = merge_override(base, {"id": name, **definition})
    return Program.model_validate(table)


def figure_paths(table: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths of the figures in a program table (every leaf outside the meta keys).

    >>> figure_paths({"id": "x", "event": {"per_kwh": 2.0, "baseline": {"rule": "5-of-10"}}})
    ['event.per_kwh', 'event.baseline.rule']
    """
    paths: list[str] = []
    for key, value in table.items():
        if not prefix and key in META_KEYS:
            continue
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            paths.extend(figure_paths(value, f"{path}."))
        else:
            paths.append(path)
    return paths


def unsourced_figures(table: dict[str, Any]) -> list[str]:
    """Figures of a program table that no ``[[sources]]`` entry lists."""
    cited = {path for source in table.get("sources", []) for path in source.get("figures", [])}
    return [path for path in figure_paths(table) if path not in cited]
