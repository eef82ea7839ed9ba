"""Running as a systemd service: the unit file, readiness and a watchdog tied to the control loop.

``voltbridge run`` under ``Type=notify`` says ``READY=1`` once devices, store and dashboard are up,
and, when the unit sets ``WatchdogSec``, ``WATCHDOG=1`` at half that period, but only while the
controller's loop ticks (``/api/health``'s loop check): a loop that is stuck stops the pings and
systemd restarts the service. ``STOPPING=1`` goes out when it stops. The notify protocol is one
datagram on the socket named by ``$NOTIFY_SOCKET`` (sd_notify(3)); without it nothing is sent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from voltbridge.control.handle import ControlHandle

log = logging.getLogger("voltbridge.runtime")


def notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``message`` (e.g. ``"READY=1"``) to systemd; False when not run under systemd or the
    socket refuses (never raises: a service manager's trouble must not stop the home)."""
    env = os.environ if environ is None else environ
    path = env.get("NOTIFY_SOCKET")
    if not path:
        return False
    address = "\0" + path[1:] if path.startswith("@") else path
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)  # a manager that does not read must not stall the loop
            sock.connect(address)
            sock.send(message.encode("utf-8"))
    except OSError as err:
        log.warning("systemd notify %r failed: %s", message, err)
        return False
    return True


def watchdog_interval_s(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between watchdog pings: half of ``$WATCHDOG_USEC``, or None when the unit sets no
    watchdog (or sets it for another process, ``$WATCHDOG_PID``)."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC")
    pid = env.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        period_s = int(usec) / 1e6
    except ValueError:
        log.warning("WATCHDOG_USEC=%r is not a number of microseconds; no watchdog", usec)
        return None
    return period_s / 2.0 if period_s > 0 else None


async def watchdog(
    handle: ControlHandle,
    interval_s: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Ping systemd every ``interval_s`` (real time) while the control loop ticks; say why not
    in the unit's status line when it does not. Runs until cancelled."""
    stuck = False
    while True:
        try:
            loop = handle.health()["loop"]
            ok, detail = loop.ok, loop.detail
        except Exception as err:  # a broken check counts as a stuck loop, said
            ok, detail = False, f"health check failed: {type(err).__name__}"
        if ok:
            notify("WATCHDOG=1", environ)
            if stuck:
                notify("STATUS=running", environ)
            stuck = False
        elif not stuck:
            stuck = True
            notify(f"STATUS=control loop not ticking: {detail}", environ)
            log.error("control loop not ticking (%s): no watchdog ping", detail)
        await sleep(interval_s)


def unit_text(
    executable: Path,
    data_dir: Path,
    site: Path | None = None,
    env_file: Path = Path("/etc/voltbridge/voltbridge.env"),
    user: str | None = None,
    port: int = 8080,
    watchdog_s: int = 60,
) -> str:
    """The systemd unit of ``voltbridge run``: notify type with a watchdog, restart on failure,
    secrets from ``env_file`` (``VOLTBRIDGE_PASSWORD``, chargers' ``password_env`` variables),
    logs to the journal, write access to the data directory only."""
    args = [str(executable), "run", "--data-dir", str(data_dir), "--port", str(port)]
    if site is not None:
        args += ["--site", str(site)]
    run = " ".join(_quoted(a) for a in args)
    var_lib = Path("/var/lib")
    state = (
        [f"StateDirectory={data_dir.relative_to(var_lib)}"]
        if data_dir.is_relative_to(var_lib) and data_dir != var_lib
        else []
    )
    lines = [
        "[Unit]",
        "Description=voltbridge home energy manager (EV as the home's battery)",
        "Documentation=https://github.com/voltbridge/voltbridge",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=notify",
        "NotifyAccess=main",
        f"ExecStart={run}",
        f"EnvironmentFile=-{_quoted(str(env_file))}",
        *state,
        f"WorkingDirectory={_quoted(str(data_dir))}",
        f"WatchdogSec={watchdog_s}",
        "Restart=on-failure",
        "RestartSec=5",
        "TimeoutStopSec=30",
        *([f"User={user}"] if user else []),
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        f"ReadWritePaths={_quoted(str(data_dir))}",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ]
    return "\n".join(lines)


def _quoted(arg: str) -> str:
    """``arg`` as systemd reads it: double-quoted when it holds spaces, quotes or backslashes."""
    if any(c in arg for c in ' \t"\\'):
        return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return arg
