"""What every service of the platform shares.

One module per concern, named after it: ``settings``, ``logging``, ``errors``,
``request_context``, ``db``, ``migrations``, ``health``, ``metrics``, ``kafka``,
``http_app`` (the FastAPI factory every service calls), ``server`` (uvicorn), and
``testing`` (pytest fixtures for a fresh migrated database and a private Kafka topic).
"""
