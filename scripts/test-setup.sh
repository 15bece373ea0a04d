#!/usr/bin/env bash
# Installs the Debian packages the full test suite uses (PostgreSQL, the
# real Python azure-identity / azure-ai-ml, the Azure CLI, Chromium) and the
# Node @azure/identity of test/compat/node (npm ci), starts PostgreSQL, and
# writes .ci/test-env with the variables the tests read.
# Idempotent; run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

# libssl3: the OpenSSL libcrypto that signs tokens (internal/rsasign); gcc builds its cgo binding;
# chromium: the headless browser of the login-page tests (test/compat).
packages=(postgresql python3-azure azure-cli libssl3 gcc chromium)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "test-setup: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

go mod download

# The Node compatibility tests' clients (@azure/identity, @azure/msal-node,
# @azure/msal-browser), from the committed lock file (node and npm come with
# the machine: Debian's own nodejs is older than the Node 20 that
# @azure/identity 4.13 needs).
if ! npm ci --prefix test/compat/node --no-audit --no-fund --loglevel=error >/dev/null; then
	echo "test-setup: npm ci --prefix test/compat/node failed" >&2
	exit 1
fi

dsn_line=$(sh internal/store/postgres/testdata/start-postgres.sh)
{
	echo "# written by scripts/test-setup.sh"
	echo "$dsn_line"
} > .ci/test-env
echo "test-setup: ready ($dsn_line)" >&2
