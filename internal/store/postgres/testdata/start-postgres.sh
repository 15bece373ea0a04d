#!/bin/sh
# start-postgres.sh brings up a local PostgreSQL for the store conformance
# suite and prints the line that points the tests at it:
#
#   eval "$(internal/store/postgres/testdata/start-postgres.sh)"
#   go test ./internal/store/...
#
# It is idempotent: every step checks before it acts, so CI can run it on a
# fresh machine or on one where the server already runs. It must run as root
# (it installs packages and switches to the postgres user). Progress goes to
# stderr so that stdout carries only the export line.
set -eu

PGPASSWORD_TEST=${PGPASSWORD_TEST:-postgres}
PGPORT_TEST=${PGPORT_TEST:-5432}

log() { echo "start-postgres: $*" >&2; }

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
	log "installing postgresql"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y --no-install-recommends postgresql >&2
fi

# Use the newest installed major version; Debian installs one per release.
version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
if [ -z "$version" ]; then
	log "no PostgreSQL version under /usr/lib/postgresql"
	exit 1
fi

if ! pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1 == v && $2 == "main" { found = 1 } END { exit !found }'; then
	log "creating cluster $version/main"
	pg_createcluster "$version" main --port "$PGPORT_TEST" >&2
fi

if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online" { found = 1 } END { exit !found }'; then
	log "starting cluster $version/main"
	pg_ctlcluster "$version" main start >&2
fi

# The port the cluster really listens on (an existing cluster may differ).
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { print $3 }')

log "waiting for the server on port $port"
i=0
until pg_isready -q -h 127.0.0.1 -p "$port"; do
	i=$((i + 1))
	if [ "$i" -ge 60 ]; then
		log "server not ready after 60s"
		exit 1
	fi
	sleep 1
done

# Over the local socket the postgres user authenticates by peer, so this works
# before any password exists; TCP connections from the tests need the password.
su postgres -c "psql -q -p $port -c \"ALTER USER postgres PASSWORD '$PGPASSWORD_TEST'\"" >&2

echo "export TESSERA_TEST_POSTGRES_DSN='postgres://postgres:$PGPASSWORD_TEST@127.0.0.1:$port/postgres?sslmode=disable'"
