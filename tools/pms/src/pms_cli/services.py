"""The five services as the launcher runs them: one table, one command per service, and
the ports one platform listens on, with every address between its services derived from
them.

Containers run the very same commands (``python -m pms_<name> migrate|serve``), so what
works under ``pms up`` works in Compose and Kubernetes.

Ports: SYSTEM.md's by default (HTTP 4000-4005, billing's gRPC 9001). ``PMS_PORT_OFFSET=N``
adds N to every one of them (and to the infra's, see `pms_cli.infra.settings`); a
service's own ``PMS_<SERVICE>_HTTP_PORT`` (``PMS_BILLING_GRPC_PORT``) wins over both. The
launcher then hands each service the addresses of the others on those ports (the gateway's
upstreams, every JWKS URL, patients' billing target), so a copy that was moved never
reaches another copy's services, nor trusts the keys of another copy's auth.
"""

import os
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from pms_cli.infra.errors import InfraError
from pms_cli.infra.settings import port_offset, port_setting
from pms_platform.db import database_url_for

HOST = "127.0.0.1"
JWKS_PATH = "/.well-known/jwks.json"
DEFAULT_BILLING_GRPC_PORT = 9001


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    http_port: int
    """SYSTEM.md's default in `SERVICES`; the chosen port in `PlatformPorts.services`."""
    database: str | None
    uses_kafka: bool
    keeps_signing_keys: bool = False
    verifies_tokens: bool = False
    upstreams: tuple[str, ...] = ()
    """Services this one forwards requests to (the gateway's routes)."""
    serves_grpc: bool = False
    calls_billing_grpc: bool = False

    @property
    def module(self) -> str:
        return f"pms_{self.name}"

    @property
    def env_prefix(self) -> str:
        return f"PMS_{self.name.upper()}_"

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    def command(self, action: str = "serve") -> list[str]:
        return [sys.executable, "-m", self.module, action]

    def environment(
        self,
        postgres_url: str,
        kafka_bootstrap_servers: str,
        state_dir: Path,
        ports: "PlatformPorts | None" = None,
    ) -> dict[str, str]:
        """The settings that point this service at the running infrastructure and at the
        other services of its platform (``ports``; by default the process environment's).

        Bytecode caching is switched back on (an empty ``PYTHONDONTWRITEBYTECODE`` is
        unset), because some machines, this project's among them, set it: every start
        then compiled every imported module from source, 3.8x the work of a start from
        cached bytecode (valgrind instruction counts). The ``migrate`` run before each
        start writes most caches; container images compile theirs at build time."""
        ports = ports or platform_ports()
        env = {
            f"{self.env_prefix}HTTP_PORT": str(ports.http[self.name]),
            "PYTHONDONTWRITEBYTECODE": "",
            **self.addresses_of_others(ports),
        }
        if self.keeps_signing_keys:
            env[f"{self.env_prefix}DEVELOPMENT_KEY_DIR"] = str(state_dir / "auth-keys")
        if self.database is not None:
            env[f"{self.env_prefix}DATABASE_URL"] = database_url_for(postgres_url, self.database)
        if self.uses_kafka:
            env[f"{self.env_prefix}KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap_servers
        return env

    def addresses_of_others(self, ports: "PlatformPorts") -> dict[str, str]:
        """Where this service finds the others of its platform (and serves gRPC)."""
        env: dict[str, str] = {}
        if self.verifies_tokens:
            env[f"{self.env_prefix}AUTH_JWKS_URL"] = ports.jwks_url
        for upstream in self.upstreams:
            env[f"{self.env_prefix}{upstream.upper()}_URL"] = ports.url_of(upstream)
        if self.serves_grpc:
            env[f"{self.env_prefix}GRPC_PORT"] = str(ports.billing_grpc)
        if self.calls_billing_grpc:
            env[f"{self.env_prefix}BILLING_GRPC_TARGET"] = ports.billing_grpc_target
        return env


# Ports and databases from SYSTEM.md. The gateway comes last: it fronts the others.
SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("auth", 4005, "pms_auth", uses_kafka=False, keeps_signing_keys=True),
    ServiceSpec("billing", 4001, "pms_billing", uses_kafka=True, verifies_tokens=True,
                serves_grpc=True),
    ServiceSpec("patients", 4000, "pms_patients", uses_kafka=True, verifies_tokens=True,
                calls_billing_grpc=True),
    ServiceSpec("analytics", 4002, "pms_analytics", uses_kafka=True, verifies_tokens=True),
    ServiceSpec("gateway", 4004, None, uses_kafka=False, verifies_tokens=True,
                upstreams=("auth", "patients", "billing", "analytics")),
)  # fmt: skip


def service_named(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError(name)


@dataclass(frozen=True)
class PlatformPorts:
    """Where one platform's services listen; every URL between them follows from it."""

    http: Mapping[str, int]
    """HTTP port by service name."""
    billing_grpc: int
    offset: int = 0

    def url_of(self, service: str) -> str:
        return f"http://{HOST}:{self.http[service]}"

    @property
    def gateway_url(self) -> str:
        return self.url_of("gateway")

    @property
    def jwks_url(self) -> str:
        return self.url_of("auth") + JWKS_PATH

    @property
    def billing_grpc_target(self) -> str:
        return f"{HOST}:{self.billing_grpc}"

    @property
    def services(self) -> tuple[ServiceSpec, ...]:
        """`SERVICES` on these ports (their ``base_url`` is where they answer)."""
        return tuple(replace(spec, http_port=self.http[spec.name]) for spec in SERVICES)

    @property
    def all_ports(self) -> tuple[int, ...]:
        return (*self.http.values(), self.billing_grpc)


def platform_ports(environ: Mapping[str, str] | None = None) -> PlatformPorts:
    """The ports that ``environ`` (the process environment by default) chooses."""
    env = os.environ if environ is None else environ
    offset = port_offset(env)
    http = {
        spec.name: port_setting(env, f"{spec.env_prefix}HTTP_PORT", spec.http_port + offset)
        for spec in SERVICES
    }
    billing = service_named("billing")
    grpc = port_setting(env, f"{billing.env_prefix}GRPC_PORT", DEFAULT_BILLING_GRPC_PORT + offset)
    ports = PlatformPorts(http, grpc, offset)
    twice = sorted(port for port, count in Counter(ports.all_ports).items() if count > 1)
    if twice:
        raise InfraError(f"two services of the platform would listen on port {twice[0]}")
    return ports
