"""Settings of the auth service, from ``PMS_AUTH_*`` environment variables.

The defaults are development values: a signing key generated on first start and kept
under the state folder, demo users with the password ``password123``. Production mode
refuses to start without configured signing keys or with the demo admin password.
"""

import os
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from pms_platform.request_context import IpNetwork
from pms_platform.security import TOKEN_AUDIENCE, TOKEN_ISSUER
from pms_platform.settings import DatabaseSettings, Environment, KafkaSettings, networks_from_text

DEVELOPMENT_PASSWORD = "password123"  # noqa: S105 - the original's demo password, dev only
ORIGINAL_ADMIN_EMAIL = "testuser@test.com"
DEMO_CLINICIAN_EMAIL = "clinician@test.com"
DEMO_ANALYST_EMAIL = "analyst@test.com"


def _default_key_dir() -> Path:
    """``$PMS_STATE_DIR/auth-keys``, or ``.pms/auth-keys`` under the working folder (the
    launcher runs services from the repository root, whose ``.pms/`` is git-ignored)."""
    state_dir = os.environ.get("PMS_STATE_DIR", "").strip()
    return (Path(state_dir).expanduser() if state_dir else Path.cwd() / ".pms") / "auth-keys"


class AuthSettings(DatabaseSettings, KafkaSettings):
    model_config = SettingsConfigDict(env_prefix="PMS_AUTH_", extra="ignore", frozen=True)

    service_name: str = "auth"
    http_port: int = 4005
    database_url: str = "postgresql+asyncpg://pms:pms@127.0.0.1:54329/pms_auth"
    kafka_client_id: str = "pms-auth"

    # Tokens.
    token_issuer: str = TOKEN_ISSUER
    token_audience: str = TOKEN_AUDIENCE
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=10, le=24 * 3600)
    refresh_token_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    # Where a browser's session cookie goes: the session endpoints' path at the gateway.
    refresh_cookie_path: str = Field(default="/auth/session", pattern=r"^/[\w/.-]*$")

    # Signing keys: the current private key (PEM value or file) and, for rotation, the
    # public keys of previous ones (PEM blocks, concatenated) that the JWKS keeps serving.
    signing_key: SecretStr | None = None
    signing_key_file: Path | None = None
    previous_public_keys: str | None = None
    previous_public_keys_file: Path | None = None
    development_key_dir: Path = Field(default_factory=_default_key_dir)

    # Passwords: argon2id with OWASP's minimum (19 MiB, 2 iterations, 1 lane).
    argon2_memory_cost_kib: int = Field(default=19_456, ge=8)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_parallelism: int = Field(default=1, ge=1)

    # Brute-force protection: failures per account and per client address within the
    # window; past the threshold a lock of base seconds, doubling per lock, up to max.
    lockout_account_threshold: int = Field(default=5, ge=1)
    lockout_address_threshold: int = Field(default=20, ge=1)
    lockout_window_seconds: float = Field(default=15 * 60, gt=0)
    lockout_base_seconds: float = Field(default=60, gt=0)
    lockout_max_seconds: float = Field(default=3600, gt=0)
    # Peers whose X-Forwarded-For is believed (the gateway); comma-separated IPs/CIDRs.
    # Loopback by default, like uvicorn's own default: the local gateway is a proxy.
    trusted_proxies: Annotated[tuple[IpNetwork, ...], NoDecode] = (
        ip_network("127.0.0.0/8"),
        ip_network("::1/128"),
    )

    # Users created on first start: the original's admin always; demo users in development.
    seed_admin_email: str = ORIGINAL_ADMIN_EMAIL
    seed_admin_password: SecretStr = SecretStr(DEVELOPMENT_PASSWORD)
    seed_clinician_password: SecretStr = SecretStr(DEVELOPMENT_PASSWORD)
    seed_analyst_password: SecretStr = SecretStr(DEVELOPMENT_PASSWORD)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        return networks_from_text(value)

    @property
    def seeds_demo_users(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    @property
    def has_configured_signing_key(self) -> bool:
        return self.signing_key is not None or self.signing_key_file is not None

    def development_secrets_in_use(self) -> list[str]:
        found = super().development_secrets_in_use()
        if not self.has_configured_signing_key:
            found.append("signing_key (or signing_key_file)")
        if self.seed_admin_password.get_secret_value() == DEVELOPMENT_PASSWORD:
            found.append("seed_admin_password")
        return found
