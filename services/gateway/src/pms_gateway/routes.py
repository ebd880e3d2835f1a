"""The route table: which gateway paths go to which upstream, rewritten how, and who may call.

``/x/**`` matches ``/x`` itself and everything below it; the part below is appended to the
upstream pattern's prefix (``/api/patients/7`` -> ``/patients/7``). Rules are tried in
order, so exact paths come before the wildcard that would also match them. A path that no
rule matches is a 404; the gateway forwards nothing it was not told to.

``roles`` is the coarse check the gateway makes (a verified token with one of these
roles); the services check every token and their finer rules again. ``roles=None`` means
the gateway checks no token: auth decides per endpoint (login, validate, JWKS are open).
"""

from dataclasses import dataclass, field

from pms_platform.security import Role

WILDCARD = "/**"


@dataclass(frozen=True)
class RouteRule:
    pattern: str
    upstream: str
    upstream_pattern: str
    methods: frozenset[str] | None = None
    roles: frozenset[Role] | None = None
    login: bool = False
    """Login attempts: limited per client address and per email, before auth sees them."""
    connect_timeout_seconds: float | None = None
    response_timeout_seconds: float | None = None
    prefix: str = field(init=False)
    upstream_prefix: str = field(init=False)
    wildcard: bool = field(init=False)
    _below: tuple[str, ...] = field(init=False, repr=False)
    """What the paths below ``prefix`` start with (none when not ``wildcard``)."""

    def __post_init__(self) -> None:
        wildcard = self.pattern.endswith(WILDCARD)
        if wildcard != self.upstream_pattern.endswith(WILDCARD):
            raise ValueError(f"{self.pattern}: both patterns end with /** or neither does")
        prefix = self.pattern.removesuffix(WILDCARD)
        object.__setattr__(self, "prefix", prefix)
        object.__setattr__(self, "upstream_prefix", self.upstream_pattern.removesuffix(WILDCARD))
        object.__setattr__(self, "wildcard", wildcard)
        # Computed once: the gateway matches every request against these rows in turn.
        object.__setattr__(self, "_below", (prefix + "/",) if wildcard else ())

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return path == self.prefix or path.startswith(self._below)

    def rewrite(self, path: str) -> str:
        """The upstream path of a gateway ``path`` that this rule matched (raw or decoded)."""
        if not self.wildcard:
            return self.upstream_prefix
        return (self.upstream_prefix + path[len(self.prefix) :]) or "/"

    @property
    def public_base(self) -> str | None:
        """Where the upstream's own paths live on the gateway (``/api`` for ``/patients/**``
        behind ``/api/patients/**``), for the ``servers`` entry of its OpenAPI document."""
        if self.wildcard and self.prefix.endswith(self.upstream_prefix):
            return self.prefix.removesuffix(self.upstream_prefix) or "/"
        return None


ADMIN, CLINICIAN, ANALYST = Role.ADMIN, Role.CLINICIAN, Role.ANALYST


def _roles(*roles: Role) -> frozenset[Role]:
    return frozenset(roles)


# fmt: off
ROUTES: tuple[RouteRule, ...] = (
    #         gateway path          upstream     upstream path   who may call (checked here)
    RouteRule("/auth/login",        "auth",      "/login",       methods=frozenset({"POST"}),
              login=True),
    RouteRule("/auth/validate",     "auth",      "/validate",    methods=frozenset({"GET"})),
    RouteRule("/auth/**",           "auth",      "/**"),
    RouteRule("/api/patients/**",   "patients",  "/patients/**", roles=_roles(ADMIN, CLINICIAN)),
    RouteRule("/api/audit/**",      "patients",  "/audit/**",    roles=_roles(ADMIN)),
    RouteRule("/api/billing/**",    "billing",   "/billing/**",  roles=_roles(ADMIN, CLINICIAN)),
    RouteRule("/api/analytics/**",  "analytics", "/analytics/**", roles=_roles(ANALYST, ADMIN)),
)
# fmt: on


# Every service serves these for its operators; none of them is public, whatever a
# route's rewrite would make of a client's path (``/auth/metrics`` -> auth ``/metrics``).
INTERNAL_UPSTREAM_PATHS = ("/metrics", "/health")
_BELOW_INTERNAL = tuple(internal + "/" for internal in INTERNAL_UPSTREAM_PATHS)


def is_internal(upstream_path: str) -> bool:
    return upstream_path in INTERNAL_UPSTREAM_PATHS or upstream_path.startswith(_BELOW_INTERNAL)


def find_route(method: str, path: str, routes: tuple[RouteRule, ...] = ROUTES) -> RouteRule | None:
    for rule in routes:
        if rule.matches(method, path):
            return rule
    return None
