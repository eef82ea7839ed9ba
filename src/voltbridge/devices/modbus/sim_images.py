"""SunSpec point values of the simulated meter, PV inverter and battery, taken from a
``SimulatedHome``'s physics, and how the simulated battery obeys model 124's controls.

Values are raw (unscaled) and keyed by point name, ready for ``ModelDef.image``; each image
carries its own scale factors, chosen so the registers keep as many digits as they can.
Energy counters use 0.01 Wh steps (``*_SF = -2``) and roll over like real accumulators.
"""

from __future__ import annotations

from collections.abc import Mapping

from voltbridge.devices.modbus.sunspec_map import ModelReading, Raw, fit_sf, to_raw
from voltbridge.devices.simulated_home import SimStorage, SimulatedHome

Values = dict[str, Raw | None]
"""Raw point values of one model by point name; missing points read "not implemented"."""

V_SF, HZ_SF, WH_SF, PCT_SF = -1, -2, -2, -2
"""Scale factors served: voltage 0.1 V, frequency 0.01 Hz, energy 0.01 Wh, percentages 0.01 %."""

_CHARGE, _DISCHARGE = 1 << 0, 1 << 1
"""Model 124 ``StorCtl_Mod`` bits (see ``drivers.SunSpecBattery``)."""


def _acc(wh: float, ptype: str) -> int:
    bits = 64 if ptype == "uint64" else 32
    return to_raw(max(wh, 0.0), WH_SF) % (1 << bits)


def grid_voltage(home: SimulatedHome) -> tuple[float, float]:
    """The grid's voltage [V] and frequency [Hz] at the meter: 0 and 0 while the grid is down."""
    return (home.voltage_v, home.frequency_hz) if home.grid_up else (0.0, 0.0)


def common_values(name: str, unit_id: int) -> Values:
    """Model 1 (common): manufacturer, model, version, serial number and device address."""
    return {
        "Mn": "voltbridge",
        "Md": f"simulated {name}",
        "Vr": "1.0",
        "SN": f"sim-{name}",
        "DA": unit_id,
    }


def meter_values(home: SimulatedHome) -> Values:
    """Models 201–204 (AC meter): W = ``home.grid_kw`` (+ import), voltage, frequency, energy."""
    w = home.grid_kw * 1000.0
    volts, hz = grid_voltage(home)
    amps = w / volts if volts > 0 else 0.0
    w_sf, a_sf = fit_sf(w, "int16", finest=0), fit_sf(amps, "int16", finest=-2)
    t = home.totals
    return {
        "A": to_raw(amps, a_sf),
        "AphA": to_raw(amps, a_sf),
        "A_SF": a_sf,
        "PhV": to_raw(volts, V_SF),
        "PhVphA": to_raw(volts, V_SF),
        "V_SF": V_SF,
        "Hz": to_raw(hz, HZ_SF),
        "Hz_SF": HZ_SF,
        "W": to_raw(w, w_sf),
        "WphA": to_raw(w, w_sf),
        "W_SF": w_sf,
        "VA": to_raw(abs(w), w_sf),
        "VAphA": to_raw(abs(w), w_sf),
        "VA_SF": w_sf,
        "VAR": 0,
        "VARphA": 0,
        "VAR_SF": 0,
        "TotWhExp": _acc(t.grid_export_kwh * 1000.0, "acc32"),
        "TotWhExpPhA": _acc(t.grid_export_kwh * 1000.0, "acc32"),
        "TotWhImp": _acc(t.grid_import_kwh * 1000.0, "acc32"),
        "TotWhImpPhA": _acc(t.grid_import_kwh * 1000.0, "acc32"),
        "TotWh_SF": WH_SF,
        "Evt": 0,
    }


def ac_values(model_id: int, w: float, wh: float | None, volts: float, hz: float) -> Values:
    """An inverter's AC measurement model (701, or 101/102/103): output ``w`` [W] (generation
    positive, as SunSpec counts a DER), energy ``wh`` [Wh] (None: not kept), voltage [V], [Hz]."""
    amps = abs(w) / volts if volts > 0 else 0.0
    w_sf, a_sf = fit_sf(w, "int16", finest=0), fit_sf(amps, "int16", finest=-2)
    running = w != 0
    if model_id == 701:
        return {
            "ACType": 0,
            "St": int(running),
            "InvSt": 3 if running else 1,
            "ConnSt": int(volts > 0),
            "Alrm": 0,
            "W": to_raw(w, w_sf),
            "VA": to_raw(abs(w), w_sf),
            "Var": 0,
            "A": to_raw(amps, a_sf),
            "LNV": to_raw(volts, V_SF),
            "Hz": to_raw(hz, HZ_SF),
            "TotWhInj": None if wh is None else _acc(wh, "uint64"),
            "WL1": to_raw(w, w_sf),
            "AL1": to_raw(amps, a_sf),
            "VL1": to_raw(volts, V_SF),
            "A_SF": a_sf,
            "V_SF": V_SF,
            "Hz_SF": HZ_SF,
            "W_SF": w_sf,
            "VA_SF": w_sf,
            "Var_SF": 0,
            "TotWh_SF": WH_SF,
        }
    return {
        "A": to_raw(amps, a_sf),
        "AphA": to_raw(amps, a_sf),
        "A_SF": a_sf,
        "PhVphA": to_raw(volts, V_SF),
        "V_SF": V_SF,
        "W": to_raw(w, w_sf),
        "W_SF": w_sf,
        "Hz": to_raw(hz, HZ_SF),
        "Hz_SF": HZ_SF,
        "VA": to_raw(abs(w), w_sf),
        "VA_SF": w_sf,
        "VAr": 0,
        "VAr_SF": 0,
        "WH": None if wh is None else _acc(wh, "acc32"),
        "WH_SF": WH_SF,
        "St": 4 if running else 8,  # MPPT (running) or STANDBY
        "Evt1": 0,
    }


def pv_values(home: SimulatedHome, model_id: int) -> Values:
    """The PV inverter: W = ``home.pv_used_kw`` [W], energy = PV used since the start."""
    volts, hz = grid_voltage(home)
    if home.pv_used_kw > 0 and volts == 0:  # islanded: the home's backup grid
        volts, hz = home.voltage_v, home.frequency_hz
    return ac_values(
        model_id, home.pv_used_kw * 1000.0, home.totals.pv_used_kwh * 1000.0, volts, hz
    )


def _charge_state(s: SimStorage) -> int:
    if s.power_kw > 0:
        return 4  # CHARGING
    if s.power_kw < 0:
        return 3  # DISCHARGING
    if s.soc_kwh >= s.capacity_kwh:
        return 5  # FULL
    return 2 if s.soc_kwh <= 0 else 6  # EMPTY or HOLDING


def battery_ac_values(home: SimulatedHome, store: SimStorage, model_id: int) -> Values:
    """The battery inverter's AC model: W = -``power_kw`` [W] (discharge is a DER's output)."""
    volts, hz = home.voltage_v, home.frequency_hz
    return ac_values(model_id, -store.power_kw * 1000.0, None, volts, hz)


def storage_124_values(store: SimStorage, controls: Mapping[str, Raw | None]) -> Values:
    """Model 124: ``WChaMax`` = charge limit [W], ``ChaState`` = SoC [%], with the controls as
    last written (``StorCtl_Mod``, ``InWRte``, ``OutWRte``, ...) laid over the defaults."""
    wmax = store.max_charge_kw * 1000.0
    wmax_sf = fit_sf(wmax, "uint16", finest=0)
    values: Values = {
        "WChaMax": to_raw(wmax, wmax_sf),
        "WChaGra": 100,
        "WDisChaGra": 100,
        "StorCtl_Mod": 0,
        "MinRsvPct": 0,
        "ChaState": to_raw(100.0 * store.soc_kwh / store.capacity_kwh, PCT_SF),
        "ChaSt": _charge_state(store),
        "OutWRte": 0,
        "InWRte": 0,
        "InOutWRte_WinTms": 0,
        "InOutWRte_RvrtTms": 0,
        "InOutWRte_RmpTms": 0,
        "ChaGriSet": 1,
        "WChaMax_SF": wmax_sf,
        "WChaDisChaGra_SF": 0,
        "MinRsvPct_SF": 0,
        "ChaState_SF": PCT_SF,
        "InOutWRte_SF": PCT_SF,
    }
    values.update(controls)
    return values


def battery_802_values(store: SimStorage, heartbeat_s: float) -> Values:
    """Model 802: capacity ``WHRtg`` [Wh], SoC [%], DC ``W`` = -``power_kw`` [W] (+ discharging,
    the simulator has no DC losses), heartbeat ``Hb`` counting seconds."""
    wh = store.capacity_kwh * 1000.0
    wh_sf = fit_sf(wh, "uint16", finest=0)
    wmax = max(store.max_charge_kw, store.max_discharge_kw) * 1000.0
    wmax_sf = fit_sf(wmax, "uint16", finest=0)
    w = -store.power_kw * 1000.0
    w_sf = fit_sf(w, "int16", finest=0)
    return {
        "WHRtg": to_raw(wh, wh_sf),
        "WChaRteMax": to_raw(store.max_charge_kw * 1000.0, wmax_sf),
        "WDisChaRteMax": to_raw(store.max_discharge_kw * 1000.0, wmax_sf),
        "SoCMax": to_raw(100.0, PCT_SF),
        "SoCMin": 0,
        "SoC": to_raw(100.0 * store.soc_kwh / store.capacity_kwh, PCT_SF),
        "SoH": 100,
        "ChaSt": _charge_state(store),
        "LocRemCtl": 0,
        "Hb": int(heartbeat_s) % 65536,
        "State": 3,  # CONNECTED
        "Evt1": 0,
        "Evt2": 0,
        "W": to_raw(w, w_sf),
        "SetOp": 1,
        "SetInvState": 3,
        "WHRtg_SF": wh_sf,
        "WChaDisChaMax_SF": wmax_sf,
        "SoC_SF": PCT_SF,
        "SoH_SF": 0,
        "W_SF": w_sf,
    }


def setpoint_from_124(r: ModelReading, store: SimStorage) -> float:
    """The AC setpoint [kW] (+ charging) a simulated battery takes from model 124's controls.

    The window is ``[-OutWRte, +InWRte]`` % of ``WChaMax`` for the limits whose ``StorCtl_Mod``
    bit is set (the storage's own limits otherwise); the simulator has no strategy of its own,
    so it runs at the point of the window nearest 0 kW (hold when 0 lies inside it).
    """
    mode = int(r.raw("StorCtl_Mod") or 0)
    wmax_kw = (r.value("WChaMax") or 0.0) / 1000.0
    hi = store.max_charge_kw
    lo = -store.max_discharge_kw
    if mode & _CHARGE:
        hi = (r.value("InWRte") or 0.0) / 100.0 * wmax_kw
    if mode & _DISCHARGE:
        lo = -(r.value("OutWRte") or 0.0) / 100.0 * wmax_kw
    if lo > hi:
        return 0.0
    return min(max(0.0, lo), hi)
