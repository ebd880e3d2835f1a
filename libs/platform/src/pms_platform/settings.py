"""Typed settings read from environment variables, validated at start.

Every service subclasses :class:`ServiceSettings` with its own ``env_prefix``
(``PMS_PATIENTS_``, ``PMS_AUTH_``...). The defaults are development values that
make ``pms up`` work on a laptop; production mode refuses to start with them.
"""

from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated, Any, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_DATABASE_CREDENTIALS = "pms:pms@"
"""The user and password of the local development cluster that ``pms infra up`` creates."""


IpNetwork = IPv4Network | IPv6Network
PRIVATE_NETWORKS: tuple[IpNetwork, ...] = tuple(
    ip_network(network)
    for network in (
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
    )
)
"""Loopback and the private ranges: where a monitoring system scrapes from."""


def networks_from_text(value: Any) -> Any:
    """A setting's comma-separated IPs/CIDRs (``"10.0.0.0/8, ::1"``) as networks; other
    values (already parsed defaults) unchanged."""
    if isinstance(value, str):
        return tuple(ip_network(part.strip()) for part in value.split(",") if part.strip())
    return value


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class DevelopmentSecretInProductionError(ValueError):
    """A setting still holds a development default while the environment is production."""


class ServiceSettings(BaseSettings):
    """Settings common to every service; subclasses set ``env_prefix`` and their defaults."""

    model_config = SettingsConfigDict(env_prefix="PMS_", extra="ignore", frozen=True)

    service_name: str = "pms"
    environment: Environment = Environment.DEVELOPMENT
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    log_json: bool = True
    shutdown_grace_seconds: float = Field(default=10.0, gt=0)
    background_workers: bool = Field(
        default=True,
        description="Run the service's background workers (outbox relay, event consumers, "
        "retry loops); off, the service only answers requests.",
    )
    # Load shedding (pms_platform.load_shedding): requests beyond this many in flight get
    # an immediate 503 with Retry-After instead of a place in an unbounded queue.
    max_concurrent_requests: int = Field(default=128, ge=0, description="0: no bound.")
    # Who may read /metrics (the client's address, as resolved behind trusted proxies);
    # everyone else gets the 404 of an unknown path. The gateway is the public edge.
    metrics_allowed_networks: Annotated[tuple[IpNetwork, ...], NoDecode] = PRIVATE_NETWORKS

    @field_validator("metrics_allowed_networks", mode="before")
    @classmethod
    def _split_metrics_networks(cls, value: Any) -> Any:
        return networks_from_text(value)

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    def development_secrets_in_use(self) -> list[str]:
        """Names of settings that still hold a development-only secret.

        Subclasses extend this list (signing keys, database passwords...).
        """
        return []

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> Self:
        if self.is_production:
            offending = self.development_secrets_in_use()
            if offending:
                raise DevelopmentSecretInProductionError(
                    "production mode refuses development defaults for: " + ", ".join(offending)
                )
        return self


class DatabaseSettings(ServiceSettings):
    """Settings of a service that owns a PostgreSQL database."""

    database_url: str = "postgresql+asyncpg://pms:pms@127.0.0.1:54329/pms"
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    database_statement_timeout_ms: int = Field(default=15_000, ge=0)
    # How long a request waits for a pooled connection before its 503: well below the
    # gateway's 15 s, so no request's work starts after its caller has given up on it.
    database_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    # How long opening one connection may take, name lookup included, before it is given
    # up (asyncpg's own default is 60 s, four times the gateway's patience): a lookup whose
    # answer was lost, or a server that accepts and never answers, costs a 503, not a hang.
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0)

    def development_secrets_in_use(self) -> list[str]:
        found = super().development_secrets_in_use()
        if DEVELOPMENT_DATABASE_CREDENTIALS in self.database_url:
            found.append("database_url")
        return found


class KafkaSettings(ServiceSettings):
    """Settings of a service that talks to Kafka."""

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_client_id: str = "pms"


class ConsumerSettings(KafkaSettings):
    """Settings of a service that consumes events with the platform's consumer."""

    consumer_offset_commit_interval_seconds: float = Field(
        default=1.0,
        ge=0,
        description="The longest the consumer's offsets wait before they are committed "
        "together (0: after every batch). Sooner when it catches up or dead-letters an "
        "event, and at a stop; applied events are recognised by their keys, so a member "
        "that dies meanwhile only costs skipped duplicates.",
    )
    consumer_gather_max_wait_ms: int = Field(
        default=10,
        ge=0,
        description="After a poll that brought more than one event, how long the broker may "
        "gather the next ones into one fetch (0: never). A lone event never waits.",
    )


class OutboxSettings(KafkaSettings):
    """Settings of a service that publishes events through the platform's outbox."""

    # The relay is woken by NOTIFY; these pace its safety looks for rows it was not told
    # of (see pms_platform.outbox_relay): the first after activity (and the steady poll
    # while LISTEN is down), then doubling while idle up to the maximum.
    outbox_poll_interval_seconds: float = Field(
        default=1.0, gt=0, description="The relay's first safety look after activity."
    )
    outbox_max_poll_interval_seconds: float = Field(
        default=30.0, gt=0, description="The longest pause between the relay's safety looks."
    )
    outbox_linger_seconds: float = Field(
        default=0.015,
        ge=0,
        description="After a pass that published more than one event, how long the relay "
        "lets new ones gather before the next pass (0: never). A lone event never waits.",
    )
