"""The docs pages in a real browser (Debian's Chromium, driven by Playwright) on a host
without internet access: the gateway's ``/docs`` lists every service's operations and
"Try it out" calls the gateway with the token given to "Authorize"; each service's own
``/docs`` renders too. Every request the pages make is recorded: all go to the host that
served the page.

Chromium comes from ``make browser`` (Debian's package); without it these tests fail
with one line that says so, never skip.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Request,
    async_playwright,
)

from pms_cli.bench.console_timing import CHROMIUM, CHROMIUM_ARGS
from pms_cli.bench.console_timing import WAIT_MILLISECONDS as WAIT_MILLISECONDS
from pms_cli.platform import Platform

from .conftest import CLINICIAN, LogIn

ARTEFACTS = Path(__file__).resolve().parents[2] / ".pms" / "artefacts"
SERVICES = ("auth", "patients", "billing", "analytics")
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

# Swagger UI's operations as shown: (METHOD, path) of each block.
_SHOWN_OPERATIONS = """() => Array.from(document.querySelectorAll(".opblock")).map(block => [
  block.querySelector(".opblock-summary-method").textContent.trim(),
  block.querySelector(".opblock-summary-path").getAttribute("data-path"),
])"""


@dataclass
class RecordedPage:
    """A page with every request it made, and the errors it logged or raised."""

    page: Page
    requests: list[Request] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def record_request(self, request: Request) -> None:
        self.requests.append(request)

    def record_page_error(self, error: Error) -> None:
        self.errors.append(str(error))

    def record_console_error(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def hosts(self) -> set[str]:
        """The hosts asked, with their ports (``data:`` images ask none)."""
        return {urlsplit(r.url).netloc for r in self.requests if not r.url.startswith("data:")}

    async def operations(self) -> set[tuple[str, str]]:
        await self.page.locator(".opblock").first.wait_for()
        shown: list[list[str]] = await self.page.evaluate(_SHOWN_OPERATIONS)
        return {(method, path) for method, path in shown}


OpenPage = Callable[[str], Awaitable[RecordedPage]]


async def open_recorded(context: BrowserContext, url: str) -> RecordedPage:
    """A new page of ``context`` at ``url``, recording its requests and errors."""
    page = await context.new_page()
    page.set_default_timeout(WAIT_MILLISECONDS)
    recorded = RecordedPage(page)
    # On the context: requests of workers and pop-ups count too.
    context.on("request", recorded.record_request)
    page.on("pageerror", recorded.record_page_error)
    page.on("console", recorded.record_console_error)
    await page.goto(url)
    return recorded


@pytest.fixture(scope="module")
def chromium() -> str:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    return str(CHROMIUM)


@pytest.fixture(scope="module")
def artefacts() -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS


@pytest.fixture(scope="module")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    """Debian's Chromium (Playwright's own browsers cannot be downloaded here), with a
    fresh profile: Playwright gives each launch a new temporary user-data folder."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def open_page(browser: Browser) -> AsyncIterator[OpenPage]:
    """Opens a URL in a new context of its own, recording requests and errors."""
    contexts = []

    async def open_url(url: str) -> RecordedPage:
        context = await browser.new_context(viewport={"width": 1280, "height": 1000})
        contexts.append(context)
        recorded = await open_recorded(context, url)
        await recorded.page.locator("#swagger-ui .information-container").wait_for()
        return recorded

    yield open_url
    for context in contexts:
        await context.close()


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in _METHODS
    }


def host_of(base_url: str) -> str:
    return urlsplit(base_url).netloc


async def test_the_gateways_docs_list_every_services_operations_from_the_gateway_only(
    gateway: httpx.AsyncClient, open_page: OpenPage
) -> None:
    base = str(gateway.base_url).rstrip("/")
    docs = await open_page(f"{base}/docs")
    select = docs.page.locator(".topbar select")
    for service in (*SERVICES, "gateway"):
        url = "/openapi.json" if service == "gateway" else f"/api-docs/{service}"
        document = (await gateway.get(url)).json()
        await select.select_option(label=service)
        title = document["info"]["title"]
        await docs.page.locator(f'.information-container .title:has-text("{title}")').wait_for()
        assert await docs.operations() == documented_operations(document), service

    assert docs.hosts() == {host_of(base)}, docs.hosts()
    assert docs.errors == []


async def test_try_it_out_lists_patients_through_the_gateway_with_the_authorized_token(
    gateway: httpx.AsyncClient, log_in: LogIn, open_page: OpenPage, artefacts: Path
) -> None:
    base = str(gateway.base_url).rstrip("/")
    token = (await log_in(CLINICIAN))["Authorization"].removeprefix("Bearer ")
    docs = await open_page(f"{base}/docs?urls.primaryName=patients")
    page = docs.page
    listing = page.locator('.opblock-get:has(.opblock-summary-path[data-path="/patients"])')
    await listing.wait_for()
    await page.screenshot(path=artefacts / "docs-page.png")

    await page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".dialog-ux")
    await dialog.locator("input").fill(token)
    await dialog.locator("button.authorize").click()
    await dialog.locator("button.btn-done").click()
    await listing.locator(".opblock-summary").click()
    await listing.locator("button.try-out__btn").click()
    await listing.locator("button.execute").click()
    status = listing.locator(".live-responses-table .response .response-col_status")
    await status.wait_for()

    assert (await status.inner_text()).strip() == "200"
    (call,) = [r for r in docs.requests if urlsplit(r.url).path == "/api/patients"]
    assert call.method == "GET"
    assert await call.header_value("authorization") == f"Bearer {token}"
    assert docs.hosts() == {host_of(base)}, docs.hosts()
    assert docs.errors == []


async def test_each_services_own_docs_render_from_the_service_only(
    platform: Platform, open_page: OpenPage
) -> None:
    services = [running.spec for running in platform.services if running.spec.name in SERVICES]
    assert sorted(spec.name for spec in services) == sorted(SERVICES)
    async with httpx.AsyncClient(timeout=10.0) as client:
        for spec in services:
            document = (await client.get(f"{spec.base_url}/openapi.json")).json()
            docs = await open_page(f"{spec.base_url}/docs")
            assert await docs.operations() == documented_operations(document), spec.name
            assert docs.hosts() == {host_of(spec.base_url)}, (spec.name, docs.hosts())
            assert docs.errors == [], spec.name
