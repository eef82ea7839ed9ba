"""Status, plan, settings, info and catalog, against the fake handle of the demo home."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from voltbridge.control.settings import SettingsUpdate
from voltbridge.core.status import Mode
from voltbridge.core.types import PlanCost

from .fakes import demo_plan
from .helpers import make_demo, run


def get_json(app: Any, path: str) -> tuple[int, Any]:
    async def body(c: httpx.AsyncClient) -> tuple[int, Any]:
        answer = await c.get(path)
        return answer.status_code, answer.json()

    result: tuple[int, Any] = run(app, body)
    return result


def test_status_has_the_documented_shape(tmp_path: Path) -> None:
    code, status = get_json(make_demo(tmp_path).app, "/api/status")
    assert code == 200
    assert status["grid_state"] == "on_grid"
    assert set(status["power_kw"]) >= {"grid", "pv", "load", "battery", "vehicles"}
    assert status["power_kw"]["vehicles"] == {"ev9": 3.1}
    assert status["backup_hours"] == 11.5
    car = status["vehicles"]["ev9"]
    for key in (
        "soc_kwh",
        "soc_pct",
        "range_km",
        "reserved_for_backup_kwh",
        "plugged_in",
        "departure",
    ):
        assert key in car, key
    assert car["soc_pct"] == pytest.approx(62.0)
    assert car["departure"] == "2026-07-02T14:45:00Z"
    # Balance: grid + pv = load + cars + battery.
    p = status["power_kw"]
    assert p["grid"] + p["pv"] == pytest.approx(
        p["load"] + sum(p["vehicles"].values()) + p["battery"]
    )


def test_status_and_plan_are_503_before_the_first_tick(tmp_path: Path) -> None:
    app = make_demo(tmp_path, started=False).app
    for path in ("/api/status", "/api/plan"):
        code, body = get_json(app, path)
        assert code == 503
        assert "yet" in body["detail"]


def test_plan_is_the_planners_with_reserves(tmp_path: Path) -> None:
    code, plan = get_json(make_demo(tmp_path).app, "/api/plan")
    assert code == 200
    assert plan["step_minutes"] == 15
    assert len(plan["steps"]) == 192
    assert plan["start"] == "2026-07-01T19:00:00Z"
    assert set(plan["storages"]) == {"ev9", "battery"}
    assert plan["has_battery"] is True
    assert {k: len(v) for k, v in plan["reserve_kwh"].items()} == {"ev9": 192, "battery": 192}
    assert plan["reserve_kwh"]["battery"][0] == pytest.approx(1.35)
    assert plan["created"] == "2026-07-01T19:00:00Z"
    step = plan["steps"][0]
    assert {"price_import", "battery_kw", "battery_soc_kwh", "vehicles"} <= set(step)
    assert set(step["vehicles"]["ev9"]) >= {"kw", "soc_kwh", "plugged_in"}


def test_settings_are_read_and_patched_through_the_handle(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> tuple[Any, Any]:
        before = (await c.get("/api/settings")).json()
        answer = await c.patch(
            "/api/settings",
            json={
                "mode": "backup-only",
                "vehicles": {"ev9": {"target_soc_pct": 90, "departure": "2026-07-02T07:30-07:00"}},
            },
        )
        assert answer.status_code == 200, answer.text
        return before, answer.json()

    before, after = run(demo.app, body)
    assert before["mode"] == "auto" and before["backup_reserve_h"] == 6.0
    assert after["mode"] == "backup-only"
    assert after["vehicles"]["ev9"]["target_soc_pct"] == 90
    [(update, source)] = demo.handle.updates
    assert source == "api"
    assert isinstance(update, SettingsUpdate)
    assert update.mode is Mode.BACKUP_ONLY
    assert update.vehicles is not None
    assert update.vehicles["ev9"].model_fields_set == {"target_soc_pct", "departure"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"vehicles": {"ev9": {"target_soc_pct": 120}}}, "vehicles.ev9.target_soc_pct"),
        ({"vehicles": {"ev8": {"target_soc_pct": 80}}}, "vehicles.ev8"),
        ({"vehicles": {"ev9": {"departure": "2026-07-02T07:30"}}}, "vehicles.ev9.departure"),
        ({"vehicles": {"ev9": {"colour": "red"}}}, "vehicles.ev9.colour"),
        ({"mode": "turbo"}, "mode"),
        ({"backup_reserve_h": -1}, "backup_reserve_h"),
        ({"v2g_allowed": "perhaps"}, "v2g_allowed"),
        ({"reserve": 3}, "reserve"),
    ],
)
def test_an_invalid_setting_is_422_naming_the_field(
    tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> httpx.Response:
        return await c.patch("/api/settings", json=change)

    answer = run(demo.app, body)
    assert answer.status_code == 422
    problems = answer.json()
    assert [p["field"] for p in problems["detail"]] == [field]
    assert problems["message"].startswith(f"{field}: ")
    assert demo.handle.updates == []


def test_a_refusal_of_the_controller_names_its_field(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    def refuse(update: SettingsUpdate, source: str) -> Any:
        raise ValueError("vehicles.ev9.outage_reserve_pct: only during an outage")

    demo.handle.apply_settings = refuse  # type: ignore[method-assign]

    async def body(c: httpx.AsyncClient) -> httpx.Response:
        return await c.patch(
            "/api/settings", json={"vehicles": {"ev9": {"outage_reserve_pct": 10}}}
        )

    answer = run(demo.app, body)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "vehicles.ev9.outage_reserve_pct"
    assert answer.json()["detail"][0]["msg"] == "only during an outage"


def test_info_names_the_site_and_its_cars(tmp_path: Path) -> None:
    code, info = get_json(make_demo(tmp_path).app, "/api/info")
    assert code == 200
    assert info["vehicle_names"] == ["ev9"]
    assert info["timezone"] == "America/Los_Angeles"
    assert info["currency"] == "USD"


def test_catalog_is_the_cli_json(tmp_path: Path) -> None:
    from voltbridge.catalog import catalog_json, load_catalog

    code, catalog = get_json(make_demo(tmp_path).app, "/api/catalog")
    assert code == 200
    assert catalog == catalog_json(load_catalog())
    assert any(v["id"] == "kia-ev9-99kwh" for v in catalog["vehicles"])


def test_the_plans_bill_is_money_apart_from_its_penalties(tmp_path: Path) -> None:
    """A plan that cannot meet a target: its bill is imports less exports plus demand charges
    (30.52 - 2.83 + 1.00 = 28.69), never the penalties, and the warning says which target."""
    demo = make_demo(tmp_path)
    cost = PlanCost(3415.81, 30.52, 2.83, 0.5, 1.0, 3386.62, 0.0)
    short = "ev9: departure at 2026-07-02 14:45 UTC with 60.1 kWh instead of the 79.8 kWh target"
    demo.handle._plan = replace(demo_plan(), cost=cost, warnings=(short,))

    async def body(c: httpx.AsyncClient) -> httpx.Response:
        return await c.get("/api/plan")

    answer = run(demo.app, body).json()
    assert answer["cost"]["bill"] == pytest.approx(28.69)
    assert answer["cost"]["penalties"] == pytest.approx(3386.62)
    assert answer["warnings"] == [short]
