"""Aggregates built from the platform's events, and reports.

``app`` builds the service; ``settings``; ``api`` (the report routes); ``service``
(``AnalyticsService``: applying changes, the reports); ``handlers`` (decoding the
``patient`` and ``billing`` events, and the consumer); ``aggregates``, ``periods`` and
``age_bands`` (the arithmetic of the figures); ``repository`` (all SQL); ``models``;
``schemas``; ``rebuild`` (``pms analytics rebuild``, its own transactions).
"""
