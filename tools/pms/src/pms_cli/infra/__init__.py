"""Local PostgreSQL and Apache Kafka for development and tests, without Docker.

The launcher's API: `ensure_infra` starts (or reuses, or adopts external) infra and
returns its endpoints, `stop_infra` stops what one `ensure_infra` call started, and
`database_url` points the admin URL at a service's database.
"""

from pms_cli.infra.errors import InfraError
from pms_cli.infra.kafka_admin import PROJECT_TOPICS
from pms_cli.infra.manager import (
    InfraEndpoints,
    StartedInfra,
    ensure_infra,
    stop_infra,
    stop_local_infra,
)
from pms_cli.infra.postgres_setup import SERVICE_DATABASES
from pms_cli.infra.status import infra_status
from pms_cli.infra.urls import database_url

__all__ = [
    "PROJECT_TOPICS",
    "SERVICE_DATABASES",
    "InfraEndpoints",
    "InfraError",
    "StartedInfra",
    "database_url",
    "ensure_infra",
    "infra_status",
    "stop_infra",
    "stop_local_infra",
]
