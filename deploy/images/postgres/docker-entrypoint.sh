#!/usr/bin/env bash
# The official postgres image's entry point, as far as deploy/compose.yaml uses it: as root,
# own the data folder and come back as postgres; on an empty data folder, initdb with
# POSTGRES_USER / POSTGRES_PASSWORD, create POSTGRES_DB, run /docker-entrypoint-initdb.d/*
# (*.sql, *.sh) on a server listening on its socket only; then exec the command.
set -Eeuo pipefail

if [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi

if [ "$1" = 'postgres' ] && [ "$(id -u)" = '0' ]; then
    install --directory --owner=postgres --group=postgres --mode=0700 "$PGDATA"
    install --directory --owner=postgres --group=postgres --mode=3777 /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = 'postgres' ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != 'trust' ]; then
        echo 'error: POSTGRES_PASSWORD is not set (or POSTGRES_HOST_AUTH_METHOD=trust)' >&2
        exit 1
    fi
    user="${POSTGRES_USER:-postgres}"
    database="${POSTGRES_DB:-$user}"
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options, as upstream
    initdb --username="$user" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
        --auth-local=trust --auth-host="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" \
        ${POSTGRES_INITDB_ARGS:-}
    printf 'host all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
    psql=(psql -v ON_ERROR_STOP=1 --username "$user" --no-password --no-psqlrc)
    if [ "$database" != 'postgres' ]; then
        "${psql[@]}" --dbname postgres --set db="$database" <<<'CREATE DATABASE :"db";'
    fi
    for file in /docker-entrypoint-initdb.d/*; do
        case "$file" in
            *.sh) echo "running $file"; . "$file" ;;
            *.sql) echo "running $file"; "${psql[@]}" --dbname "$database" -f "$file" ;;
            *) if [ -e "$file" ]; then echo "ignoring $file"; fi ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop
    echo 'PostgreSQL init process complete; ready for start up.'
fi

if [ "$1" = 'postgres' ]; then
    set -- "$@" -c listen_addresses='*'
fi
exec "$@"
