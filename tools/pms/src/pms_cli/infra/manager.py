"""Start, reuse and stop the local infra: the API behind `pms infra` and `pms up`."""

import asyncio
import os
import secrets
import shutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from pms_cli.infra.console import step, using_console, warn
from pms_cli.infra.context import (
    KAFKA_VARIABLE,
    POSTGRES_URL_VARIABLE,
    InfraContext,
    load_context,
    local_kafka_port,
)
from pms_cli.infra.errors import InfraError
from pms_cli.infra.kafka import (
    kafka_log_hint,
    running_kafka_pid,
    start_local_kafka,
    stop_local_kafka,
)
from pms_cli.infra.kafka_admin import ensure_topics, wait_for_kafka
from pms_cli.infra.kafka_config import HOST
from pms_cli.infra.paths import InfraPaths
from pms_cli.infra.postgres import running_postmaster, start_local_postgres, stop_local_postgres
from pms_cli.infra.postgres_setup import ensure_databases, wait_for_postgres
from pms_cli.infra.processes import process_alive, tail
from pms_cli.infra.state import (
    PERSISTENT_OWNER,
    Component,
    ComponentState,
    Mode,
    exclusive_lock,
    load_state,
    save_state,
)
from pms_cli.infra.urls import local_postgres_url, plain_postgres_url, redact_url

POSTGRES_TIMEOUT_SECONDS = 30.0
KAFKA_TIMEOUT_SECONDS = 90.0


@dataclass(frozen=True)
class StartedInfra:
    """What one `ensure_infra` call launched; hand it to `stop_infra` to undo just that."""

    components: frozenset[Component]
    session: str


@dataclass(frozen=True)
class InfraEndpoints:
    postgres_url: str
    """Admin URL (database ``postgres``); see `database_url` for a service's database."""
    kafka_bootstrap_servers: str
    started: StartedInfra

    def environment(self) -> dict[str, str]:
        """The variables that point a process (a test run, a service) at this infra."""
        return {
            POSTGRES_URL_VARIABLE: self.postgres_url,
            KAFKA_VARIABLE: self.kafka_bootstrap_servers,
        }


def _owner(persistent: bool, launched: bool, session: str, previous: ComponentState | None) -> str:
    if persistent:
        return PERSISTENT_OWNER
    if launched:
        return session
    if previous is not None and previous.mode is Mode.LOCAL and previous.owner:
        return previous.owner
    return PERSISTENT_OWNER


async def _ensure_postgres(
    context: InfraContext, launched: set[Component]
) -> tuple[str, ComponentState]:
    external = context.settings.external_postgres_url
    if external is not None:
        url = plain_postgres_url(external)
        step(f"using PostgreSQL at {redact_url(url)}")
        await wait_for_postgres(url, max_wait=POSTGRES_TIMEOUT_SECONDS, still_running=lambda: True)
        await ensure_databases(url)
        return url, ComponentState(Mode.EXTERNAL, redact_url(url))

    paths = context.paths
    running = running_postmaster(paths)
    if running is not None:
        pid, port = running
        url = local_postgres_url(port)
        step(f"PostgreSQL already running on 127.0.0.1:{port} (pid {pid})")
    else:
        port = context.settings.postgres_port
        url = local_postgres_url(port)
        pid = await start_local_postgres(
            paths,
            port=port,
            configured_bin_dir=context.settings.postgres_bin_dir,
            on_launch=lambda: launched.add(Component.POSTGRES),
        )
    await wait_for_postgres(
        url,
        max_wait=POSTGRES_TIMEOUT_SECONDS,
        still_running=lambda: process_alive(pid),
        log_hint=lambda: f" Last lines of {paths.postgres_log}:\n{tail(paths.postgres_log)}",
    )
    await ensure_databases(url)
    return url, ComponentState(Mode.LOCAL, url, pid=pid)


async def _ensure_kafka(
    context: InfraContext, launched: set[Component]
) -> tuple[str, ComponentState]:
    external = context.settings.external_kafka_bootstrap_servers
    if external is not None:
        step(f"using Kafka at {external}")
        await wait_for_kafka(external, max_wait=KAFKA_TIMEOUT_SECONDS, still_running=lambda: True)
        await ensure_topics(external)
        return external, ComponentState(Mode.EXTERNAL, external)

    paths = context.paths
    pid = running_kafka_pid(paths)
    version: str | None = None
    if pid is not None:
        bootstrap = f"{HOST}:{local_kafka_port(context)}"
        step(f"Kafka already running on {bootstrap} (pid {pid})")
    else:
        bootstrap = f"{HOST}:{context.settings.kafka_port}"
        pid, version = await start_local_kafka(
            paths,
            cache_dir=context.settings.cache_dir,
            version=context.settings.kafka_version,
            broker_port=context.settings.kafka_port,
            controller_port=context.settings.kafka_controller_port,
            on_launch=lambda: launched.add(Component.KAFKA),
        )
    broker_pid = pid
    await wait_for_kafka(
        bootstrap,
        max_wait=KAFKA_TIMEOUT_SECONDS,
        still_running=lambda: process_alive(broker_pid),
        log_hint=lambda: kafka_log_hint(paths),
    )
    await ensure_topics(bootstrap)
    return bootstrap, ComponentState(Mode.LOCAL, bootstrap, pid=pid, version=version)


_STOPPERS: dict[Component, Callable[[InfraPaths], Awaitable[bool]]] = {
    Component.POSTGRES: stop_local_postgres,
    Component.KAFKA: stop_local_kafka,
}


async def _stop(paths: InfraPaths, components: set[Component]) -> None:
    for component in components:
        step(f"stopping {component.value}")
    await asyncio.gather(*(_STOPPERS[component](paths) for component in components))


def _merge_errors(group: BaseExceptionGroup[BaseException]) -> BaseException:
    infra_errors = [error for error in group.exceptions if isinstance(error, InfraError)]
    if infra_errors:
        return InfraError("\n".join(str(error) for error in infra_errors))
    return group.exceptions[0]


async def ensure_infra(
    console: Console | None = None,
    *,
    persistent: bool = False,
    state_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> InfraEndpoints:
    """Make PostgreSQL and Kafka available: use external ones, reuse running ones, or start them.

    By default (`pms up`, `pms infra run`) what this call launches is its own: hand the
    result to `stop_infra` to stop just that (unless a `pms infra up` claims it meanwhile).
    ``persistent=True`` (`pms infra up`) leaves everything for `pms infra down`.
    On failure, whatever this call launched is stopped again before the error propagates.
    Progress goes to ``console`` (default: stderr).
    """
    with using_console(console):
        return await _ensure_infra(persistent, state_dir, environ)


async def _ensure_infra(
    persistent: bool, state_dir: Path | None, environ: Mapping[str, str] | None
) -> InfraEndpoints:
    context = load_context(state_dir, environ)
    session = f"session-{os.getpid()}-{secrets.token_hex(4)}"
    context.paths.state_dir.mkdir(parents=True, exist_ok=True)
    async with exclusive_lock(context.paths.lock_file):
        launched: set[Component] = set()
        try:
            async with asyncio.TaskGroup() as group:
                postgres = group.create_task(_ensure_postgres(context, launched))
                kafka = group.create_task(_ensure_kafka(context, launched))
        except BaseExceptionGroup as failures:
            await _stop(context.paths, launched)
            raise _merge_errors(failures) from None
        except BaseException:
            await _stop(context.paths, launched)
            raise
        postgres_url, postgres_state = postgres.result()
        bootstrap, kafka_state = kafka.result()

        state = load_state(context.paths.state_file)
        for component, entry in (
            (Component.POSTGRES, postgres_state),
            (Component.KAFKA, kafka_state),
        ):
            if entry.mode is Mode.LOCAL:
                previous = state.components.get(component)
                owner = _owner(persistent, component in launched, session, previous)
                version = entry.version or (previous.version if previous else None)
                entry = ComponentState(entry.mode, entry.address, owner, entry.pid, version)
            state = state.with_component(component, entry)
        save_state(context.paths.state_file, state)
    return InfraEndpoints(postgres_url, bootstrap, StartedInfra(frozenset(launched), session))


async def stop_infra(
    started: StartedInfra | InfraEndpoints,
    console: Console | None = None,
    *,
    state_dir: Path | None = None,
) -> None:
    """Stop what one `ensure_infra` call launched, unless `pms infra up` has claimed it since."""
    if isinstance(started, InfraEndpoints):
        started = started.started
    if not started.components:
        return
    with using_console(console):
        await _stop_started(started, state_dir)


async def _stop_started(started: StartedInfra, state_dir: Path | None) -> None:
    context = load_context(state_dir, None)
    async with exclusive_lock(context.paths.lock_file):
        state = load_state(context.paths.state_file)
        to_stop: set[Component] = set()
        for component in started.components:
            entry = state.components.get(component)
            if entry is not None and entry.owner not in (None, started.session):
                warn(f"leaving {component.value} running: `pms infra up` claimed it")
                continue
            to_stop.add(component)
            state = state.with_component(component, None)
        await _stop(context.paths, to_stop)
        save_state(context.paths.state_file, state)


def _purge(paths: InfraPaths) -> None:
    for folder in (paths.postgres_dir, paths.kafka_dir, paths.logs_dir):
        shutil.rmtree(folder, ignore_errors=True)
    paths.state_file.unlink(missing_ok=True)


async def stop_local_infra(*, purge: bool = False, state_dir: Path | None = None) -> list[str]:
    """Stop every local component of this checkout (`pms infra down`); names what was stopped.

    ``purge`` also deletes the data, logs and state (never the shared Kafka download cache).
    """
    context = load_context(state_dir, None)
    paths = context.paths
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    async with exclusive_lock(paths.lock_file):
        running = [
            component
            for component, found in (
                (Component.POSTGRES, running_postmaster(paths) is not None),
                (Component.KAFKA, running_kafka_pid(paths) is not None),
            )
            if found
        ]
        await _stop(paths, set(running))
        state = load_state(paths.state_file)
        for component in Component:
            entry = state.components.get(component)
            if entry is not None and entry.mode is Mode.LOCAL:
                state = state.with_component(component, None)
        save_state(paths.state_file, state)
        if purge:
            step(f"deleting data, logs and state in {paths.state_dir}")
            await asyncio.to_thread(_purge, paths)
    return [component.value for component in running]
