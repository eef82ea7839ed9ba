"""Safety guard: each rule alone and together, islanding, the enter-service delay, and invariants."""

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voltbridge.control import GuardInput, Intervention, SiteLimits, StorageLimits, guard
from voltbridge.control.guard import GuardRule, level_down
from voltbridge.core.types import Command, Measurement

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
EV = StorageLimits("ev9", max_charge_kw=11.0, max_discharge_kw=9.6, capacity_kwh=77.0)
EV2 = StorageLimits("ev2", max_charge_kw=7.4, max_discharge_kw=7.4, capacity_kwh=60.0)
BAT = StorageLimits("bat", max_charge_kw=5.0, max_discharge_kw=5.0, capacity_kwh=13.5)
OPEN = SiteLimits(import_limit_kw=100.0, export_limit_kw=100.0, export_policy="any")


def state(
    soc: Mapping[str, float | None] | None = None,
    *,
    age_s: float = 0.0,
    connected: bool = True,
    export: bool = True,
    load: float = 0.0,
    pv: float = 0.0,
    dt_h: float = 0.25,
    unplugged: tuple[str, ...] = (),
) -> GuardInput:
    soc = {"ev9": 50.0, "ev2": 30.0, "bat": 6.0} if soc is None else soc
    at = T0 - timedelta(seconds=age_s)
    return GuardInput(
        now=T0,
        dt_h=dt_h,
        grid_connected=connected,
        grid_export_allowed=export,
        load_kw=load,
        pv_kw=pv,
        measurements={d: Measurement(d, at=at, soc_kwh=s) for d, s in soc.items()},
        plugged_in={d: d not in unplugged for d in soc},
    )


def run(
    requests: dict[str, float],
    st_: GuardInput | None = None,
    limits: tuple[StorageLimits, ...] = (EV, EV2, BAT),
    site: SiteLimits = OPEN,
) -> tuple[dict[str, float], list[Intervention]]:
    cmds = [Command(d, T0, p) for d, p in requests.items()]
    out, why = guard(cmds, {lim.device: lim for lim in limits}, site, st_ or state())
    assert [c.device for c in out] == list(requests)
    return {c.device: c.power_kw for c in out}, why


def test_within_every_limit_passes_unchanged() -> None:
    cmds = [Command("ev9", T0, -3.0, "plan"), Command("bat", T0, 2.0)]
    out, why = guard(cmds, {"ev9": EV, "bat": BAT}, OPEN, state(load=1.0))
    assert out == cmds and why == []


def test_unknown_device_is_refused() -> None:
    out, why = run({"car": 3.0})
    assert out == {"car": 0.0}
    assert why[0].reason == "car: charge 3.00 kW refused: unknown device, no limits known"


@pytest.mark.parametrize("request_kw", [-5.0, 5.0])
def test_stale_meter_stops_discharge_and_charger_falls_to_zero(request_kw: float) -> None:
    out, why = run({"ev9": request_kw}, state(age_s=45.0))
    assert out == {"ev9": 0.0}
    assert "stale data: measurement 45 s old (limit 30 s)" in why[0].reason


def test_missing_soc_and_future_timestamp_are_stale() -> None:
    out, why = run({"ev9": -5.0, "ev2": -2.0}, state({"ev9": None}))
    assert out == {"ev9": 0.0, "ev2": 0.0}
    assert all("stale data" in w.reason for w in why)
    out, why = run({"ev9": -5.0}, state(age_s=-60.0))
    assert out == {"ev9": 0.0} and "dated 60 s in the future" in why[0].reason


def test_not_plugged_in_is_refused() -> None:
    out, why = run({"ev9": 4.0}, state(unplugged=("ev9",)))
    assert out == {"ev9": 0.0} and why[0].reason.endswith("not plugged in")


def test_device_power_limits() -> None:
    out, why = run({"ev9": 15.0, "ev2": -12.0}, state(load=20.0))
    assert out == {"ev9": 11.0, "ev2": -7.4}
    assert why[0].reason == "ev9: charge 15.00 kW clipped to 11.00 kW: charge limit 11 kW"
    assert why[1].reason == "ev2: discharge 12.00 kW clipped to 7.40 kW: discharge limit 7.4 kW"


def test_soc_floor_clips_discharge_to_the_steps_energy() -> None:
    # 1.0 kWh above the floor, 90 % discharge efficiency, 15 min: 1.0 * 0.9 / 0.25 = 3.6 kW.
    ev = StorageLimits("ev9", 11.0, 9.6, 77.0, soc_floor_kwh=20.3, eta_discharge=0.9)
    out, why = run({"ev9": -9.6}, state({"ev9": 21.3}, load=10.0), (ev,))
    assert out["ev9"] == pytest.approx(-3.6)
    assert why[0].reason == (
        "ev9: discharge 9.60 kW clipped to 3.60 kW: "
        "SoC 21.30 kWh is 1.00 kWh above the 20.30 kWh floor"
    )
    out, _ = run({"ev9": -1.0}, state({"ev9": 19.0}, load=10.0), (ev,))
    assert out == {"ev9": 0.0}


def test_capacity_clips_charge() -> None:
    # 1 kWh of room at 80 % charge efficiency over 15 min: 1 / (0.8 * 0.25) = 5 kW.
    ev = StorageLimits("ev9", 11.0, 9.6, 77.0, eta_charge=0.8)
    out, why = run({"ev9": 11.0}, state({"ev9": 76.0}), (ev,))
    assert out["ev9"] == pytest.approx(5.0)
    assert "SoC 76.00 kWh is 1.00 kWh below the 77.00 kWh capacity" in why[0].reason


def test_warranty_budget() -> None:
    # 0.5 kWh of stored energy left at 90 %: 0.5 * 0.9 / 0.25 = 1.8 kW AC.
    ev = StorageLimits("ev9", 11.0, 9.6, 77.0, eta_discharge=0.9, discharge_budget_kwh=0.5)
    out, why = run({"ev9": -5.0}, state(load=10.0), (ev,))
    assert out["ev9"] == pytest.approx(-1.8)
    assert "warranty discharge budget 0.50 kWh left" in why[0].reason
    spent = StorageLimits("ev9", 11.0, 9.6, 77.0, discharge_budget_kwh=0.0)
    assert run({"ev9": -5.0}, state(load=10.0), (spent,))[0] == {"ev9": 0.0}
    assert run({"ev9": 5.0}, state(), (spent,))[0] == {"ev9": 5.0}  # charging is not limited


def test_breaker_lowers_the_largest_charge_first() -> None:
    # net load 18 kW, battery gives 4 kW: charging may take 25 - 18 + 4 = 11 kW of the 16 asked.
    # Levelled: ev2 keeps 5, ev9 gets 6.
    site = SiteLimits(import_limit_kw=25.0, export_limit_kw=0.0)
    out, why = run({"ev9": 11.0, "ev2": 5.0, "bat": -4.0}, state(load=20.0, pv=2.0), site=site)
    assert out == {"ev9": pytest.approx(6.0), "ev2": 5.0, "bat": -4.0}
    assert [w.device for w in why] == ["ev9"]
    assert "main breaker: import 30.00 kW over the 25 kW limit" in why[0].reason


def test_house_load_alone_over_the_breaker_stops_all_charging() -> None:
    site = SiteLimits(import_limit_kw=25.0, export_limit_kw=0.0)
    out, _ = run({"ev9": 11.0, "ev2": 5.0}, state(load=30.0), site=site)
    assert out == {"ev9": 0.0, "ev2": 0.0}


def test_islanded_backup_covers_the_house_but_nothing_more() -> None:
    out, why = run({"bat": -4.0}, state(load=5.0, connected=False, export=False))
    assert out == {"bat": -4.0} and why == []  # backup is allowed
    out, why = run(
        {"bat": -5.0, "ev9": -9.0}, state(load=3.0, pv=1.0, connected=False, export=False)
    )
    # net load 2 kW shared to one level: 1 kW each
    assert out == {"bat": pytest.approx(-1.0), "ev9": pytest.approx(-1.0)}
    assert "grid absent: discharge limited to the house's net load 2.00 kW" in why[0].reason


def test_islanded_charging_only_from_pv_surplus() -> None:
    out, why = run({"ev9": 7.0}, state(load=1.0, pv=3.0, connected=False, export=False))
    assert out == {"ev9": pytest.approx(2.0)} and "grid absent: charging only" in why[0].reason
    assert run({"ev9": 7.0}, state(load=2.0, connected=False, export=False))[0] == {"ev9": 0.0}
    # the battery may feed the car once the load is covered: 5 - (3 - 1) = 3 kW
    out, _ = run({"ev9": 7.0, "bat": -5.0}, state(load=3.0, pv=1.0, connected=False, export=False))
    assert out == {"ev9": pytest.approx(3.0), "bat": -5.0}


def test_enter_service_delay_forbids_storage_export() -> None:
    v2g = StorageLimits("ev9", 11.0, 9.6, 77.0, can_export=True)
    out, why = run({"ev9": -9.0}, state(load=2.0, export=False), (v2g,))
    assert out == {"ev9": pytest.approx(-2.0)}
    assert "grid export not allowed (enter-service delay)" in why[0].reason


@pytest.mark.parametrize("policy", ["none", "pv-only"])
def test_policy_forbids_storage_export(policy: str) -> None:
    v2g = StorageLimits("ev9", 11.0, 9.6, 77.0, can_export=True)
    site = SiteLimits(100.0, 100.0, policy)  # type: ignore[arg-type]
    out, why = run({"ev9": -9.0, "ev2": 3.0}, state(load=2.0, pv=1.0), (v2g, EV2), site)
    assert out == {"ev9": pytest.approx(-4.0), "ev2": 3.0}  # 1 kW net load + 3 kW charging
    assert f"export policy {policy!r} allows no storage export" in why[0].reason


def test_export_limit_and_non_v2g_storage() -> None:
    # battery may not export: it covers the 2 kW load; the car exports up to the 5 kW limit.
    v2g = StorageLimits("ev9", 11.0, 9.6, 77.0, can_export=True)
    site = SiteLimits(100.0, 5.0, "any")
    out, why = run({"bat": -5.0, "ev9": -9.0}, state(load=2.0), (v2g, BAT), site)
    assert out == {"bat": pytest.approx(-2.0), "ev9": pytest.approx(-5.0)}
    assert "V2G not allowed" in why[0].reason
    assert "export limit 5 kW: export would be 9.00 kW" in why[1].reason


def test_several_rules_append_to_the_command_reason() -> None:
    ev = StorageLimits("ev9", 11.0, 9.6, 77.0, soc_floor_kwh=20.0, discharge_budget_kwh=1.0)
    cmd = Command("ev9", T0, -12.0, "plan")
    out, why = guard([cmd], {"ev9": ev}, OPEN, state({"ev9": 22.0}, load=3.0, export=False))
    # 12 -> 9.6 (device) -> 8 (2 kWh over 0.25 h) -> 4 (1 kWh budget) -> 3 (house load)
    assert [(w.requested_kw, w.allowed_kw) for w in why] == [
        (-12.0, -9.6),
        (-9.6, -8.0),
        (-8.0, -4.0),
        (-4.0, -3.0),
    ]
    assert out[0].power_kw == -3.0
    assert out[0].reason == "; ".join(["plan", *(w.reason for w in why)])


V2G = StorageLimits("ev9", 11.0, 9.6, 77.0, can_export=True)
OFF_GRID = {"connected": False, "export": False}


@pytest.mark.parametrize(
    ("request_kw", "inp", "limits", "site", "rules"),
    [
        ({"car": 3.0}, {}, (EV,), OPEN, [GuardRule.UNKNOWN_DEVICE]),
        ({"ev9": math.inf}, {}, (EV,), OPEN, [GuardRule.NOT_FINITE]),
        ({"ev9": 3.0}, {"pv": math.nan}, (EV,), OPEN, [GuardRule.SITE_DATA]),
        ({"ev9": 3.0}, {"age_s": 31.0}, (EV,), OPEN, [GuardRule.STALE]),
        ({"ev9": 3.0}, {"soc": {"ev9": None}}, (EV,), OPEN, [GuardRule.STALE]),
        ({"ev9": 3.0}, {"unplugged": ("ev9",)}, (EV,), OPEN, [GuardRule.NOT_PLUGGED]),
        ({"ev9": 12.0}, {}, (EV,), OPEN, [GuardRule.CHARGE_LIMIT]),
        # 1 kWh of room over 0.25 h: 4 kW
        ({"ev9": 6.0}, {"soc": {"ev9": 76.0}}, (EV,), OPEN, [GuardRule.CAPACITY]),
        ({"ev9": -10.0}, {"load": 20.0}, (EV,), OPEN, [GuardRule.DISCHARGE_LIMIT]),
        # 0.5 kWh above the floor over 0.25 h: 2 kW
        ({"ev9": -3.0}, {"soc": {"ev9": 0.5}, "load": 5.0}, (EV,), OPEN, [GuardRule.FLOOR]),
        (
            {"ev9": -5.0},
            {"load": 5.0},
            (replace(EV, discharge_budget_kwh=1.0),),
            OPEN,
            [GuardRule.BUDGET],
        ),
        ({"ev9": 11.0}, {"load": 15.0}, (EV,), SiteLimits(20.0, 5.0), [GuardRule.BREAKER]),
        ({"ev9": 3.0}, {"load": 1.0, **OFF_GRID}, (EV,), OPEN, [GuardRule.ISLAND_CHARGE]),
        ({"ev9": -5.0}, {"load": 1.0, "export": False}, (V2G,), OPEN, [GuardRule.NO_EXPORT]),
        (
            {"ev9": -9.0},
            {"load": 1.0},
            (V2G,),
            SiteLimits(100.0, 5.0, "any"),
            [GuardRule.EXPORT_LIMIT],
        ),
    ],
)
def test_each_intervention_names_its_rule(
    request_kw: dict[str, float],
    inp: dict[str, Any],
    limits: tuple[StorageLimits, ...],
    site: SiteLimits,
    rules: list[GuardRule],
) -> None:
    _, why = run(request_kw, state(**inp), limits, site)
    assert [w.rule for w in why] == rules


def test_several_rules_are_named_in_the_order_they_bound() -> None:
    ev = StorageLimits("ev9", 11.0, 9.6, 77.0, soc_floor_kwh=20.0, discharge_budget_kwh=1.0)
    _, why = run({"ev9": -12.0}, state({"ev9": 22.0}, load=3.0, export=False), (ev,))
    assert [w.rule for w in why] == [
        GuardRule.DISCHARGE_LIMIT,
        GuardRule.FLOOR,
        GuardRule.BUDGET,
        GuardRule.NO_EXPORT,
    ]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="more than one command"):
        guard([Command("ev9", T0, 1.0)] * 2, {"ev9": EV}, OPEN, state())
    out, why = run({"ev9": math.nan})
    assert out == {"ev9": 0.0} and "not a finite number" in why[0].reason
    out, why = run({"ev9": -2.0, "bat": 1.0}, state(load=math.nan))
    assert out == {"ev9": 0.0, "bat": 0.0} and "site data not finite" in why[0].reason
    with pytest.raises(ValueError, match="efficiencies"):
        StorageLimits("x", 1.0, 1.0, 10.0, eta_charge=0.0)
    with pytest.raises(ValueError, match="export_policy"):
        SiteLimits(1.0, 1.0, "all")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dt_h"):
        state(dt_h=0.0)


def test_level_down() -> None:
    assert level_down([11.0, 5.0], 11.0) == [6.0, 5.0]
    assert level_down([1.0, 2.0], 5.0) == [1.0, 2.0]
    assert level_down([3.0, 3.0], 0.0) == [0.0, 0.0]


NAMES = ("a", "b", "c", "d")
power = st.floats(0.0, 20.0)


@st.composite
def scenario(
    draw: st.DrawFn,
) -> tuple[dict[str, float], dict[str, StorageLimits], SiteLimits, GuardInput]:
    n = draw(st.integers(1, 4))
    limits, soc, plugged, req = {}, {}, {}, {}
    for name in NAMES[:n]:
        cap = draw(st.floats(5.0, 100.0))
        limits[name] = StorageLimits(
            name,
            draw(power),
            draw(power),
            cap,
            soc_floor_kwh=draw(st.floats(0.0, cap)),
            eta_discharge=draw(st.floats(0.5, 1.0)),
            eta_charge=draw(st.floats(0.5, 1.0)),
            can_export=draw(st.booleans()),
            discharge_budget_kwh=draw(st.none() | st.floats(0.0, 5.0)),
        )
        at = T0 - timedelta(seconds=draw(st.sampled_from([0.0, 10.0, 60.0])))
        soc[name] = Measurement(name, at, soc_kwh=draw(st.floats(0.0, cap)))
        plugged[name] = draw(st.booleans() | st.just(True))
        req[name] = draw(st.floats(-25.0, 25.0))
    site = SiteLimits(
        draw(st.floats(0.0, 40.0)),
        draw(st.floats(0.0, 20.0)),
        draw(st.sampled_from(["none", "pv-only", "any"])),
    )
    connected = draw(st.booleans())
    inp = GuardInput(
        T0,
        draw(st.sampled_from([1 / 60, 0.25, 1.0])),
        connected,
        connected and draw(st.booleans()),
        draw(st.floats(0.0, 30.0)),
        draw(st.floats(0.0, 15.0)),
        soc,
        plugged,
    )
    return req, limits, site, inp


@settings(max_examples=400, deadline=None)
@given(scenario())
def test_invariants(
    case: tuple[dict[str, float], dict[str, StorageLimits], SiteLimits, GuardInput],
) -> None:
    req, limits, site, inp = case
    cmds = [Command(d, T0, p) for d, p in req.items()]
    out_cmds, why = guard(cmds, limits, site, inp)
    out = {c.device: c.power_kw for c in out_cmds}
    assert list(out) == list(req)
    tol, dt = 1e-9, inp.dt_h
    for d, p in out.items():
        lim, m = limits[d], inp.measurements[d]
        assert -lim.max_discharge_kw <= p <= lim.max_charge_kw
        assert abs(p) <= abs(req[d]) and p * req[d] >= 0
        assert p == req[d] or [w for w in why if w.device == d][-1].allowed_kw == p
        assert m.soc_kwh is not None
        if (inp.now - m.at).total_seconds() > lim.stale_after_s or not inp.plugged_in[d]:
            assert p == 0.0
        if p < 0:
            assert m.soc_kwh + p * dt / lim.eta_discharge >= lim.soc_floor_kwh - tol
            budget = lim.discharge_budget_kwh
            assert budget is None or -p * dt / lim.eta_discharge <= budget + tol
        if p > 0:
            assert m.soc_kwh + p * dt * lim.eta_charge <= lim.capacity_kwh + tol
    net = inp.load_kw - inp.pv_kw
    c = sum(max(0.0, p) for p in out.values())
    d_all = sum(max(0.0, -p) for p in out.values())
    d_held = sum(max(0.0, -p) for n, p in out.items() if not limits[n].can_export)
    storage_export = inp.grid_export_allowed and site.export_policy == "any"
    assert (d_held if storage_export else d_all) <= max(0.0, net) + c + tol
    if storage_export:
        assert d_all <= max(0.0, net + site.export_limit_kw) + c + tol
    if inp.grid_connected:
        assert net + c - d_all <= site.import_limit_kw + tol or c == 0.0
    else:
        assert c <= max(0.0, d_all - net) + tol
    again, _ = guard(out_cmds, limits, site, inp)  # guarding twice changes nothing that matters
    assert [x.power_kw for x in again] == pytest.approx([x.power_kw for x in out_cmds], abs=tol)
