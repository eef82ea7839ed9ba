"""Every shipped tariff loads, says where its figures come from, and prices a week quickly."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from voltbridge.core import TimeGrid
from voltbridge.tariffs import TariffError, export_prices, import_prices, list_shipped, load_shipped

WEEKS = {
    "pge-ev2a": datetime(2026, 7, 1, 7, tzinfo=UTC),
    "octopus-flux": datetime(2026, 3, 25, tzinfo=UTC),
    "epex-de-2024-spring": datetime(2024, 3, 25, tzinfo=UTC),
    "epex-de-2023-2024": datetime(2026, 6, 1, tzinfo=UTC),  # repeated outside 2023-2024
}


def test_list_shipped_gives_source_and_effective_date() -> None:
    infos = {info.id: info for info in list_shipped()}
    assert set(infos) == set(WEEKS)
    for info in infos.values():
        assert len(info.source) > 40, info.id
        assert info.effective is not None, info.id
        assert info.title
    assert {info.currency for info in infos.values()} == {"USD", "GBP", "EUR"}


@pytest.mark.parametrize("name", sorted(WEEKS))
def test_a_week_of_15_minute_prices_is_finite(name: str) -> None:
    tariff = load_shipped(name)
    week = TimeGrid.regular(WEEKS[name], 168, 15)
    assert week.n == 672
    prices = import_prices(tariff, week)
    assert np.all(np.isfinite(prices)) and np.all(np.isfinite(export_prices(tariff, week)))
    # (speed is measured by bench/planner.py, not asserted here: CI is a busy machine)


def test_flux_pays_more_for_peak_export_than_night_import_costs() -> None:
    flux = load_shipped("octopus-flux")
    day = TimeGrid.regular(datetime(2026, 1, 14, tzinfo=UTC), 24, 60)
    assert export_prices(flux, day).max() == 0.3593 > import_prices(flux, day).min() == 0.2011


def test_unknown_shipped_tariff() -> None:
    with pytest.raises(TariffError, match="octopus-flux"):
        load_shipped("octopus-agile")
