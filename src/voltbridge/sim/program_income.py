"""Program income in the simulator: each strategy's grid flow settled on the events drawn for
the period from the site's programs.

The events are drawn once per simulation (``programs.draw``, seeded by the simulation's seed), so
every strategy meets the same events; each strategy's metered grid power is then settled with
``programs.settle``. The planning strategies see the events (``optimal`` from each one's
announcement, through the controller's event book; ``oracle`` all of them) and plan with their
payments (``programs/plan_prices.py``); the rule strategies know no program, so what they earn is
what their ordinary behaviour happens to deliver.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voltbridge.config import Site
from voltbridge.core.timegrid import TimeGrid
from voltbridge.programs.draw import draw_events
from voltbridge.programs.events import ProgramEvent
from voltbridge.programs.settle import ProgramSettlement, settle_program
from voltbridge.sim.types import SimTrace


def draw_site_events(site: Site, grid: TimeGrid, seed: int) -> list[ProgramEvent]:
    """The events of every enabled program of ``site`` over ``grid`` (the simulated period,
    not the world's look-ahead beyond it), in start order."""
    events: list[ProgramEvent] = []
    for entry in site.programs:
        if entry.enabled:
            events += draw_events(entry.program(), grid, site.location.timezone, seed)
    return sorted(events, key=lambda e: (e.start, e.program))


def settle_site(site: Site, trace: SimTrace, events: list[ProgramEvent]) -> list[ProgramSettlement]:
    """Each enabled program settled on the strategy's grid power; a car counts as plugged in
    when any car is."""
    plugged = np.zeros(trace.grid.n, dtype=bool)
    for storage in trace.storages:
        if storage.kind == "vehicle":
            plugged |= np.asarray(storage.plugged_in, dtype=bool)[: trace.grid.n]
    return [
        settle_program(
            entry.program(),
            trace.grid,
            trace.grid_kw,
            events,
            site.location.timezone,
            plugged_in=plugged,
            capacity_kw=entry.capacity_kw,
        )
        for entry in site.programs
        if entry.enabled
    ]


def program_figures(
    site: Site, trace: SimTrace, events: list[ProgramEvent], net_cost: float
) -> dict[str, Any]:
    """The program fields of a strategy in `voltbridge simulate --json`: income [currency]
    (payments and credits less penalties), energy delivered in events [kWh], the net cost
    after it, and each program's parts; 0 without programs. ``net_cost`` itself stays the
    bill's figure, so that a site's results without programs do not change."""
    settled = settle_site(site, trace, events)
    income = sum((s.total for s in settled), 0.0)
    return {
        "program_income": float(income),
        "event_delivered_kwh": float(sum((s.delivered_kwh for s in settled), 0.0)),
        "net_cost_after_programs": net_cost - income,
        "programs": {
            s.program: {
                "income": float(s.total),
                "event_payment": float(s.event_payment),
                "capacity_payment": float(s.capacity_payment),
                "credit": float(s.credit),
                "penalties": float(s.penalties),
                "delivered_kwh": float(s.delivered_kwh),
                "events_paid": sum(1 for e in s.events if e.counted and e.payment > 0),
                "monthly": s.monthly,
            }
            for s in settled
        },
    }


def events_summary(events: list[ProgramEvent]) -> list[dict[str, Any]]:
    """The drawn events for the JSON: program, start (UTC), hours, price [currency/kWh]."""
    return [
        {
            "id": e.event_id,
            "program": e.program,
            "start": e.start.isoformat(),
            "hours": round(e.hours, 3),
            "payment_per_kwh": e.payment_per_kwh,
        }
        for e in events
    ]


def programs_sentence(site: Site, events: list[ProgramEvent], strategies: dict[str, Any]) -> str:
    """One sentence on what the programs paid and what that does to the best earner's net
    cost, for the report."""
    enabled = [p.id for p in site.programs if p.enabled]
    if not enabled:
        return "No utility program is configured for this site, so no program income is counted."
    names = ", ".join(enabled)
    cur = site.tariff.currency
    earned = {k: v for k, v in strategies.items() if v.get("program_income", 0.0) != 0.0}
    if not earned:
        return (
            f"Programs ({names}) paid nothing in this period: {len(events)} events were called "
            "and no strategy delivered against the baseline in them or earned a credit."
        )
    best = max(earned, key=lambda name: earned[name]["program_income"])
    row = earned[best]
    said = (
        f"Programs ({names}) called {len(events)} events ({sum(e.hours for e in events):g} h) "
        f"in this period and pay beside the bill: {best} earned most, "
        f"{row['program_income']:.2f} {cur} for {row['event_delivered_kwh']:.1f} kWh delivered "
        f"against the baseline and any credits, which takes its net cost from "
        f"{row['net_cost']:.2f} to {row['net_cost_after_programs']:.2f} {cur}."
    )
    deaf, heard = strategies.get("optimal-no-programs"), strategies.get("optimal")
    if deaf is not None and heard is not None:
        worth = deaf["net_cost"] - heard["net_cost_after_programs"]
        said += (
            f" Against the same period without the programs, optimal's net cost is "
            f"{heard['net_cost_after_programs']:.2f} instead of {deaf['net_cost']:.2f} {cur}: "
            f"taking part is worth {worth:.2f} {cur} to this home."
        )
    return said
