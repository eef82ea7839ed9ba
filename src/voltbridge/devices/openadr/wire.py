"""openleadr at the edge: the client as voltbridge configures it, and the two messages its client
has no public call for (oadrUpdateReport with a report voltbridge builds, oadrCanceledReport).

Everything openleadr returns is untyped; it stays inside this module and ``ven.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from openleadr import OpenADRClient, objects

from voltbridge.devices.openadr.delivery import Delivery
from voltbridge.programs.events import ProgramEvent
from voltbridge.programs.openadr_config import OpenADRConfig

REPORT_SPECIFIER_ID = "voltbridge-event-delivery"
"""The telemetry report voltbridge offers: energy and mean power delivered per event."""
R_ENERGY = "delivered-energy"
"""Report data point: energy delivered in the event window [kWh] (``Wh`` with scale ``k``)."""
R_POWER = "delivered-power"
"""Report data point: mean power delivered over the event window [kW] (``W`` with scale ``k``)."""
RESOURCE_ID = "ev-charger"


def make_client(
    config: OpenADRConfig,
    now: datetime,
    environ: dict[str, str] | None,
    report_value: Callable[[], float],
    on_answer: Callable[[str], None],
) -> Any:
    """An ``OpenADRClient`` for ``config`` that offers the delivery report; ``on_answer`` is
    called with every answer's XML as it arrives (before any check), so that an answer refused
    by the checks can be told from no answer at all."""
    tls = config.tls
    options: dict[str, Any] = {
        "ven_name": config.ven_name,
        "vtn_url": config.vtn_url,
        "ven_id": config.ven_id,
        "vtn_fingerprint": config.vtn_fingerprint,
        "show_fingerprint": False,
    }
    if tls is None:
        options["disable_signature"] = True  # nothing to sign with
    else:
        options.update(
            cert=str(tls.cert),
            key=str(tls.key),
            passphrase=tls.passphrase(environ),
            ca_file=str(tls.ca_file),
            check_hostname=tls.check_hostname,
        )
    client = OpenADRClient(**options)
    rate = objects.SamplingRate(
        min_period=timedelta(minutes=1), max_period=timedelta(days=1), on_change=False
    )
    for r_id, measurement, unit in ((R_ENERGY, "ENERGY_REAL", "Wh"), (R_POWER, "POWER_REAL", "W")):
        client.add_report(
            callback=report_value,
            resource_id=RESOURCE_ID,
            measurement=measurement,
            unit=unit,
            scale="k",
            report_specifier_id=REPORT_SPECIFIER_ID,
            r_id=r_id,
            report_duration=timedelta(days=1),
            report_dtstart=now,
            sampling_rate=rate,
        )
    client.add_hook("after_receive_xml", on_answer)
    return client


def find_report_request(client: Any) -> Mapping[str, Any] | None:
    """The VTN's request for voltbridge's delivery report, if it made one."""
    for request in client.report_requests or []:
        if request.get("report_specifier_id") == REPORT_SPECIFIER_ID:
            found: Mapping[str, Any] = request
            return found
    return None


def delivery_report(
    event: ProgramEvent, delivery: Delivery, request: Mapping[str, Any], created: datetime
) -> Any:
    """One TELEMETRY_USAGE report of an event: one interval over its window per data point the
    VTN asked for (energy [kWh], mean power [kW])."""
    values = {R_ENERGY: delivery.energy_kwh, R_POWER: delivery.mean_kw}
    wanted = set(request.get("r_ids") or ())
    length = event.end - event.start
    intervals = [
        objects.ReportInterval(
            dtstart=event.start,
            duration=length,
            report_payload=objects.ReportPayload(r_id=r_id, value=round(value, 6)),
        )
        for r_id, value in values.items()
        if r_id in wanted
    ]
    return objects.Report(
        report_specifier_id=REPORT_SPECIFIER_ID,
        report_name="TELEMETRY_USAGE",
        report_request_id=request["report_request_id"],
        dtstart=event.start,
        duration=length,
        intervals=intervals,
        created_date_time=created,
    )


def update_report_message(client: Any, report: Any) -> str:
    """The oadrUpdateReport carrying ``report`` (signed when the client signs)."""
    message: str = client._create_message(
        "oadrUpdateReport", ven_id=client.ven_id, request_id=str(uuid.uuid4()), reports=[report]
    )
    return message


def canceled_report_message(client: Any, payload: Mapping[str, Any]) -> str:
    """The oadrCanceledReport answering the VTN's oadrCancelReport ``payload``."""
    message: str = client._create_message(
        "oadrCanceledReport",
        response={
            "response_code": 200,
            "response_description": "OK",
            "request_id": payload.get("request_id"),
        },
        ven_id=client.ven_id,
        report_request_id=payload.get("report_request_id"),
    )
    return message
