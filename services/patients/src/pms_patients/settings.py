"""Settings of the patients service, from ``PMS_PATIENTS_*`` environment variables."""

from pydantic_settings import SettingsConfigDict

from pms_platform.settings import DatabaseSettings, KafkaSettings


class PatientsSettings(DatabaseSettings, KafkaSettings):
    model_config = SettingsConfigDict(env_prefix="PMS_PATIENTS_", extra="ignore", frozen=True)

    service_name: str = "patients"
    http_port: int = 4000
    database_url: str = "postgresql+asyncpg://pms:pms@127.0.0.1:54329/pms_patients"
    kafka_client_id: str = "pms-patients"
