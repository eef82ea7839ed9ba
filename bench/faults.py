"""Fault campaign: the real controller under thousands of seeded faults, with the figures of issue 10.

Three parts (``bench/faultkit/``):

- ``home``: the controller on the in-process simulated home with faulty devices (silent, frozen,
  disconnected, garbage: NaN, out-of-range, 0x8000, decode errors such as a +400 scale factor's
  OverflowError; a charger or battery refusing commands), the grid flapping and the controller's
  clock jumping both ways, on a virtual clock;
- ``frames``: malformed OCPP-J frames of every class to the real central system over a real
  websocket on 127.0.0.1, each answer checked against OCPP-J 2.x;
- ``restart``: the controller in a child process on the real peers (SunSpec Modbus server, OCPP
  2.1 station simulator), with a real SQLite store, faulted over the network and killed with
  ``kill -9`` and restarted.

Every invariant is checked from the devices' side (commands received, the plant's flows, the
SQLite file), never from the controller's own state. Run ``python bench/faults.py`` (about five
minutes on two cores) or ``--quick``; ``--json`` makes the last line one JSON object with the
keys ``scenarios``, ``faults_injected``, ``malformed_frames``, ``violations``, ``stalls``,
``rows_lost`` and ``seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faultkit.frames import run_frames
from faultkit.inprocess import PER_SCENARIO, run_home_scenarios, run_scenario
from faultkit.report import Tally, json_line, table
from faultkit.restart import run_restarts


def quiet_logs() -> None:
    """The campaign makes the loop log every fault; keep the terminal for the figures."""
    logging.basicConfig(level=logging.CRITICAL)
    for name in ("pymodbus", "pymodbus.logging", "voltbridge", "ocpp", "websockets", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def campaign(seed: int, faults: int, frames: int, restarts: int) -> tuple[Tally, dict[str, float]]:
    """Run the three parts; the tally and the time each took [s]."""
    tally = Tally()
    times: dict[str, float] = {}
    t = time.perf_counter()
    tally.merge(run_home_scenarios(seed, faults))
    times["home"] = time.perf_counter() - t
    t = time.perf_counter()
    frame_tally, log = run_frames(seed, frames)
    tally.merge(frame_tally)
    times["frames"] = time.perf_counter() - t
    times["frame log bytes"] = float(log.bytes)
    times["frame log lines"] = float(log.lines)
    if restarts:
        t = time.perf_counter()
        tally.merge(run_restarts(seed, restarts))
        times["restart"] = time.perf_counter() - t
    return tally, times


def replay(seed: int) -> int:
    """One in-process scenario again, with the controller's own account of it."""
    tally = Tally()
    rig = asyncio.run(run_scenario("home", 0, seed, PER_SCENARIO, tally))
    for event in rig.controller.events:
        kind = str(getattr(event.kind, "value", event.kind))
        if kind in ("grid", "fault", "warning"):
            print(f"{event.at.isoformat()} {kind}: {event.message}")
    for f in tally.findings:
        print(f"FINDING {f.kind} at {f.at_s:.0f} s: {f.detail}")
    return 1 if tally.findings else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--seed", type=int, default=1, help="master seed (each scenario's seed is drawn from it)"
    )
    p.add_argument(
        "--faults", type=int, default=10_000, help="in-process device, grid and clock faults"
    )
    p.add_argument("--frames", type=int, default=10_000, help="malformed OCPP frames")
    p.add_argument("--restarts", type=int, default=6, help="kill -9 restarts on the real peers")
    p.add_argument("--quick", action="store_true", help="300 faults, 300 frames, 1 restart")
    p.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    p.add_argument("--findings", type=int, default=3, help="examples shown per kind of finding")
    p.add_argument(
        "--replay",
        type=int,
        metavar="SEED",
        help="run only the in-process scenario of this seed (as a finding names it) and show "
        "its findings and the controller's grid, fault and warning events",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.faults, args.frames, args.restarts = 300, 300, 1
    quiet_logs()
    if args.replay is not None:
        return replay(args.replay)
    t0 = time.perf_counter()
    tally, times = campaign(args.seed, args.faults, args.frames, args.restarts)
    seconds = time.perf_counter() - t0
    print(table(tally, seconds))
    print(
        "time per part [s]: "
        + ", ".join(f"{k} {v:.0f}" for k, v in times.items() if "log" not in k)
    )
    per = times["frame log bytes"] / max(tally.malformed_frames, 1)
    print(
        f"central system log for the malformed frames: {times['frame log lines']:.0f} lines, {per:.0f} bytes a frame"
    )
    print("faults: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.faults_by_kind.items())))
    print("frames: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.frames_by_class.items())))
    if tally.excused:
        print(
            "excused (the controller could not see it, or the device ignored a stop): "
            + ", ".join(f"{k} {v}" for k, v in tally.excused.items())
        )
    for line in tally.summary(args.findings):
        print(line)
    if args.json:
        print(json_line(tally, seconds))
    return 1 if tally.violations or tally.stalls or tally.rows_lost else 0


if __name__ == "__main__":
    sys.exit(main())
