"""Running as a systemd service: the unit verifies with systemd-analyze, readiness and watchdog
datagrams reach $NOTIFY_SOCKET, and the watchdog pings only while the control loop ticks."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voltbridge.cli.app import app
from voltbridge.control.health import Check
from voltbridge.runtime import systemd

EXAMPLE = Path(__file__).parents[2] / "src/voltbridge/examples/ev9-california.toml"


def listener(tmp_path: Path) -> tuple[socket.socket, dict[str, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify.sock"
    sock.bind(str(path))
    sock.settimeout(10.0)  # a hang guard: the datagram is already queued when read
    return sock, {"NOTIFY_SOCKET": str(path)}


def test_notify_sends_one_datagram_and_is_quiet_without_systemd(tmp_path: Path) -> None:
    sock, env = listener(tmp_path)
    with sock:
        assert systemd.notify("READY=1", env)
        assert sock.recv(256) == b"READY=1"
    assert not systemd.notify("READY=1", {})
    assert not systemd.notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})


def test_a_manager_that_does_not_read_never_stalls_the_loop(tmp_path: Path) -> None:
    sock, env = listener(tmp_path)
    with sock:  # nobody reads: the queue fills, and notify says False instead of waiting
        sent = [systemd.notify("WATCHDOG=1", env) for _ in range(10_000)]
    assert sent[0] and not sent[-1]


@pytest.mark.parametrize(
    ("env", "interval"),
    [
        ({"WATCHDOG_USEC": "60000000"}, 30.0),
        ({}, None),
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}, None),  # another process's
        ({"WATCHDOG_USEC": "sixty"}, None),
    ],
)
def test_watchdog_interval_is_half_the_units(env: dict[str, str], interval: float | None) -> None:
    assert systemd.watchdog_interval_s(env) == interval


class Handle:
    """Just enough of a controller: its loop check, changed by the test."""

    def __init__(self) -> None:
        self.loop = Check(True, "last tick 1 s ago (every 2 s)")

    def health(self) -> dict[str, Check]:
        return {"loop": self.loop}


def test_the_watchdog_pings_only_while_the_loop_ticks(tmp_path: Path) -> None:
    sock, env = listener(tmp_path)
    handle = Handle()
    rounds: list[float] = []
    plan = [True, True, False, False, True]

    async def sleep(seconds: float) -> None:
        rounds.append(seconds)
        if len(rounds) == len(plan):
            raise asyncio.CancelledError
        handle.loop = Check(plan[len(rounds)], "last tick 90 s ago (every 2 s)")

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(systemd.watchdog(handle, 30.0, sleep, env))  # type: ignore[arg-type]
    got = []
    sock.setblocking(False)
    with sock:
        while True:
            try:
                got.append(sock.recv(256).decode())
            except BlockingIOError:
                break
    assert got == [
        "WATCHDOG=1",
        "WATCHDOG=1",
        "STATUS=control loop not ticking: last tick 90 s ago (every 2 s)",
        "WATCHDOG=1",
        "STATUS=running",
    ]
    assert rounds == [30.0] * 5


def test_the_unit_verifies_and_quotes_what_needs_it(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "voltbridge"
    text = systemd.unit_text(exe, Path("/var/lib/voltbridge"), Path("/etc/my home/site.toml"))
    assert "Type=notify" in text and "WatchdogSec=60" in text
    assert "StateDirectory=voltbridge" in text
    assert '--site "/etc/my home/site.toml"' in text
    verify = shutil.which("systemd-analyze")
    if verify is None:
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / "voltbridge.service"
    unit.write_text(systemd.unit_text(exe, Path("/var/lib/voltbridge"), EXAMPLE))
    done = subprocess.run(
        [verify, "verify", str(unit)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_install_service_prints_or_writes_the_unit(tmp_path: Path) -> None:
    runner = CliRunner()
    printed = runner.invoke(app, ["install-service", "--site", str(EXAMPLE), "--user", "vb"])
    assert printed.exit_code == 0, printed.output
    assert "User=vb" in printed.output and "ExecStart=" in printed.output
    out = tmp_path / "voltbridge.service"
    wrote = runner.invoke(app, ["install-service", "--output", str(out)])
    assert wrote.exit_code == 0 and "systemctl enable --now voltbridge" in wrote.output
    assert out.read_text().startswith("[Unit]")
    missing = runner.invoke(app, ["install-service", "--site", str(tmp_path / "none.toml")])
    assert missing.exit_code == 2 and "no site file" in missing.output
