"""What every service of the platform shares.

One module per concern, named after it: ``settings``, ``logging``, ``errors``,
``openapi`` (the problems in the OpenAPI document), ``request_context``, ``db``,
``migrations``, ``health``, ``metrics``, ``kafka``, ``outbox`` (the table and
``enqueue``) and ``outbox_relay``, ``event_consumer`` and ``consumer_metrics``,
``workers`` (background workers; the consumer is built there),
``http_app`` (the FastAPI factory every service calls) and ``server`` (uvicorn). The
test support (fixtures, token minting, test servers) is the development-only package
``pms_testing`` (``libs/testing``), which no production code imports.
"""
