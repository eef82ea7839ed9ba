"""The driver of one OCPP charger: the ``Charger`` capability over its websocket session.

The driver lives as long as the central system and is keyed by charger id, so a charger that
reconnects resumes its session: transaction id, last meter values and the car's needs are kept.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from datetime import datetime
from typing import Any

from websockets.exceptions import ConnectionClosed

from voltbridge.core.clock import Clock
from voltbridge.core.types import Measurement
from voltbridge.devices.capabilities import DeviceError
from voltbridge.devices.ocpp.config import OcppChargerConfig
from voltbridge.devices.ocpp.log_limit import LogLimiter
from voltbridge.devices.ocpp.profiles import (
    SETPOINT_PROFILE_ID,
    OperationMode,
    PeriodRequest,
    default_profile,
    mode_profile,
    set_charging_profile_request,
)
from voltbridge.devices.ocpp.readings import (
    BIDIRECTIONAL_TRANSFERS,
    EvChargingNeeds,
    MeterSample,
    capacity_from_needs,
    merge_meter_values,
)
from voltbridge.devices.ocpp.rpc import OcppCallError, OcppEndpoint

log = logging.getLogger(__name__)

V2X_COMPONENT = "V2XChargingCtrlr"
"""The OCPP 2.1 device-model component describing an EVSE's bidirectional abilities."""
V2X_VARIABLES = ("Enabled", "SupportedOperationModes", "SupportedEnergyTransferModes")


class ChargerRejectedError(DeviceError, ConnectionError):
    """The charger did not carry out a request: it answered a status other than Accepted, a
    CALLERROR, or an answer that breaks OCPP.

    A ConnectionError, as every other way a charger can fail a command, so that a caller that
    treats a failing device as a fault (the controller's guarded reads and writes) treats this
    one the same way instead of stopping on it.
    """


class OcppCharger:
    """One charger behind the central system, offering the ``Charger`` capability.

    Powers are AC [kW], + charging, - discharging. Setpoints are clipped to the configured limits
    and to the car's (from its charging needs); a charger on OCPP 2.0.1 never gets a negative one.
    """

    def __init__(self, config: OcppChargerConfig, clock: Clock) -> None:
        self.config, self.clock = config, clock
        self.name = config.charger_id
        self.sample: MeterSample | None = None
        """The latest meter values reported (kept across reconnections)."""
        self.needs: EvChargingNeeds | None = None
        """The car's latest charging needs, None before the first ``NotifyEVChargingNeeds``."""
        self.transaction_id: str | None = None
        self.connector_status: str | None = None
        self.last_seen: datetime | None = None
        """When the charger last sent anything (aware UTC)."""
        self.booted = False
        self.station_info: dict[str, Any] = {}
        """The ``chargingStation`` of its last BootNotification (model, vendor, firmware)."""
        self.v2x_capabilities: dict[str, str] = {}
        """``V2XChargingCtrlr`` variables the charger reported, by variable name."""
        self.setpoint_kw: float | None = None
        """The last setpoint [kW] the charger accepted in this transaction."""
        self._estimated_capacity_kwh: float | None = None
        self._wanted: PeriodRequest | None = None
        self._link: OcppEndpoint | None = None
        self._remote_start_id = 0
        self.frame_log = LogLimiter(clock)
        """Rate limit of the log lines about this charger's bad frames (across reconnections)."""

    # --- state ---------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """True while the charger's websocket is open."""
        return self._link is not None

    @property
    def version(self) -> str | None:
        """The OCPP version of the open connection (``"2.1"`` or ``"2.0.1"``), None when closed."""
        return None if self._link is None else self._link.version

    @property
    def capacity_kwh(self) -> float | None:
        """The car's usable capacity [kWh]: configured, else estimated from its needs."""
        return self.config.battery_capacity_kwh or self._estimated_capacity_kwh

    def is_stale(self) -> bool:
        """True when no meter values arrived within ``stale_after_s`` [s] of now."""
        if self.sample is None:
            return True
        age_s = (self.clock.now() - self.sample.at).total_seconds()
        return age_s > self.config.stale_after_s

    # --- the Charger capability ----------------------------------------------------------------
    async def read_charger(self) -> Measurement:
        """AC power ``power_kw`` [kW] (+ charging) and the car's ``soc_kwh`` [kWh].

        ``at`` is when the charger sampled them, so it stops advancing when the charger goes
        quiet; ``soc_kwh`` is None while the capacity is unknown or no car is plugged in.

        Raises:
            ConnectionError: the charger is not connected (closed, or given up as frozen), so
                its power is unknown: the last values are kept for when it comes back, never
                shown as today's; or it never reported meter values.
        """
        s = self.sample
        if not self.connected:
            raise ConnectionError(
                f"charger {self.name} is not connected, its power is unknown; check that it is "
                f"powered and set to this central system with identity {self.name!r}"
            )
        if s is None:
            raise ConnectionError(f"charger {self.name} has sent no meter values yet")
        cap = self.capacity_kwh
        soc_kwh = None if s.soc_pct is None or cap is None else s.soc_pct / 100.0 * cap
        return Measurement(
            self.name, s.at, power_kw=s.power_kw, energy_kwh=s.energy_import_kwh, soc_kwh=soc_kwh
        )

    async def plugged_in(self) -> bool:
        """True while a car is connected (connector Occupied or a transaction open).

        Raises:
            ConnectionError: the charger is not connected, so its state is unknown.
        """
        self._require_link("plugged_in")
        return self.connector_status == "Occupied" or self.transaction_id is not None

    async def set_charge_power(self, kw: float) -> None:
        """Signed AC setpoint [kW] (+ charging) as a ``CentralSetpoint`` TxProfile.

        Clipped to the limits; without an open transaction it is kept and sent when one starts.

        Raises:
            ValueError: ``kw`` is not a finite number.
            ConnectionError: the charger is not connected or did not answer in time.
            ChargerRejectedError: the charger refused the profile.
            OcppCallError: the charger answered with a CALLERROR.
        """
        link = self._require_link("set_charge_power")
        if not math.isfinite(kw):
            raise ValueError(f"charger {self.name}: setpoint {kw} kW is not a finite number")
        target = self._clip(kw, link.version)
        period = PeriodRequest(
            OperationMode.CENTRAL_SETPOINT,
            setpoint_kw=target,
            limit_kw=self._charge_limit_kw(),
            discharge_limit_kw=self._discharge_limit_kw(link.version),
        )
        await self._apply(period, f"setpoint {target:+.2f} kW asked by the controller")

    async def safe_default(self) -> None:
        """Setpoint 0 kW for the open transaction (the default profile covers any later one).

        Raises:
            ConnectionError: the charger is not connected; it falls back to its default profile
                by itself ``max_offline_duration_s`` after losing voltbridge.
        """
        self._require_link("safe_default")
        period = PeriodRequest(OperationMode.CENTRAL_SETPOINT, setpoint_kw=0.0)
        await self._apply(period, "safe default (setpoint 0 kW)")

    # --- more of OCPP 2.1 ----------------------------------------------------------------------
    async def set_charging_only(self, limit_kw: float) -> None:
        """Charge up to ``limit_kw`` [kW] and never discharge (``ChargingOnly``)."""
        self._require_link("set_charging_only")
        limit = min(max(limit_kw, 0.0), self._charge_limit_kw())
        await self._apply(
            PeriodRequest(OperationMode.CHARGING_ONLY, limit_kw=limit),
            f"charging only, up to {limit:.2f} kW",
        )

    async def set_idle(self) -> None:
        """Neither charge nor discharge (``Idle``)."""
        self._require_link("set_idle")
        await self._apply(PeriodRequest(OperationMode.IDLE), "idle")

    async def clear_setpoint(self) -> None:
        """Remove the central setpoint profile; the safe default profile applies again."""
        link = self._require_link("clear_setpoint")
        self._wanted = None
        answer = await self._request(
            link,
            "ClearChargingProfile",
            {"chargingProfileId": SETPOINT_PROFILE_ID},
            "the central setpoint is no longer wanted",
        )
        self.setpoint_kw = None
        if answer["status"] not in ("Accepted", "Unknown"):  # Unknown: nothing to clear
            raise ChargerRejectedError(f"charger {self.name} refused ClearChargingProfile")

    async def install_default_profile(self) -> None:
        """Install the safe default ``TxDefaultProfile`` (stack level 0) on every EVSE."""
        link = self._require_link("install_default_profile")
        payload = set_charging_profile_request(
            0,
            default_profile(offline_charge_kw=self.config.offline_charge_kw, version=link.version),
        )
        why = f"fallback when voltbridge is unreachable: charge up to {self.config.offline_charge_kw:.2f} kW, never discharge"
        self._check_accepted(await self._request(link, "SetChargingProfile", payload, why))

    async def read_v2x_capabilities(self) -> dict[str, str]:
        """Ask the charger for its ``V2XChargingCtrlr`` variables; returns those it knows."""
        link = self._require_link("read_v2x_capabilities")
        data = [
            {
                "component": {"name": V2X_COMPONENT, "evse": {"id": self.config.evse_id}},
                "variable": {"name": v},
            }
            for v in V2X_VARIABLES
        ]
        answer = await self._request(
            link,
            "GetVariables",
            {"getVariableData": data},
            "learn its V2X abilities",
            optional=True,
        )
        found = {
            r["variable"]["name"]: str(r.get("attributeValue", ""))
            for r in answer["getVariableResult"]
            if r["attributeStatus"] == "Accepted"
        }
        self.v2x_capabilities = found
        return found

    async def request_start_transaction(self, id_token: str = "voltbridge") -> str | None:
        """Ask the charger to start a transaction; returns its id when the charger gives one."""
        link = self._require_link("request_start_transaction")
        self._remote_start_id += 1
        payload = {
            "idToken": {"idToken": id_token, "type": "Central"},
            "remoteStartId": self._remote_start_id,
            "evseId": self.config.evse_id,
        }
        answer = await self._request(link, "RequestStartTransaction", payload, "asked to start")
        self._check_accepted(answer)
        tx = answer.get("transactionId")
        return None if tx is None else str(tx)

    async def request_stop_transaction(self) -> None:
        """Ask the charger to stop the open transaction."""
        link = self._require_link("request_stop_transaction")
        if self.transaction_id is None:
            raise RuntimeError(f"charger {self.name} has no open transaction to stop")
        payload = {"transactionId": self.transaction_id}
        self._check_accepted(
            await self._request(link, "RequestStopTransaction", payload, "asked to stop")
        )

    async def disconnect(self) -> None:
        """Close the charger's websocket (it will reconnect by itself)."""
        if self._link is not None:
            await self._link.close()

    # --- called by the connection's handlers ---------------------------------------------------
    def attach(self, link: OcppEndpoint) -> OcppEndpoint | None:
        """Make ``link`` the charger's connection; returns the one it replaces, if any."""
        previous, self._link = self._link, link
        return previous

    def detach(self, link: OcppEndpoint) -> None:
        """Forget ``link`` when it is still the charger's connection."""
        if self._link is link:
            self._link = None

    def lost(self, link: OcppEndpoint, why: str) -> None:
        """``link`` is frozen (open, but the charger says nothing): from now on the charger reads
        as not connected, before its socket has finished closing."""
        if self._link is link:
            self._link = None
            log.warning(
                "charger %s %s: closing its connection; it reads as unknown until it reconnects",
                self.name,
                why,
            )

    def touch(self) -> None:
        """Record that the charger just sent something."""
        self.last_seen = self.clock.now()

    def record_meter_values(self, meter_value: list[dict[str, Any]]) -> None:
        """Fold a ``meterValue`` list (snake_case keys) into the latest sample."""
        self.sample = merge_meter_values(self.sample, meter_value, self.clock.now())

    def record_status(self, connector_status: str) -> None:
        """Connector status from a StatusNotification; Available means the car left."""
        self.connector_status = connector_status
        if connector_status == "Available" and self.transaction_id is None:
            self._car_left()

    def record_transaction(self, event_type: str, transaction_id: str) -> bool:
        """Track the transaction; returns True when it has just started."""
        if event_type == "Ended":
            if transaction_id == self.transaction_id:
                self.transaction_id = None
                self._wanted = None  # a setpoint is never carried to the next car
                self.setpoint_kw = None
                self._car_left()
            return False
        started = transaction_id != self.transaction_id
        self.transaction_id = transaction_id
        return started

    def record_needs(self, needs: EvChargingNeeds) -> None:
        """The car's charging needs; its capacity is estimated from them when not configured."""
        self.needs = needs
        soc = self.sample.soc_pct if self.sample is not None else None
        estimate = capacity_from_needs(needs, soc)
        if estimate is not None:
            self._estimated_capacity_kwh = estimate
        log.info(
            "charger %s: car needs %s kWh by %s (target %s %%, charge <= %s kW, discharge <= %s kW)",
            self.name,
            needs.energy_requested_kwh,
            needs.departure,
            needs.target_soc_pct,
            needs.max_charge_kw,
            needs.max_discharge_kw,
        )

    def allowed_transfers(self) -> list[str]:
        """Energy transfer modes to allow the car: its own, less discharge when not permitted."""
        if self.needs is None:
            return []
        modes = list(
            dict.fromkeys([self.needs.requested_transfer, *self.needs.available_transfers])
        )
        if self.config.max_discharge_kw <= 0:
            modes = [m for m in modes if m not in BIDIRECTIONAL_TRANSFERS]
        return modes

    async def configure(self) -> None:
        """On (re)connection: default profile, V2X abilities, and the open transaction's setpoint."""
        link = self._link
        if link is None:
            return
        try:
            await self.install_default_profile()
            await self.read_v2x_capabilities()
            if self.transaction_id is not None and self._wanted is not None:
                await self._send(link, self._wanted, "resuming the session after reconnection")
        except (ConnectionError, ChargerRejectedError, RuntimeError) as exc:
            log.warning("charger %s: configuration incomplete: %s", self.name, exc)

    async def on_transaction_started(self) -> None:
        """Send the wanted setpoint that waited for a transaction."""
        link = self._link
        if link is not None and self._wanted is not None:
            try:
                await self._send(link, self._wanted, "a transaction started")
            except (ConnectionError, ChargerRejectedError, RuntimeError) as exc:
                log.warning("charger %s: pending setpoint not applied: %s", self.name, exc)

    # --- internals -----------------------------------------------------------------------------
    def _car_left(self) -> None:
        self._estimated_capacity_kwh = None
        self.needs = None
        if self.sample is not None:
            self.sample = replace(self.sample, soc_pct=None)

    def _charge_limit_kw(self) -> float:
        car = self.needs.max_charge_kw if self.needs else None
        return min(self.config.max_charge_kw, car) if car is not None else self.config.max_charge_kw

    def _discharge_limit_kw(self, version: str) -> float:
        if version == "2.0.1":
            return 0.0
        limit = self.config.max_discharge_kw
        if self.needs is not None:
            if not any(m in BIDIRECTIONAL_TRANSFERS for m in self.allowed_transfers()):
                return 0.0
            if self.needs.max_discharge_kw is not None:
                limit = min(limit, self.needs.max_discharge_kw)
        return limit

    def _clip(self, kw: float, version: str) -> float:
        if version == "2.0.1" and kw < 0:
            log.warning(
                "charger %s speaks OCPP 2.0.1 (charging only): setpoint %+.2f kW clamped to 0 kW",
                self.name,
                kw,
            )
            return 0.0
        lo, hi = -self._discharge_limit_kw(version), self._charge_limit_kw()
        target = min(max(kw, lo), hi)
        if target != kw:
            log.info(
                "charger %s: setpoint %+.2f kW clipped to %+.2f kW (limits %+.2f..%+.2f kW from "
                "its configuration and the car's needs)",
                self.name,
                kw,
                target,
                lo,
                hi,
            )
        return target

    async def _apply(self, period: PeriodRequest, why: str) -> None:
        link = self._require_link("_apply")
        self._wanted = period
        if self.transaction_id is None:
            log.info("charger %s: no transaction open; %s is sent when one starts", self.name, why)
            return
        await self._send(link, period, why)

    async def _send(self, link: OcppEndpoint, period: PeriodRequest, why: str) -> None:
        if self.transaction_id is None:
            return
        profile = mode_profile(
            period,
            transaction_id=self.transaction_id,
            max_offline_duration_s=self.config.max_offline_duration_s,
            version=link.version,
        )
        payload = set_charging_profile_request(self.config.evse_id, profile)
        self._check_accepted(await self._request(link, "SetChargingProfile", payload, why))
        if period.mode is OperationMode.CENTRAL_SETPOINT:
            self.setpoint_kw = (
                period.setpoint_kw
                if link.version != "2.0.1"
                else max(period.setpoint_kw or 0.0, 0.0)
            )
        elif period.mode is OperationMode.IDLE:
            self.setpoint_kw = 0.0
        else:
            self.setpoint_kw = None

    def _check_accepted(self, answer: dict[str, Any]) -> None:
        if answer.get("status") != "Accepted":
            info = answer.get("statusInfo") or {}
            reason = info.get("reasonCode", "no reason given")
            extra = info.get("additionalInfo", "")
            raise ChargerRejectedError(
                f"charger {self.name} answered {answer.get('status')} ({reason}) {extra}".strip()
            )

    async def _request(
        self,
        link: OcppEndpoint,
        action: str,
        payload: dict[str, Any],
        why: str,
        *,
        optional: bool = False,
    ) -> dict[str, Any]:
        """``link.request``, with every way the charger can fail it as a ConnectionError."""
        log.info("charger %s: sending %s (%s): %s", self.name, action, why, payload)
        try:
            answer = await link.request(action, payload, optional=optional)
        except OcppCallError as exc:
            raise ChargerRejectedError(f"charger {self.name}: {exc}") from exc
        except TimeoutError as exc:
            raise ConnectionError(f"charger {self.name}: {exc}") from exc
        except ConnectionClosed as exc:
            raise ConnectionError(
                f"charger {self.name}: connection closed while sending {action}"
            ) from exc
        log.info("charger %s answered %s: %s", self.name, action, answer)
        return answer

    def _require_link(self, what: str) -> OcppEndpoint:
        if self._link is None:
            raise ConnectionError(
                f"charger {self.name} is not connected ({what} not sent); it falls back to its "
                f"default profile {self.config.max_offline_duration_s} s after losing voltbridge"
            )
        return self._link
