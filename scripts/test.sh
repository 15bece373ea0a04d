#!/usr/bin/env bash
# Runs the whole test suite. Suites whose clients or services are missing
# skip with a message, unless TESSERA_COMPAT_REQUIRED=1 (CI) makes that a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
go vet ./...
if [ "${TESSERA_COMPAT_REQUIRED:-}" = 1 ] && [ $# -eq 0 ]; then
	# CI runs every client: regenerate docs/compatibility.md from this run's
	# results. The tool prints what plain `go test` would; pipefail keeps
	# go test's exit status.
	matrix="$(mktemp -d)/compatmatrix"
	go build -o "$matrix" ./tools/compatmatrix
	go test -count=1 -timeout 25m -json ./... | "$matrix" -passthrough -o docs/compatibility.md
else
	go test -count=1 -timeout 25m ./... "$@"
fi
