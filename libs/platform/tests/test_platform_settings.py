import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from pms_platform.settings import DatabaseSettings, DevelopmentSecretInProductionError


class ExampleSettings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="PMS_EXAMPLE_", extra="ignore", frozen=True)


def test_settings_are_read_from_the_service_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMS_EXAMPLE_HTTP_PORT", "4123")
    monkeypatch.setenv("PMS_OTHER_HTTP_PORT", "9999")
    assert ExampleSettings().http_port == 4123


def test_invalid_settings_are_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMS_EXAMPLE_HTTP_PORT", "not-a-port")
    with pytest.raises(ValidationError):
        ExampleSettings()


def test_production_refuses_the_development_database_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PMS_EXAMPLE_ENVIRONMENT", "production")
    with pytest.raises(ValidationError) as raised:
        ExampleSettings()
    assert "database_url" in str(raised.value)
    assert isinstance(raised.value.errors()[0]["ctx"]["error"], DevelopmentSecretInProductionError)


def test_production_accepts_configured_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMS_EXAMPLE_ENVIRONMENT", "production")
    monkeypatch.setenv("PMS_EXAMPLE_DATABASE_URL", "postgresql+asyncpg://app:s3cret@db/pms")
    assert ExampleSettings().is_production


def test_development_mode_accepts_development_defaults() -> None:
    assert not ExampleSettings().is_production
