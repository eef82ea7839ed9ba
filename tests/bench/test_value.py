"""bench/value.py: the headline comparisons are net of wear and signed as savings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from value import example_files, figures


def test_figures_are_savings_net_of_wear() -> None:
    def s(bill: float, wear: float) -> dict[str, float]:
        return {"bill": bill, "ageing_cost": wear, "net_cost": bill + wear}

    summary = {
        "currency": "EUR",
        "strategies": {
            "uncontrolled": s(100.0, 5.0),  # 105
            "smart-charge": s(90.0, 5.0),  # 95
            "v2h-rules": s(85.0, 8.0),
            "oracle": s(70.0, 10.0),  # 80: saves 25
            "optimal": s(75.0, 9.0),  # 84: saves 21, 11 against smart-charge
        },
    }
    fig = figures(summary)
    assert fig["optimal_vs_uncontrolled"] == pytest.approx(21.0)
    assert fig["optimal_vs_smart_charge"] == pytest.approx(11.0)
    assert fig["oracle_vs_uncontrolled"] == pytest.approx(25.0)
    assert fig["optimal_share_of_oracle"] == pytest.approx(21.0 / 25.0)
    assert fig["currency"] == "EUR"


def test_every_shipped_example_is_found() -> None:
    assert {"ev9-california", "sigen-dynamic-germany"} <= set(example_files())


def test_wear_and_fade_moving_apart_is_named() -> None:
    from value import wear_disagreements

    def s(wear: float, fade: float) -> dict[str, float]:
        return {"ageing_cost": wear, "capacity_fade_pct": fade}

    agree = {
        "uncontrolled": s(54.0, 0.352),
        "smart-charge": s(50.4, 0.327),
        "optimal": s(76.2, 0.357),
    }
    assert wear_disagreements(agree) == []
    # the case: the plan's wear rises with V2H while the cells lose less
    apart = {"smart-charge": s(111.0, 0.557), "optimal": s(209.0, 0.535)}
    assert wear_disagreements(apart) == ["smart-charge/optimal"]
    # a fade difference below the tolerance is a tie, whatever the costs say
    tie = {"smart-charge": s(111.0, 0.55700), "optimal": s(209.0, 0.556999)}
    assert wear_disagreements(tie) == []


def test_wear_is_compared_per_storage_on_the_life_basis() -> None:
    from value import wear_disagreements

    def row(car: tuple[float, float, float], battery: tuple[float, float, float]) -> dict:
        def w(c: tuple[float, float, float]) -> dict[str, float]:
            return {"ageing_cost": c[0], "capacity_fade_pct": c[1], "life_fade_pct_per_year": c[2]}

        return {
            "ageing_cost": car[0] + battery[0],
            "wear_by_storage": {"car": w(car), "battery": w(battery)},
        }

    # f150 over 2025: the first year says optimal wears less, the life agrees with the cost
    st = {
        "smart-charge": row((169.1, 0.329, 0.162), (1.0, 0.1, 0.05)),
        "optimal": row((228.0, 0.305, 0.196), (1.0, 0.1, 0.05)),
    }
    assert wear_disagreements(st) == []
    # a home battery whose cost and fade move apart is named, though the totals agree
    st["optimal"]["wear_by_storage"]["battery"] = {
        "ageing_cost": 0.5,
        "capacity_fade_pct": 0.2,
        "life_fade_pct_per_year": 0.06,
    }
    assert wear_disagreements(st) == ["smart-charge/optimal (battery)"]
