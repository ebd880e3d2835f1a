"""The web console in a real browser (Debian's Chromium, driven by Playwright) against the
whole platform: each role signs in at the gateway's ``/`` and sees exactly its sections;
a clinician registers a patient (a bad date refused beside its field, then fixed), bills
and pays (a double click pays once), finds the patient by searching the list as they
type, meets the 412 message of an edit made meanwhile through the API, and signs out.
Every request goes to the gateway's host, and the page logs no error but the refusals
asked for (a Content-Security-Policy violation would be one).

The console is built by ``make console`` (``make test`` builds it before these run);
unbuilt, these tests fail with one line that says so. Chromium comes from ``make browser``.
"""

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page

from pms_testing.patients import patient_body

from . import test_e2e_docs_browser as docs_browser
from .conftest import ADMIN, ANALYST, CLINICIAN, LogIn
from .test_e2e_docs_browser import WAIT_MILLISECONDS, RecordedPage, host_of, open_recorded

# The docs' browser tests' Chromium (Debian's, with their options) and artefacts folder:
# one browser setup for both.
chromium = docs_browser.chromium
browser = docs_browser.browser
artefacts = docs_browser.artefacts

CONSOLE_BUILD = Path(__file__).resolve().parents[2] / "console" / "dist" / "index.html"
OpenConsole = Callable[[str], Awaitable[RecordedPage]]


@pytest.fixture
async def open_console(browser: Browser) -> AsyncIterator[OpenConsole]:
    """Opens the console at a URL in a context of its own, recording requests and errors;
    returns once the sign-in form is shown."""
    if not CONSOLE_BUILD.exists():
        pytest.fail(f"{CONSOLE_BUILD} is missing: `make console` builds the web console")
    contexts = []

    async def open_url(url: str) -> RecordedPage:
        # A tablet's width: the console must work there as on a laptop.
        context = await browser.new_context(viewport={"width": 1024, "height": 900})
        contexts.append(context)
        recorded = await open_recorded(context, url)
        await recorded.page.get_by_role("heading", name="Sign in").wait_for()
        return recorded

    yield open_url
    for context in contexts:
        await context.close()


async def sign_in(page: Page, user: tuple[str, str]) -> None:
    """Signs in; when the gateway's login limit (5 a minute per email, which the rest of
    the suite uses too) refuses, waits as the page says and tries again."""
    await page.get_by_label("Email").fill(user[0])
    await page.get_by_label("Password").fill(user[1])
    signed_in = page.get_by_role("button", name="Sign out")
    for _attempt in range(3):
        await page.get_by_role("button", name="Sign in").click(timeout=WAIT_MILLISECONDS * 2)
        refused = page.get_by_role("alert").filter(has_text="Try again in")
        await signed_in.or_(refused).wait_for()
        if await signed_in.is_visible():
            return
    await signed_in.wait_for()


def errors_but_login_limits(console: RecordedPage) -> list[str]:
    """The page's errors, but for the 429 of a login the limit refused (see sign_in)."""
    return [error for error in console.errors if "status of 429" not in error]


async def section_links(page: Page) -> list[str]:
    links = page.get_by_role("navigation", name="Sections").get_by_role("link")
    return [text.strip() for text in await links.all_inner_texts()]


@pytest.mark.parametrize(
    ("user", "sections"),
    [
        (CLINICIAN, ["Patients"]),
        (ANALYST, ["Analytics"]),
        (ADMIN, ["Patients", "Analytics", "Administration"]),
    ],
    ids=["CLINICIAN", "ANALYST", "ADMIN"],
)
async def test_each_role_signs_in_and_sees_exactly_its_sections(
    gateway: httpx.AsyncClient,
    open_console: OpenConsole,
    user: tuple[str, str],
    sections: list[str],
) -> None:
    base = str(gateway.base_url).rstrip("/")
    console = await open_console(f"{base}/")
    await sign_in(console.page, user)
    assert await section_links(console.page) == sections
    assert console.hosts() == {host_of(base)}, console.hosts()
    assert errors_but_login_limits(console) == []


async def test_a_clinician_registers_finds_edits_and_signs_out(
    gateway: httpx.AsyncClient, log_in: LogIn, open_console: OpenConsole, artefacts: Path
) -> None:
    base = str(gateway.base_url).rstrip("/")
    name = f"Console Patient {uuid.uuid4().hex[:8]}"
    body = patient_body(name=name)
    console = await open_console(f"{base}/patients")
    page = console.page
    await sign_in(page, CLINICIAN)

    # Register: a date of birth in the future is refused beside its field; fixed, it is a 201.
    await page.get_by_role("link", name="Register a patient").click()
    for label, field in [("Name", "name"), ("Email", "email"), ("Address", "address")]:
        await page.get_by_label(label, exact=True).fill(body[field])
    await page.get_by_label("Date of birth").fill("2999-01-01")
    await page.get_by_label("Registered").fill(body["registeredDate"])
    await page.get_by_role("button", name="Register").click()
    date_of_birth = page.get_by_label("Date of birth")
    await page.locator("#patient-dateOfBirth-error").wait_for()
    assert await date_of_birth.get_attribute("aria-invalid") == "true"
    await page.screenshot(path=artefacts / "console-register-refused.png")
    await date_of_birth.fill(body["dateOfBirth"])
    await page.get_by_role("button", name="Register").click()
    await page.get_by_role("heading", level=1, name=name).wait_for()
    await page.get_by_text(re.compile(r"^Account .+: ACTIVE$")).wait_for()  # from billing

    # Bill the patient, and pay with a double click: one payment.
    await page.get_by_label("Amount").fill("125.50")
    await page.get_by_label("Currency").select_option("EUR")
    await page.get_by_role("button", name="Issue invoice").click()
    await page.get_by_role("cell", name="€125.50").wait_for()
    await page.get_by_role("button", name="Pay", exact=True).dblclick()
    await page.get_by_role("cell", name="PAID").wait_for()
    await page.screenshot(path=artefacts / "console-patient.png")
    headers = await log_in(CLINICIAN)
    patient_id = page.url.rsplit("/", 1)[-1]
    invoices = await gateway.get(f"/api/billing/accounts/{patient_id}/invoices", headers=headers)
    assert [i["status"] for i in invoices.json()["invoices"]] == ["PAID"]
    payments = [r for r in console.requests if r.url.endswith("/pay")]
    assert len({await r.header_value("idempotency-key") for r in payments}) == 1

    # Found in the list by searching as one types.
    await page.get_by_role("link", name="Back to the patient list").click()
    await page.get_by_label("Search by name or email").fill(name)
    await page.get_by_role("status").filter(has_text=re.compile(r" of 1$")).wait_for()
    rows = page.get_by_role("table").locator("tbody tr")
    assert await rows.count() == 1
    await page.screenshot(path=artefacts / "console-patients.png")

    # An edit after someone else's, made through the API meanwhile: the 412 message.
    await rows.first.get_by_role("link", name=name).click()
    await page.get_by_role("button", name="Edit").click()
    current = await gateway.get(f"/api/patients/{patient_id}", headers=headers)
    changed = await gateway.put(
        f"/api/patients/{patient_id}",
        json={**body, "address": "2 Other Street"},
        headers={**headers, "If-Match": current.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    await page.get_by_label("Name", exact=True).fill(f"{name} Renamed")
    await page.get_by_role("button", name="Save").click()
    await page.get_by_role("alert").filter(has_text="Someone else changed this patient").wait_for()
    await page.get_by_role("button", name="Reload").click()
    await page.get_by_text("2 Other Street").wait_for()

    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("heading", name="Sign in").wait_for()
    registrations = [r for r in console.requests if r.method == "POST" and "/api/patients" in r.url]
    assert len(registrations) == 2  # the refused one and the 201
    assert console.hosts() == {host_of(base)}, console.hosts()
    # Chromium logs each answer 4xx as an error: the two refusals the test asked for.
    refused = "Failed to load resource: the server responded with a status of {}"
    expected = [refused.format("400 (Bad Request)"), refused.format("412 (Precondition Failed)")]
    assert errors_but_login_limits(console) == expected


async def test_an_administrator_sees_the_staff_accounts(
    gateway: httpx.AsyncClient, open_console: OpenConsole
) -> None:
    base = str(gateway.base_url).rstrip("/")
    console = await open_console(f"{base}/administration")
    page = console.page
    await sign_in(page, ADMIN)
    await page.get_by_role("cell", name=CLINICIAN[0], exact=True).wait_for()
    assert await page.get_by_label(f"Role of {CLINICIAN[0]}").input_value() == "CLINICIAN"
    assert console.hosts() == {host_of(base)}, console.hosts()
    assert errors_but_login_limits(console) == []
