"""Every dashboard page has a JSON twin; static files, plotly and the offline docs are served."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from voltbridge.api import PAGES

from .helpers import make_demo, run


@pytest.mark.parametrize(("page", "twin"), sorted(PAGES.items()))
def test_every_page_has_a_json_twin(tmp_path: Path, page: str, twin: str) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        return await c.get(page), await c.get(twin)

    html, data = run(demo.app, body)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert html.headers["link"] == f'<{twin}>; rel="alternate"; type="application/json"'
    assert "default-src 'self'" in html.headers["content-security-policy"]
    assert html.headers["x-content-type-options"] == "nosniff"
    assert "<title>" in html.text
    assert data.status_code == 200, data.text
    assert data.headers["content-type"] == "application/json"
    assert data.json() is not None


def test_pages_show_without_a_login_but_hold_no_data(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> httpx.Response:
        return await c.get("/")

    html = run(demo.app, body, logged_in=False)
    assert html.status_code == 200
    assert "ev9" not in html.text


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/static/app.js", "text/javascript"),
        ("/static/style.css", "text/css"),
        ("/static/plotly.min.js", "text/javascript"),
    ],
)
def test_static_files_are_served_without_a_login(
    tmp_path: Path, path: str, media_type: str
) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> httpx.Response:
        return await c.get(path)

    answer = run(demo.app, body, logged_in=False)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(media_type)
    assert len(answer.content) > 100


def test_plotly_comes_from_the_installed_package(tmp_path: Path) -> None:
    import plotly

    shipped = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> httpx.Response:
        return await c.get("/static/plotly.min.js")

    assert run(demo.app, body, logged_in=False).content == shipped.read_bytes()


def test_docs_work_offline_and_list_every_endpoint(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        return await c.get("/docs"), await c.get("/openapi.json")

    docs, schema = run(demo.app, body, logged_in=False)
    assert docs.status_code == 200
    assert "http://" not in docs.text and "https://" not in docs.text
    assert "/static/docs.js" in docs.text
    paths = schema.json()["paths"]
    for twin in PAGES.values():
        assert twin in paths
    for extra in ("/api/login", "/api/logout", "/api/me", "/api/info", "/metrics"):
        assert extra in paths
    assert "patch" in paths["/api/settings"]


def test_the_dashboard_files_load_nothing_from_the_internet() -> None:
    static = Path(__file__).resolve().parents[2] / "src/voltbridge/web/static"
    for path in static.iterdir():
        # The SVG namespace is a name, not a download.
        text = path.read_text(encoding="utf-8").replace("http://www.w3.org/2000/svg", "")
        for scheme in ("http://", "https://", "//cdn"):
            assert scheme not in text, f"{path.name} refers to {scheme}"
