"""The report's first sentence: what voltbridge would do for this home, in words a household uses.

"With voltbridge this home would save about X a year against charging as usual; the car's
battery would lose about Y % less capacity; in an outage like Z it would keep the fridge, lights
and router on for N hours." Every figure comes from the simulation's results: the saving is
``uncontrolled`` minus ``optimal``, bill plus battery wear less the energy left stored; the capacity is the worst car's fade;
the outage is the longest simulated one (hours its essential circuits were fully served), or,
with none simulated, the median backup from the storage at home alone (PV not counted).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from voltbridge.sim.metrics import essential_unserved_kw
from voltbridge.sim.types import Outage, SimTrace
from voltbridge.sim.world import World

FULL_YEAR_DAYS = 360
"""A period at least this long [days] is reported as a year; shorter ones as themselves."""


def _money(value: float, currency: str) -> str:
    return f"{value:,.0f} {currency}" if abs(value) >= 10 else f"{value:,.2f} {currency}"


def _names(names: list[str]) -> str:
    if not names:
        return "essential circuits"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _served_hours(trace: SimTrace, outage: Outage) -> float:
    """Hours of ``outage`` during which every essential circuit had power [h]."""
    edges = trace.grid.edges_s
    lo = max(int(np.searchsorted(edges, outage.start.timestamp(), side="right")) - 1, 0)
    hi = min(int(np.searchsorted(edges, outage.end.timestamp(), side="left")), trace.grid.n)
    if hi <= lo:
        return 0.0
    essential, _ = essential_unserved_kw(trace)
    ok = essential[lo:hi] <= 1e-6
    return float(np.sum(trace.grid.dt_h[lo:hi][ok]))


def headline(result: dict[str, Any], traces: dict[str, SimTrace], world: World) -> str | None:
    """The sentence, or None when ``uncontrolled`` and ``optimal`` were not both simulated."""
    st = result["strategies"]
    if "uncontrolled" not in st or "optimal" not in st:
        return None
    base, opt = st["uncontrolled"], st["optimal"]
    site = world.site
    cur = site.tariff.currency
    days = int(result["days"])

    def net(s: dict[str, Any]) -> float:  # bill + wear - energy left stored (metrics.py)
        return float(s["net_cost"])

    saving = net(base) - net(opt)
    when = "a year" if days >= FULL_YEAR_DAYS else f"over these {days} days"
    money = _money(abs(saving * (365.0 / days if days >= FULL_YEAR_DAYS else 1.0)), cur)
    if saving >= 0:
        first = (
            f"With voltbridge this home would save about {money} {when} against charging as usual"
        )
    else:
        first = (
            f"With voltbridge this home would pay about {money} {when} more than charging as usual"
        )
    parts = [first]
    # Over a long period, compare the fade a year over the battery's life (the basis of the
    # planner's wear prices): a new pack's first months say more about where its SoC sat.
    life = base.get("life_fade_pct_per_year") is not None and opt.get("life_fade_pct_per_year")
    key = "life_fade_pct_per_year" if life else "capacity_fade_pct"
    over = " over its life" if life else ""
    fade_base, fade_opt = float(base[key]), float(opt[key])
    if fade_base > 0 and world.vehicles:
        rel = 100.0 * (fade_opt - fade_base) / fade_base
        if abs(rel) < 1.0:
            parts.append(f"the car's battery would lose about the same capacity{over}")
        else:
            more = "more" if rel > 0 else "less"
            parts.append(
                f"the car's battery would lose about {abs(rel):.0f} % {more} capacity{over}"
            )
    names = _names([c.name for c in site.circuits if c.essential])
    trace = traces.get("optimal")
    if world.outages and trace is not None:
        outage = max(world.outages, key=lambda o: o.hours)
        tz = ZoneInfo(site.location.timezone)
        start = datetime.fromtimestamp(outage.start.timestamp(), tz)
        served = _served_hours(trace, outage)
        parts.append(
            f"in an outage like the {outage.hours:.0f}-hour one from {start:%d %B %H:%M} it would "
            f"keep the {names} on for {served:.0f} of its {outage.hours:.0f} hours"
        )
    elif site.essential_kw > 0:
        hours = float(opt.get("backup_hours_median", 0.0))
        parts.append(
            f"in an outage at a typical moment the batteries at home alone (not counting PV) "
            f"would keep the {names} on for about {hours:.0f} hours"
        )
    return "; ".join(parts) + "."
