#!/usr/bin/env bash
# A throwaway PostgreSQL server for crmconf's tests: 127.0.0.1 only, data under /tmp.
#
#   scripts/postgres.sh start      start it (as root, installing Debian's postgresql first when
#                                  missing); idempotent, prints its URL
#   scripts/postgres.sh stop       stop it and delete its data; idempotent
#   scripts/postgres.sh url        print its URL; exit 1 when it is not running
#   scripts/postgres.sh run CMD…   run CMD with CRMCONF_TEST_POSTGRES_URL set (what `make test`
#                                  does): a URL already in that variable is used as it is; else a
#                                  private server is started for CMD alone and stopped after it.
#                                  Without PostgreSQL (and without root to install it) CMD runs
#                                  without the variable, and the tests skip PostgreSQL.
#
# The server trusts every connection from 127.0.0.1 to the role `crmconf` (a superuser, so tests
# can create and drop their databases) and runs with fsync off: for tests, never for data.
# CRMCONF_PG_DIR picks its folder (default: one per user and checkout under /tmp). As root it runs
# as the `postgres` system user, since PostgreSQL refuses to run as root.
set -euo pipefail

ROLE=crmconf
UNAVAILABLE=3
CHECKOUT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${CRMCONF_PG_DIR:-/tmp/crmconf-postgres-$(id -u)-$(printf %s "$CHECKOUT" | cksum | cut -d' ' -f1)}

say() { echo "postgres.sh: $*" >&2; }

bindir() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n $found && -x $found/initdb ]]; then
        echo "$found"
    elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
    fi
}

install_postgres() {
    say "installing PostgreSQL from Debian's packages (apt-get install -y postgresql)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q postgresql >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; }
    # The package starts a system cluster where it can; crmconf's tests use their own.
    if command -v pg_lsclusters >/dev/null; then
        pg_lsclusters --no-header 2>/dev/null | while read -r version name _port status _rest; do
            if [[ $status == online* ]]; then pg_ctlcluster "$version" "$name" stop || true; fi
        done
    fi
}

# Runs a PostgreSQL program as the owner of the data folder.
as_owner() {
    if [[ $(id -u) == 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

running() {
    local bin
    bin=$(bindir)
    [[ -n $bin && -f $DIR/port && -f $DIR/data/postmaster.pid ]] \
        && as_owner "$bin/pg_ctl" status -D "$DIR/data" >/dev/null 2>&1
}

url() {
    echo "postgresql://$ROLE@127.0.0.1:$(cat "$DIR/port")/postgres"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    if running; then
        url
        return 0
    fi
    local bin
    bin=$(bindir)
    if [[ -z $bin ]]; then
        if [[ $(id -u) != 0 ]]; then
            say "PostgreSQL is not installed, and installing it needs root (apt-get install postgresql)"
            return $UNAVAILABLE
        fi
        install_postgres
        bin=$(bindir)
        [[ -n $bin ]] || { say "apt-get installed no initdb"; return 1; }
    fi
    rm -rf "$DIR" && mkdir -p -m 700 "$DIR" || return 1
    if [[ $(id -u) == 0 ]]; then chown postgres: "$DIR" || return 1; fi
    as_owner "$bin/initdb" -D "$DIR/data" -U "$ROLE" --auth=trust -E UTF8 --no-locale --no-sync \
        >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; return 1; }
    local attempt port
    for attempt in 1 2 3; do
        port=$(free_port)
        if as_owner "$bin/pg_ctl" start -D "$DIR/data" -l "$DIR/server.log" -w -t 60 -o \
            "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            >/dev/null; then
            echo "$port" >"$DIR/port"
            url
            return 0
        fi
        say "start on port $port failed (attempt $attempt)"
    done
    tail -n 20 "$DIR/server.log" >&2 || true
    return 1
}

stop() {
    local bin
    bin=$(bindir)
    if [[ -n $bin && -f $DIR/data/postmaster.pid ]]; then
        as_owner "$bin/pg_ctl" stop -D "$DIR/data" -m fast -w >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
}

run() {
    if [[ -n ${CRMCONF_TEST_POSTGRES_URL:-} ]]; then
        exec "$@"
    fi
    DIR=$(mktemp -d /tmp/crmconf-postgres-run.XXXXXX)
    trap stop EXIT
    trap 'exit 130' INT TERM
    local server status=0
    if server=$(start); then
        say "PostgreSQL for this run: $server (stopped when it ends)"
        CRMCONF_TEST_POSTGRES_URL=$server "$@" || status=$?
    else
        status=$?
        if [[ $status != "$UNAVAILABLE" ]]; then
            say "could not start PostgreSQL (exit $status)"
            return "$status"
        fi
        say "no PostgreSQL: the tests on PostgreSQL are skipped (run as root to install it)"
        status=0
        "$@" || status=$?
    fi
    return "$status"
}

case ${1:-} in
start) start ;;
stop) stop ;;
url) if running; then url; else say "not running ($DIR)"; exit 1; fi ;;
run)
    shift
    [[ $# -gt 0 ]] || { say "usage: $0 run COMMAND..."; exit 2; }
    run "$@"
    ;;
*)
    echo "usage: $0 start|stop|url|run COMMAND..." >&2
    exit 2
    ;;
esac
