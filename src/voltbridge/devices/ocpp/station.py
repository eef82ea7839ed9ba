"""A simulated OCPP 2.1 charging station with the simulated car behind it, over a real websocket.

The station stands in for a bidirectional wallbox: it boots, reports its connector, opens a
transaction when the car is plugged in (with the car's charging needs), sends meter values every
``meter_interval_s``, follows the charging profiles it receives, and falls back to its lower
profiles when the CSMS is unreachable for longer than their ``maxOfflineDuration``. It reconnects
with exponential backoff.

Time: every wait is derived from one loop that sleeps ``tick_s`` on the injected clock, so a
``VirtualClock`` (speed 1 for demos) runs at the pace of that loop, and a test clock that only
moves when told drives the station deterministically.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import uuid
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.headers import build_authorization_basic

from voltbridge.core.clock import Clock
from voltbridge.devices.ocpp.log_limit import LogLimiter
from voltbridge.devices.ocpp.profile_stack import (
    HeldProfile,
    ProfileRefused,
    ProfileStack,
    parse_profile,
    period_power_kw,
)
from voltbridge.devices.ocpp.readings import BIDIRECTIONAL_TRANSFERS
from voltbridge.devices.ocpp.rpc import OcppCallError
from voltbridge.devices.ocpp.station_link import StationLink
from voltbridge.devices.ocpp.station_messages import (
    CarNeeds,
    CarReading,
    boot_notification,
    charging_needs,
    meter_value,
    status_notification,
    transaction_event,
)
from voltbridge.devices.simulated_home import SimulatedHome

log = logging.getLogger(__name__)


class ChargingStation:
    """An OCPP 2.1 charging station driving ``home.car``.

    Args:
        home: the simulated home; its ``car`` is the car behind this station.
        url: the CSMS URL ending in the station identity, e.g. ``ws://127.0.0.1:9000/ocpp/CP1``.
        charger_id: the station identity (basic-auth user).
        password: basic-auth password; None connects without credentials.
        clock: the clock to read and sleep on (the home's clock in a simulation).
        evse_id: the EVSE the car is on.
        meter_interval_s: how often [s] to send meter values.
        tick_s: the period [s] of the station's single timing loop.
        departure_after_s: the car's departure [s] after it is plugged in.
        target_soc_pct: state of charge [%] the car wants at departure.
        v2x_min_soc_pct, v2x_max_soc_pct: the range [%] the car allows for V2X cycling.
        backoff_min_s, backoff_max_s: first and longest wait [s] between connection attempts.
        response_timeout_s: how long [s] to wait for the CSMS's answers and the handshake.
        cafile: PEM file of the CA to trust for ``wss://`` (the system's CAs when None).
    """

    def __init__(
        self,
        home: SimulatedHome,
        url: str,
        charger_id: str,
        password: str | None,
        clock: Clock,
        *,
        evse_id: int = 1,
        meter_interval_s: float = 10.0,
        tick_s: float = 1.0,
        departure_after_s: float = 8 * 3600.0,
        target_soc_pct: float = 80.0,
        v2x_min_soc_pct: float = 20.0,
        v2x_max_soc_pct: float = 90.0,
        backoff_min_s: float = 1.0,
        backoff_max_s: float = 60.0,
        response_timeout_s: float = 10.0,
        cafile: str | None = None,
    ) -> None:
        if home.car is None:
            raise ValueError("the simulated home has no car: build it with SimulatedHome(car=...)")
        if meter_interval_s <= 0 or tick_s <= 0:
            raise ValueError("meter_interval_s and tick_s must be > 0 [s]")
        self.home, self.car, self.clock = home, home.car, clock
        self.url, self.charger_id, self.password, self.evse_id = url, charger_id, password, evse_id
        self.meter_interval_s, self.tick_s = meter_interval_s, tick_s
        self.departure_after_s, self.target_soc_pct = departure_after_s, target_soc_pct
        self.v2x_soc_pct = (v2x_min_soc_pct, v2x_max_soc_pct)
        self.backoff_s = (backoff_min_s, backoff_max_s)
        self.response_timeout_s, self.cafile = response_timeout_s, cafile
        self.stack = ProfileStack()
        self.received: deque[tuple[str, dict[str, Any]]] = deque(maxlen=1000)
        """The latest requests the CSMS sent, in order: (action, payload with snake_case keys)."""
        self.transaction_id: str | None = None
        self.allowed_transfers: list[str] | None = None
        """Energy transfer modes the CSMS allowed for the transaction (None: not told)."""
        self.control = "not started"
        """What decides the car's power now, in words."""
        self.offline_since: datetime | None = clock.now()
        """Since when the CSMS is unreachable; None while connected."""
        self.booted = False
        self._link: StationLink | None = None
        self._plugged = False
        self._tx_start: datetime | None = None
        self._seq = 0
        self._outbox: deque[tuple[str, dict[str, Any]]] = deque()
        self._outbox_ready = asyncio.Event()
        self._retry = asyncio.Event()
        self._next_attempt: datetime | None = None
        self._next_meter = self._next_heartbeat = clock.now()
        self._heartbeat_s = 60.0
        self._import_kwh = self._export_kwh = 0.0
        self._car_kwh = home.totals.car_kwh
        self._task: asyncio.Task[None] | None = None
        self.frame_log = LogLimiter(clock)
        """Rate limit of the log lines about the CSMS's bad frames."""

    @property
    def connected(self) -> bool:
        """True while the websocket to the CSMS is open."""
        return self._link is not None

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> asyncio.Task[None]:
        """Run the station in a task (see ``run``)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name=f"station {self.charger_id}")
        return self._task

    async def stop(self) -> None:
        """Stop the task started by ``start``, closing the websocket cleanly first."""
        if self._link is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._link.close(), self.response_timeout_s)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        """Connect, serve and reconnect with backoff until cancelled."""
        ticker = asyncio.create_task(self._tick_loop())
        failures = 0
        try:
            while True:
                try:
                    async with connect(
                        self.url,
                        subprotocols=["ocpp2.1"],  # type: ignore[list-item]  # a NewType of str
                        additional_headers=self._auth_headers(),
                        ssl=self._ssl_context(),
                        open_timeout=self.response_timeout_s,
                        close_timeout=self.response_timeout_s,
                    ) as ws:
                        failures = 0
                        await self._session(ws)
                    log.warning("station %s: connection to the CSMS closed", self.charger_id)
                except InvalidStatus as exc:
                    log.error(
                        "station %s: the CSMS refused the connection (HTTP %s); check the "
                        "charger id and password",
                        self.charger_id,
                        exc.response.status_code,
                    )
                except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
                    log.warning("station %s: CSMS unreachable: %s", self.charger_id, exc)
                except (OcppCallError, OCPPError) as exc:  # e.g. the CSMS refused our boot
                    log.error("station %s: the CSMS answered wrongly: %s", self.charger_id, exc)
                failures += 1
                lo, hi = self.backoff_s
                delay = min(hi, lo * 2 ** min(failures - 1, 16))
                self._next_attempt = self.clock.now() + timedelta(seconds=delay)
                self._retry.clear()
                await self._retry.wait()
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    def _auth_headers(self) -> dict[str, str]:
        if self.password is None:
            return {}
        return {"Authorization": build_authorization_basic(self.charger_id, self.password)}

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.url.startswith("wss://"):
            return None
        return ssl.create_default_context(cafile=self.cafile)

    async def _session(self, ws: ClientConnection) -> None:
        link = StationLink(self, ws, self.response_timeout_s)
        reader = asyncio.create_task(link.start())
        sender: asyncio.Task[None] | None = None
        self._link, self.offline_since = link, None
        try:
            now = self.clock.now()
            if not any(action == "StatusNotification" for action, _ in self._outbox):
                status = "Occupied" if self.car.plugged_in else "Available"
                self._outbox.appendleft(
                    ("StatusNotification", status_notification(now, self.evse_id, status))
                )
            if not self.booted:
                answer = await link.request(
                    "BootNotification", boot_notification("sim-v2x", "voltbridge")
                )
                if answer["status"] != "Accepted":
                    log.error("station %s: boot %s by the CSMS", self.charger_id, answer["status"])
                    return
                self.booted, self._heartbeat_s = True, float(answer["interval"])
            self._next_meter, self._next_heartbeat = now, now + timedelta(seconds=self._heartbeat_s)
            sender = asyncio.create_task(self._drain(link))
            done, _ = await asyncio.wait({reader, sender}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done and sender.exception() is not None:
                log.warning("station %s: %s; closing", self.charger_id, sender.exception())
        finally:
            self._link, self.offline_since = None, self.clock.now()
            for task in (reader, sender):
                if task is not None:
                    task.cancel()
            await asyncio.gather(reader, *([sender] if sender else []), return_exceptions=True)
            self._apply_power()

    async def _drain(self, link: StationLink) -> None:
        """Send the queued messages in order; a timeout or closed socket ends the session."""
        while True:
            while self._outbox:
                action, payload = self._outbox[0]
                try:
                    await link.request(action, payload)
                except (OcppCallError, OCPPError) as exc:  # never retried: it would fail again
                    log.error("station %s: %s dropped: %s", self.charger_id, action, exc)
                self._outbox.popleft()
            self._outbox_ready.clear()
            await self._outbox_ready.wait()

    def _post(self, action: str, payload: dict[str, Any]) -> None:
        self._outbox.append((action, payload))
        self._outbox_ready.set()

    # --- time ----------------------------------------------------------------------------------
    async def _tick_loop(self) -> None:
        while True:
            self.tick()
            await self.clock.sleep(self.tick_s)

    def tick(self) -> None:
        """Integrate, notice plug changes, follow the profiles, send what is due."""
        now = self.clock.now()
        self._sync()
        self._check_plug(now)
        self._apply_power()
        if self.connected and self.booted:
            if now >= self._next_meter:
                self._send_meter_values(now)
                self._next_meter = now + timedelta(seconds=self.meter_interval_s)
            if now >= self._next_heartbeat:
                self._post("Heartbeat", {})
                self._next_heartbeat = now + timedelta(seconds=self._heartbeat_s)
        elif self._next_attempt is not None and now >= self._next_attempt:
            self._retry.set()

    def _sync(self) -> None:
        """Integrate the home up to now and carry the car's AC energy into the registers [kWh]."""
        self.home.sync()
        delta = self.home.totals.car_kwh - self._car_kwh
        self._car_kwh = self.home.totals.car_kwh
        if delta > 0:
            self._import_kwh += delta
        else:
            self._export_kwh -= delta

    # --- the car -------------------------------------------------------------------------------
    def plug(self, connected: bool) -> None:
        """Plug the car in or out (scenario control); the CSMS hears of it at once."""
        self._sync()
        self.car.plugged_in = connected
        self.home.refresh()
        self._check_plug(self.clock.now())
        self._apply_power()

    def _reading(self) -> CarReading:
        soc = self.car.soc_kwh / self.car.capacity_kwh * 100.0 if self.car.plugged_in else None
        return CarReading(self.car.power_kw, self._import_kwh, self._export_kwh, soc)

    def _check_plug(self, now: datetime) -> None:
        if self.car.plugged_in == self._plugged:
            return
        self._plugged = self.car.plugged_in
        if self._plugged:
            self._post("StatusNotification", status_notification(now, self.evse_id, "Occupied"))
            self._start_transaction(now, "CablePluggedIn")
            needs = CarNeeds(
                departure=now + timedelta(seconds=self.departure_after_s),
                capacity_kwh=self.car.capacity_kwh,
                soc_kwh=self.car.soc_kwh,
                target_soc_pct=self.target_soc_pct,
                v2x_min_soc_pct=self.v2x_soc_pct[0],
                v2x_max_soc_pct=self.v2x_soc_pct[1],
                max_charge_kw=self.car.max_charge_kw,
                max_discharge_kw=self.car.max_discharge_kw,
            )
            self._post("NotifyEVChargingNeeds", charging_needs(now, self.evse_id, needs))
        else:
            self._end_transaction(now, "EVDeparted", "EVDisconnected")
            self._post("StatusNotification", status_notification(now, self.evse_id, "Available"))

    def _start_transaction(self, now: datetime, trigger: str) -> str:
        self.transaction_id, self._tx_start, self._seq = str(uuid.uuid4()), now, 0
        self.allowed_transfers = None
        self._post("TransactionEvent", self._tx_event(now, "Started", trigger, "EVConnected"))
        return self.transaction_id

    def _end_transaction(self, now: datetime, trigger: str, reason: str) -> None:
        if self.transaction_id is None:
            return
        self._seq += 1
        self._post("TransactionEvent", self._tx_event(now, "Ended", trigger, None, reason))
        self.transaction_id = self._tx_start = None
        self.stack.end_transaction()

    def _tx_event(
        self, now: datetime, event: str, trigger: str, state: str | None, reason: str | None = None
    ) -> dict[str, Any]:
        assert self.transaction_id is not None
        context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}
        return transaction_event(
            at=now,
            event=event,
            trigger=trigger,
            seq_no=self._seq,
            transaction_id=self.transaction_id,
            evse_id=self.evse_id,
            reading=self._reading(),
            offline=not self.connected,
            charging_state=state,
            stopped_reason=reason,
            context=context.get(event, "Sample.Periodic"),
        )

    def _send_meter_values(self, now: datetime) -> None:
        if self.transaction_id is None:
            self._post(
                "MeterValues",
                {"evseId": self.evse_id, "meterValue": meter_value(now, self._reading())},
            )
            return
        self._seq += 1
        state = "Charging" if abs(self.car.power_kw) > 1e-9 else "SuspendedEVSE"
        self._post("TransactionEvent", self._tx_event(now, "Updated", "MeterValuePeriodic", state))

    # --- following the CSMS --------------------------------------------------------------------
    def _apply_power(self) -> None:
        """Set the car to what the profiles in force ask (logged when that changes)."""
        now = self.clock.now()
        offline_s = None
        if self.offline_since is not None:
            offline_s = (now - self.offline_since).total_seconds()
        for gone in self.stack.expire_offline(offline_s):
            log.warning(
                "station %s: CSMS unreachable for %.0f s > maxOfflineDuration %s s: %s #%s dropped",
                self.charger_id,
                offline_s,
                gone.max_offline_duration_s,
                gone.purpose,
                gone.id,
            )
        kw, why = self._target(now, offline_s)
        if kw != self.car.setpoint_kw:
            self._sync()
            self.car.setpoint_kw = kw
            self.home.refresh()
        if why != self.control:
            log.info("station %s: %s -> %+.2f kW", self.charger_id, why, kw)
            self.control = why

    def _target(self, now: datetime, offline_s: float | None) -> tuple[float, str]:
        if not self.car.plugged_in or self.transaction_id is None:
            return 0.0, "no transaction"
        found = self.stack.active(now, self.transaction_id, self._tx_start, offline_s)
        if found is None:
            return self.car.max_charge_kw, "no charging profile: charging at the car's maximum"
        held, period = found
        kw = period_power_kw(period, self.car.max_charge_kw, self.car.max_discharge_kw)
        why = f"{held.purpose} #{held.id} {period.mode}"
        allowed = self.allowed_transfers
        if kw < 0 and allowed is not None and not BIDIRECTIONAL_TRANSFERS.intersection(allowed):
            return 0.0, why + " (discharge not allowed by the CSMS)"
        return kw, why

    def receive_profile(self, evse_id: int, profile: dict[str, Any]) -> tuple[str, str | None]:
        """SetChargingProfile: (status, reason code when rejected)."""
        self.received.append(
            ("SetChargingProfile", {"evse_id": evse_id, "charging_profile": profile})
        )
        if evse_id not in (0, self.evse_id):
            return "Rejected", "UnknownEVSE"
        try:
            held: HeldProfile = parse_profile(profile, evse_id)
        except ProfileRefused as exc:
            log.warning("station %s: profile rejected: %s", self.charger_id, exc)
            return "Rejected", exc.reason
        if held.purpose == "TxProfile" and (
            self.transaction_id is None or held.transaction_id != self.transaction_id
        ):
            return "Rejected", "TxNotFound"
        self.stack.install(held)
        self._apply_power()
        return "Accepted", None

    def clear_profiles(self, profile_id: int | None, criteria: dict[str, Any]) -> bool:
        """ClearChargingProfile: True when something was cleared."""
        self.received.append(("ClearChargingProfile", {"id": profile_id, **criteria}))
        n = self.stack.clear(
            profile_id, criteria.get("charging_profile_purpose"), criteria.get("stack_level")
        )
        self._apply_power()
        return n > 0

    def remote_start(self, remote_start_id: int) -> tuple[str | None, str | None]:
        """RequestStartTransaction: (transaction id, reason when rejected)."""
        self.received.append(("RequestStartTransaction", {"remote_start_id": remote_start_id}))
        if not self.car.plugged_in:
            return None, "NoCarPluggedIn"
        if self.transaction_id is None:
            self._start_transaction(self.clock.now(), "RemoteStart")
            self._apply_power()
        return self.transaction_id, None

    def remote_stop(self, transaction_id: str) -> bool:
        """RequestStopTransaction: True when that transaction was open and is now ended."""
        self.received.append(("RequestStopTransaction", {"transaction_id": transaction_id}))
        if transaction_id != self.transaction_id:
            return False
        self._end_transaction(self.clock.now(), "RemoteStop", "Remote")
        self._apply_power()
        return True

    def allow_transfers(self, transaction_id: str, modes: list[str]) -> bool:
        """NotifyAllowedEnergyTransfer: True when it is about the open transaction."""
        self.received.append(("NotifyAllowedEnergyTransfer", {"allowed_energy_transfer": modes}))
        if transaction_id != self.transaction_id:
            return False
        self.allowed_transfers = list(modes)
        self._apply_power()
        return True
