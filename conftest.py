"""Makes the test support's fixtures (fresh migrated database, private Kafka topic, token
minter) available to every test in the repository: ``pms_testing.fixtures``."""

pytest_plugins = ["pms_testing.fixtures"]
