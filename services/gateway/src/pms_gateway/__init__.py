"""The single entry point: routing, token checks, limits and one docs page.

``app`` builds it; ``settings``; ``routes`` (the route table); ``access`` (the token and
role check); ``proxy``, ``exchange``, ``body`` and ``headers`` (the streaming proxy);
``upstreams`` and ``circuit_breaker``; ``rate_limit``; ``docs`` (``/docs`` and
``/api-docs``); ``api`` (readiness); ``access_log`` and ``metrics``.
"""
