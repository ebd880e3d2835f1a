"""Where the infra keeps its state: one git-ignored folder, ``<repo root>/.pms``.

A platform moved by ``PMS_PORT_OFFSET=N`` keeps its own in ``.pms/offset-N`` (unless
``PMS_STATE_DIR`` says where): its databases, broker and signing keys are never the
first copy's, so neither its data nor its tokens leak into the other.
"""

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pms_cli.infra.settings import load_settings

STATE_DIR_NAME = ".pms"


def _is_workspace_root(directory: Path) -> bool:
    pyproject = directory / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    workspace = data.get("tool", {}).get("uv", {}).get("workspace")
    return isinstance(workspace, dict)


def find_repo_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` whose pyproject.toml has ``[tool.uv.workspace]``.

    Falls back to ``start`` itself (the current directory by default).
    """
    origin = (start or Path.cwd()).absolute()
    for directory in (origin, *origin.parents):
        if _is_workspace_root(directory):
            return directory
    return origin


@dataclass(frozen=True)
class InfraPaths:
    """Every file and folder of the local infra, derived from the state folder."""

    state_dir: Path

    @property
    def state_file(self) -> Path:
        return self.state_dir / "infra.json"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "infra.lock"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def postgres_dir(self) -> Path:
        return self.state_dir / "postgres"

    @property
    def postgres_data_dir(self) -> Path:
        return self.postgres_dir / "data"

    @property
    def postgres_socket_dir(self) -> Path:
        return self.postgres_dir / "socket"

    @property
    def postgres_log(self) -> Path:
        return self.logs_dir / "postgres.log"

    @property
    def kafka_dir(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def kafka_data_dir(self) -> Path:
        return self.kafka_dir / "data"

    @property
    def kafka_properties(self) -> Path:
        return self.kafka_dir / "server.properties"

    @property
    def kafka_log4j_config(self) -> Path:
        return self.kafka_dir / "log4j2.properties"

    @property
    def kafka_cluster_id_file(self) -> Path:
        return self.kafka_dir / "cluster-id"

    @property
    def kafka_pid_file(self) -> Path:
        return self.kafka_dir / "kafka.pid"

    @property
    def kafka_logs_dir(self) -> Path:
        return self.logs_dir / "kafka"

    @property
    def kafka_console_log(self) -> Path:
        return self.logs_dir / "kafka.out"


def default_state_dir(port_offset: int = 0, start: Path | None = None) -> Path:
    """``<repo root>/.pms``, or ``<repo root>/.pms/offset-N`` for a platform moved by N."""
    folder = find_repo_root(start) / STATE_DIR_NAME
    return folder / f"offset-{port_offset}" if port_offset else folder


def infra_paths(
    state_dir_override: Path | None = None, start: Path | None = None, port_offset: int = 0
) -> InfraPaths:
    """The infra paths for this checkout (``PMS_STATE_DIR`` wins when given)."""
    if state_dir_override is not None:
        return InfraPaths(state_dir_override)
    return InfraPaths(default_state_dir(port_offset, start))


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The state folder of this platform: ``$PMS_STATE_DIR``, else ``<repo root>/.pms``
    (``.pms/offset-N`` under ``PMS_PORT_OFFSET=N``)."""
    settings = load_settings(environ)
    return infra_paths(settings.state_dir_override, port_offset=settings.port_offset).state_dir
