"""The single entry point: routing, token checks, limits and one docs page.

``app`` builds it; ``settings``; ``routes`` (the route table); ``access`` (the token and
role check); ``proxy``, ``exchange``, ``body`` and ``headers`` (the streaming proxy);
``upstreams``, ``connection_pool`` and ``http_connection`` (the upstreams and the HTTP
client that reaches them) and ``circuit_breaker``; ``rate_limit``; ``docs`` (``/docs``
and ``/api-docs``); ``api`` (readiness); ``metrics``.
"""
