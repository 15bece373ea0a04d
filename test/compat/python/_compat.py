"""Shared plumbing for the Tessera Python compatibility scripts.

Every script prints exactly one JSON object on one line to stdout and exits 0
on success. On failure it prints the traceback to stderr, a JSON line
{"error": <exception type>, "message": <text>} to stdout, and exits 1.

When COMPAT_EXPECT_ERROR names an exception type (e.g.
ClientAuthenticationError), the script succeeds only if get_token raises that
type: it prints {"error": ..., "message": ...} and exits 0; a token is then a
failure (exit 2).

Inputs come from the environment (the Go test controls it completely):
  COMPAT_SCOPES       space-separated scopes, requested in order
                      (default https://management.azure.com/.default)
  COMPAT_DEBUG        non-empty: azure/msal DEBUG logging to stderr
"""

import base64
import json
import logging
import os
import sys
import time
import traceback

DEFAULT_SCOPE = "https://management.azure.com/.default"


def require(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit("compat script: environment variable %s is required" % name)
    return value


def scopes():
    return os.environ.get("COMPAT_SCOPES", DEFAULT_SCOPE).split()


def _b64json(segment):
    segment += "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(segment.encode("ascii")))


_assertions = []


def record_client_assertions():
    """Record the client assertions MSAL posts, without changing the request.

    azure-identity gives MSAL an MsalClient as its http_client; wrapping its
    post method lets the test see the header and jti of every assertion
    (MSAL Python reuses one assertion for up to ten minutes).
    """
    from azure.identity._internal.msal_client import MsalClient

    original = MsalClient.post

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        if isinstance(data, dict) and data.get("client_assertion"):
            assertion = data["client_assertion"]
            if isinstance(assertion, bytes):  # msal 1.21 posts the JWT as bytes
                assertion = assertion.decode("ascii")
            parts = assertion.split(".")
            try:
                header, claims = _b64json(parts[0]), _b64json(parts[1])
            except Exception as ex:  # pylint:disable=broad-except
                header, claims = {"undecodable": str(ex)}, {}
            _assertions.append({"url": url, "header": header, "claims": claims})
        return original(self, url, params=params, data=data, headers=headers, **kwargs)

    MsalClient.post = post


def credential_name(credential):
    """Which credential produced the token (for DefaultAzureCredential, the
    chain member and, for EnvironmentCredential, the credential it wraps)."""
    names = [type(credential).__name__]
    inner = getattr(credential, "_successful_credential", None)
    while inner is not None:
        names.append(type(inner).__name__)
        inner = getattr(inner, "_credential", None)
    return "/".join(names)


def get_tokens(credential):
    tokens = []
    for scope in scopes():
        token = credential.get_token(scope)
        tokens.append({"scope": scope, "access_token": token.token, "expires_on": token.expires_on})
    return {
        "credential": credential_name(credential),
        "now": int(time.time()),
        "tokens": tokens,
        "assertions": _assertions,
    }


def _versions():
    import azure.identity
    import msal

    return {"azure_identity": azure.identity.__version__, "msal": msal.__version__, "python": sys.version.split()[0]}


def run(main):
    """Run main() (which returns a JSON-able dict) under the contract above."""
    if os.environ.get("COMPAT_DEBUG"):
        logging.basicConfig(stream=sys.stderr, level=logging.DEBUG)
    expect = os.environ.get("COMPAT_EXPECT_ERROR")
    try:
        result = main()
    except Exception as ex:  # pylint:disable=broad-except
        message = getattr(ex, "message", None) or str(ex)
        out = {"error": type(ex).__name__, "message": message, "versions": _versions(), "assertions": _assertions}
        print(json.dumps(out), flush=True)
        if expect and type(ex).__name__ == expect:
            return 0
        traceback.print_exc(file=sys.stderr)
        return 1
    result["versions"] = _versions()
    print(json.dumps(result), flush=True)
    if expect:
        print("compat script: expected %s, got a token" % expect, file=sys.stderr)
        return 2
    return 0


def persistence(force=False):
    """Keyword arguments that keep a credential's cache in the shared
    persistent cache (plaintext, as no keyring runs in the test) when
    COMPAT_PERSIST is set (or force)."""
    if not (force or os.environ.get("COMPAT_PERSIST")):
        return {}
    from azure.identity import TokenCachePersistenceOptions

    return {"cache_persistence_options": TokenCachePersistenceOptions(allow_unencrypted_storage=True)}
