"""The campaign's tally: what was run and injected, and every broken invariant with its context."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Finding:
    """One broken invariant or loop stall, with what is needed to reproduce it.

    Attributes:
        part: which part of the campaign saw it (``home``, ``frames``, ``restart``).
        scenario: the scenario's number within its part.
        seed: the scenario's own seed (reproduces it alone).
        kind: the invariant, e.g. ``backfeed`` or ``stall``.
        at_s: simulated time since the scenario's start [s].
        detail: what happened, in words.
    """

    part: str
    scenario: int
    seed: int
    kind: str
    at_s: float
    detail: str


@dataclass
class Tally:
    """Counts of one campaign run (or one part of it); ``merge`` adds another."""

    scenarios: int = 0
    faults_injected: int = 0
    malformed_frames: int = 0
    violations: int = 0
    stalls: int = 0
    rows_lost: int = 0
    faults_by_kind: Counter[str] = field(default_factory=Counter)
    frames_by_class: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    excused: Counter[str] = field(default_factory=Counter)
    """Breaches the controller could not have seen (its measuring device was faulted), by kind."""

    def fault(self, kind: str) -> None:
        self.faults_injected += 1
        self.faults_by_kind[kind] += 1

    def violation(self, finding: Finding) -> None:
        self.violations += 1
        self.findings.append(finding)

    def stall(self, finding: Finding) -> None:
        self.stalls += 1
        self.findings.append(finding)

    def merge(self, other: Tally) -> None:
        for name in ("scenarios", "faults_injected", "malformed_frames", "violations", "stalls"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rows_lost += other.rows_lost
        self.faults_by_kind.update(other.faults_by_kind)
        self.frames_by_class.update(other.frames_by_class)
        self.findings.extend(other.findings)
        self.excused.update(other.excused)

    def figures(self, seconds: float) -> dict[str, float]:
        """The JSON object of the last line: exactly these numeric keys."""
        return {
            "scenarios": self.scenarios,
            "faults_injected": self.faults_injected,
            "malformed_frames": self.malformed_frames,
            "violations": self.violations,
            "stalls": self.stalls,
            "rows_lost": self.rows_lost,
            "seconds": round(seconds, 1),
        }

    def summary(self, limit: int = 3) -> list[str]:
        """Findings grouped by (part, kind): the count and the first ``limit`` examples."""
        groups: dict[tuple[str, str], list[Finding]] = {}
        for f in self.findings:
            groups.setdefault((f.part, f.kind), []).append(f)
        lines = []
        for (part, kind), found in sorted(groups.items()):
            lines.append(f"{part}/{kind}: {len(found)}")
            for f in found[:limit]:
                lines.append(
                    f"  scenario {f.scenario} (seed {f.seed}) at {f.at_s:.0f} s: {f.detail[:300]}"
                )
        return lines


def table(tally: Tally, seconds: float) -> str:
    """The figures as a plain-text table (rich's when it is installed)."""
    rows = [(k, f"{v:g}") for k, v in tally.figures(seconds).items()]
    try:
        from io import StringIO

        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain text is as good
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
    t = Table(title="fault campaign")
    t.add_column("figure")
    t.add_column("value", justify="right")
    for k, v in rows:
        t.add_row(k, v)
    out = StringIO()
    Console(file=out, width=100, force_terminal=False).print(t)
    return out.getvalue().rstrip()


def json_line(tally: Tally, seconds: float) -> str:
    return json.dumps(tally.figures(seconds))
