// Package compat holds Tessera's client compatibility suite: tests that run
// the real, unmodified Azure SDK credential libraries against a Tessera
// started in-process (test/testserver) on a random loopback port over HTTPS,
// and verify the tokens those clients receive against Tessera's JWKS.
//
// The Python tests (python_test.go, scripts in python/) use azure-identity
// 1.13.0b2 and msal 1.21 from Debian's python3-azure package:
//
//	apt-get install python3-azure
//	go test ./test/compat/ -run Python -count=1 -v
//
// The azure-ai-ml 1.4 test (mlclient_test.go, python/mlclient.py) drives
// MLClient.from_config through the guide's workspace and compute steps as
// principals with different roles:
//
//	go test ./test/compat/ -run MLClient -count=1 -v
//
// azure-ai-ml imports pydash, which Debian does not package; the tests put a
// small shim (python/shim/pydash: get, omit, set_) on PYTHONPATH for those
// scripts only.
//
// The Azure CLI tests (azcli_test.go) drive Debian's az 2.45 (apt-get install
// azure-cli) through the guide's service-principal scenario, each az
// invocation with its own configuration directory; azcli/sitecustomize.py is
// the import shim for that build's `az role` defect (AZURE_CLI.md §7):
//
//	go test ./test/compat/ -run AzCLI -count=1 -v
//
// The package is importable only by Debian's own interpreter, so the tests
// run /usr/bin/python3 unless TESSERA_PYTHON names another interpreter that
// can import azure.identity. When the client is missing the tests skip, so a
// plain `go test ./...` passes on any machine; set TESSERA_COMPAT_REQUIRED=1
// (CI does) to turn a missing client into a failure so the suite cannot
// silently skip. TESSERA_COMPAT_DEBUG=1 turns on azure/msal debug logging in
// the scripts (printed when a case fails or with -v), and TESSERA_TEST_LOG=1
// the server's own debug log.
//
// The user credentials (python_signin_test.go: DeviceCodeCredential,
// InteractiveBrowserCredential with BROWSER=<script>, UsernamePasswordCredential,
// and SharedTokenCacheCredential, which needs Tessera on port 443), the Azure
// CLI's `az login --use-device-code` and `az login` (azcli_signin_test.go)
// and the login pages in headless Chromium (browser_test.go, Debian's
// chromium package driven by chromedp) play the person's browser through
// test/testserver.Browser or the real browser.
//
// The on-behalf-of tests (obo_test.go) register two APIs of the tenant's
// own, a middle tier and a downstream API, consent through Graph's
// oauth2PermissionGrants, and have the real clients exchange a user's token:
// msal's ConfidentialClientApplication and azure-identity's
// OnBehalfOfCredential (python/on_behalf_of.py, the user's token from msal's
// password grant), and @azure/msal-node's acquireTokenOnBehalfOf after its
// web application signed the user in through the login page in headless
// Chromium (node/obo.js):
//
//	go test ./test/compat/ -run OnBehalfOf -count=1 -v
//
// The public cloud names tests (verbatim_test.go, docs/verbatim.md) run
// the same clients with no Tessera-specific setting at all: Tessera serves
// login.microsoftonline.com, management.azure.com and graph.microsoft.com
// (serve --public-cloud-names) on 127.0.0.1:443, and each client runs
// inside a private mount namespace (unshare --mount) whose /etc/hosts is a
// bind-mounted temporary file sending those names there, with only the CA
// trust variables set. They need root (the namespace, the bind mount, port
// 443) and skip without it, or fail under TESSERA_COMPAT_REQUIRED=1:
//
//	go test ./test/compat/ -run TestPublicCloudNames -count=1 -v
//
// Each script runs with a fully controlled environment: nothing is inherited
// except PATH; HOME, TMPDIR and AZURE_CONFIG_DIR are empty temporary
// directories (so DefaultAzureCredential cannot fall through to a signed-in
// Azure CLI or a shared token cache), REQUESTS_CA_BUNDLE and SSL_CERT_FILE
// name the test server's CA, and AZURE_AUTHORITY_HOST its URL. Scripts print
// one JSON line with the tokens (or the exception) and exit non-zero on
// failure; see python/_compat.py.
package compat
