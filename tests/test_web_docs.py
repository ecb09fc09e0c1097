"""The API docs pages (Swagger UI and ReDoc, served offline) work under their own
Content-Security-Policy: they render the API's schema and the browser reports nothing."""

import pytest
from playwright.sync_api import expect


@pytest.fixture(autouse=True)
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip("browser tests run once, on SQLite")


def test_swagger_ui_renders_under_its_policy(open_page):
    page = open_page(None, "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("assay")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert page.errors == []


def test_redoc_renders_and_reaches_no_other_site(open_page):
    """ReDoc's sidebar shows its maker's logo from their CDN; the policy refuses it (the
    browser says so on the console), so the docs stay offline."""
    page = open_page(None, "/redoc")
    expect(page.locator("h1").first).to_contain_text("assay")
    for _ in range(100):
        if page.errors:
            break
        page.wait_for_timeout(100)
    [refused] = page.errors
    assert "cdn.redoc.ly" in refused and "Content Security Policy" in refused
    page.errors.clear()
