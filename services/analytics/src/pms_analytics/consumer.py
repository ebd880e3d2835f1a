"""The platform's idempotent consumer on the ``patient`` and ``billing`` topics, with
its work exported on ``/metrics``:

- ``analytics_events_processed_total{topic,outcome}``: outcome ``applied``,
  ``duplicate`` (applied before: a redelivery) or ``dead_lettered``;
- ``analytics_events_failed_total{topic,error_type}``: events sent to the dead-letter
  topic, by the error that sent them there;
- ``analytics_consumer_lag{topic,partition}``: records not yet consumed per assigned
  partition (high-water mark minus position), refreshed after every poll.
"""

import collections
from collections.abc import AsyncIterator, Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge

from pms_analytics.aggregates import AnalyticsChange
from pms_analytics.events import AnalyticsEventHandler
from pms_analytics.models import processed_events
from pms_analytics.settings import AnalyticsSettings
from pms_platform.db import Database
from pms_platform.event_consumer import IdempotentConsumer
from pms_platform.kafka import (
    ConsumedEvent,
    DeliveredEvent,
    EventConsumer,
    EventProducer,
    PartitionKey,
    ProtobufMessage,
)
from pms_platform.logging import get_logger

_log = get_logger("pms.analytics.consumer")

DeadLetterFilter = Callable[[Mapping[str, str]], bool]
"""Given a dead letter's headers, whether to send it (the rebuild skips some)."""


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.processed = Counter(
            "analytics_events_processed_total",
            "Events consumed, by topic and outcome (applied, duplicate, dead_lettered)",
            ["topic", "outcome"],
            registry=registry,
        )
        self.failed = Counter(
            "analytics_events_failed_total",
            "Events sent to the dead-letter topic, by topic and error type",
            ["topic", "error_type"],
            registry=registry,
        )
        self.lag = Gauge(
            "analytics_consumer_lag",
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


class _MeteredEventConsumer(EventConsumer):
    """Refreshes the lag gauges after the events of each poll were handled."""

    def __init__(
        self, settings: AnalyticsSettings, group_id: str, metrics: ConsumerMetrics
    ) -> None:
        super().__init__(
            settings.kafka_bootstrap_servers,
            settings.topics,
            group_id=group_id,
            client_id=settings.kafka_client_id,
            max_poll_records=settings.consumer_max_poll_records,
            fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        )
        self._metrics = metrics

    async def batches(self, timeout_ms: int = 500) -> AsyncIterator[list[ConsumedEvent]]:
        async for batch in super().batches(timeout_ms):
            yield batch
            try:
                self._metrics.observe_lag(await self.lag())
            except Exception as error:  # a metric must never stop the consumption
                _log.warning("consumer lag unavailable", error=type(error).__name__)

    async def stop(self) -> None:
        self._metrics.observe_lag({})  # no partitions assigned any more
        await super().stop()


class _DeadLetterProducer(EventProducer):
    """Reports each dead letter the broker accepted; skips those ``should_send`` refuses."""

    def __init__(
        self,
        settings: AnalyticsSettings,
        on_sent: Callable[[Mapping[str, str]], None],
        should_send: DeadLetterFilter,
    ) -> None:
        super().__init__(settings.kafka_bootstrap_servers, client_id=settings.kafka_client_id)
        self._on_sent = on_sent
        self._should_send = should_send

    async def send(
        self,
        topic: str,
        *,
        key: str | None,
        value: ProtobufMessage | bytes,
        headers: Mapping[str, str] | None = None,
    ) -> DeliveredEvent:
        letter = dict(headers or {})
        if not self._should_send(letter):
            self._on_sent(letter)
            return DeliveredEvent(topic, -1, -1)
        delivered = await super().send(topic, key=key, value=value, headers=letter)
        self._on_sent(letter)
        return delivered


class AnalyticsConsumer(IdempotentConsumer[AnalyticsChange]):
    """Applies both topics' events to the aggregates, each once, in consumer group
    ``group_id`` (the settings' group unless given)."""

    def __init__(
        self,
        database: Database,
        settings: AnalyticsSettings,
        metrics: ConsumerMetrics,
        *,
        group_id: str | None = None,
        should_dead_letter: DeadLetterFilter | None = None,
    ) -> None:
        group = group_id or settings.consumer_group
        super().__init__(
            database,
            processed_events,
            AnalyticsEventHandler(settings.patient_topic, settings.billing_topic),
            bootstrap_servers=settings.kafka_bootstrap_servers,
            topics=settings.topics,
            group_id=group,
            dead_letter_topics=settings.dead_letter_topics,
            client_id=settings.kafka_client_id,
            consumer_factory=lambda: _MeteredEventConsumer(settings, group, metrics),
            producer_factory=lambda: _DeadLetterProducer(
                settings, self._dead_lettered, should_dead_letter or (lambda _headers: True)
            ),
        )
        self._metrics = metrics
        self._dead_letters = 0
        self.outcomes: collections.Counter[str] = collections.Counter()

    def _dead_lettered(self, headers: Mapping[str, str]) -> None:
        self._dead_letters += 1
        self._metrics.failed.labels(
            headers.get("dlt-original-topic", ""), headers.get("dlt-error-type", "")
        ).inc()

    async def process(self, event: ConsumedEvent) -> bool:
        dead_letters_before = self._dead_letters
        applied = await super().process(event)
        if not applied:
            outcome = "duplicate"
        elif self._dead_letters != dead_letters_before:
            outcome = "dead_lettered"
        else:
            outcome = "applied"
        self.outcomes[outcome] += 1
        self._metrics.processed.labels(event.topic, outcome).inc()
        return applied
