"""The console's session survives a reload, in a real browser (Debian's Chromium) against
the whole platform on http://127.0.0.1: the refresh token is auth's HttpOnly, Secure,
SameSite=Strict cookie on /auth/session (Chromium keeps a Secure cookie for 127.0.0.1, a
secure context), no script of the page can read it, and after a sign-out a reload is
signed out."""

import httpx

from . import test_e2e_console_browser as console_browser
from .conftest import CLINICIAN
from .test_e2e_console_browser import OpenConsole, errors_but_login_limits, sign_in

# The console's browser tests' fixtures: their Chromium, artefacts folder and pages.
chromium = console_browser.chromium
browser = console_browser.browser
artefacts = console_browser.artefacts
open_console = console_browser.open_console


async def test_a_reload_keeps_the_session_and_after_a_sign_out_it_does_not(
    gateway: httpx.AsyncClient, open_console: OpenConsole
) -> None:
    base = str(gateway.base_url).rstrip("/")
    console = await open_console(f"{base}/patients")
    page = console.page
    await sign_in(page, CLINICIAN)
    [cookie] = await page.context.cookies()
    assert (cookie["name"], cookie["path"]) == ("pms_refresh", "/auth/session")
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (True, True, "Strict")
    assert await page.evaluate("document.cookie") == ""

    await page.reload()
    await page.get_by_role("button", name="Sign out").wait_for()
    await page.get_by_role("heading", level=1, name="Patients").wait_for()
    assert await page.evaluate("localStorage.length + sessionStorage.length") == 0

    async with page.expect_response(lambda answer: answer.url.endswith("/session/logout")):
        await page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("heading", name="Sign in").wait_for()
    assert await page.context.cookies() == []
    await page.reload()
    await page.get_by_role("heading", name="Sign in").wait_for()
    assert await page.get_by_role("button", name="Sign out").count() == 0
    # The first start-up and the last reload found no session cookie: no refusal either.
    assert errors_but_login_limits(console) == []
