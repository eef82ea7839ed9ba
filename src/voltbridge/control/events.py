"""The controller's event log: typed events, kept in a bounded list, recorded and published.

Every event carries an ``EventCode`` (in ``data["code"]``) so that programs never parse the
message; the in-memory list keeps only the latest ``keep`` events (the store keeps them all).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from voltbridge.core.clock import Clock
from voltbridge.core.status import (
    ControlEvent,
    ControlStatus,
    EventCode,
    EventKind,
    Recorder,
)

log = logging.getLogger("voltbridge.control")

Item = ControlStatus | ControlEvent


class EventLog:
    """Makes, keeps, records and publishes the controller's events.

    Attributes:
        recent: the latest events, oldest first, at most ``keep`` of them.
    """

    def __init__(self, clock: Clock, recorder: Recorder, keep: int = 1000) -> None:
        if keep < 1:
            raise ValueError(f"keep is {keep}; keep at least one event")
        self.clock, self.recorder = clock, recorder
        self.recent: deque[ControlEvent] = deque(maxlen=keep)
        self.count = 0
        """Events made since start (``recent`` keeps only the latest)."""
        self._queues: list[asyncio.Queue[Item]] = []

    def emit(
        self,
        kind: EventKind,
        code: EventCode,
        message: str,
        device: str | None = None,
        data: dict[str, object] | None = None,
    ) -> ControlEvent:
        """Record one event now; recording trouble is logged, never raised into the loop."""
        event = ControlEvent(
            self.clock.now(), kind, message, device, {**(data or {}), "code": code.value}
        )
        self.recent.append(event)
        self.count += 1
        log.info("%s: %s", kind.value, message)
        try:
            self.recorder.record_event(event)
        except Exception:
            log.exception("recording an event failed")
        self.publish(event)
        return event

    def subscribe(self) -> asyncio.Queue[Item]:
        """A queue of every status and event from now on (the oldest dropped when it is full)."""
        q: asyncio.Queue[Item] = asyncio.Queue(maxsize=100)
        self._queues.append(q)
        return q

    def unsubscribe(self, queue: asyncio.Queue[Item]) -> None:
        if queue in self._queues:
            self._queues.remove(queue)

    @property
    def subscribed(self) -> bool:
        """Whether anyone is subscribed (else a status need not be made to be published)."""
        return bool(self._queues)

    def publish(self, item: Item) -> None:
        for q in self._queues:
            if q.full():
                q.get_nowait()
            q.put_nowait(item)
