"""Helpers shared by the sub-commands: the embedded examples and reading a site with clean errors."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from voltbridge.config import Site, SiteError, load_site

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
"""The example sites shipped in the package (the repository's examples/ points here)."""

DEFAULT_EXAMPLE = "ev9-california"
"""The embedded demo home used when no site file is given."""

err = Console(stderr=True)


def example_path(name: str) -> Path:
    """Path of the shipped example ``name`` (file stem)."""
    return EXAMPLES_DIR / f"{name}.toml"


def example_names() -> list[str]:
    """Stems of the shipped example sites."""
    return sorted(p.stem for p in EXAMPLES_DIR.glob("*.toml"))


def read_site(path: Path | None) -> tuple[Site, Path]:
    """Load ``path`` (or the embedded demo home); on errors print them and exit with code 2."""
    target = path if path is not None else example_path(DEFAULT_EXAMPLE)
    try:
        return load_site(target), target
    except SiteError as exc:
        err.print(f"[bold red]invalid site file[/] {exc.path}")
        for p in exc.problems:
            err.print(f"  {exc.path}: [bold]{p.field}[/]: {p.message}", highlight=False)
        raise typer.Exit(2) from None
