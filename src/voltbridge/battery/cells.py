"""The fitted ageing equations of the three NREL cell models voltbridge uses, one per chemistry.

Each model gives two capacity-fade rates from the stressors of a stretch of use (see
``battery/life.py`` for how the stretches are cut and how fade grows from the rates):

* ``k_cal``: **calendar** fade rate, from cell temperature and state of charge (for NMC and LFP
  through the graphite anode's potential ``Ua``, for NCA the SoC itself);
* ``k_cyc``: **cycle** fade rate, from temperature, depth of discharge and C-rate.

Fade then follows a power law in time (``k_cal * t^p_cal``) and in charge throughput
(``k_cyc * EFC^p_cyc``). The equations and fitted parameters are those of NREL's BLAST-Lite
1.1.1 (Gasper, Prakash, Smith; https://github.com/NREL/BLAST-Lite), written here so that
voltbridge does not depend on that package (its metadata pins numpy<2 and Python <=3.13, its
code calls the removed ``np.trapz``, and it pulls in weather-download libraries voltbridge does
not use). ``tests/battery/test_blast_equivalence.py`` checks these equations against outputs
recorded from BLAST-Lite 1.1.1 itself. BLAST-Lite is Copyright (c) 2023, Alliance for Energy
Innovation, LLC, under the BSD 3-Clause licence reproduced in ``LICENSE-BLAST-Lite.txt`` beside
this file.

Sources of the data the models are fitted to:

* NMC and LFP: P. Gasper et al., "Degradation and modeling of large-format commercial lithium-ion
  cells as a function of chemistry, design, and aging conditions", J. Energy Storage 73 (2023)
  109042, doi:10.1016/j.est.2023.109042 (cells 'NMC-Gr A', ~75 Ah pouch, and a >250 Ah
  prismatic LFP-Gr).
* NCA (Panasonic 18650B): calendar ageing from M. Keil et al., J. Electrochem. Soc. 163 (2016)
  A1872, doi:10.1149/2.0411609jes; cycling from Y. Preger et al., J. Electrochem. Soc. 167 (2020)
  120532, doi:10.1149/1945-7111/abae37.
* Anode potential: M. Safari and C. Delacourt, J. Electrochem. Soc. 158 (2011) A562,
  doi:10.1149/1.3567007, with the lithiation range of Schimpe et al., J. Electrochem. Soc. 165
  (2018) A181, doi:10.1149/2.1181714jes, taken as the same for every cell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voltbridge.core.timegrid import FloatArray

KELVIN_AT_0C = 273.15
"""[K] at 0 °C."""

RateFunction = Callable[[FloatArray, FloatArray, FloatArray, float, float], FloatArray]
"""(cell temperature [K], SoC [0..1], anode potential Ua [V], depth of discharge [0..1],
C-rate [1/h]) -> a fade rate at each sample [-/unit of the model's time or throughput]."""


@dataclass(frozen=True)
class CellModel:
    """One cell's ageing model: its rates and power-law exponents.

    Attributes:
        name: the model's class name in BLAST-Lite (reported in results).
        k_cal: calendar fade rate per sample.
        k_cyc: cycle fade rate per sample.
        p_cal: exponent of the calendar power law [-].
        p_cyc: exponent of the cycle power law [-].
        days_per_unit: the calendar law's time unit [d] (1000 for NMC-Gr A, else 1).
        efc_per_unit: the cycle law's throughput unit [EFC] (10,000 for NMC-Gr A, else 1).
    """

    name: str
    k_cal: RateFunction
    k_cyc: RateFunction
    p_cal: float
    p_cyc: float
    days_per_unit: float = 1.0
    efc_per_unit: float = 1.0


def anode_potential_v(soc: FloatArray) -> FloatArray:
    """Graphite anode potential against lithium at a cell SoC [V] (Safari and Delacourt, 2011).

    The lithiation fraction runs from 0.0085 (empty) to 0.78 (full).

    >>> [round(float(u), 4) for u in anode_potential_v(np.array([0.0, 0.5, 1.0]))]
    [0.6844, 0.1233, 0.0864]
    """
    xa = 8.5e-3 + soc * (0.78 - 8.5e-3)
    return np.asarray(
        0.6379
        + 0.5416 * np.exp(-305.5309 * xa)
        + 0.044 * np.tanh(-1 * (xa - 0.1958) / 0.1088)
        - 0.1978 * np.tanh((xa - 1.0571) / 0.0854)
        - 0.6875 * np.tanh((xa + 0.0117) / 0.0529)
        - 0.0175 * np.tanh((xa - 0.5692) / 0.0875),
        dtype=np.float64,
    )


# --- NMC-Gr A, ~75 Ah pouch (Gasper et al. 2023) -----------------------------------------------
NMC_A = {
    "p1": 8.71e-07,
    "p2": 10.0,
    "pcal": 0.578,
    "p3": 0.0267,
    "p4": 1.64,
    "p5": 0.011,
    "p6": -0.44,
    "pcyc": 1.11,
}


def _nmc_a_k_cal(
    t_k: FloatArray, soc: FloatArray, ua_v: FloatArray, dod: float, c_rate: float
) -> FloatArray:
    """``k_cal = p1·exp(p2·Tn³ / Uan^(1/3))``, Tn = T / 308.15 K, Uan = Ua / 0.123 V (Ua at 50 %)."""
    tn = t_k / (KELVIN_AT_0C + 35)
    uan = ua_v / 0.123
    return np.asarray(NMC_A["p1"] * np.exp(NMC_A["p2"] * (tn**3) * (1 / (uan ** (1 / 3)))))


def _nmc_a_k_cyc(
    t_k: FloatArray, soc: FloatArray, ua_v: FloatArray, dod: float, c_rate: float
) -> FloatArray:
    """``k_cyc = |p3 + p4·Tn³·DoD^½ + p5·exp(C²/Tn^½) + p6·exp(DoD^½·Tn²·C^½)|``."""
    tn = t_k / (KELVIN_AT_0C + 35)
    p = NMC_A
    return np.asarray(
        np.abs(
            p["p3"]
            + p["p4"] * (tn**3) * (dod**0.5)
            + p["p5"] * np.exp((1 / (tn**0.5)) * (c_rate**2))
            + p["p6"] * np.exp((dod**0.5) * (tn**2) * (c_rate**0.5))
        )
    )


# --- LFP-Gr >250 Ah prismatic (Gasper et al. 2023) ----------------------------------------------
LFP_250AH = {
    "p1": 8.37e04,
    "p2": -5.21e03,
    "p3": -3.56e03,
    "pcal": 0.526,
    "p4": 4.38e-08,
    "p5": 1.55e-08,
    "p6": 1.68e-07,
    "p7": 2.19e03,
    "p8": 1.55e05,
    "pcyc": 0.828,
}


def _lfp_k_cal(
    t_k: FloatArray, soc: FloatArray, ua_v: FloatArray, dod: float, c_rate: float
) -> FloatArray:
    """``k_cal = |p1|·exp(p2/T)·exp(p3·Ua/T)`` [1/d^pcal]."""
    p = LFP_250AH
    return np.asarray(np.abs(p["p1"]) * np.exp(p["p2"] / t_k) * np.exp(p["p3"] * ua_v / t_k))


def _lfp_k_cyc(
    t_k: FloatArray, soc: FloatArray, ua_v: FloatArray, dod: float, c_rate: float
) -> FloatArray:
    """``k_cyc = (p4 + p5·DoD + p6·C)·(exp(p7/T) + exp(-p8/T))`` [1/EFC^pcyc]."""
    p = LFP_250AH
    return np.asarray(
        (p["p4"] + p["p5"] * dod + p["p6"] * c_rate)
        * (np.exp(p["p7"] / t_k) + np.exp(-p["p8"] / t_k))
    )


# --- NCA-Gr Panasonic 18650B (Keil et al. 2016; Preger et al. 2020) -----------------------------
NCA_18650B = {
    "qcal_A": 75.4,
    "qcal_B": -3.34e03,
    "qcal_C": 353.0,
    "qcal_p": 0.512,
    "qcyc_A": 1.86e-06,
    "qcyc_B": 4.74e-11,
    "qcyc_C": 0.000177,
    "qcyc_D": 3.34e-11,
    "qcyc_E": 2.81e-09,
    "qcyc_p": 0.699,
}


def _nca_k_cal(
    t_k: FloatArray, soc: FloatArray, ua_v: FloatArray, dod: float, c_rate: float
) -> FloatArray:
    """``k_cal = A·exp(B/T)·exp(C·SoC/T)`` [1/d^p]."""
    p = NCA_18650B
    return np.asarray(p["qcal_A"] * np.exp(p["qcal_B"] / t_k) * np.exp(p["qcal_C"] * soc / t_k))


def _nca_k_cyc(
    t_k: FloatArray, soc: FloatArray, ua_v: FloatArray, dod: float, c_rate: float
) -> FloatArray:
    """``k_cyc = (A + B·C-rate + C·DoD)·(exp(D/T) + exp(-E/T))`` [1/EFC^p]."""
    p = NCA_18650B
    return np.asarray(
        (p["qcyc_A"] + p["qcyc_B"] * c_rate + p["qcyc_C"] * dod)
        * (np.exp(p["qcyc_D"] / t_k) + np.exp(-p["qcyc_E"] / t_k))
    )


CELLS: dict[str, CellModel] = {
    "NMC_Gr_75Ah_A": CellModel(
        "NMC_Gr_75Ah_A",
        _nmc_a_k_cal,
        _nmc_a_k_cyc,
        NMC_A["pcal"],
        NMC_A["pcyc"],
        days_per_unit=1e3,
        efc_per_unit=1e4,
    ),
    "Lfp_Gr_250AhPrismatic": CellModel(
        "Lfp_Gr_250AhPrismatic", _lfp_k_cal, _lfp_k_cyc, LFP_250AH["pcal"], LFP_250AH["pcyc"]
    ),
    "Nca_Gr_Panasonic3Ah_Battery": CellModel(
        "Nca_Gr_Panasonic3Ah_Battery",
        _nca_k_cal,
        _nca_k_cyc,
        NCA_18650B["qcal_p"],
        NCA_18650B["qcyc_p"],
    ),
}
"""The cell models by their BLAST-Lite class name."""
