"""The charger's efficiency curve: hand-computed points, monotone, invertible, zero at zero."""

import numpy as np
import pytest

from voltbridge.sim.charger import (
    ac_for_stored_kw,
    charge_efficiency,
    charge_stored_kw,
    dc_for_ac_kw,
    discharge_ac_kw,
    discharge_efficiency,
)

RATED_KW = 11.0


def test_efficiency_at_rated_power_is_the_rated_efficiency() -> None:
    assert charge_stored_kw(11.0, RATED_KW, 0.9) == pytest.approx(9.9)
    assert dc_for_ac_kw(11.0, RATED_KW, 0.9) == pytest.approx(11.0 / 0.9)
    assert discharge_ac_kw(11.0 / 0.9, RATED_KW, 0.9) == pytest.approx(11.0)


def test_efficiency_falls_at_low_power_by_hand() -> None:
    # Charging, rated_eff 0.9: loss at rated 0.1 per unit, split s = 0.02, a = 0.05, b = 0.03.
    # At 10 %: eta = 1 - s / 0.1 - a - b * 0.1 = 1 - 0.2 - 0.05 - 0.003 = 0.747.
    assert charge_efficiency(1.1, RATED_KW, 0.9) == pytest.approx(0.747)
    # At 50 %: 1 - 0.04 - 0.05 - 0.015 = 0.895.
    assert charge_efficiency(5.5, RATED_KW, 0.9) == pytest.approx(0.895)
    # Discharging: loss at rated 1/0.9 - 1 = 1/9, s = 0.2/9, a = 0.5/9, b = 0.3/9.
    # At 10 %: eta = 1 / (1 + (2 + 0.5 + 0.03) / 9) = 9 / 11.53.
    assert discharge_efficiency(1.1, RATED_KW, 0.9) == pytest.approx(9 / 11.53)
    for eff in (charge_efficiency, discharge_efficiency):
        assert eff(1.1, RATED_KW, 0.9) < eff(11.0, RATED_KW, 0.9) - 0.1


def test_curves_are_monotone_with_efficiency_in_zero_one() -> None:
    power = np.linspace(0.0, 2 * RATED_KW, 20_001)
    for rated_eff in (0.5, 0.8, 0.95):
        stored = charge_stored_kw(power, RATED_KW, rated_eff)
        drawn = dc_for_ac_kw(power, RATED_KW, rated_eff)
        assert np.all(np.diff(stored) > 0)
        assert np.all(np.diff(drawn) > 0)
        assert np.all((stored[1:] / power[1:] > 0) & (stored[1:] / power[1:] < 1))
        assert np.all((power[1:] / drawn[1:] > 0) & (power[1:] / drawn[1:] < 1))
        for eff in (charge_efficiency, discharge_efficiency):
            values = eff(power, RATED_KW, rated_eff)
            assert np.all((values > 0) & (values < 1))


def test_zero_gives_zero() -> None:
    for func in (charge_stored_kw, ac_for_stored_kw, dc_for_ac_kw, discharge_ac_kw):
        assert func(np.zeros(3), RATED_KW, 0.9).tolist() == [0.0, 0.0, 0.0]


def test_inverses_round_trip() -> None:
    ac = np.linspace(0.0, 2 * RATED_KW, 5001)
    for rated_eff in (0.5, 0.9, 1.0):
        stored = charge_stored_kw(ac, RATED_KW, rated_eff)
        assert ac_for_stored_kw(stored, RATED_KW, rated_eff) == pytest.approx(ac, abs=1e-9)
        drawn = dc_for_ac_kw(ac, RATED_KW, rated_eff)
        assert discharge_ac_kw(drawn, RATED_KW, rated_eff) == pytest.approx(ac, abs=1e-9)
    dc = np.array([0.01, 0.3, 4.0, 10.0])
    assert charge_stored_kw(ac_for_stored_kw(dc, 7.4, 0.93), 7.4, 0.93) == pytest.approx(dc)
    assert dc_for_ac_kw(discharge_ac_kw(dc, 7.4, 0.93), 7.4, 0.93) == pytest.approx(dc)


def test_lossless_charger_is_the_identity() -> None:
    power = np.array([0.0, 0.1, 5.0, 11.0])
    assert charge_stored_kw(power, RATED_KW, 1.0) == pytest.approx(power)
    assert discharge_ac_kw(power, RATED_KW, 1.0) == pytest.approx(power)


def test_out_of_range_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="split power by sign"):
        charge_stored_kw(-1.0, RATED_KW, 0.9)
    with pytest.raises(ValueError, match=r"0\.\.22 kW"):
        dc_for_ac_kw(23.0, RATED_KW, 0.9)
    with pytest.raises(ValueError, match="rated_eff"):
        discharge_ac_kw(1.0, RATED_KW, 0.3)
    with pytest.raises(ValueError, match="rated_kw"):
        ac_for_stored_kw(1.0, 0.0, 0.9)


def test_rounding_noise_below_zero_reads_zero() -> None:
    assert charge_stored_kw(-1e-14, RATED_KW, 0.9) == 0.0
    assert discharge_ac_kw(-1e-14, RATED_KW, 0.9) == 0.0
