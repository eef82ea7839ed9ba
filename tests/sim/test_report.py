"""The simulation report: one self-contained HTML page whose charts draw in a real browser."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from voltbridge.config import load_site
from voltbridge.core.timegrid import TimeGrid
from voltbridge.sim import simulate_site
from voltbridge.sim.report import render_report, write_report
from voltbridge.sim.report_charts import (
    featured_strategy,
    flows_figure,
    local_ms,
    resample_mean,
    typical_weeks,
    xy,
)
from voltbridge.sim.types import Outage, SimTrace, StorageTrace
from voltbridge.sim.weather import TmyFile
from voltbridge.sim.world import World

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "ev9-california.toml"
ARTIFACTS = ROOT / "test-artifacts"
TZ = ZoneInfo("America/Los_Angeles")
SITE_NAME = 'Maple & Oak <b>"home"</b>'
STRATEGY_NAMES = ("uncontrolled", "smart-charge", "optimal", "oracle")


def _storage(
    name: str,
    kind: str,
    cap: float,
    power: np.ndarray,
    plugged: np.ndarray,
    drive: np.ndarray,
    fade: bool,
) -> StorageTrace:
    dt_h = 5 / 60
    soc = np.clip(0.6 * cap + np.concatenate(([0.0], np.cumsum(power * dt_h - drive))), 0, cap)
    days = power.size // 288
    return StorageTrace(
        name=name,
        kind=kind,
        capacity_kwh=cap,
        power_kw=power,
        soc_kwh=soc,
        plugged_in=plugged,
        driving_kwh=drive,
        away_charging_kwh=np.zeros(power.size),
        losses_kwh=0.05 * np.abs(power) * dt_h,
        reserve_kwh=np.full(power.size + 1, 0.25 * cap),
        capacity_fade_pct=0.002 * days if fade else 0.0,
        fade_curve_pct=np.arange(1, days * fade + 1, dtype=np.float64) * 0.002,
    )


def synthetic(
    start: datetime, days: int, outages: list[Outage], fade: bool = True
) -> tuple[dict[str, Any], dict[str, SimTrace], World]:
    """A hand-made world and traces: a car commuting 8:00-17:30 and a home battery, PV that
    grows day by day, an evening load peak; each strategy charges or discharges differently."""
    site = load_site(EXAMPLE).model_copy(update={"name": SITE_NAME})
    grid = TimeGrid.regular(start, days * 24, 5, align=False)
    n = grid.n
    hour = ((grid.starts_s - grid.starts_s[0]) / 3600.0) % 24
    day = (grid.starts_s - grid.starts_s[0]) // 86400
    pv = np.clip(6 * np.sin(np.pi * (hour - 6) / 14), 0, None) * (0.5 + day / days)
    load = 0.5 + 1.5 * np.exp(-(((hour - 19) / 2) ** 2))
    away = (hour >= 8) & (hour < 17.5)
    drive = np.where(np.isclose(hour, 17.5), 15.0, 0.0)
    up = np.ones(n, dtype=bool)
    for o in outages:
        up[grid.step_at(o.start) : grid.step_at(o.end)] = False
    traces: dict[str, SimTrace] = {}
    result_rows: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(STRATEGY_NAMES):
        car = np.where(~away & (hour >= 17.5) & (hour < 17.5 + 1.5 + k), 11.0 - 2 * k, 0.0)
        if k >= 2:  # the planned strategies cover the evening peak from the car
            car = np.where(~away & (hour >= 19) & (hour < 22), -3.0, car)
            car = np.where(~away & (hour < 4), 5.0, car)
        battery = np.where(hour < 14, 0.0, np.where(hour < 16, 2.0, -1.0)) * (k >= 1)
        unserved = np.where(up, 0.0, np.clip(load - pv - np.maximum(-car, 0), 0, None))
        served = load - unserved
        grid_kw = np.where(up, served + car + battery - pv, 0.0)
        traces[name] = SimTrace(
            strategy=name,
            grid=grid,
            price_import=np.full(n, 0.3),
            price_export=np.full(n, 0.05),
            pv_kw=pv,
            pv_used_kw=pv,
            load_kw=served,
            unserved_kw=unserved,
            grid_kw=grid_kw,
            grid_up=up,
            storages=[
                _storage("ev9", "vehicle", 99.8, car, ~away, drive, fade),
                _storage("battery", "battery", 13.5, battery, np.ones(n, bool), np.zeros(n), fade),
            ],
        )
        bill = 90.0 - 12.5 * k
        result_rows[name] = {
            "bill": bill,
            "ageing_cost": 2.0 + k / 4,
            "import_kwh": 200.0 - 5 * k,
            "export_kwh": 40.0,
            "vehicle_to_house_kwh": 8.0 * k,
            "vehicle_to_grid_kwh": 0.0,
            "equivalent_full_cycles": 0.1 * k,
            "capacity_fade_pct": 0.02,
            "unmet_driving_kwh": 0.0,
            "self_consumption_pct": 60.0 + k,
            "backup_hours_median": 60.0,
            "backup_hours_p5": 12.0,
            "monthly_bill": {"2026-06": bill * 0.6, "2026-07": bill * 0.4},
        }
    world = World(
        site=site,
        grid=grid,
        n_sim=n,
        price_import=np.full(n, 0.3),
        price_export=np.full(n, 0.05),
        pv_kw=pv,
        clearsky_pv_kw=pv,
        temp_air_c=np.full(n, 20.0),
        load_kw=load,
        essential_kw=np.minimum(load, 0.5),
        grid_up=up,
        outages=outages,
        vehicles=[],
        weather=TmyFile(Path("tmy.csv"), "TEST <STATION>", 12.0),
        seed=7,
    )
    result = {
        "site": SITE_NAME,
        "start": grid.start.isoformat(),
        "days": days,
        "seed": 7,
        "weather": "TEST <STATION> TMY (12 km away)",
        "outages": [{"start": o.start.isoformat(), "hours": o.hours} for o in outages],
        "strategies": result_rows,
    }
    return result, traces, world


@pytest.fixture(scope="module")
def fortnight() -> tuple[dict[str, Any], dict[str, SimTrace], World]:
    """Ten days around the June solstice with one evening outage."""
    start = datetime(2026, 6, 17, tzinfo=TZ)
    outage = Outage(datetime(2026, 6, 19, 18, tzinfo=TZ), datetime(2026, 6, 19, 21, 30, tzinfo=TZ))
    return synthetic(start, 10, [outage])


def test_resample_mean_weighs_by_duration() -> None:
    edges = np.array([0, 600, 900, 1800, 2000])
    starts, means = resample_mean(edges, np.array([1.0, 4.0, 2.0, 8.0]))
    assert starts.tolist() == [0, 900, 1800]
    assert means.tolist() == pytest.approx([2.0, 2.0, 8.0])


def test_evenly_spaced_times_are_sent_as_start_and_step() -> None:
    even = xy(np.array([0.0, 900e3, 1800e3]), np.array([1.0, 2.0, 3.0]))
    assert (even["x0"], even["dx"], even["y"].dtype) == (0.0, 900e3, np.float32)
    # The clocks go back an hour on 1 November 2026 in California: local times repeat.
    edges = int(datetime(2026, 11, 1, 0, tzinfo=TZ).timestamp()) + 3600 * np.arange(4)
    uneven = xy(local_ms(edges, TZ), np.zeros(4))
    assert np.diff(uneven["x"]).tolist() == [3600e3, 0.0, 3600e3]


def test_typical_weeks() -> None:
    day = 86400
    t0 = int(datetime(2026, 3, 1, tzinfo=TZ).timestamp())
    # A week or less: the whole period.
    edges = t0 + np.arange(0, 5 * day + 1, 3600)
    assert [(w.start, w.end) for w in typical_weeks(edges, np.ones(edges.size - 1), TZ, 38)] == [
        (0, 120)
    ]
    # No solstice (March-April): the sunniest and the least sunny week, by PV energy.
    edges = t0 + np.arange(0, 40 * day + 1, 3600)
    pv = np.ones(edges.size - 1)
    pv[30 * 24 : 37 * 24] = 5.0
    pv[2 * 24 : 9 * 24] = 0.0
    weeks = typical_weeks(edges, pv, TZ, 38)
    assert [(w.label, w.start, w.end) for w in weeks] == [
        ("sunniest week", 30 * 24, 37 * 24),
        ("least sunny week", 2 * 24, 9 * 24),
    ]
    # A year: the weeks around the solstices (southern hemisphere: December is summer).
    edges = t0 + np.arange(0, 365 * day + 1, 3600)
    weeks = typical_weeks(edges, np.ones(edges.size - 1), TZ, -33)
    days = [datetime.fromtimestamp(int(edges[w.start]), TZ).date().isoformat() for w in weeks]
    assert days == ["2026-12-18", "2026-06-18"]


def test_featured_strategy() -> None:
    assert featured_strategy({"uncontrolled": 3.0, "optimal": 2.0, "oracle": 1.0}) == "optimal"
    assert featured_strategy({"uncontrolled": 3.0, "v2h-rules": 2.0, "oracle": 1.0}) == "v2h-rules"
    assert featured_strategy({"oracle": 1.0}) == "oracle"


def test_flows_show_one_strategy_at_a_time_and_shade_outages(fortnight: Any) -> None:
    _, traces, world = fortnight
    first = traces["optimal"]
    weeks = typical_weeks(first.grid.edges_s, first.pv_kw, TZ, 38)
    fig = flows_figure(traces, weeks[0], "optimal", TZ, world.outages)
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == list(STRATEGY_NAMES)
    masks = np.array([b.args[1] for b in buttons])
    assert masks.shape == (len(STRATEGY_NAMES), len(fig.data))
    assert (masks.sum(axis=0) == 1).all()  # every trace belongs to one strategy
    assert [t.visible for t in fig.data] == masks[STRATEGY_NAMES.index("optimal")].tolist()
    assert len(fig.layout.shapes) == 2  # the outage on 19 June, in both panels


def test_report_is_self_contained_and_escaped(fortnight: Any) -> None:
    page = render_report(*fortnight)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script src" not in page.lower()
    assert not re.search(
        r"""<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*["']?https?:""", page, re.IGNORECASE
    )
    for name in STRATEGY_NAMES:
        assert f"<td>{name}</td>" in page
    assert html.escape(SITE_NAME) in page and SITE_NAME not in page
    assert "TEST &lt;STATION&gt;" in page and "<STATION>" not in page
    # Monthly bill, summer and winter week, ageing, one outage.
    assert len(re.findall(r'<div id="chart-\d+"', page)) == 5
    assert "sheds circuits by priority" in page
    assert "Fri 19 Jun 2026 18:00" in page  # the outage, in the site's local time
    assert len(page.encode()) < 6_000_000


def test_report_handles_no_fade_curve_and_no_outage(tmp_path: Path) -> None:
    result, traces, world = synthetic(datetime(2026, 1, 5, 9, tzinfo=TZ), 1, [], fade=False)
    write_report(tmp_path / "r.html", result, traces, world)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "No ageing curve" in page and "No outages in this period" in page
    assert len(re.findall(r'<div id="chart-\d+"', page)) == 2  # monthly bill, the whole period


def test_report_of_a_simulated_site(tmp_path: Path) -> None:
    site = load_site(EXAMPLE)
    result, traces, world = simulate_site(
        site, datetime(2026, 6, 15, tzinfo=TZ), 3, ["uncontrolled", "optimal"], seed=1
    )
    write_report(tmp_path / "r.html", result, traces, world)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.escape(site.name) in page
    assert "<td>uncontrolled</td>" in page and '<tr class="featured"><td>optimal</td>' in page


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("VOLTBRIDGE_SKIP_BROWSER") == "1":
            pytest.skip("VOLTBRIDGE_SKIP_BROWSER=1: report not opened in a browser")
        pytest.fail(
            "the report test needs a headless browser: install Debian's chromium "
            "(sudo apt-get install -y chromium), or set VOLTBRIDGE_SKIP_BROWSER=1 to skip"
        )
    return found


def test_report_draws_in_chromium(fortnight: Any, tmp_path: Path) -> None:
    browser = _chromium()
    report = tmp_path / "report.html"
    write_report(report, *fortnight)
    charts = len(re.findall(r'<div id="chart-\d+"', report.read_text(encoding="utf-8")))
    base = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
    ]
    dom = subprocess.run(
        [*base, "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    drawn = re.findall(r'<div id="chart-\d+" class="[^"]*\bjs-plotly-plot\b', dom)
    assert len(drawn) == charts == 5, "plotly did not draw every chart"
    assert dom.count('class="main-svg"') >= 4
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [*base, f"--screenshot={shot}", "--window-size=1280,2400", report.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    shutil.copy(report, ARTIFACTS / "report.html")
    assert shot.stat().st_size > 10_000


def test_report_shows_forecast_errors_in_plain_words(tmp_path: Path) -> None:
    site = load_site(EXAMPLE)
    result, traces, world = simulate_site(
        site, datetime(2026, 3, 9, tzinfo=TZ), 4, ["uncontrolled"], seed=3
    )
    page = render_report(result, traces, world)
    assert "<h2>How good the forecasts were</h2>" in page
    assert 'title="mean absolute error (MAE) of the day-ahead forecast, hour by hour"' in page
    assert "bias: mean of forecast minus actual" in page
    series = result["forecast"]["series"]
    for what, key in (("household use", "load_kw"), ("solar", "pv_kw")):
        s = {name: np.asarray(v) for name, v in series[key].items()}
        # MAE and bias recomputed from the JSON's series, forecast and then repeating yesterday.
        expected = [
            np.abs(s["forecast"] - s["actual"]).mean(),
            (s["forecast"] - s["actual"]).mean(),
            np.abs(s["baseline"] - s["actual"]).mean(),
            (s["baseline"] - s["actual"]).mean(),
        ]
        row = re.search(f"<tr><td>{what}</td>((?:<td>[^<]*</td>){{4}})</tr>", page)
        assert row is not None
        shown = [float(x.replace("−", "-")) for x in re.findall(r"<td>([^<]*)</td>", row[1])]
        assert shown == pytest.approx(expected, abs=6e-4)  # shown to 3 decimals
    assert "scored over 3 days" in page


def test_report_says_when_forecasts_could_not_be_scored() -> None:
    from voltbridge.sim.report import forecast_table

    assert "not scored" in forecast_table({"days_scored": 0})
    assert "not scored" in forecast_table(None)
