"""What every service of the platform shares, one module per concern:

- ``settings``: typed settings from the environment (``ServiceSettings``,
  ``DatabaseSettings``, ``KafkaSettings``, ``OutboxSettings``), production refusals;
- ``logging``: structlog JSON with central redaction;
- ``request_context``: request ids, the caller's trace context, client addresses;
  ``trace_context``: the W3C ``traceparent`` format;
- ``errors``: problem+json errors and ``problem_responses``; ``openapi``: the problems
  in the OpenAPI document (400 for validation, one ``ProblemOut``);
- ``validation``: the shared validators and messages; ``paging``: paged-list headers;
- ``security``: token verification, ``authorize``, roles and their dependencies;
- ``db``: engine, sessions and who commits; ``migrations`` and ``migration_helpers``;
- ``health`` and ``metrics``: readiness, liveness, Prometheus;
- ``kafka``: producer, consumer and offsets; ``outbox`` (table, ``enqueue``) and
  ``outbox_relay``; ``event_consumer`` and ``consumer_metrics``; ``retention``: purging
  the bookkeeping tables;
- ``workers``: background workers and the one place consumers and relays are built;
- ``grpc_server``: the gRPC server with health, reflection, limits and request ids;
- ``http_app``: the FastAPI factory every service calls; ``server``: the entry point;
  ``process_start``: what a service's ``__main__`` does before its imports;
  ``swagger_ui``: Swagger UI pages served with their own files (no CDN).

The test support (fixtures, token minting, test servers) is the development-only
package ``pms_testing`` (``libs/testing``), which no production code imports.
"""
