"""Settings of the gateway service, from ``PMS_GATEWAY_*`` environment variables."""

from pydantic_settings import SettingsConfigDict

from pms_platform.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PMS_GATEWAY_", extra="ignore", frozen=True)

    service_name: str = "gateway"
    http_port: int = 4004
