"""The central system's side of one charger's websocket: the OCPP requests a charger sends, and
the watch that closes the connection of a charger gone silent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Iterator
from typing import Any

from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.messages import Call
from ocpp.v21 import call_result
from ocpp.v21.enums import Action

from voltbridge.devices.ocpp.charger import OcppCharger
from voltbridge.devices.ocpp.readings import parse_charging_needs
from voltbridge.devices.ocpp.rpc import OcppEndpoint, iso, on_action

log = logging.getLogger(__name__)

WATCH_CHECKS = 8
"""How many times [-] per silence limit the watch looks whether the charger said anything."""


@contextlib.contextmanager
def values_checked() -> Iterator[None]:
    """Turn a reading's ValueError into PropertyConstraintViolation (Part 4 §4.3: "payload is
    syntactically correct but at least one field contains an invalid value")."""
    try:
        yield
    except ValueError as exc:
        raise PropertyConstraintViolationError(details={"cause": str(exc)[:200]}) from None


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
        super().__init__(
            driver.name, connection, version, response_timeout_s, frame_log=driver.frame_log
        )
        self.driver = driver
        self.heartbeat_interval_s = heartbeat_interval_s
        self.response_timeout_s = response_timeout_s
        self._configured = False
        self._given_up = False
        self._tasks: set[asyncio.Task[None]] = set()

    def on_frame(self) -> None:
        self.driver.touch()

    async def start(self) -> None:
        """Receive frames, watching that the charger does not go silent, until it disconnects."""
        self.spawn(self._watch())
        await super().start()

    async def _handle_call(self, call: Call) -> None:
        """Handle a request; after the first one is answered, configure the charger.

        Configuring waits for that first request so a charger that has just booted hears from
        voltbridge only after its BootNotification was accepted; one that reconnects without
        booting (its session resumes) is configured after whatever it sends first.
        """
        await super()._handle_call(call)
        if not self._configured:
            self._configured = True
            self.spawn(self.driver.configure())

    @property
    def silence_limit_s(self) -> float:
        """How long [s] the charger may send nothing: its heartbeat interval plus the time it
        has to answer (a charger sends a Heartbeat at least once per interval)."""
        return self.heartbeat_interval_s + self.response_timeout_s

    async def _watch(self) -> None:
        """Give the charger up once it has sent nothing for ``silence_limit_s`` [s].

        Silence is added up per check, at most one check period each time, rather than read off
        the time of the last frame: when the event loop itself stalls (a long plan in a demo
        running 1800 times real time) the stall costs one period, not the whole limit, and a
        charger whose frames wait in the socket meanwhile is not taken for a silent one.
        """
        clock, limit_s = self.driver.clock, self.silence_limit_s
        check_s = limit_s / WATCH_CHECKS
        heard, silent_s, last = self.frames_received, 0.0, clock.now()
        while True:
            await clock.sleep(check_s)
            now = clock.now()
            if self.frames_received != heard:  # silent since its last frame, up to one period
                heard, since = self.frames_received, self.driver.last_seen or now
                silent_s = min(max((now - since).total_seconds(), 0.0), check_s)
            else:
                silent_s += min(max((now - last).total_seconds(), 0.0), check_s)
            last = now
            if silent_s >= limit_s * (1.0 - 1e-9):
                self.give_up(
                    f"sent nothing for {silent_s:.0f} s (heartbeat interval "
                    f"{self.heartbeat_interval_s} s + answer timeout {self.response_timeout_s:g} s)"
                )
                return

    def on_unanswered(self, action: str) -> None:
        self.give_up(
            f"answered no {action} and sent nothing else within {self.response_timeout_s:g} s"
        )

    def give_up(self, why: str) -> None:
        """The charger is frozen: it reads as unknown from now on and its connection is closed
        (it will reconnect by itself, and its session resumes then)."""
        if self._given_up:
            return
        self._given_up = True
        self.driver.lost(self, why)
        self.spawn(self.close(f"frozen: {why}"))

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
            with values_checked():
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
            with values_checked():  # before any state changes: a refused event changes nothing
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
        with values_checked():
            needs = parse_charging_needs(charging_needs, self.driver.clock.now())
        self.driver.record_needs(needs)
        if self.version != "2.0.1":
            self.spawn(self._allow_energy_transfer())
        return call_result.NotifyEVChargingNeeds(status="Accepted")

    async def _allow_energy_transfer(self) -> None:
        """Tell the charger which of the car's energy transfer modes voltbridge allows.

        Advisory (the setpoint's limits are what protect the car), so it is sent as an optional
        exchange: a charger that never answers it does not delay a setpoint.
        """
        modes, tx = self.driver.allowed_transfers(), self.driver.transaction_id
        if not modes or tx is None:
            return
        payload = {"transactionId": tx, "allowedEnergyTransfer": modes}
        answer = await self.request_optional("NotifyAllowedEnergyTransfer", payload)
        if answer is not None:
            log.info(
                "charger %s: sent NotifyAllowedEnergyTransfer %s (the car's modes voltbridge "
                "allows), answered %s",
                self.driver.name,
                modes,
                answer,
            )
