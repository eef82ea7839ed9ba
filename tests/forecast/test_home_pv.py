"""The PV forecast at home: learned from the store's recorded PV, Open-Meteo's cloud cover when
configured (served here from a recorded answer on 127.0.0.1), and a failing provider or store that
never stops planning and is said."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voltbridge.config import Site, load_site
from voltbridge.control.plan_source import PlanState, SitePlanSource, planning_grid
from voltbridge.control.settings import Settings
from voltbridge.core.timegrid import TimeGrid
from voltbridge.forecast.home_pv import LearnedHomePv
from voltbridge.forecast.pv_learned import AHEAD_SHARE
from voltbridge.forecast.site import site_clearsky_pv_kw

HERE = Path(__file__).parent
SITE = load_site(HERE.parents[1] / "examples" / "leaf-uk-v2g.toml")
ANSWER = json.loads((HERE / "fixtures" / "open_meteo_cloud_cover.json").read_text())
NOW = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # the recorded answer starts at 00:00 that day


def clear_kw(grid: TimeGrid, site: Site = SITE) -> np.ndarray:
    return site_clearsky_pv_kw(site, grid)


def ahead(grid: TimeGrid) -> np.ndarray:
    """What a plan counts on of the learned index [-]: all of it today (the UTC day the grid
    starts in), ``AHEAD_SHARE`` of it in the hours after."""
    day_end = int(grid.edges_s[0]) // 86400 * 86400 + 86400
    hour = (grid.mid_s // 3600 * 3600).astype(np.int64)
    return np.where(hour >= day_end, AHEAD_SHARE, 1.0)


class RecordedPv:
    """A stand-in for ``Store.history``: PV at ``share`` of the clear sky, up to ``until``."""

    def __init__(self, share: float, days: int, until: datetime = NOW) -> None:
        self.share, self.days, self.until, self.calls = share, days, until, []

    def __call__(self, start: datetime, end: datetime, resolution_s: int) -> list[dict[str, Any]]:
        self.calls.append(resolution_s)
        first = max(start, self.until - timedelta(days=self.days))
        last = min(end, self.until)
        if last <= first:
            return []
        edges = np.arange(int(first.timestamp()), int(last.timestamp()) + 1, resolution_s)
        kw = self.share * clear_kw(TimeGrid(edges))
        return [
            {"at": datetime.fromtimestamp(int(s), UTC).isoformat(), "pv_kw": float(v), "load_kw": 1}
            for s, v in zip(edges[:-1], kw, strict=True)
        ]


def with_provider(url: str) -> Site:
    return SITE.model_copy(
        update={"forecast": SITE.forecast.model_copy(update={"provider": "open-meteo", "url": url})}
    )


@pytest.fixture
def open_meteo() -> Iterator[tuple[str, list[str]]]:
    """Open-Meteo's recorded answer served on 127.0.0.1 (an OS-chosen port); the paths asked."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = json.dumps(ANSWER).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/forecast", asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_recorded_production_sets_the_index_and_it_is_refitted_once_a_day() -> None:
    history = RecordedPv(0.4, days=10)
    home = LearnedHomePv(SITE, history)
    for minutes in (0, 15, 30):
        grid = planning_grid(int((NOW + timedelta(minutes=minutes)).timestamp()))
        pv = home.pv_kw(grid)
    assert home.fits == 1 and history.calls.count(3600) == 1
    # Every hour delivered 0.4 of the clear sky: the forecast is 0.4 of the clear sky.
    assert pv == pytest.approx(0.4 * clear_kw(grid) * ahead(grid), abs=1e-6)
    home.pv_kw(planning_grid(int((NOW + timedelta(days=1)).timestamp())))
    assert home.fits == 2


def test_without_history_the_clear_sky_or_the_typical_month_is_used() -> None:
    grid = planning_grid(int(NOW.timestamp()))
    fresh = LearnedHomePv(SITE, RecordedPv(0.4, days=0))
    assert fresh.pv_kw(grid) == pytest.approx(clear_kw(grid) * ahead(grid), abs=1e-9)
    typical = [0.1 * m for m in range(1, 13)]  # June: 0.6
    told = LearnedHomePv(SITE, RecordedPv(0.4, days=0), typical_index=typical)
    assert told.pv_kw(grid) == pytest.approx(0.6 * clear_kw(grid) * ahead(grid), abs=1e-9)


def test_open_meteo_cloud_cover_sets_the_hours_it_covers(
    open_meteo: tuple[str, list[str]],
) -> None:
    url, asked = open_meteo
    site = with_provider(url)
    history = RecordedPv(0.4, days=10, until=NOW - timedelta(hours=3))  # no recent production
    home = LearnedHomePv(site, history)
    grid = planning_grid(int(NOW.timestamp()))
    pv = home.pv_kw(grid)
    assert len(asked) == 1 and "hourly=cloud_cover" in asked[0] and "latitude=51.45" in asked[0]
    assert home.warnings == ()
    # Kasten & Czeplak by hand: 1 - 0.75 (cover/100)^3.4 at each hour, averaged over its ends.
    times = np.asarray(ANSWER["hourly"]["time"])
    cover = np.array([np.nan if c is None else c for c in ANSWER["hourly"]["cloud_cover"]])
    k_at = 1 - 0.75 * (cover / 100.0) ** 3.4
    k_hour = (k_at[:-1] + k_at[1:]) / 2
    hour = (grid.mid_s // 3600 * 3600).astype(np.int64)
    row = np.searchsorted(times, hour)
    clear = clear_kw(grid)
    for i in range(grid.n):
        if np.isfinite(k_hour[row[i]]):
            assert pv[i] == pytest.approx(clear[i] * k_hour[row[i]], abs=1e-9)
        else:  # the hours next to the missing value take the learned index
            assert pv[i] == pytest.approx(clear[i] * 0.4 * ahead(grid)[i], abs=1e-6)
    # Fetched again only after an hour.
    home.pv_kw(planning_grid(int((NOW + timedelta(minutes=15)).timestamp())))
    assert len(asked) == 1
    home.pv_kw(planning_grid(int((NOW + timedelta(minutes=60)).timestamp())))
    assert len(asked) == 2


def test_a_failing_provider_falls_back_to_history_and_the_plan_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    site = with_provider(f"http://127.0.0.1:{port}/v1/forecast")
    grid = planning_grid(int(NOW.timestamp()))
    learned = LearnedHomePv(SITE, RecordedPv(0.4, days=10)).pv_kw(grid)
    with caplog.at_level(logging.WARNING):
        home = LearnedHomePv(site, RecordedPv(0.4, days=10))
        assert np.array_equal(home.pv_kw(grid), learned)
    assert home.warnings and "open-meteo" in home.warnings[0] and "unreachable" in caplog.text
    source = SitePlanSource(site, load_history=RecordedPv(0.4, days=10))
    plan = source.make_plan(PlanState(NOW, {}, {}, Settings()))
    assert any("weather forecast (open-meteo) failed" in w for w in plan.warnings)
    assert plan.pv_kw == pytest.approx(learned, abs=1e-6)


def test_a_bad_answer_is_a_warning_not_a_crash(open_meteo: tuple[str, list[str]]) -> None:
    url, _ = open_meteo

    def garbage(u: str, timeout_s: float) -> bytes:
        assert u.startswith(url)
        return b'{"error": true, "reason": "Latitude must be in range"}'

    home = LearnedHomePv(with_provider(url), RecordedPv(0.4, days=10), fetch=garbage)
    pv = home.pv_kw(planning_grid(int(NOW.timestamp())))
    assert "Latitude must be in range" in home.warnings[0] and np.all(np.isfinite(pv))


def test_an_unreadable_store_forecasts_from_the_clear_sky(caplog: pytest.LogCaptureFixture) -> None:
    def broken(start: datetime, end: datetime, resolution_s: int) -> list[dict[str, Any]]:
        raise OSError("disk gone")

    grid = planning_grid(int(NOW.timestamp()))
    with caplog.at_level(logging.WARNING):
        pv = LearnedHomePv(SITE, broken).pv_kw(grid)
    assert pv == pytest.approx(clear_kw(grid) * ahead(grid), abs=1e-9)
    assert "disk gone" in caplog.text


def test_the_provider_is_set_in_the_site_file(tmp_path: Path) -> None:
    text = (HERE.parents[1] / "examples" / "leaf-uk-v2g.toml").read_text()
    good = tmp_path / "good.toml"
    good.write_text(text + '\n[forecast]\nprovider = "open-meteo"\ntimeout_s = 5\n')
    site = load_site(good)
    assert site.forecast.provider == "open-meteo" and site.forecast.timeout_s == 5
    assert site.forecast.url == "https://api.open-meteo.com/v1/forecast"
    assert load_site(HERE.parents[1] / "examples" / "leaf-uk-v2g.toml").forecast.provider == "none"
    bad = tmp_path / "bad.toml"
    bad.write_text(text + '\n[forecast]\nprovider = "met-office"\n')
    with pytest.raises(Exception, match=r"forecast\.provider"):
        load_site(bad)


@pytest.mark.parametrize(
    ("error", "said"),
    [(OSError("disk gone"), "unreadable"), (KeyError("pv_kw"), "a bug")],
)
def test_a_broken_history_is_a_warning_of_the_plan(error: Exception, said: str) -> None:
    """A store fault and a reader bug each leave the forecasts on their fallbacks, and the plan
    names both forecasts that could not use the history (the household sees it, not only the
    log); a history that reads again clears them the next day."""
    calls = {"n": 0}

    def history(start: datetime, end: datetime, resolution_s: int) -> list[dict[str, Any]]:
        calls["n"] += 1
        raise error

    source = SitePlanSource(SITE, load_history=history)
    plan = source.make_plan(PlanState(NOW, {}, {}, Settings()))
    assert calls["n"] >= 3  # the day's load, the day's PV and the recent PV were all asked for
    assert any(w.startswith("load history") and said in w for w in plan.warnings), plan.warnings
    assert any(w.startswith("PV history") and said in w for w in plan.warnings), plan.warnings
    assert any(w.startswith("recent PV") and said in w for w in plan.warnings), plan.warnings
    healthy = SitePlanSource(SITE, load_history=RecordedPv(0.4, days=10))
    assert not any(
        "history" in w for w in healthy.make_plan(PlanState(NOW, {}, {}, Settings())).warnings
    )
