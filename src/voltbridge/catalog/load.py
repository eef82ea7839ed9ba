"""Loading the packaged vehicle and charger data into a validated, searchable catalog."""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, TypeVar

from pydantic import ValidationError

from voltbridge.catalog.models import ChargerSpec, VehicleSpec

VEHICLES_FILE = "vehicles.toml"
CHARGERS_FILE = "chargers.toml"

_Spec = TypeVar("_Spec", VehicleSpec, ChargerSpec)


class CatalogError(ValueError):
    """The catalog data is malformed: names the file, the entry and what to fix."""


class CatalogLookupError(KeyError):
    """An id that is not in the catalog; the message suggests close matches."""

    def __str__(self) -> str:
        # KeyError would print the repr of its argument, quotes and escaped newlines included.
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Catalog:
    """Vehicles and chargers by id, with lookups that suggest close matches on a typo."""

    vehicles: dict[str, VehicleSpec]
    chargers: dict[str, ChargerSpec]

    def vehicle(self, vehicle_id: str) -> VehicleSpec:
        """The vehicle with this id; ``KeyError`` with suggestions if there is none."""
        try:
            return self.vehicles[vehicle_id]
        except KeyError:
            raise CatalogLookupError(_not_found("vehicle", vehicle_id, self.vehicles)) from None

    def charger(self, charger_id: str) -> ChargerSpec:
        """The charger with this id; ``KeyError`` with suggestions if there is none."""
        try:
            return self.chargers[charger_id]
        except KeyError:
            raise CatalogLookupError(_not_found("charger", charger_id, self.chargers)) from None


def _close_matches(wanted: str, specs: dict[str, _Spec]) -> list[str]:
    """Ids that look like ``wanted``: ids or make/model text containing it, then fuzzy matches."""
    needle = wanted.casefold().strip()
    containing = [
        spec_id
        for spec_id, spec in specs.items()
        if needle and needle in f"{spec_id} {spec.make} {spec.model}".casefold()
    ]
    fuzzy = difflib.get_close_matches(needle, list(specs), n=5, cutoff=0.5)
    return list(dict.fromkeys(containing + fuzzy))[:5]


def _not_found(kind: str, wanted: str, specs: dict[str, _Spec]) -> str:
    matches = _close_matches(wanted, specs)
    hint = f" Did you mean: {', '.join(matches)}?" if matches else ""
    return (
        f"No {kind} with id {wanted!r} in the catalog.{hint} "
        "Run `voltbridge catalog` to list all vehicles and chargers."
    )


def _parse_entries(text: str, table: str, model: type[_Spec], file_name: str) -> dict[str, _Spec]:
    """Validate every ``[[table]]`` entry of one TOML document; duplicate ids are an error."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{file_name} is not valid TOML: {exc}") from exc
    raw_entries: Any = document.get(table, [])
    if not isinstance(raw_entries, list):
        raise CatalogError(f"{file_name}: expected [[{table}]] entries, found {type(raw_entries)}")
    specs: dict[str, _Spec] = {}
    for index, raw in enumerate(raw_entries, start=1):
        label = f"{file_name}, [[{table}]] #{index} (id {raw.get('id', '?')!r})"
        spec = _validate(model, raw, label)
        if spec.id in specs:
            raise CatalogError(f"{label}: duplicate id {spec.id!r}; every id must be unique")
        specs[spec.id] = spec
    return specs


def _validate(model: type[_Spec], raw: dict[str, Any], label: str) -> _Spec:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(entry)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise CatalogError(f"{label}: {problems}") from exc


def catalog_from_toml(vehicles_toml: str, chargers_toml: str) -> Catalog:
    """Build a catalog from the text of a vehicles file and a chargers file."""
    return Catalog(
        vehicles=_parse_entries(vehicles_toml, "vehicle", VehicleSpec, VEHICLES_FILE),
        chargers=_parse_entries(chargers_toml, "charger", ChargerSpec, CHARGERS_FILE),
    )


@cache
def load_catalog() -> Catalog:
    """The catalog shipped with voltbridge (read once, then cached)."""
    data = resources.files("voltbridge.catalog").joinpath("data")
    return catalog_from_toml(
        data.joinpath(VEHICLES_FILE).read_text(encoding="utf-8"),
        data.joinpath(CHARGERS_FILE).read_text(encoding="utf-8"),
    )
