"""Forecasts of PV, household load and car availability on a time grid."""

from voltbridge.forecast.load import standard_load_kw, week_profile_kw
from voltbridge.forecast.pv import clearsky_pv_kw
from voltbridge.forecast.site import SiteForecast, forecast_site
from voltbridge.forecast.trips import Availability, TripRule, availability

__all__ = [
    "Availability",
    "SiteForecast",
    "TripRule",
    "availability",
    "clearsky_pv_kw",
    "forecast_site",
    "standard_load_kw",
    "week_profile_kw",
]
