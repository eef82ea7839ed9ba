"""The HTML report of `voltbridge simulate --report`: one self-contained page, charts included."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from plotly.offline import get_plotlyjs

from voltbridge.sim.report_charts import (
    ageing_figure,
    featured_strategy,
    flows_figure,
    monthly_bill_figure,
    outage_figure,
    storage_label,
    typical_weeks,
)
from voltbridge.sim.types import Outage, SimTrace
from voltbridge.sim.weather_sources import weather_text
from voltbridge.sim.world import World

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1200px;padding:0 12px 40px;color:#222;line-height:1.45}
h1{font-size:1.5rem;margin:18px 0 6px}h2{font-size:1.2rem;margin:28px 0 6px;
border-bottom:1px solid #ddd}h3{font-size:1.05rem;margin:18px 0 4px}
.meta{color:#555;margin:0 0 4px}.note{color:#555;font-size:.9rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums}
th,td{padding:4px 6px;border-bottom:1px solid #e4e4e4;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left;position:sticky;left:0;background:#fff}
thead th{background:#f4f4f4;vertical-align:bottom;white-space:normal;min-width:3.5em}
tr.featured td{font-weight:600}.headline{font-size:1.1rem;margin:10px 0 16px}.chart{margin:8px 0 18px}
@media (max-width:600px){body{padding:0 6px 30px}table{font-size:.78rem}}
"""

COLUMNS: list[tuple[str, str, int, str]] = [
    ("bill", "bill [{cur}]", 2, "grid bill with fixed charges, plus charging away from home"),
    (
        "program_income",
        "paid by grid programs [{cur}]",
        2,
        "program income: event payments, capacity payments and credits less penalties, "
        "paid beside the bill",
    ),
    ("vs_uncontrolled", "saved against charging as usual [{cur}]", 2, "saving vs uncontrolled"),
    ("vs_smart", "saved against charging in cheap hours [{cur}]", 2, "saving vs smart-charge"),
    ("ageing_cost", "battery wear [{cur}]", 2, "ageing cost: calibrated wear prices"),
    ("import_kwh", "bought from the grid [kWh]", 0, "grid import"),
    ("export_kwh", "sold to the grid [kWh]", 0, "grid export"),
    ("vehicle_to_house_kwh", "car powered the house [kWh]", 0, "V2H energy"),
    ("vehicle_to_grid_kwh", "car sold to the grid [kWh]", 0, "V2G energy"),
    ("equivalent_full_cycles", "full cycles", 1, "equivalent full discharge cycles"),
    ("capacity_fade_pct", "battery capacity lost [%]", 3, "capacity fade, worst car"),
    ("unmet_driving_kwh", "charged away from home [kWh]", 1, "unmet driving energy"),
    ("self_consumption_pct", "own solar used at home [%]", 0, "PV self-consumption"),
    (
        "unserved_essential_kwh",
        "essentials without power in outages [kWh]",
        1,
        "unserved essential load, shed circuits included",
    ),
    (
        "backup",
        "hours of essentials from the batteries, typical / worst 5 %",
        1,
        "backup hours from storage alone, no PV: median / 5th percentile",
    ),
]
"""Summary columns: the key in a strategy's results (or a derived one), heading, decimals."""


def _fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:,.{digits}f}".replace("-", "−")


def summary_table(strategies: dict[str, dict[str, Any]], currency: str, featured: str) -> str:
    """One row per strategy: money [currency], energy [kWh], wear and backup."""
    cur = html.escape(currency)
    base = strategies.get("uncontrolled", {}).get("bill")
    smart = strategies.get("smart-charge", {}).get("bill")
    head = "".join(
        f'<th title="{html.escape(tip)}">{h.format(cur=cur)}</th>' for _, h, _, tip in COLUMNS
    )
    rows = []
    for name, r in strategies.items():
        cells = []
        for key, _, digits, _ in COLUMNS:
            if key == "vs_uncontrolled":
                text = _fmt(None if base is None else base - r["bill"], digits)
            elif key == "vs_smart":
                text = _fmt(None if smart is None else smart - r["bill"], digits)
            elif key == "backup":
                text = (
                    f"{_fmt(r.get('backup_hours_median'), digits)} / "
                    f"{_fmt(r.get('backup_hours_p5'), digits)}"
                )
            else:
                text = _fmt(r.get(key), digits)
            cells.append(f"<td>{text}</td>")
        css = ' class="featured"' if name == featured else ""
        rows.append(f"<tr{css}><td>{html.escape(name)}</td>{''.join(cells)}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr><th>strategy</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


FORECAST_COLUMNS: list[tuple[str, str, str]] = [
    (
        "{key}_mae_kw",
        "voltbridge's forecast missed by [kW]",
        "mean absolute error (MAE) of the day-ahead forecast, hour by hour",
    ),
    (
        "{key}_bias_kw",
        "leaning [kW]",
        "bias: mean of forecast minus actual; positive: the forecast was too high",
    ),
    (
        "baseline_{key}_mae_kw",
        "repeating yesterday missed by [kW]",
        "MAE of the baseline: seasonal naive (load), persistence (PV)",
    ),
    ("baseline_{key}_bias_kw", "leaning [kW]", "bias of the baseline"),
]
"""Forecast-error columns: the key pattern in the JSON's ``forecast``, heading, tooltip."""


def forecast_table(fc: dict[str, Any] | None) -> str:
    """How far the day-ahead forecasts of household use and solar were off, hour by hour, and
    how far repeating yesterday would have been [kW]; a note when no day could be scored."""
    if not fc or not fc.get("days_scored"):
        return (
            '<p class="note">Forecasts not scored: the period has no day with a day before it.</p>'
        )
    head = "".join(f'<th title="{html.escape(tip)}">{h}</th>' for _, h, tip in FORECAST_COLUMNS)
    rows = []
    for key, what in (("load", "household use"), ("pv", "solar")):
        cells = "".join(
            f"<td>{_fmt(fc.get(pattern.format(key=key)), 3)}</td>"
            for pattern, _, _ in FORECAST_COLUMNS
        )
        rows.append(f"<tr><td>{what}</td>{cells}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr><th>forecast</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        f'<p class="note">At the start of each simulated day the controller forecasts the next 24 hours from '
        f"the past only; scored over {int(fc['days_scored'])} days. Household use: "
        f"{html.escape(str(fc.get('load_model', '')))}; baseline: "
        f"{html.escape(str(fc.get('baseline', '')))}. Solar: "
        f"{html.escape(str(fc.get('pv_model', '')))}; baseline: "
        f"{html.escape(str(fc.get('pv_baseline', '')))}.</p>"
    )


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%a %d %b %Y %H:%M")


def _header(result: dict[str, Any], world: World, tz: ZoneInfo) -> str:
    start = datetime.fromisoformat(result["start"])
    end = start + timedelta(days=int(result["days"]))
    outages = "".join(f"<li>{_local(o.start, tz)}, {o.hours:.1f} h</li>" for o in world.outages)
    return (
        f"<h1>{html.escape(str(result['site']))}</h1>"
        f'<p class="meta">{_local(start, tz)} to {_local(end, tz)} ({result["days"]} days; '
        f"times in {html.escape(str(tz))}) · seed {html.escape(str(result['seed']))} · "
        f"weather: {html.escape(weather_text(result['weather']))}</p>"
        f'<p class="meta">Outages: {len(world.outages) or "none"}</p>'
        + (f"<ul>{outages}</ul>" if outages else "")
    )


class _Charts:
    """Numbers the chart divs so that the page is the same for the same inputs."""

    def __init__(self) -> None:
        self.count = 0

    def html(self, fig: Any) -> str:
        self.count += 1
        div: str = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{self.count}",
            config={"responsive": True, "displaylogo": False},
        )
        return f'<div class="chart">{div}</div>'


def _outage_table(traces: dict[str, SimTrace], outage: Outage) -> str:
    """Energy demanded, served, shed (circuits switched off) and unserved [kWh] during
    ``outage``, and the lowest SoC [%]."""
    rows = []
    for name, tr in traces.items():
        edges = tr.grid.edges_s
        sl = slice(
            int(np.searchsorted(edges, outage.start.timestamp(), side="right")) - 1,
            int(np.searchsorted(edges, outage.end.timestamp(), side="left")),
        )
        sl = slice(max(sl.start, 0), min(sl.stop, tr.grid.n))
        dt = tr.grid.dt_h[sl]
        served = float(np.sum(tr.load_kw[sl] * dt))
        unserved = float(np.sum(tr.unserved_kw[sl] * dt))
        shed = 0.0 if tr.shed_kw is None else float(np.sum(tr.shed_kw[sl] * dt))
        demand = served + unserved + shed
        lowest = (
            ", ".join(
                f"{storage_label(s)} {100 * float(s.soc_kwh[sl.start : sl.stop + 1].min()) / s.capacity_kwh:.0f}%"
                for s in tr.storages
            )
            if sl.stop > sl.start
            else "—"
        )
        share = _fmt(100 * served / demand if demand > 0 else None, 0)
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{_fmt(demand, 1)}</td>"
            f"<td>{_fmt(served, 1)}</td><td>{_fmt(shed, 1)}</td><td>{_fmt(unserved, 1)}</td>"
            f"<td>{share}</td>"
            f"<td>{lowest}</td></tr>"
        )
    return (
        '<div class="scroll"><table><thead><tr><th>strategy</th><th>demand [kWh]</th>'
        "<th>served [kWh]</th><th>shed [kWh]</th><th>unserved [kWh]</th><th>served [%]</th>"
        f"<th>lowest SoC</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def render_report(result: dict[str, Any], traces: dict[str, SimTrace], world: World) -> str:
    """The report page as HTML text (plotly's JavaScript inlined: no network needed)."""
    site = world.site
    tz = ZoneInfo(site.location.timezone)
    strategies: dict[str, dict[str, Any]] = result["strategies"]
    featured = featured_strategy(
        {k: float(strategies[k]["bill"]) for k in traces if k in strategies}
        or dict.fromkeys(traces, 0.0)
    )
    charts = _Charts()
    body = [
        _header(result, world, tz),
        *(
            [f'<p class="headline">{html.escape(str(result["headline"]))}</p>']
            if result.get("headline")
            else []
        ),
        "<h2>Strategies compared</h2>",
        summary_table(strategies, site.tariff.currency, featured),
        '<p class="note">Savings are positive when the strategy pays less; full cycles '
        "are the cars' equivalent full discharge cycles. Battery wear is the planner's wear "
        "prices, calibrated on NREL's cell models, applied to what each strategy did (losing "
        "a fifth of a pack's capacity counts as the whole pack); capacity lost is the worst "
        "car's, from the cell models. Backup hours: how long the essential circuits could run from the "
        "storage at home above its reserve, median and 5th percentile over the period.</p>",
        *(
            [f'<p class="note">{html.escape(str(result["programs_note"]))}</p>']
            if result.get("programs_note")
            else []
        ),
    ]
    body += ["<h2>How good the forecasts were</h2>", forecast_table(result.get("forecast"))]
    monthly = {k: v["monthly_bill"] for k, v in strategies.items() if v.get("monthly_bill")}
    if monthly:
        body += [
            "<h2>Monthly bill</h2>",
            charts.html(monthly_bill_figure(monthly, site.tariff.currency)),
        ]
    if traces:
        first = next(iter(traces.values()))
        windows = typical_weeks(first.grid.edges_s, first.pv_kw, tz, site.location.latitude)
        body += [
            "<h2>Power flows</h2>",
            f'<p class="note">Showing <b>{html.escape(featured)}</b>; the menu switches '
            "strategy. 15-minute means; power is positive into a car or battery (charging) "
            "and from the grid (import). Pale car colour: plugged in; red band: reserve; dark "
            "shading: outage.</p>",
        ]
        for w in windows:
            body.append(charts.html(flows_figure(traces, w, featured, tz, world.outages)))
        body.append("<h2>Battery ageing</h2>")
        fade = ageing_figure(traces, tz)
        body.append(
            charts.html(fade)
            if fade is not None
            else '<p class="note">No ageing curve: the period has no whole simulated day.</p>'
        )
        body.append(
            '<p class="note">Fade from blast-lite; the cells are taken to follow the air '
            "temperature (a parked car's pack does, damped).</p>"
        )
        body.append("<h2>Outages</h2>")
        if not world.outages:
            body.append('<p class="note">No outages in this period.</p>')
        else:
            body.append(
                '<p class="note">The rule strategies keep the whole house on as far as PV '
                "and the storage above its reserve allow; the rest is unserved. "
                "<code>optimal</code> runs voltbridge's controller: it islands the house, "
                "sheds circuits by priority (shed) so the essential ones fit, and keeps the "
                "car's mobility reserve.</p>"
            )
        for o in world.outages:
            title = f"{_local(o.start, tz)}, {o.hours:.1f} h"
            body += [
                f"<h3>Outage {title}</h3>",
                _outage_table(traces, o),
                charts.html(outage_figure(traces, o, f"Outage {title}", featured, tz)),
            ]
    title = html.escape(f"voltbridge simulation: {result['site']}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{CSS}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head>'
        f"<body>{''.join(body)}</body></html>\n"
    )


def write_report(
    path: Path, result: dict[str, Any], traces: dict[str, SimTrace], world: World
) -> None:
    """Write the report of ``simulate_site``'s outputs to ``path`` (one HTML file)."""
    path.write_text(render_report(result, traces, world), encoding="utf-8")
