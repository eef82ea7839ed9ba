"""Recording each tick's status in the store: a failing store is a fault of the store (an event
when it starts and one when it ends), never of the tick: the house keeps its power when the disk
is full."""

from __future__ import annotations

import logging

from voltbridge.control.events import EventLog
from voltbridge.core.status import ControlStatus, EventCode, EventKind, NullRecorder, Recorder

log = logging.getLogger("voltbridge.control")


class StatusRecording:
    """Records statuses with ``recorder`` and says in ``events`` when recording fails or recovers."""

    def __init__(self, recorder: Recorder, events: EventLog) -> None:
        self.recorder, self.events = recorder, events
        self.failing = False

    @property
    def ok(self) -> bool | None:
        """True while recording works, False while it fails, None with no store configured."""
        return None if isinstance(self.recorder, NullRecorder) else not self.failing

    def record(self, status: ControlStatus) -> None:
        """Record one status; trouble is an event, never an exception."""
        try:
            self.recorder.record_status(status)
        except Exception as err:
            if not self.failing:
                self.failing = True
                log.error("recording the status failed", exc_info=err)
                self.events.emit(
                    EventKind.FAULT,
                    EventCode.DEVICE_FAULT,
                    f"store: recording failed ({type(err).__name__}: {err}); the loop goes on",
                    device="store",
                )
            return
        if self.failing:
            self.failing = False
            self.events.emit(
                EventKind.FAULT,
                EventCode.DEVICE_RECOVERED,
                "store: recording again",
                device="store",
            )
