"""Settings of the auth service, from ``PMS_AUTH_*`` environment variables."""

from pydantic_settings import SettingsConfigDict

from pms_platform.settings import DatabaseSettings, KafkaSettings


class AuthSettings(DatabaseSettings, KafkaSettings):
    model_config = SettingsConfigDict(env_prefix="PMS_AUTH_", extra="ignore", frozen=True)

    service_name: str = "auth"
    http_port: int = 4005
    database_url: str = "postgresql+asyncpg://pms:pms@127.0.0.1:54329/pms_auth"
    kafka_client_id: str = "pms-auth"
