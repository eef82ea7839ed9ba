"""The digital twin: a simulated home (cars, PV, load, grid, outages) and the strategies on it."""

from voltbridge.sim.simulate import simulate_site

__all__ = ["simulate_site"]
