"""The configuration of analytics' event consumer: the platform's idempotent consumer
(:func:`pms_platform.workers.consumer_worker`) on the ``patient`` and ``billing`` topics
with the service's handler, shared by the app, the rebuild and the tests.

Given a registry, it exports ``analytics_events_processed_total{topic,outcome}``,
``analytics_events_failed_total{topic,error_type}`` and
``analytics_consumer_lag{topic,partition}`` (see :mod:`pms_platform.consumer_metrics`).
"""

from prometheus_client import CollectorRegistry

from pms_analytics.aggregates import AnalyticsChange
from pms_analytics.handlers import AnalyticsEventHandler
from pms_analytics.models import processed_events
from pms_analytics.service import AnalyticsService
from pms_analytics.settings import AnalyticsSettings
from pms_platform.db import Database
from pms_platform.event_consumer import DeadLetterFilter, IdempotentConsumer
from pms_platform.workers import consumer_worker

METRICS_PREFIX = "analytics"
"""What the consumer's metric names start with."""


def analytics_consumer(
    database: Database,
    settings: AnalyticsSettings,
    *,
    service: AnalyticsService,
    metrics_registry: CollectorRegistry | None = None,
    group_id: str | None = None,
    should_dead_letter: DeadLetterFilter | None = None,
) -> IdempotentConsumer[AnalyticsChange]:
    """Applies both topics' events to the aggregates with ``service``, each once, in consumer group
    ``group_id`` (the settings' group unless given); its metrics go to
    ``metrics_registry`` (the app's), if given."""
    return consumer_worker(
        settings,
        database,
        processed_events,
        AnalyticsEventHandler(service, settings.patient_topic, settings.billing_topic),
        topics=settings.topics,
        group_id=group_id or settings.consumer_group,
        dead_letter_topics=settings.dead_letter_topics,
        metrics_registry=metrics_registry,
        metrics_prefix=METRICS_PREFIX,
        should_dead_letter=should_dead_letter,
        max_poll_records=settings.consumer_max_poll_records,
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
    )
