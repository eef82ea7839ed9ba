"""Grid-state machine: decides from grid-sensor readings whether the home is on grid, islanded or restoring."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from voltbridge.core.timegrid import ensure_utc
from voltbridge.core.types import GridState


@dataclass(frozen=True)
class GridLimits:
    """Where the grid counts as normal (enter service) and where as lost.

    Sources (60 Hz figures; frequency limits are offsets from nominal, so 50 Hz gets 49.5–50.1 Hz
    normal and 48.5/51.2 Hz loss):

    - Enter service, IEEE 1547-2018 §4.10.2 Table 4 defaults: 0.917–1.05 pu (ANSI C84.1 Range B
      lower bound, Range A upper bound), 59.5–60.1 Hz, delay 300 s (settable 0–600 s there).
    - Loss at 1.10 pu: the OV1 pickup of IEEE 1547-2018 (Category II default, 2 s clearing time);
      58.5/61.2 Hz: its UF1/OF1 defaults (300 s clearing time there).
    - Assumptions: loss at 0.88 pu (the Category II UV1 default is 0.70 pu / 10 s; 0.88 pu is the top
      of its setting range and the Category III default, so a home sees a failing grid early);
      acting on one reading without clearing times (a backup transfer should be fast, not ride
      through); the 50 Hz figures (1547 is a 60 Hz standard); ``stale_after_s = 10``.

    Attributes:
        nominal_voltage_v: nominal service voltage [V], the base of the per-unit limits.
        nominal_frequency_hz: nominal frequency [Hz], 50 or 60.
        normal_voltage_pu: enter-service voltage range [pu].
        loss_voltage_pu: outside this voltage range the grid is lost [pu].
        normal_frequency_offset_hz: enter-service frequency range, as offsets from nominal [Hz].
        loss_frequency_offset_hz: outside this frequency range the grid is lost, offsets from nominal [Hz].
        enter_service_delay_s: time the grid must stay normal before reconnecting [s].
        stale_after_s: age beyond which a reading is stale [s].
    """

    nominal_voltage_v: float
    nominal_frequency_hz: float
    normal_voltage_pu: tuple[float, float] = (0.917, 1.05)
    loss_voltage_pu: tuple[float, float] = (0.88, 1.10)
    normal_frequency_offset_hz: tuple[float, float] = (-0.5, 0.1)
    loss_frequency_offset_hz: tuple[float, float] = (-1.5, 1.2)
    enter_service_delay_s: float = 300.0
    stale_after_s: float = 10.0

    def __post_init__(self) -> None:
        if self.nominal_frequency_hz not in (50.0, 60.0):
            raise ValueError(f"nominal_frequency_hz is {self.nominal_frequency_hz}; give 50 or 60")
        if not self.nominal_voltage_v > 0:
            raise ValueError(
                f"nominal_voltage_v is {self.nominal_voltage_v}; give the service voltage [V]"
            )
        (nv_lo, nv_hi), (lv_lo, lv_hi) = self.normal_voltage_pu, self.loss_voltage_pu
        (nf_lo, nf_hi), (lf_lo, lf_hi) = (
            self.normal_frequency_offset_hz,
            self.loss_frequency_offset_hz,
        )
        if not (lv_lo <= nv_lo < 1.0 < nv_hi <= lv_hi and lf_lo <= nf_lo < 0.0 < nf_hi <= lf_hi):
            raise ValueError("each normal range must contain nominal and lie inside its loss range")
        if self.enter_service_delay_s < 0 or self.stale_after_s <= 0:
            raise ValueError("enter_service_delay_s must be >= 0 and stale_after_s > 0 [s]")


@dataclass(frozen=True)
class GridReading:
    """One grid-sensor reading; ``None`` means the sensor does not report that quantity.

    Attributes:
        at: when it was measured (aware; stored as UTC).
        voltage_v: RMS grid voltage [V].
        frequency_hz: grid frequency [Hz].
        relay_closed: state of a grid relay or contact (``False`` means the grid is gone).
    """

    at: datetime
    voltage_v: float | None = None
    frequency_hz: float | None = None
    relay_closed: bool | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", ensure_utc(self.at))
        for name in ("voltage_v", "frequency_hz"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} is {value}; a driver reports a finite value >= 0 or None")

    @property
    def has_data(self) -> bool:
        """Whether the reading reports anything at all."""
        return not (
            self.voltage_v is None and self.frequency_hz is None and self.relay_closed is None
        )


@dataclass(frozen=True)
class GridEvent:
    """A transition of the grid state, with why it happened (``at`` in UTC)."""

    at: datetime
    old: GridState
    new: GridState
    reason: str


def _violation(
    reading: GridReading, limits: GridLimits, v_pu: tuple[float, float], df_hz: tuple[float, float]
) -> str | None:
    """Why ``reading`` lies outside voltage ``v_pu`` [pu] or frequency ``nominal + df_hz`` [Hz], or None."""
    if reading.relay_closed is False:
        return "grid relay open"
    v, nom = reading.voltage_v, limits.nominal_voltage_v
    if v is not None:
        for pu, side, out in (
            (v_pu[0], "below", v < v_pu[0] * nom),
            (v_pu[1], "above", v > v_pu[1] * nom),
        ):
            if out:
                return f"grid voltage {v:.1f} V {side} {pu:g} pu ({pu * nom:.0f} V)"
    f = reading.frequency_hz
    if f is not None:
        lo, hi = limits.nominal_frequency_hz + df_hz[0], limits.nominal_frequency_hz + df_hz[1]
        if f < lo or f > hi:
            return f"grid frequency {f:.2f} Hz {'below' if f < lo else 'above'} {lo if f < lo else hi:g} Hz"
    return None


class GridStateMachine:
    """ON_GRID → ISLANDED on loss, → RESTORING when normal, → ON_GRID after the enter-service delay.

    Time comes only from readings (or ``now`` given to ``update``), never the wall clock. The
    controller acts on the returned events (transfer switch, backup mode, shedding, reconnection).

    Stale or empty sensor data never islands the home by itself, but it forbids export
    (``sensor_stale``) and, since the grid can no longer be shown normal, restarts the enter-service
    wait (RESTORING falls back to ISLANDED). Export needs ON_GRID and fresh data within the
    enter-service limits for the last ``enter_service_delay_s``: a sag or swell short of a loss keeps
    the home connected but pauses export for that delay, which also stops export hunting on voltage rise.
    """

    def __init__(self, limits: GridLimits, state: GridState = GridState.ON_GRID) -> None:
        self.limits = limits
        self._state = state
        self._last_at: datetime | None = None
        self._normal_since: datetime | None = None  # start of the current run of normal readings
        self._stale = True  # nothing read yet

    @property
    def state(self) -> GridState:
        """The current grid state."""
        return self._state

    @property
    def sensor_stale(self) -> bool:
        """Whether the latest reading was stale or empty (or none has come yet)."""
        return self._stale

    @property
    def grid_connected(self) -> bool:
        """Whether the home should be connected to the grid (ON_GRID only)."""
        return self._state is GridState.ON_GRID

    @property
    def grid_export_allowed(self) -> bool:
        """Whether power may flow toward the grid: ON_GRID, fresh data, normal for the whole delay."""
        return (
            self.grid_connected
            and not self._stale
            and self._normal_for_s() >= self.limits.enter_service_delay_s
        )

    def restoring_remaining_s(self, now: datetime) -> float | None:
        """Time left of the enter-service wait at ``now`` [s]; 0 on grid, None while islanded."""
        if self._state is GridState.ON_GRID:
            return 0.0
        if self._state is GridState.ISLANDED:
            return None
        held_s = max(0.0, self._normal_for_s(ensure_utc(now)))
        return max(0.0, self.limits.enter_service_delay_s - held_s)

    @property
    def shown_state(self) -> GridState:
        """The state to show: UNKNOWN while the home should be on the grid but no fresh data
        shows the grid is there (islanded and restoring are known from the switch)."""
        if self._state is GridState.ON_GRID and self._stale:
            return GridState.UNKNOWN
        return self._state

    def resume_islanded(self, at: datetime, reason: str) -> GridEvent:
        """Start from ISLANDED (found so at start-up, e.g. the transfer switch open): the grid
        must then be normal for the whole enter-service delay before the home reconnects."""
        self._normal_since = None
        return self._go(GridState.ISLANDED, ensure_utc(at), reason)

    def update(self, reading: GridReading, now: datetime | None = None) -> list[GridEvent]:
        """Take one reading, judged at ``now`` (default: the reading's time), and return the transitions.

        A step of the clock (backwards at all, or forwards by more than the stale limit) starts
        a new time line: readings are judged on it (their age is ``now - reading.at``, both on
        the host's clock), and since the grid was not seen normal across the step, the
        enter-service wait restarts. A reading dated more than the stale limit in the future is
        stale too (its age cannot be known).
        """
        at = ensure_utc(now) if now is not None else reading.at
        if self._last_at is not None:
            step_s = (at - self._last_at).total_seconds()
            if step_s > self.limits.stale_after_s or step_s < 0:
                # not watched for longer than the stale limit (a clock jump, a stalled loop) or
                # the clock stepped back: the grid was not seen normal all along
                self._normal_since = None
        self._last_at = at
        age_s = (at - reading.at).total_seconds()
        events: list[GridEvent] = []
        self._stale = abs(age_s) > self.limits.stale_after_s or not reading.has_data
        if self._stale:
            self._normal_since = None
            if self._state is GridState.RESTORING:
                if not reading.has_data:
                    why = "no grid data"
                elif age_s < 0:
                    why = f"grid data dated {-age_s:.0f} s in the future (clock mismatch)"
                else:
                    why = f"grid data {age_s:.0f} s old (limit {self.limits.stale_after_s:g} s)"
                events.append(
                    self._go(GridState.ISLANDED, at, f"{why}; enter-service wait restarts")
                )
            return events
        lim = self.limits
        loss = _violation(reading, lim, lim.loss_voltage_pu, lim.loss_frequency_offset_hz)
        abnormal = loss or _violation(
            reading, lim, lim.normal_voltage_pu, lim.normal_frequency_offset_hz
        )
        if abnormal:
            self._normal_since = None
        elif self._normal_since is None:
            self._normal_since = at
        if self._state is GridState.ON_GRID and loss:
            events.append(self._go(GridState.ISLANDED, at, loss))
        elif self._state is GridState.RESTORING and abnormal:
            events.append(
                self._go(GridState.ISLANDED, at, f"{abnormal}; enter-service wait restarts")
            )
        if self._state is GridState.ISLANDED and not abnormal:
            why = f"grid within enter-service limits; reconnecting after {lim.enter_service_delay_s:g} s"
            events.append(self._go(GridState.RESTORING, at, why))
        held_s = self._normal_for_s()
        if self._state is GridState.RESTORING and held_s >= lim.enter_service_delay_s:
            events.append(
                self._go(GridState.ON_GRID, at, f"grid back within limits for {held_s:.0f} s")
            )
        return events

    def _normal_for_s(self, now: datetime | None = None) -> float:
        """How long the grid has been normal up to ``now`` (default: the latest reading) [s]."""
        end = now or self._last_at
        if self._normal_since is None or end is None:
            return -math.inf
        return (end - self._normal_since).total_seconds()

    def _go(self, new: GridState, at: datetime, reason: str) -> GridEvent:
        event = GridEvent(at=at, old=self._state, new=new, reason=reason)
        self._state = new
        return event
