"""Makes the platform's fixtures (fresh migrated database, private Kafka topic) available
to every test in the repository."""

pytest_plugins = ["pms_platform.testing"]
