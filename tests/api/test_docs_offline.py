"""/docs and /redoc work with the network cut: the page and every asset it names are served
by the service itself (the intranet this runs on has no CDN)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.docs import assert_served_locally, page_references


def test_swagger_ui_assets_are_served_by_the_service(client: TestClient) -> None:
    fetched = assert_served_locally(client.get, "/docs")
    assert any(url.endswith("swagger-ui-bundle.js") for url in fetched)
    assert any(url.endswith("swagger-ui.css") for url in fetched)
    assert "/openapi.json" in fetched
    # Swagger UI's default validator badge is an image from swagger.io: switched off
    assert '"validatorUrl": null' in client.get("/docs").text


def test_redoc_assets_are_served_by_the_service(client: TestClient) -> None:
    fetched = assert_served_locally(client.get, "/redoc")
    assert any(url.endswith("redoc.standalone.js") for url in fetched)
    assert "/openapi.json" in fetched
    assert "fonts.googleapis" not in client.get("/redoc").text


def test_a_cdn_reference_would_be_caught() -> None:
    html = '<link rel="stylesheet" href="https://cdn.jsdelivr.net/x.css"><script src="/a.js">'
    assert page_references(html) == ["https://cdn.jsdelivr.net/x.css", "/a.js"]
