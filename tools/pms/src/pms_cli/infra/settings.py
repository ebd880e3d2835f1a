"""Environment variables that steer the local infra, with their development defaults.

``PMS_PORT_OFFSET=N`` moves a whole platform: every default port, the services' and the
infra's alike, plus ``N`` (and its own state folder, see `paths`), so a second copy runs
beside the first by one setting. A port set on its own still wins.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pms_cli.infra.errors import InfraError

DEFAULT_POSTGRES_PORT = 54329
DEFAULT_KAFKA_PORT = 9092
DEFAULT_KAFKA_CONTROLLER_PORT = 9093
DEFAULT_KAFKA_VERSION = "4.3.1"
PORT_OFFSET_VARIABLE = "PMS_PORT_OFFSET"
STATE_DIR_VARIABLE = "PMS_STATE_DIR"
# The highest default port is PostgreSQL's 54329: an offset beyond this leaves the range.
MAX_PORT_OFFSET = 65535 - DEFAULT_POSTGRES_PORT


@dataclass(frozen=True)
class InfraSettings:
    """What the environment asks for; ``None`` overrides mean "start our own"."""

    external_postgres_url: str | None
    external_kafka_bootstrap_servers: str | None
    postgres_port: int
    postgres_bin_dir: Path | None
    kafka_port: int
    kafka_controller_port: int
    kafka_version: str
    state_dir_override: Path | None
    cache_dir: Path
    port_offset: int = 0


def port_setting(environ: Mapping[str, str], name: str, default: int) -> int:
    """The port ``environ`` sets under ``name``, else ``default``; a bad value is refused."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise InfraError(f"{name} must be a port number, not {raw!r}") from None
    if not 1 <= port <= 65535:
        raise InfraError(f"{name} must be between 1 and 65535, not {port}")
    return port


def port_offset(environ: Mapping[str, str] | None = None) -> int:
    """``PMS_PORT_OFFSET``: how far this platform's ports are from the defaults (0 to 11206)."""
    env = os.environ if environ is None else environ
    raw = env.get(PORT_OFFSET_VARIABLE, "").strip()
    if not raw:
        return 0
    try:
        offset = int(raw)
    except ValueError:
        raise InfraError(f"{PORT_OFFSET_VARIABLE} must be a whole number, not {raw!r}") from None
    if not 0 <= offset <= MAX_PORT_OFFSET:
        raise InfraError(f"{PORT_OFFSET_VARIABLE} must be between 0 and {MAX_PORT_OFFSET}")
    return offset


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def load_settings(environ: Mapping[str, str] | None = None) -> InfraSettings:
    """Read the infra settings from ``environ`` (the process environment by default)."""
    env = os.environ if environ is None else environ
    offset = port_offset(env)
    kafka_port = port_setting(env, "PMS_INFRA_KAFKA_PORT", DEFAULT_KAFKA_PORT + offset)
    controller_port = port_setting(
        env, "PMS_INFRA_KAFKA_CONTROLLER_PORT", DEFAULT_KAFKA_CONTROLLER_PORT + offset
    )
    postgres_port = port_setting(env, "PMS_INFRA_POSTGRES_PORT", DEFAULT_POSTGRES_PORT + offset)
    if kafka_port == controller_port:
        raise InfraError("the Kafka broker and controller ports must differ")
    state_dir = _optional(env, STATE_DIR_VARIABLE)
    cache_dir = _optional(env, "PMS_CACHE_DIR")
    bin_dir = _optional(env, "PMS_INFRA_POSTGRES_BIN_DIR")
    return InfraSettings(
        external_postgres_url=_optional(env, "PMS_POSTGRES_URL"),
        external_kafka_bootstrap_servers=_optional(env, "PMS_KAFKA_BOOTSTRAP_SERVERS"),
        postgres_port=postgres_port,
        postgres_bin_dir=Path(bin_dir).expanduser() if bin_dir else None,
        kafka_port=kafka_port,
        kafka_controller_port=controller_port,
        kafka_version=_optional(env, "PMS_KAFKA_VERSION") or DEFAULT_KAFKA_VERSION,
        state_dir_override=Path(state_dir).expanduser().absolute() if state_dir else None,
        cache_dir=(
            Path(cache_dir).expanduser().absolute() if cache_dir else Path.home() / ".cache" / "pms"
        ),
        port_offset=offset,
    )
