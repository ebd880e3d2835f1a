"""Every operation of every service's OpenAPI document, fuzzed through the gateway by
schemathesis with all its checks and phases: the documents say what the services answer.

Each document is loaded from the gateway (``/api-docs/{service}``, whose ``servers``
entry points at where the service lives on the gateway; the gateway's own is
``/openapi.json``), and every request carries the seeded administrator's token. What is
valid beyond what a schema can say is in ``schemathesis.toml`` and ``hooks.py``.

Here the run is short and the same every time (deterministic generation, 10 examples
per operation). ``make api-fuzz`` runs it longer and from a random seed, which the
report prints: ``PMS_API_FUZZ_MAX_EXAMPLES`` (examples per operation),
``PMS_API_FUZZ_SEED`` (``deterministic``, ``random`` or a number, to replay a run) and
``PMS_API_FUZZ_REPORTS`` (a folder for each document's report, kept when it passes too).
"""

import asyncio
import os
import sys
from pathlib import Path

import pytest

from .conftest import FuzzedPlatform

DOCUMENTS = {
    "gateway": "/openapi.json",
    "auth": "/api-docs/auth",
    "patients": "/api-docs/patients",
    "billing": "/api-docs/billing",
    "analytics": "/api-docs/analytics",
}
MAX_EXAMPLES = int(os.environ.get("PMS_API_FUZZ_MAX_EXAMPLES", "10"))
SEED = os.environ.get("PMS_API_FUZZ_SEED", "deterministic")
REPORTS = os.environ.get("PMS_API_FUZZ_REPORTS")
# Generous: a document of ten operations takes about 15 s at 10 examples on two cores.
RUN_SECONDS = 120 + 15 * MAX_EXAMPLES
HERE = Path(__file__).resolve().parent


def schemathesis_command(platform: FuzzedPlatform, document: str) -> list[str]:
    ((header, value),) = platform.authorization.items()
    if SEED == "deterministic":
        seeding = ["--generation-deterministic"]
    elif SEED == "random":
        seeding = []
    else:
        seeding = [f"--seed={int(SEED)}"]
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        f"--config-file={HERE / 'schemathesis.toml'}",
        "run",
        platform.gateway_url + document,
        "--checks=all",
        f"--max-examples={MAX_EXAMPLES}",
        *seeding,
        "--workers=1",
        "--request-timeout=10",
        "--no-color",
        f"--header={header}: {value}",
    ]


@pytest.mark.parametrize("service", list(DOCUMENTS))
async def test_every_operation_answers_as_its_document_says(
    fuzzed_platform: FuzzedPlatform, service: str
) -> None:
    process = await asyncio.create_subprocess_exec(
        *schemathesis_command(fuzzed_platform, DOCUMENTS[service]),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        # Where the configuration's hooks module is found.
        env={**os.environ, "PYTHONPATH": str(HERE)},
        cwd=HERE.parents[1],
    )
    try:
        async with asyncio.timeout(RUN_SECONDS):
            output, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    report = output.decode(errors="replace")
    if REPORTS:
        await asyncio.to_thread(keep_report, Path(REPORTS), service, report)
    assert process.returncode == 0, report


def keep_report(folder: Path, service: str, report: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{service}.txt").write_text(report)
