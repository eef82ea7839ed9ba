"""Tariffs: import/export prices, time-of-use periods, dynamic price series, demand charges, bills.

Turn a :class:`Tariff` into price vectors on a :class:`~voltbridge.core.TimeGrid` with
:func:`import_prices` and :func:`export_prices`, find demand-charge windows with
:func:`demand_windows`, and price a grid power series with :func:`bill`.
"""

from voltbridge.tariffs.bill import Bill, bill
from voltbridge.tariffs.errors import TariffError
from voltbridge.tariffs.models import Tariff
from voltbridge.tariffs.shipped import TariffInfo, list_shipped, load_shipped
from voltbridge.tariffs.vectors import (
    DemandWindow,
    coverage_warnings,
    demand_windows,
    export_prices,
    import_prices,
)

__all__ = [
    "Bill",
    "DemandWindow",
    "Tariff",
    "TariffError",
    "TariffInfo",
    "bill",
    "coverage_warnings",
    "demand_windows",
    "export_prices",
    "import_prices",
    "list_shipped",
    "load_shipped",
]
