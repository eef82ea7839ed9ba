"""The dashboard: plain HTML, CSS and JavaScript in ``static/``, and plotly's JavaScript from its package."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable

STATIC_PACKAGE = ("voltbridge.web", "static")
"""Package and folder of the dashboard's files, as Starlette's ``StaticFiles(packages=...)`` takes them."""

INDEX = "index.html"
"""The single page every dashboard route answers with; its script shows the part the path names."""

DOCS = "docs.html"
"""The API reference page, drawn from ``/openapi.json`` without any file from the internet."""


def static_file(name: str) -> Traversable:
    """One of the dashboard's files."""
    return resources.files("voltbridge.web").joinpath("static", name)


def plotly_js() -> Traversable:
    """``plotly.min.js`` as shipped inside the installed ``plotly`` Python package (no CDN)."""
    return resources.files("plotly").joinpath("package_data", "plotly.min.js")
