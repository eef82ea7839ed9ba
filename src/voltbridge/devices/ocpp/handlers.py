"""The central system's side of one charger's websocket: the OCPP requests a charger sends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from ocpp.messages import MessageType
from ocpp.v21 import call_result
from ocpp.v21.enums import Action

from voltbridge.devices.ocpp.charger import OcppCharger
from voltbridge.devices.ocpp.readings import parse_charging_needs
from voltbridge.devices.ocpp.rpc import OcppEndpoint, frame_type, iso, on_action

log = logging.getLogger(__name__)


class CsmsLink(OcppEndpoint):
    """One open connection from ``driver``'s charger; state lives in the driver, not here.

    Args:
        driver: the charger's driver (outlives the connection).
        connection: the websocket.
        version: ``"2.1"`` or ``"2.0.1"``, from the negotiated subprotocol.
        heartbeat_interval_s: heartbeat interval [s] given at boot.
        response_timeout_s: how long [s] to wait for the charger's answers.
    """

    def __init__(
        self,
        driver: OcppCharger,
        connection: Any,
        version: str,
        *,
        heartbeat_interval_s: int,
        response_timeout_s: float,
    ) -> None:
        super().__init__(driver.name, connection, version, response_timeout_s)
        self.driver = driver
        self.heartbeat_interval_s = heartbeat_interval_s
        self._configured = False
        self._tasks: set[asyncio.Task[None]] = set()

    def on_frame(self) -> None:
        self.driver.touch()

    async def route_message(self, raw_msg: str | bytes) -> None:
        """Route a frame; after the first request is answered, configure the charger.

        Configuring waits for that first request so a charger that has just booted hears from
        voltbridge only after its BootNotification was accepted; one that reconnects without
        booting (its session resumes) is configured after whatever it sends first.
        """
        await super().route_message(raw_msg)
        if not self._configured and frame_type(raw_msg) == MessageType.Call:
            self._configured = True
            self.spawn(self.driver.configure())

    def spawn(self, job: Coroutine[Any, Any, None]) -> None:
        """Run ``job`` beside the receive loop (a handler must never wait for the charger)."""
        task = asyncio.create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("charger %s: background job failed: %r", self.driver.name, task.exception())

    def cancel_tasks(self) -> None:
        """Cancel the jobs still running for this connection."""
        for task in list(self._tasks):
            task.cancel()

    def _now(self) -> str:
        return iso(self.driver.clock.now())

    @on_action(Action.boot_notification)
    def on_boot_notification(self, charging_station: dict[str, Any], reason: str, **_: Any) -> Any:
        self.driver.booted = True
        self.driver.station_info = charging_station
        log.info("charger %s booted (%s): %s", self.driver.name, reason, charging_station)
        return call_result.BootNotification(
            current_time=self._now(), interval=self.heartbeat_interval_s, status="Accepted"
        )

    @on_action(Action.heartbeat)
    def on_heartbeat(self, **_: Any) -> Any:
        return call_result.Heartbeat(current_time=self._now())

    @on_action(Action.status_notification)
    def on_status_notification(self, connector_status: str, evse_id: int, **_: Any) -> Any:
        if evse_id == self.driver.config.evse_id:
            self.driver.record_status(connector_status)
        log.info("charger %s: EVSE %s is %s", self.driver.name, evse_id, connector_status)
        return call_result.StatusNotification()

    @on_action(Action.authorize)
    def on_authorize(self, id_token: dict[str, Any], **_: Any) -> Any:
        # A home charger: every token is the household's.
        return call_result.Authorize(id_token_info={"status": "Accepted"})

    @on_action(Action.meter_values)
    def on_meter_values(self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any) -> Any:
        if evse_id in (0, self.driver.config.evse_id):
            self.driver.record_meter_values(meter_value)
        return call_result.MeterValues()

    @on_action(Action.transaction_event)
    def on_transaction_event(
        self,
        event_type: str,
        transaction_info: dict[str, Any],
        trigger_reason: str,
        meter_value: list[dict[str, Any]] | None = None,
        id_token: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        tx = str(transaction_info["transaction_id"])
        if meter_value:
            self.driver.record_meter_values(meter_value)
        started = self.driver.record_transaction(event_type, tx)
        if event_type != "Updated":
            log.info(
                "charger %s: transaction %s %s (%s)",
                self.driver.name,
                tx,
                event_type,
                trigger_reason,
            )
        if started:
            self.spawn(self.driver.on_transaction_started())
        token_info = {"status": "Accepted"} if id_token else None
        return call_result.TransactionEvent(id_token_info=token_info)

    @on_action(Action.notify_ev_charging_needs)
    def on_notify_ev_charging_needs(self, charging_needs: dict[str, Any], **_: Any) -> Any:
        self.driver.record_needs(parse_charging_needs(charging_needs, self.driver.clock.now()))
        if self.version != "2.0.1":
            self.spawn(self._allow_energy_transfer())
        return call_result.NotifyEVChargingNeeds(status="Accepted")

    async def _allow_energy_transfer(self) -> None:
        """Tell the charger which of the car's energy transfer modes voltbridge allows."""
        modes, tx = self.driver.allowed_transfers(), self.driver.transaction_id
        if not modes or tx is None:
            return
        payload = {"transactionId": tx, "allowedEnergyTransfer": modes}
        try:
            answer = await self.request("NotifyAllowedEnergyTransfer", payload)
            log.info(
                "charger %s: sent NotifyAllowedEnergyTransfer %s (the car's modes voltbridge "
                "allows), answered %s",
                self.driver.name,
                modes,
                answer,
            )
        except Exception as exc:  # advisory: the setpoint limits are what protect the car
            log.warning("charger %s: NotifyAllowedEnergyTransfer failed: %s", self.driver.name, exc)
