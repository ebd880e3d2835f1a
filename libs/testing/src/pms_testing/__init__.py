"""Test support of the platform, a development-only package: no production package
imports it (an import contract checks it), and no image installs it.

One module per role:

- ``fixtures``: the pytest plugin loaded by the root ``conftest.py``: ``postgres_url``,
  ``kafka_bootstrap_servers``, ``database_factory``, ``kafka_topic_factory``,
  ``token_minter``;
- ``databases``: create and drop scratch databases (also used by ``bench/``);
- ``migrations``: ``migration_differences``, what autogenerate finds between the
  migrations and the models;
- ``kafka``: topic creation and the topic readers (``read_topic``, ``read_whole_topic``);
- ``tokens``: ``TokenMinter`` (real signed access tokens) and ``bearer`` headers;
- ``polling``: ``eventually``, the one bounded polling loop;
- ``http``: ``app_client``, an in-process client of an app with its lifespan run;
- ``service_checks``: the shared "every service is live and serves metrics and
  OpenAPI" check;
- ``openapi``: ``problem_statuses`` and ``problem_documentation_faults``, how a
  service's OpenAPI document shows its problem answers;
- ``metrics``: ``metric_value``, one sample of Prometheus text;
- ``processes``: ``ServiceProcess`` (a service as a child process), ``free_port``,
  ``reserve_port``;
- ``servers``: real HTTP servers for the gateway's tests (``serve_asgi``, the echo
  upstream, a server that hangs up);
- ``raw_http``: requests sent byte for byte and their raw answers.
"""
