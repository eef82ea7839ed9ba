"""A paid event as the plan sees it: a price on the grid power in the event's window.

A program pays ``payment_per_kwh`` for each kWh delivered against its baseline. With a baseline
that does not depend on what the household does in the window (the programs' averages over past
days, or zero export), delivered energy is ``baseline - net import`` (``reduce``) or the energy
exported (``export``), so the payment is linear in the plan's grid flows:

- ``reduce``: every kWh imported in the window costs ``payment`` more (a kWh less would have been
  paid) and every kWh exported earns ``payment`` more. Both prices move by the same amount, so the
  spread between import and export, and with it every arbitrage, stays what the tariff makes it.
- ``export`` (a zero-export baseline): only export earns ``payment`` more.

The plan then decides how much to deliver, inside its hard limits: the cars' mobility reserves,
departure targets, warranty allowances and the backup reserve are constraints of the LP, never
prices, so no payment can buy them. A step that only partly overlaps a window gets the payment
in proportion to the overlap (the plan's power is constant across a step).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from voltbridge.core.timegrid import FloatArray, TimeGrid
from voltbridge.programs.events import ProgramEvent


def window_share(grid: TimeGrid, event: ProgramEvent) -> FloatArray:
    """Per step, the share of the step that lies in the event's window (0..1)."""
    start_s, end_s = event.start.timestamp(), event.end.timestamp()
    a = grid.edges_s[:-1].astype(np.float64)
    b = grid.edges_s[1:].astype(np.float64)
    overlap = np.clip(np.minimum(b, end_s) - np.maximum(a, start_s), 0.0, None)
    share: FloatArray = overlap / (b - a)
    return share


def event_price_adders(
    grid: TimeGrid, events: Iterable[ProgramEvent]
) -> tuple[FloatArray, FloatArray]:
    """What the events add to the import and the export price per step [currency/kWh].

    Returns ``(import_adder, export_adder)``, each of length ``grid.n``, >= 0. Overlapping events
    add up (each pays for the same kWh under its own program). Callers pass only the events the
    household takes part in.
    """
    import_adder = np.zeros(grid.n)
    export_adder = np.zeros(grid.n)
    for event in events:
        if event.end.timestamp() <= grid.edges_s[0] or event.start.timestamp() >= grid.edges_s[-1]:
            continue
        paid = event.payment_per_kwh * window_share(grid, event)
        export_adder += paid
        if event.kind == "reduce":
            import_adder += paid
    return import_adder, export_adder
