"""Prometheus metrics: the live status as gauges and the requests answered, in the text format."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .helpers import make_demo, run


def scrape(
    tmp_path: Path, *, started: bool = True
) -> tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    demo = make_demo(tmp_path, started=started)

    async def body(c: httpx.AsyncClient) -> httpx.Response:
        await c.get("/api/status")
        await c.get("/api/status")
        await c.get("/api/nothing-here")
        return await c.get("/metrics")

    answer = run(demo.app, body)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }
    return answer.text, samples


def test_metrics_show_the_live_status(tmp_path: Path) -> None:
    text, samples = scrape(tmp_path)
    assert "# TYPE voltbridge_power_kw gauge" in text
    assert samples[("voltbridge_power_kw", (("flow", "grid"),))] == pytest.approx(-0.2)
    assert samples[("voltbridge_power_kw", (("flow", "pv"),))] == 6.0
    assert samples[("voltbridge_power_kw", (("flow", "load"),))] == 1.2
    assert samples[("voltbridge_power_kw", (("flow", "battery"),))] == 1.5
    assert samples[("voltbridge_vehicle_power_kw", (("vehicle", "ev9"),))] == 3.1
    assert samples[("voltbridge_vehicle_soc_percent", (("vehicle", "ev9"),))] == pytest.approx(62)
    assert samples[("voltbridge_vehicle_plugged_in", (("vehicle", "ev9"),))] == 1
    assert samples[("voltbridge_battery_soc_kwh", ())] == 9.45
    assert samples[("voltbridge_backup_hours", ())] == 11.5
    assert samples[("voltbridge_grid_state", (("state", "on_grid"),))] == 1
    assert samples[("voltbridge_grid_state", (("state", "islanded"),))] == 0
    assert samples[("voltbridge_circuit_on", (("circuit", "fridge"),))] == 1


def test_metrics_count_requests_by_route(tmp_path: Path) -> None:
    _, samples = scrape(tmp_path)
    ok = (("method", "GET"), ("route", "/api/status"), ("status", "200"))
    assert samples[("voltbridge_http_requests_total", ok)] == 2
    login = (("method", "POST"), ("route", "/api/login"), ("status", "200"))
    assert samples[("voltbridge_http_requests_total", login)] == 1
    missing = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert samples[("voltbridge_http_requests_total", missing)] == 1


def test_metrics_before_the_first_tick_have_no_status_gauges(tmp_path: Path) -> None:
    text, samples = scrape(tmp_path, started=False)
    assert "voltbridge_power_kw" not in text
    assert any(name == "voltbridge_http_requests_total" for name, _ in samples)
