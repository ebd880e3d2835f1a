#!/usr/bin/env bash
# kafka-server-start.sh server.properties: the broker (kafka.Kafka), logging to stdout.
export KAFKA_LOG4J_CONFIG=/opt/kafka/config/log4j2.properties
exec "$(dirname "$0")/kafka-run-class.sh" kafka.Kafka "$@"
