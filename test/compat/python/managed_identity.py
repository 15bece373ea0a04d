"""Managed identity inside `tessera compute run`, as code on a compute writes it.

    credential = DefaultAzureCredential()                    # COMPAT_MI_CREDENTIAL=default
    credential = ManagedIdentityCredential(client_id=...)    # COMPAT_MI_CREDENTIAL=managed
    ml_client = MLClient.from_config(credential=credential, path=config_path)
    ml_client.workspaces.get(name)

The run's environment selects the identity (MSI_ENDPOINT, IDENTITY_ENDPOINT,
... or, with --workload-identity, AZURE_FEDERATED_TOKEN_FILE); the script
adds nothing. It reuses mlclient.py's steps and output, replacing only the
"credential" step, whose value also carries the token's identity claims
(decoded without verification; the Go test verifies what it needs).

Inputs (besides mlclient.py's):
  COMPAT_MI_CREDENTIAL  default | managed
  COMPAT_MI_CLIENT_ID   client id for ManagedIdentityCredential (optional)
"""

import os
import sys
import time

import _compat
import mlclient


def _claims(token):
    return _compat._b64json(token.split(".")[1])


def step_credential(ctx):
    kind = os.environ.get("COMPAT_MI_CREDENTIAL", "default")
    if kind == "managed":
        from azure.identity import ManagedIdentityCredential

        client_id = os.environ.get("COMPAT_MI_CLIENT_ID") or None
        ctx.credential = ManagedIdentityCredential(client_id=client_id)
    else:
        from azure.identity import DefaultAzureCredential

        ctx.credential = DefaultAzureCredential()
    token = ctx.credential.get_token(_compat.DEFAULT_SCOPE)
    claims = _claims(token.token)
    return {
        "credential": _compat.credential_name(ctx.credential),
        "expires_on": token.expires_on,
        "now": int(time.time()),
        "token_parts": len(token.token.split(".")),
        "claims": {k: claims.get(k) for k in ("appid", "oid", "xms_mirid", "idtyp", "aud", "tid")},
    }


mlclient.STEPS["credential"] = (step_credential, None)

if __name__ == "__main__":
    sys.exit(_compat.run(mlclient.main))
