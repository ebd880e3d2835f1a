"""Settings of the analytics service, from ``PMS_ANALYTICS_*`` environment variables."""

from pydantic_settings import SettingsConfigDict

from pms_platform.settings import DatabaseSettings, KafkaSettings


class AnalyticsSettings(DatabaseSettings, KafkaSettings):
    model_config = SettingsConfigDict(env_prefix="PMS_ANALYTICS_", extra="ignore", frozen=True)

    service_name: str = "analytics"
    http_port: int = 4002
    database_url: str = "postgresql+asyncpg://pms:pms@127.0.0.1:54329/pms_analytics"
    kafka_client_id: str = "pms-analytics"
