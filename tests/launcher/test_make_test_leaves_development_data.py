"""`make test` leaves the development data as it was.

A development platform's infra runs (its own state folder and ports, standing in for
`.pms/` and 54329/9092), and the shell has its addresses exported, as after
``eval "$(pms infra env)"``. Then `make e2e` runs one end-to-end test that logs in,
registers, bills, pays and deletes a patient. Afterwards every table of every development
database holds exactly the rows it held before, and the development state folder has
gained nothing (no signing keys, no logs of a platform started in it).
"""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from rich.console import Console

from pms_cli.infra import SERVICE_DATABASES, database_url, ensure_infra, stop_infra

from .conftest import REPO_ROOT, shell_environment

# The stand-in development infra, and the test run's own platform (+10300):
# 64729, 19492-19493 and 14300-14305, 19301, 64629, 19392-19393; nobody else's.
DEVELOPMENT_PORTS = {
    "PMS_INFRA_POSTGRES_PORT": "64729",
    "PMS_INFRA_KAFKA_PORT": "19492",
    "PMS_INFRA_KAFKA_CONTROLLER_PORT": "19493",
}
TEST_RUN_PORT_OFFSET = "10300"
WRITING_TEST = "tests/e2e/test_e2e_lifecycle.py"

TableContents = dict[str, tuple[int, str]]


async def _contents(admin_url: str) -> dict[str, TableContents]:
    """Per development database, per table: its row count and a digest of its rows."""
    found: dict[str, TableContents] = {}
    for name in SERVICE_DATABASES:
        connection = await asyncpg.connect(database_url(admin_url, name, driver="postgresql"))
        try:
            tables = await connection.fetch(
                "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name"
                " FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
                " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            )
            found[name] = {}
            for table in tables:
                row = await connection.fetchrow(
                    f"SELECT count(*) AS rows, md5(coalesce(string_agg(t::text, ','"  # noqa: S608 - names from the catalogue
                    f" ORDER BY t::text), '')) AS digest FROM {table['name']} AS t"
                )
                assert row is not None
                found[name][table["name"]] = (row["rows"], row["digest"])
        finally:
            await connection.close()
    return found


def _files(folder: Path) -> set[str]:
    """The development state folder's entries that a platform run would add."""
    return {str(path.relative_to(folder)) for path in folder.iterdir()} | {
        f"logs/{path.name}" for path in (folder / "logs").glob("*") if path.suffix == ".log"
    }


@pytest.fixture
async def development_infra(tmp_path: Path) -> AsyncIterator[tuple[Path, dict[str, str]]]:
    """A running development infra, and the exported addresses of a developer's shell."""
    folder = tmp_path / "development"
    environment = shell_environment(PMS_STATE_DIR=str(folder), **DEVELOPMENT_PORTS)
    console = Console(stderr=True, quiet=True)
    endpoints = await ensure_infra(console, state_dir=folder, environ=environment)
    try:
        yield folder, {**environment, **endpoints.environment()}
    finally:
        await stop_infra(endpoints, console, state_dir=folder)


async def test_make_test_leaves_the_development_data_unchanged(
    development_infra: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    folder, developer_shell = development_infra
    admin_url = developer_shell["PMS_POSTGRES_URL"]
    before, files_before = await _contents(admin_url), _files(folder)
    test_folder = tmp_path / "test-run"
    (test_folder / "logs").mkdir(parents=True)
    (test_folder / "logs" / "left-by-an-earlier-run.log").write_text("old\n")

    make = await asyncio.create_subprocess_exec(
        "make",
        "-s",
        "e2e",
        f"ARGS={WRITING_TEST} -q -p no:cacheprovider",
        cwd=REPO_ROOT,
        env={
            **developer_shell,
            "PMS_TEST_STATE_DIR": str(test_folder),
            "PMS_TEST_PORT_OFFSET": TEST_RUN_PORT_OFFSET,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await make.communicate())[0].decode(errors="replace")

    assert await _contents(admin_url) == before
    assert _files(folder) == files_before
    assert make.returncode == 0, output[-4000:]
    # The run started from an empty folder of its own (no lockout, key or data of before).
    assert not (test_folder / "logs" / "left-by-an-earlier-run.log").exists()
    assert (test_folder / "logs" / "patients.log").exists()
