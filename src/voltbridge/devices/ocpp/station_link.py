"""The charging-station simulator's side of its websocket: the requests the CSMS sends it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp.v21 import call_result
from ocpp.v21.enums import Action

from voltbridge.devices.ocpp.rpc import OcppEndpoint, on_action

if TYPE_CHECKING:
    from voltbridge.devices.ocpp.station import ChargingStation

V2X_ANSWERS = {
    "Enabled": "true",
    "SupportedOperationModes": "CentralSetpoint,ChargingOnly,Idle",
    "SupportedEnergyTransferModes": "AC_three_phase,AC_BPT",
}
"""The simulator's ``V2XChargingCtrlr`` device-model variables."""


def _status(status: str, reason: str | None) -> dict[str, Any]:
    return {"status": status, "status_info": None if reason is None else {"reason_code": reason}}


class StationLink(OcppEndpoint):
    """One open connection of ``station`` to its CSMS (OCPP 2.1); state lives in the station."""

    def __init__(self, station: ChargingStation, connection: Any, response_timeout_s: float):
        super().__init__(
            station.charger_id, connection, "2.1", response_timeout_s, frame_log=station.frame_log
        )
        self.station = station

    @on_action(Action.set_charging_profile)
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> Any:
        status, reason = self.station.receive_profile(evse_id, charging_profile)
        return call_result.SetChargingProfile(**_status(status, reason))

    @on_action(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        found = self.station.clear_profiles(charging_profile_id, charging_profile_criteria or {})
        return call_result.ClearChargingProfile(status="Accepted" if found else "Unknown")

    @on_action(Action.get_variables)
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        self.station.received.append(("GetVariables", {"get_variable_data": get_variable_data}))
        results = []
        for item in get_variable_data:
            component, variable = item["component"], item["variable"]
            evse = (component.get("evse") or {}).get("id", self.station.evse_id)
            value = V2X_ANSWERS.get(variable["name"])
            if component["name"] != "V2XChargingCtrlr" or evse != self.station.evse_id:
                outcome: dict[str, Any] = {"attribute_status": "UnknownComponent"}
            elif value is None:
                outcome = {"attribute_status": "UnknownVariable"}
            else:
                outcome = {"attribute_status": "Accepted", "attribute_value": value}
            results.append({**outcome, "component": component, "variable": variable})
        return call_result.GetVariables(get_variable_result=results)

    @on_action(Action.request_start_transaction)
    def on_request_start_transaction(self, remote_start_id: int, **_: Any) -> Any:
        tx, reason = self.station.remote_start(remote_start_id)
        status = "Rejected" if tx is None else "Accepted"
        return call_result.RequestStartTransaction(**_status(status, reason), transaction_id=tx)

    @on_action(Action.request_stop_transaction)
    def on_request_stop_transaction(self, transaction_id: str, **_: Any) -> Any:
        ok = self.station.remote_stop(transaction_id)
        reason = None if ok else "TxNotFound"
        return call_result.RequestStopTransaction(
            **_status("Accepted" if ok else "Rejected", reason)
        )

    @on_action(Action.notify_allowed_energy_transfer)
    def on_notify_allowed_energy_transfer(
        self, transaction_id: str, allowed_energy_transfer: list[str], **_: Any
    ) -> Any:
        ok = self.station.allow_transfers(transaction_id, allowed_energy_transfer)
        status = "Accepted" if ok else "Rejected"
        return call_result.NotifyAllowedEnergyTransfer(
            **_status(status, None if ok else "TxNotFound")
        )
