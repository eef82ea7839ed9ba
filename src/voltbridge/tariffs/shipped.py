"""Tariffs shipped with voltbridge (``tariffs/data/*.toml``): load one by id, list them all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from voltbridge.tariffs import registry
from voltbridge.tariffs.errors import TariffError
from voltbridge.tariffs.models import Tariff


@dataclass(frozen=True)
class TariffInfo:
    """What a shipped tariff is and where its figures come from.

    Attributes:
        id: the name a site file uses (``[tariff] name = "..."``).
        title: human-readable name.
        source: the document (and date) the figures were taken from.
        effective: the date the figures took effect.
        currency: ISO 4217 code of its prices.
    """

    id: str
    title: str
    source: str
    effective: date | None
    currency: str


def load_shipped(name: str) -> Tariff:
    """The shipped tariff ``name`` (see :func:`list_shipped`); ``TariffError`` if unknown.

    >>> load_shipped("pge-ev2a").currency
    'USD'
    """
    try:
        table = registry.shipped_table(name)
    except KeyError:
        known = ", ".join(registry.shipped_ids())
        raise TariffError(f"no shipped tariff {name!r}; shipped tariffs are: {known}") from None
    return Tariff.model_validate(table)


def list_shipped() -> list[TariffInfo]:
    """Every shipped tariff with its title, source, effective date and currency."""
    infos = []
    for name in registry.shipped_ids():
        tariff = load_shipped(name)
        infos.append(
            TariffInfo(
                id=name,
                title=tariff.title or name,
                source=tariff.source or "",
                effective=tariff.effective,
                currency=tariff.currency,
            )
        )
    return infos
