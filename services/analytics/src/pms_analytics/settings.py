"""Settings of the analytics service, from ``PMS_ANALYTICS_*`` environment variables."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from pms_platform.security import TokenSettings
from pms_platform.settings import ConsumerSettings, DatabaseSettings


class AnalyticsSettings(DatabaseSettings, ConsumerSettings, TokenSettings):
    model_config = SettingsConfigDict(env_prefix="PMS_ANALYTICS_", extra="ignore", frozen=True)

    service_name: str = "analytics"
    http_port: int = 4002
    database_url: str = "postgresql+asyncpg://pms:pms@127.0.0.1:54329/pms_analytics"
    kafka_client_id: str = "pms-analytics"
    patient_topic: str = "patient"
    patient_dead_letter_topic: str = "patient.DLT"
    billing_topic: str = "billing"
    billing_dead_letter_topic: str = "billing.DLT"
    consumer_group: str = "analytics-service"
    consumer_max_poll_records: int = Field(default=500, ge=1)
    consumer_fetch_max_wait_ms: int = Field(
        default=50,
        ge=0,
        description="How long the broker may hold a fetch with nothing new: also the delay "
        "an idle topic can add to a busy one (one fetch in flight per broker).",
    )
    rebuild_idle_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="`rebuild` gives up when the replay makes no progress for this long.",
    )

    @property
    def topics(self) -> list[str]:
        return [self.patient_topic, self.billing_topic]

    @property
    def dead_letter_topics(self) -> dict[str, str]:
        return {
            self.patient_topic: self.patient_dead_letter_topic,
            self.billing_topic: self.billing_dead_letter_topic,
        }
