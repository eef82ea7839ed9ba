"""The linear battery-wear cost the planner puts on each storage: throughput and high-SoC calendar ageing.

The planner needs wear as a price per kWh so that it discharges only when the value beats the
wear. Two linear terms approximate it, both calibrated on NREL's cell models per chemistry and
cell temperature (``battery/calibrate.py``), so that the plan's wear and the simulated capacity
fade agree in direction:

* **cycle wear**: a pack reaches its end of life (``EOL_FADE`` = 20 % of capacity lost) after
  ``cycle_life_efc`` equivalent full cycles, so each kWh discharged (DC side) uses
  ``1 / (cycle_life_efc * capacity)`` of its useful life, worth ``pack_cost_per_kwh /
  cycle_life_efc`` per kWh whatever the size.
* **calendar wear**: cells age faster when held at high state of charge. Between the threshold
  (30 %) and full, the extra fade is ``calendar_extra_fade_per_year`` of capacity per year at
  100 % SoC, growing linearly from the threshold; valued like cycle wear (losing ``EOL_FADE`` uses
  the whole pack), the planner pays it per kWh held above the threshold per hour.

Pack cost: BloombergNEF's 2024 survey average of 115 USD/kWh, rounded up to 130 for replacement
cost; override per site.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from voltbridge.battery.calibrate import CALENDAR_THRESHOLD, EOL_FADE, calibrated

HOURS_PER_YEAR = 8760.0


class BatteryCare(StrEnum):
    """How much weight the household gives battery wear."""

    OFF = "off"
    MODERATE = "moderate"
    STRICT = "strict"


CARE_SCALE: dict[BatteryCare, float] = {
    BatteryCare.OFF: 0.0,
    BatteryCare.MODERATE: 1.0,
    BatteryCare.STRICT: 2.5,
}
"""Multiplier on the wear cost per care level: off ignores wear, strict weighs it 2.5 times."""


@dataclass(frozen=True)
class WearCost:
    """Linear wear prices for one storage.

    Attributes:
        throughput_per_kwh: cost per kWh discharged, DC side [currency/kWh].
        calendar_per_kwh_h: cost per kWh held above ``calendar_threshold_kwh`` per hour
            [currency/(kWh·h)].
        calendar_threshold_kwh: stored energy above which calendar wear is charged [kWh].
    """

    throughput_per_kwh: float
    calendar_per_kwh_h: float
    calendar_threshold_kwh: float


def throughput_cost_per_kwh(pack_cost_per_kwh: float, cycle_life_efc: float) -> float:
    """Wear cost of one kWh discharged [currency/kWh].

    ``pack_cost_per_kwh`` [currency/kWh of capacity], ``cycle_life_efc`` [equivalent full cycles].

    >>> throughput_cost_per_kwh(130.0, 2000.0)
    0.065
    """
    if cycle_life_efc <= 0:
        raise ValueError("cycle_life_efc must be positive")
    return pack_cost_per_kwh / cycle_life_efc


def calendar_cost_per_kwh_h(
    pack_cost_per_kwh: float,
    extra_fade_per_year: float,
    threshold_fraction: float,
) -> float:
    """Calendar-wear cost of holding one kWh above the threshold for one hour [currency/(kWh·h)].

    Holding the whole pack full loses ``extra_fade_per_year`` of its capacity a year, worth
    ``extra_fade_per_year / EOL_FADE`` of the pack; the cost grows linearly over the
    ``(1 - threshold_fraction) * capacity`` kWh above the threshold.

    >>> round(calendar_cost_per_kwh_h(130.0, 0.002, 0.6), 7)
    0.000371
    """
    if not 0.0 <= threshold_fraction < 1.0:
        raise ValueError("threshold_fraction must be in [0, 1)")
    per_year = pack_cost_per_kwh * extra_fade_per_year / EOL_FADE
    return per_year / ((1.0 - threshold_fraction) * HOURS_PER_YEAR)


DEFAULT_CELL_TEMPERATURE_C = 20.0
"""Cell temperature when the site's is not known [°C]: a garage-parked pack's yearly mean."""


def wear_cost(
    capacity_kwh: float,
    chemistry: str = "unknown",
    care: BatteryCare | str = BatteryCare.MODERATE,
    pack_cost_per_kwh: float = 130.0,
    temperature_c: float = DEFAULT_CELL_TEMPERATURE_C,
) -> WearCost:
    """Wear prices for a storage of ``capacity_kwh`` [kWh] whose cells sit at ``temperature_c``
    [°C] on average (the site's mean air temperature), scaled by the care preference.

    >>> w = wear_cost(80.0, "nmc", "moderate", 130.0, 20.0)
    >>> (round(w.throughput_per_kwh, 4), w.calendar_threshold_kwh)
    (0.0184, 24.0)
    >>> wear_cost(80.0, "nmc", "off").throughput_per_kwh
    0.0
    """
    scale = CARE_SCALE[BatteryCare(care)]
    known = chemistry.strip().lower()
    cal = calibrated(known if known in ("nmc", "lfp", "nca") else "unknown", temperature_c)
    return WearCost(
        throughput_per_kwh=scale * throughput_cost_per_kwh(pack_cost_per_kwh, cal.cycle_life_efc),
        calendar_per_kwh_h=scale
        * calendar_cost_per_kwh_h(
            pack_cost_per_kwh, cal.calendar_extra_fade_per_year, CALENDAR_THRESHOLD
        ),
        calendar_threshold_kwh=CALENDAR_THRESHOLD * capacity_kwh,
    )
