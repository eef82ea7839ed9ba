"""Conversion losses of a bidirectional charger as a function of power, in both directions.

Model (per unit of the rated power ``R``, ``x = |P_ac| / R``; losses referred to the AC side)::

    loss(x) = s * min(x / x_f, 1) + a * x + b * x**2        x_f = 4 * s

    charging:     stored  = P_ac - R * loss(x)     efficiency  eta_c = stored / P_ac
    discharging:  drawn   = P_ac + R * loss(x)     efficiency  eta_d = P_ac / drawn

``s`` is the no-load loss (control boards, contactors, magnetising and switching losses paid as soon
as the converter runs), ``a`` the part proportional to power (diode and switch drops) and ``b`` the
conduction (I²R) part. Below ``x_f`` the no-load loss shrinks in proportion to power, so zero power
gives zero and the curve stays continuous, monotone and invertible. The loss at rated power is set
so that efficiency at rated power equals the charger's ``rated_eff`` in each direction
(``1 - rated_eff`` of the input when charging, ``1 / rated_eff - 1`` of the output when
discharging), and split 20 % no-load, 50 % proportional, 30 % conduction. Efficiency then peaks
near 80 % of rated power, barely below that at rated power, and falls at low power:

    =========  =========  =====  =====  =====  =====
    rated_eff  direction  10 %   25 %   50 %   100 %
    =========  =========  =====  =====  =====  =====
    0.90       charge     0.747  0.862  0.895  0.900
    0.90       discharge  0.781  0.867  0.896  0.900
    0.93       charge     0.823  0.904  0.927  0.930
    0.93       discharge  0.840  0.906  0.927  0.930
    0.95       charge     0.874  0.931  0.948  0.950
    0.95       discharge  0.882  0.933  0.948  0.950
    =========  =========  =====  =====  =====  =====

Sources and assumptions. Apostolaki-Iosifidou, Codani and Kempton, "Measurement of power loss
during electric vehicle charging and discharging", Energy 127 (2017) 730-742, found the power
electronics to dominate the losses of charging and discharging, with efficiency lower at low
power; Schram, Brinkel, Smink, van Wijk and van Sark, "Empirical Evaluation of V2G Round-trip
Efficiency" (2020), measured 87.0 % average round-trip efficiency (converter and battery) at
3 x 16 A, 79.1-87.8 % over all conditions, and significantly lower efficiency at lower currents.
The curve is shaped after those qualitative findings only: the loss split, the fade below ``x_f``
and the numbers in the table are assumptions of this model, not measurements.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voltbridge.core.timegrid import FloatArray

NO_LOAD_SHARE = 0.2
"""Share of the rated-power loss that is no-load loss [-] (assumption)."""
PROPORTIONAL_SHARE = 0.5
"""Share of the rated-power loss proportional to power [-] (assumption)."""
CONDUCTION_SHARE = 0.3
"""Share of the rated-power loss growing with the square of power [-] (assumption)."""
FADE = 4.0
"""The no-load loss fades in below ``FADE`` times itself [-]: ``x_f = FADE * s``."""
MAX_OVERLOAD = 2.0
"""Largest power the model accepts, as a multiple of the rated power [-]."""


def _coefficients(rated_kw: float, rated_eff: float, charging: bool) -> tuple[float, float, float]:
    """Per-unit ``(s, a, b)`` of the loss for one direction."""
    if not rated_kw > 0:
        raise ValueError(f"rated_kw must be positive, got {rated_kw}")
    if not 0.5 <= rated_eff <= 1.0:
        raise ValueError(
            f"rated_eff must be within 0.5..1 (one-way, at rated power), got {rated_eff}"
        )
    loss = 1.0 - rated_eff if charging else 1.0 / rated_eff - 1.0
    return NO_LOAD_SHARE * loss, PROPORTIONAL_SHARE * loss, CONDUCTION_SHARE * loss


def _per_unit(power_kw: npt.ArrayLike, rated_kw: float, what: str, limit: float) -> FloatArray:
    """``power_kw / rated_kw``, refused outside ``0..limit`` (rounding noise below 0 reads 0)."""
    x: FloatArray = np.asarray(power_kw, dtype=np.float64) / rated_kw
    if not (np.all(x >= -1e-12) and np.all(x <= limit * (1.0 + 1e-12))):
        raise ValueError(
            f"{what} must be within 0..{limit * rated_kw:g} kW, got {x.min() * rated_kw:g}.."
            f"{x.max() * rated_kw:g} kW; split power by sign before calling"
        )
    return np.maximum(x, 0.0)


def _loss_ratio(x: FloatArray, s: float, a: float, b: float) -> FloatArray:
    """``loss(x) / x`` [-], finite at zero: ``s / max(x, x_f) + a + b x``."""
    ratio: FloatArray = a + b * x
    if s > 0:
        ratio = ratio + s / np.maximum(x, FADE * s)
    return ratio


def charge_efficiency(ac_kw: npt.ArrayLike, rated_kw: float, rated_eff: float) -> FloatArray:
    """Share of the AC input [kW] that reaches the battery when charging [-], in (0, 1]."""
    s, a, b = _coefficients(rated_kw, rated_eff, charging=True)
    x = _per_unit(ac_kw, rated_kw, "AC charging power", MAX_OVERLOAD)
    return 1.0 - _loss_ratio(x, s, a, b)


def discharge_efficiency(ac_kw: npt.ArrayLike, rated_kw: float, rated_eff: float) -> FloatArray:
    """Share of the battery's output that is delivered as AC [kW] when discharging [-], in (0, 1]."""
    s, a, b = _coefficients(rated_kw, rated_eff, charging=False)
    x = _per_unit(ac_kw, rated_kw, "AC discharging power", MAX_OVERLOAD)
    return 1.0 / (1.0 + _loss_ratio(x, s, a, b))


def charge_stored_kw(ac_kw: npt.ArrayLike, rated_kw: float, rated_eff: float) -> FloatArray:
    """Power into the battery [kW] for an AC charging power ``ac_kw`` >= 0 [kW].

    ``rated_kw`` [kW] is the charger's rated charging power, ``rated_eff`` [-] its one-way
    efficiency at that power.

    >>> charge_stored_kw([0.0, 11.0], 11.0, 0.9).round(3).tolist()
    [0.0, 9.9]
    """
    s, a, b = _coefficients(rated_kw, rated_eff, charging=True)
    x = _per_unit(ac_kw, rated_kw, "AC charging power", MAX_OVERLOAD)
    return x * (1.0 - _loss_ratio(x, s, a, b)) * rated_kw


def ac_for_stored_kw(dc_kw: npt.ArrayLike, rated_kw: float, rated_eff: float) -> FloatArray:
    """AC charging power [kW] that puts ``dc_kw`` >= 0 [kW] into the battery (inverse of
    :func:`charge_stored_kw`).

    >>> ac_for_stored_kw([0.0, 9.9], 11.0, 0.9).round(3).tolist()
    [0.0, 11.0]
    """
    s, a, b = _coefficients(rated_kw, rated_eff, charging=True)
    top = MAX_OVERLOAD * (1.0 - a - b * MAX_OVERLOAD) - s
    y = _per_unit(dc_kw, rated_kw, "stored power", top)
    x_f = FADE * s
    c = 1.0 - s / x_f - a if s > 0 else 1.0 - a  # below x_f: y = c x - b x²
    y_f = x_f * (c - b * x_f)
    low = 2.0 * y / (c + np.sqrt(np.maximum(c * c - 4.0 * b * y, 0.0)))
    q = s + y  # above x_f: b x² - (1 - a) x + (s + y) = 0, smaller root
    high = 2.0 * q / ((1.0 - a) + np.sqrt(np.maximum((1.0 - a) ** 2 - 4.0 * b * q, 0.0)))
    result: FloatArray = np.where(y <= y_f, low, high) * rated_kw
    return result


def dc_for_ac_kw(ac_kw: npt.ArrayLike, rated_kw: float, rated_eff: float) -> FloatArray:
    """Power drawn from the battery [kW] to deliver ``ac_kw`` >= 0 [kW] of AC when discharging.

    ``rated_kw`` [kW] is the charger's rated discharging power, ``rated_eff`` [-] its one-way
    efficiency at that power.

    >>> dc_for_ac_kw([0.0, 9.0], 9.0, 0.9).round(3).tolist()
    [0.0, 10.0]
    """
    s, a, b = _coefficients(rated_kw, rated_eff, charging=False)
    x = _per_unit(ac_kw, rated_kw, "AC discharging power", MAX_OVERLOAD)
    return x * (1.0 + _loss_ratio(x, s, a, b)) * rated_kw


def discharge_ac_kw(dc_kw: npt.ArrayLike, rated_kw: float, rated_eff: float) -> FloatArray:
    """AC power delivered [kW] when ``dc_kw`` >= 0 [kW] is drawn from the battery (inverse of
    :func:`dc_for_ac_kw`).

    >>> discharge_ac_kw([0.0, 10.0], 9.0, 0.9).round(3).tolist()
    [0.0, 9.0]
    """
    s, a, b = _coefficients(rated_kw, rated_eff, charging=False)
    top = MAX_OVERLOAD * (1.0 + a + b * MAX_OVERLOAD) + s
    y = _per_unit(dc_kw, rated_kw, "battery power", top)
    x_f = FADE * s
    c = 1.0 + s / x_f + a if s > 0 else 1.0 + a  # below x_f: y = c x + b x²
    y_f = x_f * (c + b * x_f)
    low = 2.0 * y / (c + np.sqrt(c * c + 4.0 * b * y))
    q = np.maximum(y - s, 0.0)  # above x_f: b x² + (1 + a) x - (y - s) = 0, positive root
    high = 2.0 * q / ((1.0 + a) + np.sqrt((1.0 + a) ** 2 + 4.0 * b * q))
    result: FloatArray = np.where(y <= y_f, low, high) * rated_kw
    return result
