"""The web console's patient list, timed in the browser (issue 18: interactive within 1 s
of navigation with 1,000 patients): the e2e browser test and the bench's ``console``
scenario both measure it here, the same way.

Navigation starts at the click on the "Patients" section link (the console is a
single-page application: the tokens live in memory, so every visit after sign-in is a
navigation inside the page); the list is interactive at the first frame painted once
its first row's link and the search box are there, enabled, and the list is no longer
busy, measured with the Performance API (``performance.mark`` / ``measure``) in the page
itself, so that no wait of the driver is counted.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import Page

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
          resolve(performance.measure("patient-list-time-to-interactive", "patient-list-navigation",
            "patient-list-interactive").duration);
        }));
      };
      check();
    }, { capture: true, once: true });
  });
}"""


async def time_patient_list(page: "Page") -> float:
    """Milliseconds from a click on "Patients" to its list being interactive, on a page
    of a signed-in user who may see Patients and is in another section."""
    await page.evaluate(_ARM)
    sections = page.get_by_role("navigation", name="Sections")
    await sections.get_by_role("link", name="Patients").click()
    duration: float = await page.evaluate("() => window.__patientListTiming")
    return duration
