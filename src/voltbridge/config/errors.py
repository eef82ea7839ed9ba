"""Errors of a site file: each problem names the field path and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a site file: where (a dotted field path) and what."""

    field: str
    message: str


class SiteError(ValueError):
    """A site file that cannot be used, with every problem found.

    ``str()`` gives one line per problem: ``FILE: FIELD: MESSAGE``.
    """

    def __init__(self, path: Path | str, problems: list[Problem]) -> None:
        self.path = Path(path)
        self.problems = problems
        super().__init__("\n".join(f"{self.path}: {p.field}: {p.message}" for p in problems))
