"""The gateway's own Prometheus metrics, next to the platform's per-route request metrics."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.upstream_latency = Histogram(
            "gateway_upstream_response_seconds",
            "Time from sending a request upstream to its response headers",
            ["upstream", "route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.upstream_failures = Counter(
            "gateway_upstream_failures_total",
            "Requests that got no answer from the upstream, by reason",
            ["upstream", "reason"],
            registry=registry,
        )
        self.upstream_retries = Counter(
            "gateway_upstream_retries_total",
            "Attempts repeated after a connection failure (idempotent methods only)",
            ["upstream"],
            registry=registry,
        )
        self.circuit_open = Gauge(
            "gateway_circuit_open",
            "1 while the upstream's circuit breaker is open or half-open",
            ["upstream"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "gateway_rate_limited_total",
            "Requests refused with 429, by limit",
            ["limit"],
            registry=registry,
        )
