"""What a bench run does: the options a person gives and the plan (durations and
load levels) of the quick and the full mode."""

from dataclasses import dataclass, field
from pathlib import Path

from httpx import URL

from pms_cli.services import PlatformPorts, platform_ports

SCENARIOS = (
    "read",
    "read-direct",
    "ceiling",
    "read-100k",
    "create",
    "mixed",
    "login",
    "events",
    "replay",
    "console",
    "resources",
)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Plan:
    seconds: float  # each closed-loop or fixed-rate run
    warmup_seconds: float
    read_connections: tuple[int, ...]
    create_connections: tuple[int, ...]
    mixed_connections: tuple[int, ...]
    login_connections: tuple[int, ...]
    rate_fractions: tuple[float, ...]  # fixed rates, as fractions of the closed-loop peak
    rate_connections: int
    scale_connections: tuple[int, ...]  # read-100k: the default page, closed loop
    search_connections: int  # read-100k: the search, closed loop at low concurrency
    events_seconds: float
    events_extra_rates: tuple[float, ...]  # besides --events-rate: a rate it can sustain
    ceiling_clients: tuple[int, ...]
    profile_seconds: float


QUICK = Plan(
    seconds=3,
    warmup_seconds=2,
    read_connections=(1, 16, 64),
    create_connections=(16,),
    mixed_connections=(16,),
    login_connections=(16,),
    rate_fractions=(0.5, 0.9),
    rate_connections=64,
    scale_connections=(16,),
    search_connections=1,
    events_seconds=5,
    events_extra_rates=(50.0,),
    ceiling_clients=(16,),
    profile_seconds=5,
)

FULL = Plan(
    seconds=10,
    warmup_seconds=5,
    read_connections=(1, 16, 64),
    create_connections=(1, 16),
    mixed_connections=(16, 64),
    login_connections=(1, 16),
    rate_fractions=(0.25, 0.5, 0.75, 0.9),
    rate_connections=64,
    scale_connections=(16,),
    search_connections=1,
    events_seconds=20,
    events_extra_rates=(50.0,),
    ceiling_clients=(1, 16),
    profile_seconds=10,
)


def our_ports() -> PlatformPorts:
    """Where our local platform listens (SYSTEM.md's ports, or moved by
    ``PMS_PORT_OFFSET``): read when needed, never a constant."""
    return platform_ports()


def default_target() -> str:
    return our_ports().gateway_url


@dataclass(frozen=True)
class BenchOptions:
    target: str = field(default_factory=default_target)
    user: str = "testuser@test.com"
    password: str = "password123"  # noqa: S105 - the development demo user
    quick: bool = False
    scenarios: tuple[str, ...] = SCENARIOS
    patients_url: str | None = None
    auth_url: str | None = None
    postgres_url: str | None = None
    out_dir: Path = Path("bench/results")
    start_platform: bool = True
    profile: bool = False
    seconds: float | None = None
    events_rate: float | None = None  # None: 80 % of the run's create peak
    min_patients: int = 1000
    install_oha: bool = True
    cleanup: bool = False
    watch_ports: dict[str, int] = field(default_factory=dict)  # --watch-port NAME=PORT
    watch_pids: dict[str, int] = field(default_factory=dict)  # --watch-pid NAME=PID
    foreign_target: bool = False
    """Set by the run when the target has no ``/health/ready`` (another implementation,
    the original Java gateway): then none of our services' URLs is assumed."""

    @property
    def plan(self) -> Plan:
        base = QUICK if self.quick else FULL
        if self.seconds is None:
            return base
        return Plan(**{**base.__dict__, "seconds": self.seconds})

    @property
    def target_is_local(self) -> bool:
        return URL(self.target).host in LOCAL_HOSTS

    @property
    def target_is_default_gateway(self) -> bool:
        url = URL(self.target)
        return url.host in LOCAL_HOSTS and url.port == our_ports().http["gateway"]

    @property
    def direct_patients_url(self) -> str | None:
        """The patients service itself (``read-direct``): given, or ours when the target
        is the local gateway."""
        if self.patients_url:
            return self.patients_url
        return our_ports().url_of("patients") if self._ours_by_default else None

    @property
    def direct_auth_url(self) -> str | None:
        if self.auth_url:
            return self.auth_url
        return our_ports().url_of("auth") if self._ours_by_default else None

    @property
    def _ours_by_default(self) -> bool:
        return self.target_is_default_gateway and not self.foreign_target

    def wants(self, scenario: str) -> bool:
        return scenario in self.scenarios


def parse_scenarios(text: str) -> tuple[str, ...]:
    """``"read,create"`` -> the scenarios in the suite's order; ``all`` for every one."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names or names == ["all"]:
        return SCENARIOS
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        raise ValueError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    return tuple(name for name in SCENARIOS if name in names)
