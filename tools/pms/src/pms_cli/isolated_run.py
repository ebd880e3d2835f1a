"""``pms test -- CMD``: run a test command on a platform of its own, so the development
data is left as it was.

The command runs with its own state folder (``.pms/test``, emptied first: no data, login
lockout or signing key of an earlier run carries over), its own PostgreSQL and Kafka and
its own service ports (every default plus 10000, ``PMS_PORT_OFFSET``), and none of the
caller's addresses: an exported ``PMS_POSTGRES_URL`` of the development infra, say, is
dropped, not used. ``make test`` runs through it; ``pms infra run`` is unchanged.
"""

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from pms_cli.infra.context import KAFKA_VARIABLE, POSTGRES_URL_VARIABLE
from pms_cli.infra.errors import InfraError
from pms_cli.infra.manager import stop_local_infra
from pms_cli.infra.paths import default_state_dir, state_dir
from pms_cli.infra.runner import run_with_infra
from pms_cli.infra.settings import PORT_OFFSET_VARIABLE, STATE_DIR_VARIABLE
from pms_cli.services import SERVICES, platform_ports

DEFAULT_TEST_PORT_OFFSET = 10_000
TEST_STATE_DIR_NAME = "test"
INFRA_PORT_VARIABLES = (
    "PMS_INFRA_POSTGRES_PORT",
    "PMS_INFRA_KAFKA_PORT",
    "PMS_INFRA_KAFKA_CONTROLLER_PORT",
)


def default_test_state_dir() -> Path:
    return default_state_dir() / TEST_STATE_DIR_NAME


def address_variables() -> frozenset[str]:
    """Every variable by which a process could reach another platform: external servers,
    infra ports, the state folder, and each service's ports and addresses."""
    ports = platform_ports({})
    per_service = {
        name
        for spec in SERVICES
        for name in spec.environment("postgresql://x/postgres", "x:1", Path(), ports)
        if name.startswith("PMS_")
    }
    return frozenset(
        {
            POSTGRES_URL_VARIABLE,
            KAFKA_VARIABLE,
            STATE_DIR_VARIABLE,
            PORT_OFFSET_VARIABLE,
            *INFRA_PORT_VARIABLES,
            *per_service,
        }
    )


def isolated_environment(
    environ: Mapping[str, str], test_state_dir: Path, port_offset: int
) -> dict[str, str]:
    """``environ`` without any address of another platform, pointed at the test run's own."""
    dropped = address_variables()
    environment = {name: value for name, value in environ.items() if name not in dropped}
    environment[STATE_DIR_VARIABLE] = str(test_state_dir)
    environment[PORT_OFFSET_VARIABLE] = str(port_offset)
    return environment


def refuse_development_folder(test_state_dir: Path, development_state_dir: Path) -> None:
    """The test folder is emptied: it must never be (or hold) the development one."""
    test_dir, dev_dir = test_state_dir.resolve(), development_state_dir.resolve()
    if dev_dir == test_dir or dev_dir.is_relative_to(test_dir):
        raise InfraError(
            f"the test state folder {test_state_dir} would hold the development data of "
            f"{development_state_dir}; choose another (--state-dir)"
        )


@contextlib.contextmanager
def only_run_in(test_state_dir: Path) -> Iterator[None]:
    """Hold ``<folder>.lock`` so that two test runs never empty each other's folder."""
    test_state_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = test_state_dir.with_name(test_state_dir.name + ".lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InfraError(f"another test run uses {test_state_dir}") from None
        yield
    finally:
        os.close(descriptor)


async def run_isolated(
    command: Sequence[str],
    test_state_dir: Path | None = None,
    port_offset: int = DEFAULT_TEST_PORT_OFFSET,
) -> int:
    """Run ``command`` on a fresh platform of its own; its exit code."""
    folder = (test_state_dir or default_test_state_dir()).absolute()
    refuse_development_folder(folder, state_dir())
    environment = isolated_environment(os.environ, folder, port_offset)
    platform_ports(environment)  # refuse an offset that leaves the port range, before anything
    with only_run_in(folder):
        if folder.exists():
            # What a killed run left running, then everything it kept.
            await stop_local_infra(purge=True, state_dir=folder)
            shutil.rmtree(folder)
        return await run_with_infra(command, environment)
