#!/usr/bin/env bash
# kafka-run-class.sh CLASS [ARGS...]: one of Kafka's main classes on the image's classpath,
# with KAFKA_HEAP_OPTS (default -Xmx256M) and KAFKA_OPTS as upstream's script reads them.
set -euo pipefail
# shellcheck disable=SC2086 # both are lists of JVM options
exec java ${KAFKA_HEAP_OPTS:--Xmx256M} ${KAFKA_OPTS:-} \
    -Dlog4j2.configurationFile="${KAFKA_LOG4J_CONFIG:-/opt/kafka/config/tools-log4j2.properties}" \
    -Dkafka.logs.dir=/opt/kafka/logs -cp '/opt/kafka/libs/*' "$@"
