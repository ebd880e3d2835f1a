"""The metrics an idempotent consumer exports, named with the service's prefix
(``analytics``, ``billing``), in the app's registry:

- ``<prefix>_events_processed_total{topic,outcome}``: outcome ``applied``,
  ``duplicate`` (applied before: a redelivery), ``dead_lettered`` or ``ignored`` (of a
  kind the service's handler does not apply);
- ``<prefix>_events_failed_total{topic,error_type}``: events sent to the dead-letter
  topic, by the error that sent them there;
- ``<prefix>_consumer_lag{topic,partition}``: records not yet consumed per assigned
  partition (high-water mark minus position), refreshed after every poll.
"""

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge

from pms_platform.kafka import PartitionKey


class ConsumerMetrics:
    """One consumer's metrics; registering them twice in one registry is an error."""

    def __init__(self, registry: CollectorRegistry, prefix: str) -> None:
        self.processed = Counter(
            f"{prefix}_events_processed_total",
            "Events consumed, by topic and outcome (applied, duplicate, dead_lettered, ignored)",
            ["topic", "outcome"],
            registry=registry,
        )
        self.failed = Counter(
            f"{prefix}_events_failed_total",
            "Events sent to the dead-letter topic, by topic and error type",
            ["topic", "error_type"],
            registry=registry,
        )
        self.lag = Gauge(
            f"{prefix}_consumer_lag",
            "Records not yet consumed per assigned partition (high-water mark - position)",
            ["topic", "partition"],
            registry=registry,
        )
        self._lag_labels: set[tuple[str, str]] = set()

    def observe_lag(self, lags: Mapping[PartitionKey, int]) -> None:
        """Show exactly the partitions of ``lags`` (revoked ones disappear)."""
        labels = {(topic, str(partition)): lag for (topic, partition), lag in lags.items()}
        for gone in self._lag_labels - labels.keys():
            self.lag.remove(*gone)
        for label, lag in labels.items():
            self.lag.labels(*label).set(lag)
        self._lag_labels = set(labels)
