"""Reading a site file: TOML parsing, validation and errors that name the file and the field."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from voltbridge.config.errors import Problem, SiteError
from voltbridge.config.models import Site
from voltbridge.config.resolve import resolve_all


def field_path(loc: tuple[int | str, ...]) -> str:
    """Pydantic's location tuple as the path a user reads in the TOML file.

    >>> field_path(("vehicles", 0, "charger", "max_charge_kw"))
    'vehicles[0].charger.max_charge_kw'
    >>> field_path(())
    '(top level)'
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "tagged-union", "union[")):
            continue
        else:
            out += ("." if out else "") + part.rstrip("_")
    return out or "(top level)"


def problems_from(error: ValidationError) -> list[Problem]:
    """One Problem per pydantic error, with the allowed values where pydantic gives them."""
    problems = []
    for err in error.errors(include_url=False):
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown setting (a typo?); see the site file reference in README.md"
        elif err["type"] == "missing":
            msg = "required setting is missing"
        problems.append(Problem(field_path(tuple(err["loc"])), msg))
    return problems


def resolve_paths(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make file paths in the raw table (load profile, weather file) absolute, relative to the
    site file's folder."""
    out = dict(raw)
    for table, key in (
        ("load", "profile"),
        ("load", "measured"),
        ("location", "weather_file"),
        ("mqtt", "ca_file"),
        ("mqtt", "cert_file"),
        ("mqtt", "key_file"),
    ):
        section = out.get(table)
        if isinstance(section, dict) and isinstance(section.get(key), str):
            p = Path(section[key])
            out[table] = {**section, key: str(p if p.is_absolute() else base / p)}
    return out


def parse_site(raw: dict[str, Any], path: Path | str = "<site>") -> Site:
    """Validate a site table already read from TOML; raise SiteError naming every bad field."""
    base = Path(path).resolve().parent
    try:
        site = Site.model_validate(resolve_paths(raw, base))
        site = site.model_copy(update={"tariff": site.tariff.resolve_paths(base)})
    except ValidationError as exc:
        raise SiteError(path, problems_from(exc)) from None
    problems = resolve_all(site)
    if problems:
        raise SiteError(path, problems)
    return site


def load_site(path: Path | str) -> Site:
    """Read and validate a site file (TOML).

    Raises:
        SiteError: the file is missing, not TOML, or has invalid settings; each problem names
            the field path and what is allowed.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise SiteError(path, [Problem("(file)", "no such file")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SiteError(path, [Problem("(syntax)", f"not valid TOML: {exc}")]) from None
    return parse_site(raw, path)
