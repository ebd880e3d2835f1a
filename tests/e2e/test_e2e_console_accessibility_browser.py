"""The web console with the keyboard and a screen reader, in a real browser (Debian's
Chromium, driven by Playwright) against the whole platform, at a laptop's width (1366 px)
and a tablet's (1024 px):

- axe-core, the maintained accessibility engine, finds no violation of the WCAG 2.0 and
  2.1 A and AA rules on any page of the console, as each role that sees it sees it: the
  sign-in page, the patient list (and its empty search), a patient's page (details,
  billing, the invoices before and after one is issued and the reason asked to void one,
  and for ADMIN the audit trail), register, edit, the delete confirmation, Analytics, and
  Administration's staff accounts and audit log. Each page's screenshot at the laptop's
  width is saved in the artefacts folder as ``console-<role>-<page>.png``.
- An administrator signs in with the keyboard alone, reaches the patient list, searches,
  and opens a patient with Enter; the focused element always shows a focus indicator,
  and focus follows the page's reading order in the sign-in form and the navigation.
"""

import itertools
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from pms_testing.patients import patient_body

from . import test_e2e_console_browser as console_browser
from .conftest import ADMIN, ANALYST, CLINICIAN, LogIn
from .test_e2e_console_browser import OpenConsole, sign_in
from .test_e2e_docs_browser import open_recorded

# The console's browser tests' fixtures: their Chromium, artefacts folder and pages.
chromium = console_browser.chromium
browser = console_browser.browser
artefacts = console_browser.artefacts
open_console = console_browser.open_console

AXE = Path(__file__).resolve().parents[2] / "console" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LAPTOP = ViewportSize(width=1366, height=768)
TABLET = ViewportSize(width=1024, height=768)
Check = Callable[[str], Awaitable[None]]
ONE_FOUND = re.compile(r" of 1$")  # the list's status once a search found one patient

_RUN_AXE = """tags => axe.run(document, {runOnly: {type: "tag", values: tags}})"""
# The focused element: what it is, whether an outline or a shadow shows it, and where.
_FOCUSED = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  return {
    name: `${element.tagName.toLowerCase()} ${
      element.getAttribute("aria-label") || element.textContent.trim() || element.id}`,
    shown: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
      || style.boxShadow !== "none",
    top: box.top, bottom: box.bottom, left: box.left, right: box.right,
  };
}"""


async def wcag_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2 A/AA violations on the page as shown: rule, element, help."""
    if not await page.evaluate("() => 'axe' in window"):
        await page.add_script_tag(path=AXE)
    result: dict[str, Any] = await page.evaluate(_RUN_AXE, WCAG_TAGS)
    assert result["passes"], "axe-core checked nothing"
    return [
        f"{violation['id']} at {' '.join(node['target'])}: {violation['help']}"
        for violation in result["violations"]
        for node in violation["nodes"]
    ]


@dataclass
class AxeChecks:
    """Opens the console for one role: its page and a ``check(name)`` that, once the page
    has loaded, saves a screenshot of the whole page at the laptop's width and runs axe at
    both widths, keeping the violations in ``found``."""

    context: BrowserContext
    artefacts: Path
    found: list[str] = field(default_factory=list)

    async def open(self, url: str, role: str) -> tuple[Page, Check]:
        page = (await open_recorded(self.context, url)).page
        await page.get_by_role("heading", name="Sign in").wait_for()

        async def check(name: str) -> None:
            await expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
            await page.screenshot(
                path=self.artefacts / f"console-{role}-{name}.png", full_page=True
            )
            for viewport in (LAPTOP, TABLET):
                await page.set_viewport_size(viewport)
                shown = f"{role} {name} at {viewport['width']}px"
                self.found.extend(f"{shown}: {v}" for v in await wcag_violations(page))
            await page.set_viewport_size(LAPTOP)

        return page, check


@pytest.fixture
async def axe_checks(browser: Browser, artefacts: Path) -> AsyncIterator[AxeChecks]:
    # The console's Content-Security-Policy allows only its own scripts, so the inline
    # <script> by which Playwright injects axe-core would be refused: this context alone
    # bypasses the policy, which the other browser tests keep meeting.
    context = await browser.new_context(viewport=LAPTOP, bypass_csp=True)
    yield AxeChecks(context, artefacts)
    await context.close()


def page_url(gateway: httpx.AsyncClient, path: str) -> str:
    return str(gateway.base_url.join(path))


async def create_patient(gateway: httpx.AsyncClient, headers: dict[str, str]) -> str:
    name = f"Accessible Patient {uuid.uuid4().hex[:8]}"
    created = await gateway.post("/api/patients", json=patient_body(name=name), headers=headers)
    assert created.status_code == 201, created.text
    return name


async def check_patient_pages(page: Page, check: Check, name: str, *, admin: bool) -> None:
    """The patient list, its empty search, the patient's page without and with an invoice,
    the invoice's void reason, edit, delete (ADMIN), register."""
    await page.get_by_role("status").filter(has_text=" of ").wait_for()
    await check("patients")
    search = page.get_by_label("Search by name or email")
    await search.fill(f"nobody {uuid.uuid4().hex}")
    await page.get_by_text("No patient matches").wait_for()
    await check("patients-empty")
    await search.fill(name)
    await page.get_by_role("status").filter(has_text=ONE_FOUND).wait_for()
    await page.get_by_role("link", name=name).click()
    await page.get_by_role("heading", level=1, name=name).wait_for()
    await check("patient-no-invoices")
    await page.get_by_label("Amount").fill("12.50")  # the invoices' table and its buttons
    await page.get_by_role("button", name="Issue invoice").click()
    await page.get_by_role("button", name="Pay", exact=True).wait_for()
    await check("patient")
    await page.get_by_role("button", name="Void", exact=True).click()
    await page.get_by_label("Reason").wait_for()
    await check("void-reason")
    await page.get_by_role("button", name="Edit").click()
    await check("edit")
    await page.get_by_role("button", name="Cancel").click()
    if admin:
        await page.get_by_role("button", name="Delete patient").click()
        await page.get_by_role("alertdialog").wait_for()
        await check("delete")
        await page.get_by_role("button", name="Cancel").click()
    await page.get_by_role("link", name="Back to the patient list").click()
    await page.get_by_role("link", name="Register a patient").click()
    await page.get_by_role("heading", level=1, name="Register a patient").wait_for()
    await check("register")


async def test_no_wcag_violations_on_the_sign_in_page_and_a_clinicians_pages(
    gateway: httpx.AsyncClient, log_in: LogIn, axe_checks: AxeChecks
) -> None:
    name = await create_patient(gateway, await log_in(CLINICIAN))
    page, check = await axe_checks.open(page_url(gateway, "/patients"), "clinician")
    await check("sign-in")
    await sign_in(page, CLINICIAN)
    await check_patient_pages(page, check, name, admin=False)
    assert axe_checks.found == [], "\n".join(axe_checks.found)


async def test_no_wcag_violations_on_an_administrators_pages(
    gateway: httpx.AsyncClient, log_in: LogIn, axe_checks: AxeChecks
) -> None:
    name = await create_patient(gateway, await log_in(CLINICIAN))
    page, check = await axe_checks.open(page_url(gateway, "/patients"), "admin")
    await sign_in(page, ADMIN)
    await check_patient_pages(page, check, name, admin=True)
    nav = page.get_by_role("navigation", name="Sections")
    await nav.get_by_role("link", name="Analytics").click()
    await page.locator("figcaption").first.wait_for()
    await check("analytics")
    await nav.get_by_role("link", name="Administration").click()
    await page.get_by_role("cell", name=CLINICIAN[0], exact=True).wait_for()
    await check("staff-accounts")
    await page.get_by_role("link", name="Audit log").click()
    await page.get_by_role("heading", level=2, name="Audit log").wait_for()
    await check("audit-log")
    assert axe_checks.found == [], "\n".join(axe_checks.found)


async def test_no_wcag_violations_on_an_analysts_analytics(
    gateway: httpx.AsyncClient, axe_checks: AxeChecks
) -> None:
    page, check = await axe_checks.open(page_url(gateway, "/analytics"), "analyst")
    await sign_in(page, ANALYST)
    await page.locator("figcaption").first.wait_for()
    await check("analytics")
    assert axe_checks.found == [], "\n".join(axe_checks.found)


async def focused(page: Page) -> dict[str, Any]:
    """The focused element (its name, place, and whether a focus indicator shows it)."""
    element: dict[str, Any] | None = await page.evaluate(_FOCUSED)
    assert element is not None, "nothing has the focus"
    assert element["shown"], f"no visible focus indicator on {element['name']}"
    return element


async def tab(page: Page, key: str = "Tab") -> dict[str, Any]:
    await page.keyboard.press(key)
    return await focused(page)


def in_reading_order(elements: list[dict[str, Any]]) -> bool:
    """Each element after the one before: to its right on the same line, or below it."""
    for a, b in itertools.pairwise(elements):
        same_line = b["top"] < a["bottom"] and b["bottom"] > a["top"]
        if not (b["left"] >= a["right"] if same_line else b["top"] >= a["bottom"]):
            return False
    return True


async def sign_in_by_keyboard(page: Page, user: tuple[str, str]) -> list[dict[str, Any]]:
    """Types the email and password and presses Enter on Sign in, with Tab between them;
    when the login limit refuses, waits as the page says and presses Enter again. The
    form's fields in the order the focus went through them."""
    order = [await focused(page)]  # the email field has the focus when the page opens
    await page.keyboard.type(user[0])
    order.append(await tab(page))
    await page.keyboard.type(user[1])
    order.append(await tab(page))
    signed_in = page.get_by_role("button", name="Sign out")
    refused = page.get_by_role("alert").filter(has_text="Try again in")
    for _attempt in range(3):
        await page.keyboard.press("Enter")
        await refused.wait_for(state="hidden")  # the last refusal, until the form is sent
        await signed_in.or_(refused).wait_for()
        if await signed_in.is_visible():
            return order
        await page.get_by_role("button", name="Sign in", disabled=False).wait_for(timeout=70_000)
        await page.get_by_label("Password").focus()
        await tab(page)
    await signed_in.wait_for()
    return order


@pytest.mark.parametrize("viewport", [LAPTOP, TABLET], ids=["laptop", "tablet"])
async def test_an_administrator_signs_in_searches_and_opens_a_patient_with_the_keyboard_alone(
    gateway: httpx.AsyncClient, log_in: LogIn, open_console: OpenConsole, viewport: ViewportSize
) -> None:
    name = await create_patient(gateway, await log_in(CLINICIAN))
    page = (await open_console(page_url(gateway, "/patients"))).page
    await page.set_viewport_size(viewport)

    form = await sign_in_by_keyboard(page, ADMIN)
    assert [e["name"] for e in form] == [
        "input sign-in-email",
        "input sign-in-password",
        "button Sign in",
    ]
    assert in_reading_order(form), form

    # From the page's start: the sections, Sign out, then the list's link and search.
    await page.get_by_role("heading", level=1, name="Patients").wait_for()
    path = [await tab(page) for _ in range(6)]
    assert [e["name"] for e in path] == [
        "a Patients",
        "a Analytics",
        "a Administration",
        "button Sign out",
        "a Register a patient",
        "input patient-search",
    ]
    assert in_reading_order(path), path

    await page.keyboard.type(name)
    await page.get_by_role("status").filter(has_text=ONE_FOUND).wait_for()
    for _ in range(8):  # through the columns' sort buttons to the patient's name
        if (await tab(page))["name"] == f"a {name}":
            break
    assert (await focused(page))["name"] == f"a {name}"
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", level=1, name=name).wait_for()
    assert (await focused(page))["name"] == f"h1 {name}"  # a screen reader starts there
