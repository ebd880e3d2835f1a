"""Settings of the billing service, from ``PMS_BILLING_*`` environment variables."""

from pydantic_settings import SettingsConfigDict

from pms_platform.settings import DatabaseSettings, KafkaSettings


class BillingSettings(DatabaseSettings, KafkaSettings):
    model_config = SettingsConfigDict(env_prefix="PMS_BILLING_", extra="ignore", frozen=True)

    service_name: str = "billing"
    http_port: int = 4001
    database_url: str = "postgresql+asyncpg://pms:pms@127.0.0.1:54329/pms_billing"
    kafka_client_id: str = "pms-billing"
    grpc_port: int = 9001
