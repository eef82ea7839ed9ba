"""`voltbridge run`: the controller, its devices, the store and the dashboard, until stopped.

Stopping (Ctrl-C, SIGTERM or ``--duration``) is orderly: the controller sends every charger its
safe default and the battery 0 kW first, then the central system, the peers, the web server and
the store close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from voltbridge.api.app import create_app
from voltbridge.api.config import ApiConfig
from voltbridge.api.password import ensure_password
from voltbridge.api.server import make_server
from voltbridge.config import Site
from voltbridge.config.models import MqttConfig
from voltbridge.control.controller import ControlConfig, Controller
from voltbridge.control.grid_state import GridLimits
from voltbridge.control.plan_source import SitePlanSource
from voltbridge.control.program_income import ProgramTerms
from voltbridge.control.settings import Settings
from voltbridge.control.site_model import control_site
from voltbridge.core.clock import Clock, RealClock, ScaledClock
from voltbridge.devices.ocpp.charger import OcppCharger
from voltbridge.devices.simulated_home import EnergyTotals
from voltbridge.runtime import systemd
from voltbridge.runtime.demo import DemoPeers, connect_station, start_demo_peers, station_settled
from voltbridge.runtime.devices import DevicesSection, open_devices
from voltbridge.runtime.mqtt import home_bridge
from voltbridge.runtime.outage_feed import OutageFeedReader
from voltbridge.runtime.programs import start_vens
from voltbridge.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    """How to run.

    Attributes:
        demo: run the embedded simulated home as network peers (else the site's ``[devices]``).
        speed: the demo's clock runs this many times faster than real time.
        duration_s: stop after this wall-clock time [s] (measured on the run's clock as
            ``duration_s * speed`` for the demo); None runs until stopped.
        data_dir: where the SQLite store and the dashboard password hash live.
        http_port: the dashboard's port (0: do not serve it).
        password: the dashboard password (else the stored one, or a new one shown once).
        public_read: let the local network read the dashboard without logging in.
        trusted_proxies: reverse proxies whose X-Forwarded-For is believed (see ``ApiConfig``).
        tick_s: the controller's tick [s].
    """

    demo: bool = True
    speed: float = 1.0
    duration_s: float | None = None
    data_dir: Path = Path("voltbridge-data")
    http_port: int = 8080
    password: str | None = None
    public_read: bool = False
    trusted_proxies: tuple[str, ...] = ()
    tick_s: float = 2.0
    start: datetime | None = None
    """The demo clock's start (aware); default now."""
    control: ControlConfig | None = None
    """Overrides the controller's configuration (``tick_s`` then comes from it)."""
    grid_stale_after_s: float = 10.0
    """Age beyond which grid-meter data is stale [s] (raise it with long ticks)."""
    mqtt: MqttConfig | None = None
    """The MQTT broker for Home Assistant (``--mqtt``); default: the site's ``[mqtt]``."""
    clock: Clock | None = None
    """The clock everything runs on; default: the wall clock, or for the demo the wall clock
    ``speed`` times faster from ``start``. Tests inject a ``SteppedClock`` so that what the run
    does never depends on how fast the machine is."""


@dataclass
class RunResult:
    """What a run did, for the command's summary and for tests.

    Attributes:
        ticks: controller ticks done.
        events: events recorded.
        new_password: a dashboard password generated at this first start, or None.
        url: the dashboard's address, or None.
        totals: the demo house's energy totals [kWh] (None for a real home).
        controller: the controller, for inspection after the run.
    """

    ticks: int
    events: int
    new_password: str | None
    url: str | None
    totals: EnergyTotals | None = None
    controller: Controller | None = None


async def run_home(site: Site, options: RunOptions, on_ready: object = None) -> RunResult:
    """Run until stopped; ``on_ready(url, password)`` is called once everything listens."""
    control = control_site(site)
    mqtt_config = options.mqtt or site.mqtt
    mqtt_password = None if mqtt_config is None else mqtt_config.password()  # unset: say so now
    start = options.start or datetime.now(UTC)
    clock: Clock
    if options.clock is not None:
        clock = options.clock
    else:
        clock = ScaledClock(start, options.speed) if options.demo else RealClock()
    options.data_dir.mkdir(parents=True, exist_ok=True)
    peers = None
    if options.demo:
        peers = await start_demo_peers(site, control, clock, ocpp_port=0)
        section = peers.section
    else:
        if site.devices is None:
            raise ValueError(
                "the site file has no [devices] table: add the meter, inverter, battery, relay "
                "and OCPP chargers (see `voltbridge run --help`), or run the demo without --site"
            )
        section = DevicesSection.model_validate(site.devices)
    home_devices = await open_devices(section, control, clock)
    if peers is not None and home_devices.central is not None:
        link = section.ocpp.chargers[0] if section.ocpp and section.ocpp.chargers else None
        if link is not None:
            tick = options.control.tick_s if options.control else options.tick_s
            connect_station(peers, home_devices.central.url(link.charger_id), clock, max(5.0, tick))
        if link is not None:
            await _wait_station(home_devices.central.charger(link.charger_id), peers)
    store = Store(options.data_dir / "voltbridge.sqlite", clock)
    saved = store.latest_settings()
    settings = control.defaults
    if saved is not None:
        with contextlib.suppress(ValueError):
            settings = Settings.model_validate(saved)
    controller = Controller(
        control,
        home_devices.devices,
        SitePlanSource(site, load_history=store.history),
        clock,
        options.control or ControlConfig(tick_s=options.tick_s),
        recorder=store,
        settings=settings,
        grid_limits=GridLimits(
            control.nominal_voltage_v,
            control.nominal_frequency_hz,
            stale_after_s=options.grid_stale_after_s,
        ),
    )
    controller.programs.configure(
        {
            p.id: "take_part" if p.take_part == "always" else "skip"
            for p in site.programs
            if p.enabled
        }
    )
    _persist_settings(controller, store)
    server = None
    new_password = None
    url = None
    if options.http_port:
        api = ApiConfig(
            data_dir=options.data_dir,
            timezone=control.timezone,
            password=options.password,
            public_read=options.public_read,
            trusted_proxies=options.trusted_proxies,
            site_name=site.name,
            currency=site.tariff.currency,
            programs=tuple(
                ProgramTerms(p.program(), p.capacity_kw) for p in site.programs if p.enabled
            ),
            port=options.http_port,
            clock=clock,
        )
        new_password = ensure_password(api)
        server = make_server(create_app(controller, store, api), api)
        url = f"http://{api.host}:{api.port}"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    vens = start_vens(site, control, controller, clock)
    tasks = [asyncio.create_task(controller.run(stop))]
    ven_tasks = [asyncio.create_task(ven.run()) for ven in vens]
    feed = (
        None if site.outage_feed is None else OutageFeedReader(site.outage_feed, controller, clock)
    )
    if feed is not None:
        ven_tasks.append(asyncio.create_task(feed.run()))
    if server is not None:
        tasks.append(asyncio.create_task(server.serve()))
    mqtt_task = None
    if mqtt_config is not None:
        bridge = home_bridge(
            mqtt_config, mqtt_password, controller, control, site.tariff.currency, store, clock
        )
        mqtt_task = asyncio.create_task(bridge.run(stop))
    if callable(on_ready):
        on_ready(url, new_password)
    systemd.notify("READY=1")
    interval_s = systemd.watchdog_interval_s()
    if interval_s is not None:
        ven_tasks.append(asyncio.create_task(systemd.watchdog(controller, interval_s)))
    try:
        await _until_stopped(stop, clock, options)
    finally:
        systemd.notify("STOPPING=1")
        stop.set()
        await asyncio.gather(tasks[0], return_exceptions=True)  # safe defaults sent here
        if mqtt_task is not None:  # says offline; a connect under way may not outlast 12 s
            await asyncio.wait([mqtt_task], timeout=12.0)
            mqtt_task.cancel()
            await asyncio.gather(mqtt_task, return_exceptions=True)
        for ven in vens:
            ven.stop()
        for task in ven_tasks:  # the VENs, and the watchdog: no pings once stopping
            task.cancel()
        await asyncio.gather(*ven_tasks, return_exceptions=True)
        for ven in vens:
            await ven.close()
        if feed is not None:
            await feed.close()
        if server is not None:
            server.should_exit = True
            await asyncio.gather(*tasks[1:], return_exceptions=True)
        if home_devices.central is not None:
            await home_devices.central.shutdown()
        if peers is not None:
            await peers.stop()
        store.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    totals = None if peers is None else peers.home.totals
    return RunResult(
        controller.decisions, controller.log.count, new_password, url, totals, controller
    )


async def _until_stopped(stop: asyncio.Event, clock: Clock, options: RunOptions) -> None:
    """Return when ``stop`` is set: by a signal or, with a duration, once it has passed on the
    run's clock (the timer sets ``stop`` itself, so a controller waking at that same instant
    already sees it)."""
    if options.duration_s is None:
        await stop.wait()
        return

    async def stop_later(span_s: float) -> None:
        await clock.sleep(span_s)
        stop.set()

    timer = asyncio.create_task(
        stop_later(options.duration_s * (options.speed if options.demo else 1.0))
    )
    try:
        await stop.wait()
    finally:
        timer.cancel()
        await asyncio.gather(timer, return_exceptions=True)


async def _wait_station(charger: OcppCharger, peers: DemoPeers) -> None:
    """Give the demo's charging station up to 10 s (real time) to connect and tell its state (see
    ``station_settled``) before the first tick, so that the first plan knows the car."""
    for _ in range(200):
        if station_settled(charger, peers):
            return
        await asyncio.sleep(0.05)
    log.warning("the demo charging station did not report its state within 10 s; starting anyway")


def _persist_settings(controller: Controller, store: Store) -> None:
    """Keep the household's settings across restarts: store them whenever they change."""
    controller.settings_listeners.append(
        lambda new: store.record_settings(datetime.now(UTC), new.model_dump(mode="json"))
    )
