"""Files of the single-node KRaft broker: server.properties, log4j2 config, cluster id."""

import base64
import secrets
from pathlib import Path

NODE_ID = 1
HOST = "127.0.0.1"
"""Not `localhost`, which may resolve to ::1 while the broker listens on IPv4."""


def new_cluster_id() -> str:
    """16 random bytes in URL-safe base64 without padding, like ``kafka-storage random-uuid``,
    which likewise never starts one with ``-``: a command line would take it for an option
    (one new cluster in 64 failed to format that way)."""
    while True:
        encoded = base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode("ascii")
        if not encoded.startswith("-"):
            return encoded


def load_or_create_cluster_id(path: Path) -> str:
    """The cluster id saved in ``path``, made and saved on first use."""
    try:
        existing = path.read_text(encoding="ascii").strip()
    except OSError:
        existing = ""
    if existing:
        return existing
    cluster_id = new_cluster_id()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(cluster_id + "\n", encoding="ascii")
    return cluster_id


def escape_property_value(value: str) -> str:
    """Escape a value for a Java ``.properties`` file, which Java reads as ISO-8859-1.

    Anything outside printable ASCII becomes ``\\uXXXX`` UTF-16 code units.
    """
    data = value.encode("utf-16-be")
    escaped: list[str] = []
    for index in range(0, len(data), 2):
        unit = int.from_bytes(data[index : index + 2], "big")
        if unit == ord("\\"):
            escaped.append("\\\\")
        elif 0x20 <= unit <= 0x7E:
            escaped.append(chr(unit))
        else:
            escaped.append(f"\\u{unit:04x}")
    return "".join(escaped)


def render_properties(settings: dict[str, str | int]) -> str:
    lines = [f"{key}={escape_property_value(str(value))}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def server_settings(data_dir: Path, broker_port: int, controller_port: int) -> dict[str, str | int]:
    """The combined broker+controller settings for one development node."""
    return {
        "process.roles": "broker,controller",
        "node.id": NODE_ID,
        "controller.quorum.voters": f"{NODE_ID}@{HOST}:{controller_port}",
        "listeners": f"PLAINTEXT://{HOST}:{broker_port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{broker_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": 1,
        "default.replication.factor": 1,
        "min.insync.replicas": 1,
        "offsets.topic.replication.factor": 1,
        # The default of 50 partitions makes the first consumer group wait for all of them.
        "offsets.topic.num.partitions": 1,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 1,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        "group.initial.rebalance.delay.ms": 0,
        # Every topic is created explicitly with its partition count; a typo must fail.
        "auto.create.topics.enable": "false",
        # The 128 MB default cleaner buffer is too much for a small heap.
        "log.cleaner.dedupe.buffer.size": 32 * 1024 * 1024,
        "num.network.threads": 2,
        "num.io.threads": 4,
        "log.retention.hours": 168,
    }


def render_server_properties(data_dir: Path, broker_port: int, controller_port: int) -> str:
    header = "# Written by `pms infra up` on every start: change the launcher, not this file.\n"
    return header + render_properties(server_settings(data_dir, broker_port, controller_port))


def render_log4j_config(log_dir: Path) -> str:
    """A log4j2 properties config: INFO to a size-rolled ``server.log`` in ``log_dir``."""
    log_file = log_dir / "server.log"
    settings: dict[str, str | int] = {
        "status": "warn",
        "name": "pms-kafka",
        # Log4j's own hook would close the log before Kafka has finished shutting down.
        "shutdownHook": "disable",
        "appender.file.type": "RollingFile",
        "appender.file.name": "file",
        "appender.file.fileName": str(log_file),
        "appender.file.filePattern": f"{log_file}.%i",
        "appender.file.layout.type": "PatternLayout",
        "appender.file.layout.pattern": "[%d] %p %m (%c)%n",
        "appender.file.policies.type": "Policies",
        "appender.file.policies.size.type": "SizeBasedTriggeringPolicy",
        "appender.file.policies.size.size": "20MB",
        "appender.file.strategy.type": "DefaultRolloverStrategy",
        "appender.file.strategy.max": 3,
        "rootLogger.level": "info",
        "rootLogger.appenderRef.file.ref": "file",
        "logger.request.name": "kafka.request.logger",
        "logger.request.level": "warn",
    }
    return render_properties(settings)
