"""What one infra command works with: the settings and the paths of this checkout."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pms_cli.infra.kafka import configured_broker_port
from pms_cli.infra.paths import InfraPaths, infra_paths
from pms_cli.infra.settings import InfraSettings, load_settings

POSTGRES_URL_VARIABLE = "PMS_POSTGRES_URL"
KAFKA_VARIABLE = "PMS_KAFKA_BOOTSTRAP_SERVERS"


@dataclass(frozen=True)
class InfraContext:
    settings: InfraSettings
    paths: InfraPaths


def load_context(state_dir: Path | None, environ: Mapping[str, str] | None) -> InfraContext:
    settings = load_settings(environ)
    paths = infra_paths(state_dir or settings.state_dir_override, port_offset=settings.port_offset)
    return InfraContext(settings, paths)


def local_kafka_port(context: InfraContext) -> int:
    return configured_broker_port(context.paths) or context.settings.kafka_port
