"""The web console's patient list, timed in the browser (issue 18: interactive within 1 s
of navigation with 1,000 patients): the e2e browser test and the bench's ``console``
scenario both measure it here, the same way, in Debian's Chromium driven by Playwright's
library (no browser of Playwright's own can be downloaded here).

Navigation starts at the click on the "Patients" section link, from the patient
registration page (the console is a single-page application whose tokens live in
memory, so every visit after sign-in is a navigation inside the page); the list is
interactive at the first frame painted once its first row's link and the search box are
there, enabled, and the list is no longer busy. Both moments are taken with the
Performance API (``performance.mark`` / ``measure``) in the page itself, so no wait of
the driver is counted.
"""

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
# No network of its own beyond the page's: no updates, sync, QUIC probes or first-run work.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TABLET: "ViewportSize" = {"width": 1024, "height": 900}
"""The viewport: a tablet's width, where the console must work as on a laptop."""
# Generous: two cores shared with other test runs; a wait, never a timed assertion.
WAIT_MILLISECONDS = 90_000

# Arms the measurement on the next click of the Patients link; the promise it leaves on
# window resolves to the measure's duration in milliseconds.
_ARM = """() => {
  const link = Array.from(document.querySelectorAll('nav[aria-label="Sections"] a'))
    .find((a) => a.textContent.trim() === "Patients");
  if (!link) throw new Error("no Patients link in the console's navigation");
  window.__patientListTiming = new Promise((resolve) => {
    link.addEventListener("click", () => {
      performance.mark("patient-list-navigation");
      const usable = () => {
        const row = document.querySelector("table.patients tbody tr a");
        const search = document.getElementById("patient-search");
        const busy = document.querySelector('table.patients[aria-busy="true"]');
        return row !== null && search !== null && !search.disabled && busy === null;
      };
      const check = () => {
        if (!usable()) { requestAnimationFrame(check); return; }
        // Painted, and the main thread free for the next input: a task after the frame.
        requestAnimationFrame(() => setTimeout(() => {
          performance.mark("patient-list-interactive");
          resolve(performance.measure("patient-list-time-to-interactive",
            "patient-list-navigation", "patient-list-interactive").duration);
        }));
      };
      check();
    }, { capture: true, once: true });
  });
}"""


async def time_patient_list(page: "Page") -> float:
    """Milliseconds from a click on "Patients" to its list being interactive, on the
    patient list of a signed-in user: it opens "Register a patient" first, then goes back
    to the list by the section link."""
    await page.get_by_role("table").locator("tbody tr").first.wait_for()
    await page.get_by_role("link", name="Register a patient").click()
    await page.get_by_role("heading", level=1, name="Register a patient").wait_for()
    await page.evaluate(_ARM)
    sections = page.get_by_role("navigation", name="Sections")
    await sections.get_by_role("link", name="Patients").click()
    duration: float = await page.evaluate("() => window.__patientListTiming")
    return duration


async def measure_patient_list(
    base_url: str, email: str, password: str, navigations: int
) -> list[float]:
    """Signs in to the console at ``base_url`` in a fresh Chromium and times the patient
    list ``navigations`` times (milliseconds each)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await (await browser.new_context(viewport=TABLET)).new_page()
            page.set_default_timeout(WAIT_MILLISECONDS)
            await page.goto(base_url.rstrip("/") + "/patients")
            await page.get_by_label("Email").fill(email)
            await page.get_by_label("Password").fill(password)
            await page.get_by_role("button", name="Sign in").click()
            return [await time_patient_list(page) for _ in range(navigations)]
        finally:
            await browser.close()
