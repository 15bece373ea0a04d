#!/usr/bin/env bash
# Runs the whole test suite. Suites whose clients or services are missing
# skip with a message, unless TESSERA_COMPAT_REQUIRED=1 (CI) makes that a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
go vet ./...
go test -count=1 -timeout 25m ./... "$@"
