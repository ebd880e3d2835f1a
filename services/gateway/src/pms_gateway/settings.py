"""Settings of the gateway service, from ``PMS_GATEWAY_*`` environment variables."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, model_validator
from pydantic_settings import SettingsConfigDict

from pms_gateway.routes import ROUTES
from pms_platform.security import TokenSettings

MIB = 1024 * 1024
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*$")


@dataclass(frozen=True)
class RateSpec:
    """``count`` requests per ``period_seconds``: a token bucket of ``count`` tokens that
    refills at ``count / period_seconds`` tokens a second (so bursts up to ``count``)."""

    count: int
    period_seconds: float

    @property
    def tokens_per_second(self) -> float:
        return self.count / self.period_seconds


def parse_rate(value: Any) -> RateSpec | None:
    """``"5/60s"`` (5 per minute), ``"100/1s"``; ``"off"`` disables the limit."""
    if value is None or isinstance(value, RateSpec):
        return value
    text = str(value).strip().lower()
    if text in {"off", "none", "0", ""}:
        return None
    match = _RATE.fullmatch(text)
    if match is None or int(match[1]) < 1 or float(match[2]) <= 0:
        raise ValueError(f"a rate is written COUNT/SECONDS like 5/60s, or off; got {value!r}")
    return RateSpec(int(match[1]), float(match[2]))


Rate = Annotated[RateSpec | None, BeforeValidator(parse_rate)]


class GatewaySettings(TokenSettings):
    model_config = SettingsConfigDict(env_prefix="PMS_GATEWAY_", extra="ignore", frozen=True)

    service_name: str = "gateway"
    http_port: int = 4004
    workers: int = Field(default=1, ge=1, le=64)
    # Empty: X-Forwarded-* from clients is never trusted (the gateway is the edge). Behind a
    # load balancer, its addresses (comma-separated, or "*") make uvicorn take the client
    # address from X-Forwarded-For.
    forwarded_allow_ips: str = ""

    auth_url: str = "http://127.0.0.1:4005"
    patients_url: str = "http://127.0.0.1:4000"
    billing_url: str = "http://127.0.0.1:4001"
    analytics_url: str = "http://127.0.0.1:4002"

    upstream_connect_timeout_seconds: float = Field(default=1.0, gt=0)
    upstream_response_timeout_seconds: float = Field(default=15.0, gt=0)
    # Per route pattern of the table in routes.py, e.g. {"/api/analytics/**": 60}.
    route_response_timeouts: dict[str, float] = Field(default_factory=dict)
    upstream_retries: int = Field(default=2, ge=0, le=5)
    upstream_pool_size: int = Field(default=100, ge=1)
    # Below uvicorn's 5 s keep-alive so that we drop an idle connection before the
    # upstream does: a request written into a connection the upstream just closed fails.
    upstream_keepalive_seconds: float = Field(default=4.0, gt=0)
    upstream_health_timeout_seconds: float = Field(default=1.0, gt=0)

    circuit_failure_threshold: int = Field(default=5, ge=1)
    circuit_open_seconds: float = Field(default=5.0, gt=0)

    max_body_bytes: int = Field(default=MIB, ge=0)
    # Slow clients: a request head must be complete this long after the connection (or
    # the request's first byte), a body within this long of its head; else 408 and the
    # connection is closed. The body is read whole before an upstream connection is taken.
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    body_timeout_seconds: float = Field(default=15.0, gt=0)
    # Requests one client (user id, else address) may have in flight; beyond: 429. 0: off.
    max_concurrent_requests_per_client: int = Field(default=16, ge=0)

    rate_limit_login_per_address: Rate = RateSpec(20, 60.0)
    rate_limit_login_per_email: Rate = RateSpec(5, 60.0)
    rate_limit_api_per_user: Rate = RateSpec(200, 10.0)

    cors_allow_origins: list[str] = Field(default_factory=list)
    cors_allow_credentials: bool = False

    # The built web console served at / (pms_gateway.console); unset: the repository's
    # console/dist. A folder without index.html: / says the console is not built.
    console_dir: Path | None = None

    @property
    def upstream_urls(self) -> dict[str, str]:
        return {
            "auth": self.auth_url,
            "patients": self.patients_url,
            "billing": self.billing_url,
            "analytics": self.analytics_url,
        }

    @model_validator(mode="before")
    @classmethod
    def _jwks_from_auth_url(cls, data: Any) -> Any:
        """The JWKS lives on auth: follow ``AUTH_URL`` unless ``AUTH_JWKS_URL`` is set."""
        if isinstance(data, dict) and data.get("auth_url") and not data.get("auth_jwks_url"):
            data = {**data, "auth_jwks_url": str(data["auth_url"]).rstrip("/")}
            data["auth_jwks_url"] += "/.well-known/jwks.json"
        return data

    @model_validator(mode="after")
    def _route_timeouts_name_known_routes(self) -> Self:
        known = {rule.pattern for rule in ROUTES}
        unknown = sorted(set(self.route_response_timeouts) - known)
        if unknown:
            raise ValueError(f"route_response_timeouts names unknown routes: {unknown}")
        return self
