"""Deleting the patients a bench run registered, through the public API (ADMIN).

Every patient the bench registers has an email ``bench-<tag>@example.com``; the tags of
one run start with its run id, and the seed patients of ``--min-patients`` with
``seed-`` (they are kept: they are the table the reads are measured on). The table
size changes what a read costs (``count(*)`` and, without a (name, id) index, the sort
of the whole table), so removing a run's creates keeps runs comparable.
"""

import asyncio
import time
from dataclasses import dataclass

import aiohttp

from pms_cli.bench.client import PATIENTS_PATH, Target

PAGE = 500
CONCURRENCY = 16
SEED_PREFIX = "bench-seed-"


@dataclass
class Cleanup:
    deleted: int = 0
    failed: int = 0
    seconds: float = 0.0


async def _page(
    session: aiohttp.ClientSession, target: Target, headers: dict[str, str], search: str
) -> list[tuple[str, str]]:
    params = {"search": search, "size": str(PAGE), "sort": "email"}
    async with session.get(target.url(PATIENTS_PATH), params=params, headers=headers) as answer:
        if answer.status != 200:
            return []
        rows = await answer.json()
    return [(str(row["id"]), str(row["email"])) for row in rows]


def _registered_by_the_bench(email: str, search: str) -> bool:
    """Checked here too, not only by the API's ``search``: a target without search (the
    original answers every patient) must never lose a patient the bench did not register."""
    return email.startswith(f"bench-{search}") and not email.startswith(SEED_PREFIX)


async def delete_bench_patients(target: Target, token: str, search: str) -> Cleanup:
    """Delete the patients whose email contains ``bench-<search>``, seeds excepted."""
    outcome = Cleanup()
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {token}"}
    gate = asyncio.Semaphore(CONCURRENCY)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def delete(patient_id: str) -> None:
            async with (
                gate,
                session.delete(target.url(f"{PATIENTS_PATH}/{patient_id}"), headers=headers) as r,
            ):
                if r.status in (200, 204, 404):
                    outcome.deleted += 1
                else:
                    outcome.failed += 1

        while True:
            rows = await _page(session, target, headers, f"bench-{search}")
            doomed = [pid for pid, email in rows if _registered_by_the_bench(email, search)]
            if not doomed:
                break
            await asyncio.gather(*(delete(patient_id) for patient_id in doomed))
            if outcome.failed:
                break
    outcome.seconds = time.monotonic() - started
    return outcome
