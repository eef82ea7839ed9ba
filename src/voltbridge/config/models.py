"""Pydantic models of a site file: location, grid, tariff, PV, battery, load, vehicles, preferences."""

from __future__ import annotations

import os
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from voltbridge.battery.cost import BatteryCare
from voltbridge.core.units import breaker_kw
from voltbridge.programs.models import Program
from voltbridge.programs.openadr3_config import OpenADR3Config
from voltbridge.programs.openadr_config import OpenADRConfig
from voltbridge.programs.shipped import resolve_program, shipped_ids
from voltbridge.tariffs import Tariff

Pct = Annotated[float, Field(ge=0, le=100)]
PositiveKw = Annotated[float, Field(gt=0)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class Strict(BaseModel):
    """Base: unknown keys are errors (a typo must not be silently ignored), values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def parse_hhmm(value: str) -> time:
    """``"HH:MM"`` (24 h) to a time; anything else is refused with the allowed form.

    >>> parse_hhmm("07:30")
    datetime.time(7, 30)
    """
    match = _HHMM.match(value)
    if not match:
        raise ValueError(f"time {value!r} must be 24-hour HH:MM, e.g. '07:30'")
    return time(int(match.group(1)), int(match.group(2)))


class Location(Strict):
    """Where the site is: for PV, weather and local time."""

    latitude: float = Field(ge=-90, le=90)
    """[degrees north]"""
    longitude: float = Field(ge=-180, le=180)
    """[degrees east]"""
    timezone: str
    """IANA name, e.g. 'America/Los_Angeles'."""
    altitude_m: float = 0.0
    """[m above sea level]"""
    weather_file: Path | None = None
    """Typical-year weather for the simulator (TMY3 CSV, TMY2 or EPW), relative to the site
    file; without one the closest of the typical years shipped with pvlib is used."""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r}; use an IANA name such as 'Europe/London'"
            ) from None
        return value


class GridConnection(Strict):
    """The connection to the grid and what may flow through it."""

    import_limit_kw: PositiveKw
    """Largest import the connection allows [kW]."""
    export_limit_kw: float = Field(default=0.0, ge=0)
    """Largest export allowed by the interconnection agreement [kW]."""
    main_breaker_a: float | None = Field(default=None, gt=0)
    """Main breaker rating [A]; with ``voltage_v`` and ``phases`` it caps import and export."""
    voltage_v: float = Field(default=230.0, gt=0)
    """Supply voltage [V]: phase-to-neutral for three phases, line voltage for single/split."""
    phases: Literal[1, 3] = 1
    export_policy: Literal["none", "pv-only", "any"] = "pv-only"
    """What may be exported: nothing, PV only, or anything including batteries and cars (V2G)."""

    @property
    def breaker_kw(self) -> float | None:
        """Power the main breaker allows [kW], or None without a breaker rating."""
        if self.main_breaker_a is None:
            return None
        return breaker_kw(self.main_breaker_a, self.voltage_v, self.phases)

    @property
    def import_cap_kw(self) -> float:
        """Import limit after the main breaker [kW]."""
        b = self.breaker_kw
        return self.import_limit_kw if b is None else min(self.import_limit_kw, b)

    @property
    def export_cap_kw(self) -> float:
        """Export limit after the policy and the main breaker [kW]."""
        if self.export_policy == "none":
            return 0.0
        b = self.breaker_kw
        return self.export_limit_kw if b is None else min(self.export_limit_kw, b)


class PV(Strict):
    """A rooftop PV array."""

    kwp: PositiveKw
    """DC peak power [kWp]."""
    tilt_deg: float = Field(default=30.0, ge=0, le=90)
    """[degrees from horizontal]"""
    azimuth_deg: float = Field(default=180.0, ge=0, lt=360)
    """[degrees clockwise from north]: 180 faces south."""
    losses_pct: Pct = 14.0
    """System losses (wiring, soiling, mismatch) [%], PVWatts' default."""
    inverter_kw: float | None = Field(default=None, gt=0)
    """AC limit of the inverter [kW]; None: no clipping."""


class HomeBattery(Strict):
    """A stationary home battery."""

    usable_kwh: PositiveKw
    max_charge_kw: PositiveKw
    max_discharge_kw: PositiveKw
    round_trip_efficiency: float = Field(default=0.9, gt=0, le=1)
    """AC to AC [-]; split evenly between charge and discharge."""
    min_soc_pct: Pct = 10.0
    max_soc_pct: Pct = 100.0
    chemistry: Literal["lfp", "nmc", "nca", "unknown"] = "lfp"
    initial_soc_pct: Pct = 50.0
    """Assumed state of charge when no measurement is at hand (planning from the command line)."""

    @model_validator(mode="after")
    def _limits_ordered(self) -> Self:
        if self.min_soc_pct >= self.max_soc_pct:
            raise ValueError(
                f"min_soc_pct ({self.min_soc_pct}) must be below max_soc_pct ({self.max_soc_pct})"
            )
        return self


class Load(Strict):
    """The household's consumption: an annual figure, a typical week or a measured year."""

    annual_kwh: float | None = Field(default=None, gt=0)
    """Yearly consumption [kWh]: the BDEW H25 profile for plans, a varying household around it in
    the simulator."""
    profile: Path | None = None
    """CSV of a typical week (columns weekday, time, kw), relative to the site file."""
    measured: Path | None = None
    """CSV of a measured year (timestamp,kw or timestamp,kwh at 15 or 60 min), relative to the
    site file."""

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [x for x in (self.annual_kwh, self.profile, self.measured) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of annual_kwh, profile or measured")
        return self


class Circuit(Strict):
    """A circuit of the house panel."""

    name: str = Field(min_length=1)
    typical_kw: float = Field(ge=0)
    """Typical draw while on [kW]."""
    essential: bool = False
    """Kept on in an outage (fridge, lights, router, medical devices)."""
    shed_priority: int = Field(default=1, ge=0)
    """Order of shedding in an outage: higher numbers are shed first; essentials go last."""


class Trip(Strict):
    """A recurring trip: leaves home and returns the same day (or the next, if return < depart)."""

    days: list[Weekday] = Field(min_length=1)
    depart: str
    """Local departure time, HH:MM."""
    return_: str = Field(alias="return")
    """Local return time, HH:MM."""
    km: float = Field(ge=0)
    """Distance of the round trip [km]."""

    @field_validator("depart", "return_")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        parse_hhmm(value)
        return value

    @property
    def depart_time(self) -> time:
        return parse_hhmm(self.depart)

    @property
    def return_time(self) -> time:
        return parse_hhmm(self.return_)


class ChargerEntry(Strict):
    """The vehicle's charger: a catalog model, custom values, or a model with values overridden."""

    model: str | None = None
    """Catalog id (see `voltbridge catalog`)."""
    current: Literal["ac", "dc"] | None = None
    max_charge_kw: float | None = Field(default=None, gt=0)
    max_discharge_kw: float | None = Field(default=None, ge=0)
    efficiency: float | None = Field(default=None, gt=0, le=1)
    """One-way conversion efficiency [-]."""
    connector: str | None = None
    v2x_protocols: list[str] | None = None
    ocpp: list[str] | None = None
    v2h: bool | None = None
    v2g: bool | None = None
    grid_forming: bool | None = None


class VehicleEntry(Strict):
    """A car of the household: a catalog model, custom values, or a model with values overridden."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    """Short name used in plans and the dashboard (letters, digits, - _ .)."""
    model: str | None = None
    """Catalog id (see `voltbridge catalog`)."""
    usable_kwh: float | None = Field(default=None, gt=0)
    consumption_kwh_per_km: float | None = Field(default=None, gt=0)
    max_charge_kw: float | None = Field(default=None, gt=0)
    """Charge limit of the car [kW] (for the charger's current type)."""
    max_discharge_kw: float | None = Field(default=None, ge=0)
    chemistry: Literal["lfp", "nmc", "nca", "unknown"] | None = None
    connector: str | None = None
    v2x_protocols: list[str] | None = None
    v2h: bool | None = None
    v2g: bool | None = None
    v2l: bool | None = None
    discharge_floor_pct: float | None = Field(default=None, ge=0, le=100)
    warranty_discharge_limit_kwh: float | None = Field(default=None, gt=0)
    warranty_years: float | None = Field(default=None, gt=0)
    charger: ChargerEntry
    trips: list[Trip] = Field(default_factory=list)
    initial_soc_pct: Pct = 50.0
    """Assumed state of charge when no measurement is at hand (planning from the command line)."""
    departure_soc_pct: Pct | None = None
    """Overrides the site preference for this car."""
    mobility_reserve_pct: Pct | None = None
    """Overrides the site preference for this car."""
    outage_reserve_pct: Pct | None = None
    """Overrides the site preference for this car."""


class Preferences(Strict):
    """What the household wants."""

    departure_soc_pct: Pct = 80.0
    """State of charge wanted at each departure [%]."""
    mobility_reserve_pct: Pct = 20.0
    """State of charge never used for the house or the grid [%]."""
    backup_reserve_h: float = Field(default=4.0, ge=0)
    """Hours of essential load kept in store while a car is plugged in [h]."""
    outage_reserve_pct: Pct | None = None
    """State of charge a car keeps while it powers the essential circuits in an outage [%]:
    below the mobility reserve only the essential circuits are powered, down to this (never
    above the mobility reserve, never below the maker's floor). Unset: the lower of the
    mobility reserve and 10 %."""
    v2g_allowed: bool = False
    """Whether the cars may export to the grid (V2G)."""
    battery_care: BatteryCare = BatteryCare.MODERATE
    """Weight of battery wear in the plan: off, moderate or strict."""
    battery_cost_per_kwh: float = Field(default=130.0, gt=0)
    """Replacement cost of battery capacity [currency/kWh], for the wear cost."""
    public_charging_per_kwh: float = Field(default=0.5, ge=0)
    """Price of charging away from home [currency/kWh] when a trip needs more than the car
    holds (the simulator charges it there and reports it)."""


class OutageRisk(Strict):
    """How often the grid fails here, for the simulator's drawn outages."""

    per_year: float = Field(default=0.0, ge=0)
    """Mean number of outages a year [1/year]."""
    mean_hours: float = Field(default=4.0, gt=0)
    """Mean outage duration [h]."""


class WeatherForecast(Strict):
    """An optional weather-forecast provider for the PV forecast at home (never needed: without
    one, or when it fails, PV is forecast from the site's recorded production)."""

    provider: Literal["none", "open-meteo"] = "none"
    """``open-meteo``: Open-Meteo's hourly cloud-cover forecast (no key needed)."""
    url: str = "https://api.open-meteo.com/v1/forecast"
    """The provider's forecast endpoint (a self-hosted Open-Meteo, or a test server)."""
    timeout_s: float = Field(default=10.0, gt=0, le=60)
    """How long one request may take before it counts as failed [s]."""


class ProgramEntry(Strict):
    """A utility program the household takes part in (``[[programs]]``).

    ``id`` names a shipped program (``voltbridge.programs.shipped``); with a ``definition`` table
    it overrides some of the shipped figures, or, for an id that is not shipped, is the whole
    program. ``openadr`` connects it to the VTN that sends its events; secrets (a key's
    passphrase) come from environment variables it names, never from this file.
    """

    # Declared before ``id`` so that the id check sees whether a definition was given.
    definition: dict[str, Any] | None = None
    """Figures laid over the shipped program, or a whole program for an id not shipped."""
    id: str = Field(min_length=1)
    enabled: bool = True
    """False keeps the entry without taking part (no events, no income)."""
    take_part: Literal["always", "ask"] = "always"
    """``always``: every event is taken part in unless the household skips it; ``ask``: only
    events the household says yes to (on the dashboard or the API)."""
    capacity_kw: float = Field(default=0.0, ge=0)
    """Capacity offered to the program [kW], for a capacity payment."""
    openadr: OpenADRConfig | None = None
    """The utility's or aggregator's OpenADR 2.0b VTN that sends this program's events
    (``[programs.openadr]``, see ``voltbridge.programs.openadr_config``)."""
    openadr3: OpenADR3Config | None = None
    """Or its OpenADR 3 VTN (``[programs.openadr3]``, ``voltbridge.programs.openadr3_config``)."""

    @field_validator("id")
    @classmethod
    def _shipped_or_defined(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("definition") is None and value not in shipped_ids():
            raise ValueError(
                f"no shipped program {value!r}; shipped programs are: "
                f"{', '.join(shipped_ids())} (or define your own under [programs.definition])"
            )
        return value

    @model_validator(mode="after")
    def _valid_program(self) -> Self:
        for name, vtn in (("openadr", self.openadr), ("openadr3", self.openadr3)):
            if vtn is not None and vtn.program not in (None, self.id):
                raise ValueError(
                    f"{name}.program {vtn.program!r} differs from this entry's id "
                    f"{self.id!r}; leave it out (the entry's id is taken)"
                )
        self.program()
        return self

    def program(self) -> Program:
        """The program this entry means, resolved and validated."""
        try:
            return resolve_program(self.id, self.definition)
        except ValidationError as exc:
            where = "; ".join(
                "definition."
                + ".".join(str(part) for part in err["loc"])
                + ": "
                + err["msg"].removeprefix("Value error, ")
                for err in exc.errors(include_url=False)
            )
            raise ValueError(where) from None


_TOPIC_PREFIX = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


class OutageFeed(Strict):
    """A feed of announced outages (``[outage_feed]``), for storm watch: a URL answering JSON
    ``{"outages": [{"id": "...", "start": "ISO 8601 with offset", "end": "..."}]}`` (a utility's
    or an installer's service translating the utility's notices). An outage that leaves the feed
    is called off."""

    url: str = Field(min_length=1)
    """``https://...``; plain ``http://`` only on this machine (loopback)."""
    poll_s: float = Field(default=900.0, ge=10, le=86400)
    """Seconds between reads [s]."""
    timeout_s: float = Field(default=10.0, gt=0, le=60)
    """How long one read may take before it counts as failed [s]."""

    @field_validator("url")
    @classmethod
    def _secure(cls, url: str) -> str:
        parts = urlsplit(url)
        loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if parts.scheme == "https" or (parts.scheme == "http" and loopback):
            return url
        raise ValueError(
            f"{url!r}: give an https:// URL (plain http:// only for a feed on this machine); "
            "a forged outage notice would make the home buy energy to fill up"
        )


class MqttConfig(Strict):
    """The MQTT broker voltbridge publishes to for Home Assistant (``[mqtt]``).

    The password never lives in the site file: ``password_env`` names the environment variable
    that holds it (as a systemd environment file or ``export`` sets it).
    """

    host: str = Field(min_length=1)
    port: int = Field(default=1883, ge=1, le=65535)
    """[TCP port] 1883 plain, usually 8883 with TLS."""
    username: str | None = Field(default=None, min_length=1)
    password_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Name of the environment variable holding the broker password."""
    tls: bool = False
    ca_file: Path | None = None
    """CA bundle the broker's certificate is checked against (default: the system's)."""
    cert_file: Path | None = None
    """Client certificate (PEM), for brokers that ask for one; give ``key_file`` too."""
    key_file: Path | None = None
    discovery_prefix: str = "homeassistant"
    topic_prefix: str = "voltbridge"
    publish_every_s: float = Field(default=5.0, ge=0, le=3600)
    """Each state topic is published on change, at most once per this interval [s]."""

    @field_validator("discovery_prefix", "topic_prefix")
    @classmethod
    def _plain_topic(cls, value: str) -> str:
        if not _TOPIC_PREFIX.match(value):
            raise ValueError(
                f"{value!r} is not a plain topic: use letters, digits, '_', '.', '-' and inner "
                "'/', without '#', '+', spaces or a leading or trailing '/'"
            )
        return value

    @field_validator("ca_file", "cert_file", "key_file")
    @classmethod
    def _file_exists(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"no such file: {path}")
        return path

    @model_validator(mode="after")
    def _tls_files_need_tls(self) -> Self:
        given = [n for n in ("ca_file", "cert_file", "key_file") if getattr(self, n) is not None]
        if given and not self.tls:
            raise ValueError(f"{given[0]}: set tls = true to use it")
        if (self.cert_file is None) != (self.key_file is None):
            missing = "key_file" if self.key_file is None else "cert_file"
            raise ValueError(f"{missing}: a client certificate needs both cert_file and key_file")
        if self.password_env is not None and self.username is None:
            raise ValueError("username: give the broker user whose password password_env holds")
        return self

    def password(self, environ: dict[str, str] | None = None) -> str | None:
        """The broker password from the environment; ValueError naming the variable when unset."""
        if self.password_env is None:
            return None
        value = (os.environ if environ is None else environ).get(self.password_env)
        if value is None:
            raise ValueError(
                f"mqtt.password_env: environment variable {self.password_env} is not set; "
                "export it (or put it in the service's environment file) before starting"
            )
        return value


class Site(Strict):
    """A home: everything `voltbridge check` validates and `voltbridge plan` needs."""

    name: str = "site"
    location: Location
    grid: GridConnection
    tariff: Tariff
    pv: PV | None = None
    battery: HomeBattery | None = None
    load: Load
    circuits: list[Circuit] = Field(default_factory=list)
    vehicles: list[VehicleEntry] = Field(default_factory=list)
    preferences: Preferences = Field(default_factory=Preferences)
    outages: OutageRisk = Field(default_factory=OutageRisk)
    forecast: WeatherForecast = Field(default_factory=WeatherForecast)
    programs: list[ProgramEntry] = Field(default_factory=list)
    """Utility programs the household takes part in (``[[programs]]``)."""
    devices: dict[str, Any] | None = None
    """The home's devices for `voltbridge run --site` (drivers, addresses, the OCPP central
    system); checked when the controller starts (see ``voltbridge.runtime.devices``)."""
    mqtt: MqttConfig | None = None
    """The MQTT broker for Home Assistant (``[mqtt]``); none: no MQTT."""
    outage_feed: OutageFeed | None = None
    """A feed of announced outages for storm watch (``[outage_feed]``); none: no feed."""

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        for label, names in (
            ("vehicles", [v.name for v in self.vehicles]),
            ("circuits", [c.name for c in self.circuits]),
            ("programs", [p.id for p in self.programs]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{label}: names must be unique, repeated: {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _programs_pay_in_tariff_currency(self) -> Self:
        """Program income is shown beside the bill and netted against it: one currency."""
        for i, entry in enumerate(self.programs):
            currency = entry.program().currency
            if currency != self.tariff.currency:
                raise ValueError(
                    f"programs[{i}]: program {entry.id!r} pays in {currency}, the tariff bills "
                    f"in {self.tariff.currency}; set [programs.definition] currency (and its "
                    "amounts) to the tariff's currency"
                )
        return self

    @model_validator(mode="after")
    def _outage_reserve_below_mobility(self) -> Self:
        """An outage reserve lowers the mobility reserve for the essential circuits; above it,
        it would keep more from the fridge than from the air conditioner."""
        prefs = self.preferences
        places = [("preferences", None, None)] + [
            (f"vehicles.{v.name}", v.mobility_reserve_pct, v.outage_reserve_pct)
            for v in self.vehicles
        ]
        for where, car_reserve, car_outage in places:
            reserve = prefs.mobility_reserve_pct if car_reserve is None else car_reserve
            outage = prefs.outage_reserve_pct if car_outage is None else car_outage
            if outage is not None and outage > reserve:
                field = where if car_outage is not None else "preferences"
                raise ValueError(
                    f"{field}.outage_reserve_pct: {outage:g} % is above the mobility reserve "
                    f"({reserve:g} %) of {where}: the outage reserve is what the essential "
                    f"circuits may use down to in an outage; give at most {reserve:g} %"
                )
        return self

    @property
    def essential_kw(self) -> float:
        """Typical draw of the essential circuits [kW]."""
        return sum(c.typical_kw for c in self.circuits if c.essential)
