"""The console's Analytics and the patient list's speed in a real browser (Debian's
Chromium, driven by Playwright) against the whole platform: an analyst watching the
analytics sees a patient registered meanwhile through the API appear without a reload
(the page polls), and the patient list's time to interactive at 1,000 patients is
measured with the browser's Performance API and written to the artefacts folder
(``console-timing.json``), never asserted: speed targets are shown by the benchmark
(``pms bench``'s ``console`` scenario measures the same way), not by timed assertions.

Chromium, its options, the artefacts folder and the console's page fixtures are those of
``test_e2e_console_browser``.
"""

import asyncio
import json
import re
import statistics
from datetime import UTC, datetime
from pathlib import Path

import httpx
from playwright.async_api import Locator, Page, expect

from pms_cli.bench.console_timing import time_patient_list
from pms_testing.patients import patient_body
from pms_testing.polling import eventually

from . import test_e2e_console_browser as console_browser
from .conftest import ADMIN, ANALYST, CLINICIAN, LogIn
from .test_e2e_console_browser import OpenConsole, errors_but_login_limits, sign_in
from .test_e2e_docs_browser import WAIT_MILLISECONDS, host_of

# One browser setup for all the console's browser tests.
chromium = console_browser.chromium
browser = console_browser.browser
artefacts = console_browser.artefacts
open_console = console_browser.open_console

# True once the registrations chart's text alternative gives a total above the argument.
_REGISTRATIONS_ABOVE = """(before) => {
  const caption = Array.from(document.querySelectorAll("figcaption"))
    .find((element) => element.textContent.startsWith("Registrations per day"));
  const total = caption && /: (\\d+) in total/.exec(caption.textContent);
  return total !== null && total !== undefined && Number(total[1]) > before;
}"""
LIST_PATIENTS = 1_000
SEEDING_IN_FLIGHT = 8
SEEDING_TRIES = 10
NAVIGATIONS = 3


def summary_figure(page: Page, label: str) -> Locator:
    """The value of one figure of the analytics summary (the ``dd`` beside its ``dt``)."""
    figure = page.locator(".figures-list > div").filter(
        has=page.locator("dt", has_text=re.compile(f"^{re.escape(label)}$"))
    )
    return figure.locator("dd")


async def registrations_total(page: Page) -> int:
    """The total of the registrations chart (its text alternative), 0 for its empty state."""
    chart = page.get_by_role("img", name=re.compile(r"^Registrations per day"))
    empty = page.get_by_text(re.compile(r"^No patient was registered from "))
    await chart.or_(empty).wait_for()
    if await empty.is_visible():
        return 0
    return total_of(await chart.locator("xpath=following-sibling::figcaption").inner_text())


async def test_an_analyst_sees_a_new_registration_without_a_reload(
    gateway: httpx.AsyncClient, log_in: LogIn, open_console: OpenConsole, artefacts: Path
) -> None:
    base = str(gateway.base_url).rstrip("/")
    console = await open_console(f"{base}/analytics")
    page = console.page
    await sign_in(page, ANALYST)
    registered = summary_figure(page, "Patients registered")
    await registered.wait_for()
    before = await registered.inner_text()
    chart_before = await registrations_total(page)
    await page.evaluate("() => { window.__sameDocument = true; }")

    clinician = await log_in(CLINICIAN)
    body = {**patient_body(name="Analytics Patient"), "registeredDate": today()}
    created = await gateway.post("/api/patients", json=body, headers=clinician)
    assert created.status_code == 201, created.text
    await bill_and_pay(gateway, clinician, created.json()["id"])

    # The next polls pick it up: the summary and the chart's text alternative change.
    await expect(registered).not_to_have_text(before, timeout=WAIT_MILLISECONDS)
    assert number(await registered.inner_text()) > number(before)
    await page.wait_for_function(_REGISTRATIONS_ABOVE, arg=chart_before, timeout=WAIT_MILLISECONDS)
    revenue = page.get_by_role("img", name=re.compile(r"^Revenue in EUR per day: .*€125\.00 paid"))
    await revenue.wait_for()
    assert await page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    await page.screenshot(path=artefacts / "console-analytics.png", full_page=True)
    assert console.hosts() == {host_of(base)}, console.hosts()
    assert errors_but_login_limits(console) == []


async def test_the_patient_list_time_to_interactive_at_1000_patients_is_measured(
    gateway: httpx.AsyncClient, log_in: LogIn, open_console: OpenConsole, artefacts: Path
) -> None:
    patients = await register_until(gateway, await log_in(CLINICIAN), LIST_PATIENTS)
    base = str(gateway.base_url).rstrip("/")
    console = await open_console(f"{base}/patients")
    page = console.page
    await sign_in(page, ADMIN)

    milliseconds = [await time_patient_list(page) for _ in range(NAVIGATIONS)]
    await page.get_by_role("status").filter(has_text=f" of {patients}").wait_for()
    timing = {
        "measure": "patient-list-time-to-interactive",
        "from": "click on the Patients section link (from Register a patient)",
        "to": "first frame with the first row's link and the search box usable",
        "patients": patients,
        "milliseconds": [round(value, 1) for value in milliseconds],
        "median_milliseconds": round(statistics.median(milliseconds), 1),
        "target_milliseconds": 1000,
        "viewport": "1024x900",
    }
    (artefacts / "console-timing.json").write_text(json.dumps(timing, indent=2) + "\n")
    print(f"console-timing: {json.dumps(timing)}")
    assert all(value > 0 for value in milliseconds)
    assert errors_but_login_limits(console) == []


async def bill_and_pay(gateway: httpx.AsyncClient, headers: dict[str, str], patient: str) -> None:
    """Issues 125.00 EUR to the patient's billing account (once billing has opened it)
    and pays it."""
    invoice = {"amountMinor": 12500, "currency": "EUR", "description": "Consultation"}

    async def issue() -> str:
        """The new invoice's id, or "" while the account is not open yet (a 404)."""
        url = f"/api/billing/accounts/{patient}/invoices"
        response = await gateway.post(url, json=invoice, headers=headers)
        assert response.status_code in (201, 404), response.text
        return str(response.json()["id"]) if response.status_code == 201 else ""

    invoice_id = await eventually(issue, 60.0, interval=0.2, description="the billing account")
    paid = await gateway.post(
        f"/api/billing/invoices/{invoice_id}/pay",
        headers={**headers, "Idempotency-Key": f"analytics-{patient}"},
    )
    assert paid.status_code == 200, paid.text


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def number(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def total_of(caption: str) -> int:
    match = re.search(r": (\d+) in total", caption)
    assert match, caption
    return int(match[1])


async def register_until(gateway: httpx.AsyncClient, headers: dict[str, str], total: int) -> int:
    """Registers patients through the gateway until there are at least ``total``; waits as
    its rate limit's ``Retry-After`` says. The number of patients then."""
    listed = await gateway.get("/api/patients", params={"size": 1}, headers=headers)
    missing = total - int(listed.headers["x-total-count"])
    in_flight = asyncio.Semaphore(SEEDING_IN_FLIGHT)

    async def register(number: int) -> None:
        body = patient_body(name=f"Listed Patient {number:04d}")
        async with in_flight:
            for _ in range(SEEDING_TRIES):
                response = await gateway.post("/api/patients", json=body, headers=headers)
                if response.status_code != 429:
                    assert response.status_code == 201, response.text
                    return
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
            raise AssertionError(f"still refused after {SEEDING_TRIES} tries: {response.text}")

    await asyncio.gather(*(register(number) for number in range(max(0, missing))))
    listed = await gateway.get("/api/patients", params={"size": 1}, headers=headers)
    return int(listed.headers["x-total-count"])
