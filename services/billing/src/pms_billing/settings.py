"""Settings of the billing service, from ``PMS_BILLING_*`` environment variables."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from pms_platform.security import TokenSettings
from pms_platform.settings import ConsumerSettings, DatabaseSettings, OutboxSettings


class BillingSettings(DatabaseSettings, OutboxSettings, ConsumerSettings, TokenSettings):
    model_config = SettingsConfigDict(env_prefix="PMS_BILLING_", extra="ignore", frozen=True)

    service_name: str = "billing"
    http_port: int = 4001
    database_url: str = "postgresql+asyncpg://pms:pms@127.0.0.1:54329/pms_billing"
    kafka_client_id: str = "pms-billing"
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=9001, ge=0, le=65535, description="0 picks a free port.")
    grpc_max_concurrent_rpcs: int = Field(
        default=256, ge=1, description="Calls beyond this are refused with RESOURCE_EXHAUSTED."
    )
    patient_topic: str = "patient"
    patient_dead_letter_topic: str = "patient.DLT"
    billing_topic: str = "billing"
    consumer_group: str = "billing-service"
