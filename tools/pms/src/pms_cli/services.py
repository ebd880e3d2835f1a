"""The five services as the launcher runs them: one table, one command per service.

Containers run the very same commands (``python -m pms_<name> migrate|serve``), so what
works under ``pms up`` works in Compose and Kubernetes.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

from pms_platform.db import database_url_for


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    http_port: int
    database: str | None
    uses_kafka: bool
    keeps_signing_keys: bool = False

    @property
    def module(self) -> str:
        return f"pms_{self.name}"

    @property
    def env_prefix(self) -> str:
        return f"PMS_{self.name.upper()}_"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def command(self, action: str = "serve") -> list[str]:
        return [sys.executable, "-m", self.module, action]

    def environment(
        self, postgres_url: str, kafka_bootstrap_servers: str, state_dir: Path
    ) -> dict[str, str]:
        """The settings that point this service at the running infrastructure.

        Bytecode caching is switched back on (an empty ``PYTHONDONTWRITEBYTECODE`` is
        unset), because some machines, this project's among them, set it: every start
        then compiled every imported module from source, 3.8x the work of a start from
        cached bytecode (valgrind instruction counts). The ``migrate`` run before each
        start writes most caches; container images compile theirs at build time."""
        env = {f"{self.env_prefix}HTTP_PORT": str(self.http_port), "PYTHONDONTWRITEBYTECODE": ""}
        if self.keeps_signing_keys:
            env[f"{self.env_prefix}DEVELOPMENT_KEY_DIR"] = str(state_dir / "auth-keys")
        if self.database is not None:
            env[f"{self.env_prefix}DATABASE_URL"] = database_url_for(postgres_url, self.database)
        if self.uses_kafka:
            env[f"{self.env_prefix}KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap_servers
        return env


# Ports and databases from SYSTEM.md. The gateway comes last: it fronts the others.
SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("auth", 4005, "pms_auth", uses_kafka=False, keeps_signing_keys=True),
    ServiceSpec("billing", 4001, "pms_billing", uses_kafka=True),
    ServiceSpec("patients", 4000, "pms_patients", uses_kafka=True),
    ServiceSpec("analytics", 4002, "pms_analytics", uses_kafka=True),
    ServiceSpec("gateway", 4004, None, uses_kafka=False),
)


def service_named(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError(name)
