"""The charts of the simulation report: plotly figures built from simulated traces."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from voltbridge.core.timegrid import FloatArray, IntArray
from voltbridge.sim.types import Outage, SimTrace, StorageTrace

BUCKET_S = 900
"""Charts of weeks show 15-minute means [s]: a third of the 5-minute points, same shapes."""
OUTAGE_MARGIN_S = 2 * 3600
"""Time shown before and after each outage [s]."""

STRATEGY_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
STORAGE_COLOURS = ("#2ca02c", "#9467bd", "#17becf", "#8c564b", "#e377c2")
LOAD, PV, GRID, UNSERVED, OUTAGE = "#333333", "#f2b705", "#1f77b4", "#d62728", "#1b2631"
RESERVE = "rgba(214,39,40,0.15)"


@dataclass(frozen=True)
class Window:
    """A stretch of the period shown in a chart: steps ``[start, end)`` of the trace grid."""

    label: str
    start: int
    end: int


def resample_mean(
    edges_s: IntArray, values: FloatArray, bucket_s: int = BUCKET_S
) -> tuple[IntArray, FloatArray]:
    """Time-weighted means of per-step ``values`` over buckets of ``bucket_s`` [s] counted from
    the first edge; the bucket starts [s since the epoch] and the means [value unit].

    >>> starts, means = resample_mean(np.array([0, 300, 600, 900, 1200]), np.array([1.0, 2, 3, 5]))
    >>> starts.tolist(), means.tolist()
    ([0, 900], [2.0, 5.0])
    """
    dt = np.diff(edges_s).astype(np.float64)
    bins = (edges_s[:-1] - edges_s[0]) // bucket_s
    weight = np.bincount(bins, weights=dt)
    total = np.bincount(bins, weights=values * dt)
    used = weight > 0
    starts: IntArray = (edges_s[0] + np.flatnonzero(used) * bucket_s).astype(np.int64)
    means: FloatArray = total[used] / weight[used]
    return starts, means


def local_ms(seconds: Sequence[int] | IntArray, tz: ZoneInfo) -> FloatArray:
    """UTC instants [s since the epoch] as local wall-clock times [ms], as plotly's date axes
    show them (they know no time zones)."""
    offsets = [datetime.fromtimestamp(int(s), UTC).astimezone(tz).utcoffset() for s in seconds]
    shift = np.array([o.total_seconds() if o is not None else 0.0 for o in offsets])
    result: FloatArray = (np.asarray(seconds, dtype=np.float64) + shift) * 1000.0
    return result


def xy(x_ms: FloatArray, y: FloatArray) -> dict[str, Any]:
    """A trace's coordinates, compact: ``x0`` and ``dx`` where the times are evenly spaced (no
    clock change in the window) and values as 32-bit floats (plotly sends arrays as base64)."""
    y32 = np.asarray(y, dtype=np.float32)
    steps = np.diff(x_ms)
    if steps.size and np.all(steps == steps[0]):
        return {"x0": float(x_ms[0]), "dx": float(steps[0]), "y": y32}
    return {"x": x_ms, "y": y32}


def typical_weeks(
    edges_s: IntArray, pv_kw: FloatArray, tz: ZoneInfo, latitude: float
) -> list[Window]:
    """A summer and a winter week: the weeks around the solstices where the period has them,
    otherwise the sunniest and the least sunny week; the whole period if it is a week or less."""
    day_s, t0, t_end = 86400, int(edges_s[0]), int(edges_s[-1])
    if t_end - t0 <= 7 * day_s:
        return [Window("the whole period", 0, pv_kw.size)]
    days = -(-(t_end - t0) // day_s)
    dt_h = np.diff(edges_s) / 3600.0
    daily = np.bincount((edges_s[:-1] - t0) // day_s, weights=pv_kw * dt_h, minlength=days)
    weekly = np.convolve(daily, np.ones(7), mode="valid")  # week k: days k..k+6

    def solstice_week(month: int) -> int | None:
        first, last = (datetime.fromtimestamp(t, tz).year for t in (t0, t_end))
        for year in range(first, last + 1):
            moment = datetime(year, month, 21, 12, tzinfo=tz).timestamp()
            if t0 <= moment < t_end:
                return int(np.clip((moment - t0) // day_s - 3, 0, weekly.size - 1))
        return None

    summer_month, winter_month = (6, 12) if latitude >= 0 else (12, 6)
    picks = []
    for season, month, fallback, pick in (
        ("summer", summer_month, "sunniest week", int(np.argmax(weekly))),
        ("winter", winter_month, "least sunny week", int(np.argmin(weekly))),
    ):
        at = solstice_week(month)
        picks.append(
            (fallback, pick) if at is None else (f"{season} week (around the solstice)", at)
        )
    windows: list[Window] = []
    for label, k in picks:
        start = int(np.searchsorted(edges_s, t0 + k * day_s, side="right")) - 1
        end = min(int(np.searchsorted(edges_s, t0 + (k + 7) * day_s, side="left")), pv_kw.size)
        if all(w.start != start for w in windows):
            windows.append(Window(label, start, end))
    return windows


def featured_strategy(bills: dict[str, float]) -> str:
    """The strategy whose flows the report shows first: "optimal" if it ran, else the cheapest
    strategy other than the clairvoyant "oracle"."""
    if "optimal" in bills:
        return "optimal"
    candidates = {k: v for k, v in bills.items() if k != "oracle"} or bills
    return min(candidates, key=lambda k: candidates[k])


def _label(text: str) -> str:
    """Plotly reads labels as a little HTML; show names as written."""
    return html.escape(text, quote=False)


def _rgba(colour: str, alpha: float) -> str:
    """``#rrggbb`` as a CSS colour with opacity ``alpha``."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def storage_label(s: StorageTrace) -> str:
    """How charts and tables name a storage (escaped)."""
    return "home battery" if s.kind == "battery" else _label(s.name)


def _strategy_menu(fig: Any, owners: list[str], names: list[str], shown: str) -> None:
    """Show one strategy's traces at a time (``owners[i]`` is the strategy of trace ``i``; ""
    marks traces every strategy shares) with a dropdown to switch."""
    for trace, owner in zip(fig.data, owners, strict=True):
        trace.visible = owner in ("", shown)
    if len(names) < 2:
        return
    buttons = [
        {
            "label": _label(n),
            "method": "restyle",
            "args": ["visible", [o in ("", n) for o in owners]],
        }
        for n in names
    ]
    fig.update_layout(
        updatemenus=[
            {
                "buttons": buttons,
                "active": names.index(shown),
                "x": 0,
                "y": 1.02,
                "xanchor": "left",
                "yanchor": "bottom",
                "direction": "down",
            }
        ]
    )


def _layout(fig: Any, title: str, height: int) -> None:
    fig.update_layout(
        title={"text": title, "x": 0.5, "xanchor": "center", "font": {"size": 15}},
        height=height,
        margin={"l": 50, "r": 10, "t": 70, "b": 30},
        hovermode="x unified",
        # Below the two-line date ticks, about 45 px under the plot area whatever its height.
        legend={"orientation": "h", "y": -45 / (height - 100), "yanchor": "top"},
        template="plotly_white",
    )


def _shade_outages(fig: Any, outages: list[Outage], t0: int, t1: int, tz: ZoneInfo) -> None:
    for o in outages:
        a, b = max(int(o.start.timestamp()), t0), min(int(o.end.timestamp()), t1)
        if a < b:
            x0, x1 = local_ms([a, b], tz)
            fig.add_vrect(
                x0=x0, x1=x1, fillcolor=OUTAGE, opacity=0.14, line_width=0, row="all", col=1
            )


def _soc_traces(
    fig: Any,
    s: StorageTrace,
    colour: str,
    x: FloatArray,
    pick: IntArray,
    edges_x: FloatArray,
    plugged: FloatArray | None,
) -> int:
    """SoC [%], its reserve band and (cars) the plugged-in periods, in the second panel."""
    name = storage_label(s)
    to_pct = 100.0 / s.capacity_kwh
    if plugged is not None:
        fig.add_trace(
            go.Scatter(
                **xy(x, plugged * 100.0),
                name=f"{name} plugged in",
                mode="lines",
                line={"width": 0, "shape": "hv"},
                fill="tozeroy",
                fillcolor=_rgba(colour, 0.12),
                hoverinfo="skip",
            ),
            row=2,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            **xy(edges_x, s.reserve_kwh[pick] * to_pct),
            name=f"{name} reserve",
            mode="lines",
            line={"width": 0},
            fill="tozeroy",
            fillcolor=RESERVE,
            hoverinfo="skip",
        ),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            **xy(edges_x, s.soc_kwh[pick] * to_pct),
            name=f"{name} SoC %",
            mode="lines",
            line={"color": colour, "width": 2},
        ),
        row=2,
        col=1,
    )
    return 3 if plugged is not None else 2


def flows_figure(
    traces: dict[str, SimTrace],
    window: Window,
    shown: str,
    tz: ZoneInfo,
    outages: list[Outage],
    bucket_s: int = BUCKET_S,
) -> Any:
    """Power flows (load, PV used, grid, each storage) [kW] above each storage's SoC [%] over
    ``window``, one strategy at a time; outages shaded."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.05
    )
    owners: list[str] = []
    for name, tr in traces.items():
        edges = tr.grid.edges_s[window.start : window.end + 1]

        def mean(values: FloatArray, edges: IntArray = edges) -> FloatArray:
            return resample_mean(edges, values[window.start : window.end], bucket_s)[1]

        starts = resample_mean(edges, np.zeros(edges.size - 1), bucket_s)[0]
        x = local_ms(starts, tz)
        pick = window.start + np.searchsorted(edges, np.append(starts, edges[-1]))
        edges_x = local_ms(np.append(starts, edges[-1]), tz)
        series = [
            ("PV used", PV, mean(tr.pv_used_kw), "tozeroy"),
            ("load", LOAD, mean(tr.load_kw), None),
            ("grid (import +, export −)", GRID, mean(tr.grid_kw), None),
        ]
        if np.any(tr.unserved_kw[window.start : window.end] > 0):
            series.append(("unserved load", UNSERVED, mean(tr.unserved_kw), "tozeroy"))
        for i, s in enumerate(tr.storages):
            colour = STORAGE_COLOURS[i % len(STORAGE_COLOURS)]
            series.append((f"{storage_label(s)} (charging +)", colour, mean(s.power_kw), None))
        for label, colour, y, fill in series:
            fig.add_trace(
                go.Scatter(
                    **xy(x, y),
                    name=label,
                    mode="lines",
                    fill=fill,
                    line={"color": colour, "width": 1.5},
                ),
                row=1,
                col=1,
            )
        owners += [name] * len(series)
        for i, s in enumerate(tr.storages):
            colour = STORAGE_COLOURS[i % len(STORAGE_COLOURS)]
            plugged = mean(s.plugged_in.astype(np.float64)) if s.kind == "vehicle" else None
            owners += [name] * _soc_traces(fig, s, colour, x, pick, edges_x, plugged)
    first = next(iter(traces.values())).grid.edges_s
    _shade_outages(fig, outages, int(first[window.start]), int(first[window.end]), tz)
    _strategy_menu(fig, owners, list(traces), shown)
    _layout(fig, f"Power flows, {window.label}", 620)
    fig.update_xaxes(type="date")
    fig.update_yaxes(title_text="kW", row=1, col=1)
    fig.update_yaxes(title_text="SoC %", range=[0, 100], row=2, col=1)
    return fig


def monthly_bill_figure(monthly: dict[str, dict[str, float]], currency: str) -> Any:
    """Grid bill per month [currency], one bar per strategy."""
    fig = go.Figure()
    for i, (name, months) in enumerate(monthly.items()):
        fig.add_trace(
            go.Bar(
                x=list(months),
                y=list(months.values()),
                name=_label(name),
                marker_color=STRATEGY_COLOURS[i % len(STRATEGY_COLOURS)],
            )
        )
    _layout(fig, f"Monthly grid bill [{_label(currency)}]", 380)
    fig.update_layout(barmode="group", hovermode="closest")
    fig.update_xaxes(type="category")
    return fig


def ageing_figure(traces: dict[str, SimTrace], tz: ZoneInfo) -> Any | None:
    """Capacity fade [%] at the end of each simulated day, per strategy and storage; None when
    no trace has a fade curve."""
    if not any(s.fade_curve_pct.size for tr in traces.values() for s in tr.storages):
        return None
    fig = go.Figure()
    for i, (name, tr) in enumerate(traces.items()):
        t0 = int(tr.grid.edges_s[0])
        for j, s in enumerate(tr.storages):
            days = s.fade_curve_pct.size
            x = local_ms(t0 + 86400 * np.arange(days + 1), tz)
            fig.add_trace(
                go.Scatter(
                    **xy(x, np.concatenate(([0.0], s.fade_curve_pct))),
                    mode="lines",
                    name=f"{_label(name)}: {storage_label(s)}",
                    line={
                        "color": STRATEGY_COLOURS[i % len(STRATEGY_COLOURS)],
                        "dash": ("solid", "dash", "dot")[j % 3],
                    },
                )
            )
    _layout(fig, "Capacity fade [%]", 380)
    fig.update_xaxes(type="date")
    fig.update_yaxes(title_text="%", rangemode="tozero")
    return fig


def outage_window(trace: SimTrace, outage: Outage) -> Window:
    """The steps of ``trace`` from ``OUTAGE_MARGIN_S`` before ``outage`` to as long after it."""
    edges = trace.grid.edges_s
    a = int(outage.start.timestamp()) - OUTAGE_MARGIN_S
    b = int(outage.end.timestamp()) + OUTAGE_MARGIN_S
    start = max(int(np.searchsorted(edges, a, side="right")) - 1, 0)
    end = min(int(np.searchsorted(edges, b, side="left")), trace.grid.n)
    return Window("outage", start, end)


def outage_figure(
    traces: dict[str, SimTrace], outage: Outage, title: str, shown: str, tz: ZoneInfo
) -> Any:
    """Load served and unserved [kW] (stacked: their sum is the demand) and PV used through an
    outage, above each storage's SoC [%]."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.55, 0.45], vertical_spacing=0.05
    )
    owners: list[str] = []
    for name, tr in traces.items():
        w = outage_window(tr, outage)
        sl = slice(w.start, w.end)
        steps = tr.grid.edges_s[w.start : w.end + 1]
        x, edges_x = local_ms(steps[:-1], tz), local_ms(steps, tz)
        pick = np.arange(w.start, w.end + 1)
        for label, colour, y in (
            ("load served", LOAD, tr.load_kw[sl]),
            ("load unserved", UNSERVED, tr.unserved_kw[sl]),
        ):
            fig.add_trace(
                go.Scatter(
                    **xy(x, y),
                    name=label,
                    stackgroup="load",
                    mode="lines",
                    line={"color": colour, "width": 1, "shape": "hv"},
                ),
                row=1,
                col=1,
            )
        fig.add_trace(
            go.Scatter(
                **xy(x, tr.pv_used_kw[sl]),
                name="PV used",
                mode="lines",
                line={"color": PV, "shape": "hv"},
            ),
            row=1,
            col=1,
        )
        owners += [name] * 3
        for i, s in enumerate(tr.storages):
            colour = STORAGE_COLOURS[i % len(STORAGE_COLOURS)]
            plugged = s.plugged_in[sl].astype(np.float64) if s.kind == "vehicle" else None
            owners += [name] * _soc_traces(fig, s, colour, x, pick, edges_x, plugged)
    first = next(iter(traces.values())).grid.edges_s
    _shade_outages(fig, [outage], int(first[0]), int(first[-1]), tz)
    _strategy_menu(fig, owners, list(traces), shown)
    _layout(fig, title, 520)
    fig.update_xaxes(type="date")
    fig.update_yaxes(title_text="kW", row=1, col=1)
    fig.update_yaxes(title_text="SoC %", range=[0, 100], row=2, col=1)
    return fig
