"""`pms infra status` and `pms infra env`: what runs now, without starting anything."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pms_cli.infra.context import (
    KAFKA_VARIABLE,
    POSTGRES_URL_VARIABLE,
    load_context,
    local_kafka_port,
)
from pms_cli.infra.errors import InfraError
from pms_cli.infra.kafka import running_kafka_pid
from pms_cli.infra.kafka_admin import probe_kafka
from pms_cli.infra.kafka_config import HOST
from pms_cli.infra.postgres import running_postmaster
from pms_cli.infra.postgres_setup import probe_postgres
from pms_cli.infra.state import PERSISTENT_OWNER, Component, ComponentState, Mode, load_state
from pms_cli.infra.urls import local_postgres_url, plain_postgres_url, redact_url


@dataclass(frozen=True)
class ComponentStatus:
    component: Component
    condition: str
    """"running", "not answering", "stopped" or "external"."""
    address: str
    detail: str


async def infra_status(
    *, state_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> list[ComponentStatus]:
    """Each component: running/stopped/external, its address, and whether it answers."""
    context = load_context(state_dir, environ)
    paths = context.paths
    state = load_state(paths.state_file)
    statuses: list[ComponentStatus] = []

    external_pg = context.settings.external_postgres_url
    if external_pg is not None:
        url = plain_postgres_url(external_pg)
        answers = await probe_postgres(url)
        statuses.append(_external(Component.POSTGRES, redact_url(url), answers))
    else:
        postmaster = running_postmaster(paths)
        if postmaster is None:
            url = local_postgres_url(context.settings.postgres_port)
            statuses.append(ComponentStatus(Component.POSTGRES, "stopped", url, ""))
        else:
            pid, port = postmaster
            url = local_postgres_url(port)
            answers = await probe_postgres(url)
            detail = _local_detail(pid, state.components.get(Component.POSTGRES))
            statuses.append(_local(Component.POSTGRES, url, answers, detail))

    external_kafka = context.settings.external_kafka_bootstrap_servers
    if external_kafka is not None:
        answers = await probe_kafka(external_kafka)
        statuses.append(_external(Component.KAFKA, external_kafka, answers))
    else:
        broker = running_kafka_pid(paths)
        bootstrap = f"{HOST}:{local_kafka_port(context)}"
        if broker is None:
            statuses.append(ComponentStatus(Component.KAFKA, "stopped", bootstrap, ""))
        else:
            answers = await probe_kafka(bootstrap)
            entry = state.components.get(Component.KAFKA)
            detail = _local_detail(broker, entry)
            if entry is not None and entry.version:
                detail = f"Kafka {entry.version}, {detail}"
            statuses.append(_local(Component.KAFKA, bootstrap, answers, detail))
    return statuses


def _external(component: Component, address: str, answers: bool) -> ComponentStatus:
    return ComponentStatus(
        component, "external", address, "answering" if answers else "not answering"
    )


def _local(component: Component, address: str, answers: bool, detail: str) -> ComponentStatus:
    return ComponentStatus(component, "running" if answers else "not answering", address, detail)


def _local_detail(pid: int, entry: ComponentState | None) -> str:
    owner = entry.owner if entry is not None and entry.mode is Mode.LOCAL else None
    if owner is None or owner == PERSISTENT_OWNER:
        return f"pid {pid}"
    return f"pid {pid}, started by a `pms infra run` session"


async def running_environment(
    *, state_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``PMS_POSTGRES_URL`` and ``PMS_KAFKA_BOOTSTRAP_SERVERS`` of the infra that runs now."""
    context = load_context(state_dir, environ)
    statuses = {status.component: status for status in await infra_status(
        state_dir=state_dir, environ=environ
    )}  # fmt: skip
    not_running = [
        status.component.value
        for status in statuses.values()
        if status.condition not in ("running", "external")
    ]
    if not_running:
        raise InfraError(f"not running: {', '.join(not_running)}; start it with `pms infra up`")
    postgres_url = context.settings.external_postgres_url or statuses[Component.POSTGRES].address
    return {
        POSTGRES_URL_VARIABLE: postgres_url,
        KAFKA_VARIABLE: statuses[Component.KAFKA].address,
    }
