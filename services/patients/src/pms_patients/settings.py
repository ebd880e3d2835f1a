"""Settings of the patients service, from ``PMS_PATIENTS_*`` environment variables."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from pms_platform.security import TokenSettings
from pms_platform.settings import DatabaseSettings, OutboxSettings


class PatientsSettings(DatabaseSettings, OutboxSettings, TokenSettings):
    model_config = SettingsConfigDict(env_prefix="PMS_PATIENTS_", extra="ignore", frozen=True)

    service_name: str = "patients"
    http_port: int = 4000
    database_url: str = "postgresql+asyncpg://pms:pms@127.0.0.1:54329/pms_patients"
    kafka_client_id: str = "pms-patients"
    patient_topic: str = "patient"
    billing_grpc_target: str = "127.0.0.1:9001"
    billing_deadline_seconds: float = Field(default=1.0, gt=0)
    billing_retry_interval_seconds: float = Field(default=1.0, gt=0)
    billing_retry_max_delay_seconds: float = Field(default=60.0, gt=0)
    seed_demo_patients: bool | None = Field(
        default=None, description="Seed the demo patients; by default only in development."
    )

    @property
    def seeds_demo_patients(self) -> bool:
        if self.seed_demo_patients is None:
            return self.environment.value == "development"
        return self.seed_demo_patients
