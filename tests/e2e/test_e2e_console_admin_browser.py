"""The console's Administration in a real browser (Debian's Chromium, driven by Playwright)
against the whole platform: an administrator finds, in the audit log filtered to one
patient, the read a clinician just made through the API; and a clinician's open session
ends at its next refresh once an administrator has disabled the account in the console,
with the message on the sign-in page.

The session's next refresh is due 30 s before its access token expires (15 minutes by
default). Rather than wait for it, the clinician's page runs on Playwright's clock, which
jumps forward by the access token's lifetime as a laptop lid closed that long would: the
console's own renewal timer fires, and its refresh goes to the real auth service, which
refuses the disabled account's refresh token. Nothing in the platform is faked.
"""

import re
import uuid
from pathlib import Path

import httpx
from playwright.async_api import Page

from pms_testing.patients import patient_body

from . import test_e2e_console_browser as console_browser
from .conftest import ADMIN, CLINICIAN, LogIn
from .test_e2e_console_browser import OpenConsole, errors_but_login_limits, sign_in
from .test_e2e_docs_browser import RecordedPage, host_of

# The console's browser tests' fixtures: their Chromium, artefacts folder and pages.
chromium = console_browser.chromium
browser = console_browser.browser
artefacts = console_browser.artefacts
open_console = console_browser.open_console

SESSION_ENDED = "Your session has ended"
REFUSED = "Failed to load resource: the server responded with a status of {}"


async def shown_rows(page: Page) -> list[list[str]]:
    """The audit log's rows as their cells' texts."""
    rows = page.get_by_role("table", name="The audit log, newest first").locator("tbody tr")
    return [
        [cell.strip() for cell in await row.locator("td").all_inner_texts()]
        for row in await rows.all()
    ]


async def test_an_administrator_finds_a_clinicians_read_in_the_audit_log_of_that_patient(
    gateway: httpx.AsyncClient, log_in: LogIn, open_console: OpenConsole, artefacts: Path
) -> None:
    clinician = await log_in(CLINICIAN)
    created = await gateway.post("/api/patients", json=patient_body(), headers=clinician)
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    read = await gateway.get(f"/api/patients/{patient_id}", headers=clinician)
    assert read.status_code == 200, read.text

    base = str(gateway.base_url).rstrip("/")
    console = await open_console(f"{base}/administration/audit")
    page = console.page
    await sign_in(page, ADMIN)
    await page.get_by_text(re.compile(r"^Entries 1\u2013\d+ of \d+$")).wait_for()
    await page.get_by_label("Patient id").fill(patient_id)
    await page.get_by_role("button", name="Filter").click()
    await page.get_by_text("Entries 1\u20132 of 2", exact=True).wait_for()
    who = f"{CLINICIAN[0]} (CLINICIAN)"
    assert [[row[1], row[2], row[4]] for row in await shown_rows(page)] == [
        [who, "READ", "SUCCESS"],
        [who, "CREATE", "SUCCESS"],
    ]
    assert await page.get_by_role("link", name=f"Patient {patient_id}").count() == 2
    await page.screenshot(path=artefacts / "console-audit-log.png")

    pages = page.get_by_role("navigation", name="Administration")
    await pages.get_by_role("link", name="Staff accounts").click()
    await page.get_by_role("cell", name=CLINICIAN[0], exact=True).wait_for()
    await page.screenshot(path=artefacts / "console-staff.png")
    assert console.hosts() == {host_of(base)}, console.hosts()
    assert errors_but_login_limits(console) == []


async def test_a_disabled_clinicians_open_session_ends_at_its_next_refresh(
    gateway: httpx.AsyncClient, log_in: LogIn, open_console: OpenConsole, artefacts: Path
) -> None:
    # A clinician of this test's own, so that the demo clinician stays enabled.
    user = (f"nurse.{uuid.uuid4().hex[:8]}@example.com", "password-of-a-nurse")
    created = await gateway.post(
        "/auth/users",
        json={"email": user[0], "password": user[1], "role": "CLINICIAN"},
        headers=await log_in(ADMIN),
    )
    assert created.status_code == 201, created.text

    base = str(gateway.base_url).rstrip("/")
    clinicians = await open_console(f"{base}/patients")
    await clinicians.page.clock.install()
    await clinicians.page.reload()  # the console's timers on the clock from its start
    await sign_in(clinicians.page, user)
    await clinicians.page.get_by_role("heading", level=1, name="Patients").wait_for()

    administrators = await open_console(f"{base}/administration")
    await sign_in(administrators.page, ADMIN)
    await administrators.page.get_by_role("button", name=f"Disable {user[0]}").click()
    await administrators.page.get_by_role("button", name=f"Enable {user[0]}").wait_for()

    # The access token still holds until it expires: the clinician is signed in.
    await clinicians.page.get_by_role("button", name="Sign out").wait_for()
    started = len(await refreshes(clinicians))  # the start-ups' (no session yet: 204)
    await clinicians.page.clock.fast_forward(await access_lifetime_ms(clinicians))

    await clinicians.page.get_by_role("heading", name="Sign in").wait_for()
    await clinicians.page.get_by_text(SESSION_ENDED).wait_for()
    await clinicians.page.screenshot(path=artefacts / "console-session-ended.png")
    assert (await refreshes(clinicians))[started:] == [401]
    assert errors_but_login_limits(clinicians) == [REFUSED.format("401 (Unauthorized)")]
    assert errors_but_login_limits(administrators) == []


async def refreshes(console: RecordedPage) -> list[int]:
    """The statuses of the page's refresh requests, in order."""
    statuses = []
    for request in console.requests:
        if request.method == "POST" and request.url.endswith("/auth/session/refresh"):
            response = await request.response()
            statuses.append(response.status if response else 0)
    return statuses


async def access_lifetime_ms(console: RecordedPage) -> int:
    """The access token's lifetime the page's sign-in was given (``expiresIn``)."""
    logins = [r for r in console.requests if r.url.endswith("/auth/login")]
    response = await logins[-1].response()
    assert response is not None
    assert response.status == 200
    lifetime: int = (await response.json())["expiresIn"]
    return lifetime * 1000
