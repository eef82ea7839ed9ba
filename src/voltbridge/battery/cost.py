"""The linear battery-wear cost the planner puts on each storage: throughput and high-SoC calendar ageing.

The planner needs wear as a price per kWh so that it discharges only when the value beats the
wear. Two linear terms approximate it:

* **cycle wear**: a pack loses about ``eol_fade`` of its capacity over ``cycle_life_efc``
  equivalent full cycles, so each kWh discharged (DC side) uses ``1 / (cycle_life_efc * capacity)``
  of its useful life, worth ``pack_cost_per_kwh / cycle_life_efc`` per kWh whatever the size.
* **calendar wear**: lithium-ion cells age faster when held at high state of charge. Between
  ``calendar_threshold`` and full, the extra fade is taken as ``calendar_extra_fade_per_year``
  of capacity per year at 100 % SoC, growing linearly from the threshold; the planner pays it per
  kWh held above the threshold per hour.

Defaults come from public literature: NMC cells reach 80 % capacity after roughly 1,500-3,000
full cycles and LFP after 3,000-6,000 (e.g. Preger et al., J. Electrochem. Soc. 167 (2020) 120532);
calendar fade at 100 % vs 50 % SoC and 25 °C differs by roughly 1-3 % of capacity a year
(Keil et al., J. Electrochem. Soc. 163 (2016) A1872). Pack cost: BloombergNEF's 2024 survey
average of 115 USD/kWh, rounded up to 130 for replacement cost; override per site.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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

CYCLE_LIFE_EFC: dict[str, float] = {"nmc": 2000.0, "nca": 1500.0, "lfp": 4000.0, "unknown": 2000.0}
"""Equivalent full cycles to 80 % capacity per chemistry [cycles] (conservative mid-range values)."""


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

    Holding the whole pack full costs ``pack_cost * capacity * extra_fade_per_year`` per year; the
    cost grows linearly over the ``(1 - threshold_fraction) * capacity`` kWh above the threshold.

    >>> round(calendar_cost_per_kwh_h(130.0, 0.02, 0.5), 7)
    0.0005936
    """
    if not 0.0 <= threshold_fraction < 1.0:
        raise ValueError("threshold_fraction must be in [0, 1)")
    return pack_cost_per_kwh * extra_fade_per_year / ((1.0 - threshold_fraction) * HOURS_PER_YEAR)


def wear_cost(
    capacity_kwh: float,
    chemistry: str = "unknown",
    care: BatteryCare | str = BatteryCare.MODERATE,
    pack_cost_per_kwh: float = 130.0,
    calendar_extra_fade_per_year: float = 0.02,
    calendar_threshold: float = 0.6,
) -> WearCost:
    """Wear prices for a storage of ``capacity_kwh`` [kWh], scaled by the care preference.

    ``calendar_threshold`` is a fraction of capacity; LFP cells age less with high SoC, so their
    calendar term is halved.

    >>> w = wear_cost(80.0, "nmc", "moderate")
    >>> (w.throughput_per_kwh, w.calendar_threshold_kwh)
    (0.065, 48.0)
    >>> wear_cost(80.0, "nmc", "off").throughput_per_kwh
    0.0
    """
    scale = CARE_SCALE[BatteryCare(care)]
    chem = chemistry if chemistry in CYCLE_LIFE_EFC else "unknown"
    calendar_fade = calendar_extra_fade_per_year * (0.5 if chem == "lfp" else 1.0)
    return WearCost(
        throughput_per_kwh=scale * throughput_cost_per_kwh(pack_cost_per_kwh, CYCLE_LIFE_EFC[chem]),
        calendar_per_kwh_h=scale
        * calendar_cost_per_kwh_h(pack_cost_per_kwh, calendar_fade, calendar_threshold),
        calendar_threshold_kwh=calendar_threshold * capacity_kwh,
    )
