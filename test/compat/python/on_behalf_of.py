"""On-behalf-of: a middle-tier API exchanges a user's token for itself for a
token to another resource, as that user.

The user's token comes from msal's PublicClientApplication
(acquire_token_by_username_password, for COMPAT_USER_SCOPE); the middle tier
then exchanges it with, by COMPAT_OBO_CLIENT:
  msal        ConfidentialClientApplication.acquire_token_on_behalf_of
  credential  azure-identity's OnBehalfOfCredential(...).get_token

tokens[0] is the user's token for the middle tier, tokens[1:] one per
COMPAT_SCOPES scope.

COMPAT_TENANT_ID, COMPAT_AUTHORITY, COMPAT_PUBLIC_CLIENT_ID, COMPAT_USERNAME,
COMPAT_PASSWORD, COMPAT_USER_SCOPE, COMPAT_CLIENT_ID, COMPAT_CLIENT_SECRET.
"""

import sys
import time
from urllib.parse import urlparse

import _compat


class TokenError(Exception):
    """An error response msal returned instead of raising (its convention)."""


def _checked(result):
    if "access_token" not in result:
        raise TokenError("%s: %s" % (result.get("error"), result.get("error_description")))
    return result


def _user_token(authority):
    import msal
    from msal.authority import Authority

    # msal asks https://<host>/common/userrealm/... (port 443, whatever the
    # authority's port) before the password grant; the answer for a Tessera
    # user is "Managed", which is what msal assumes for a host it has marked
    # as having no user realm discovery.
    Authority._domains_without_user_realm_discovery.add(urlparse(authority).hostname)
    app = msal.PublicClientApplication(
        _compat.require("COMPAT_PUBLIC_CLIENT_ID"), authority=authority, instance_discovery=False
    )
    scope = _compat.require("COMPAT_USER_SCOPE")
    result = _checked(
        app.acquire_token_by_username_password(
            _compat.require("COMPAT_USERNAME"), _compat.require("COMPAT_PASSWORD"), scopes=[scope]
        )
    )
    return {"scope": scope, "access_token": result["access_token"], "expires_on": int(time.time()) + int(result["expires_in"])}


def main():
    tenant = _compat.require("COMPAT_TENANT_ID")
    host = _compat.require("COMPAT_AUTHORITY")
    authority = host.rstrip("/") + "/" + tenant
    user = _user_token(authority)
    client_id = _compat.require("COMPAT_CLIENT_ID")
    secret = _compat.require("COMPAT_CLIENT_SECRET")
    tokens = [user]
    mode = _compat.require("COMPAT_OBO_CLIENT")
    if mode == "msal":
        import msal

        app = msal.ConfidentialClientApplication(
            client_id, client_credential=secret, authority=authority, instance_discovery=False
        )
        for scope in _compat.scopes():
            result = _checked(app.acquire_token_on_behalf_of(user["access_token"], [scope]))
            tokens.append({
                "scope": scope,
                "access_token": result["access_token"],
                "expires_on": int(time.time()) + int(result["expires_in"]),
            })
        name = "ConfidentialClientApplication"
    elif mode == "credential":
        from azure.identity import OnBehalfOfCredential

        credential = OnBehalfOfCredential(
            tenant,
            client_id,
            client_secret=secret,
            user_assertion=user["access_token"],
            authority=host,
            instance_discovery=False,
        )
        for scope in _compat.scopes():
            token = credential.get_token(scope)
            tokens.append({"scope": scope, "access_token": token.token, "expires_on": token.expires_on})
        name = _compat.credential_name(credential)
    else:
        raise SystemExit("compat script: COMPAT_OBO_CLIENT is msal or credential")
    return {"credential": name, "now": int(time.time()), "tokens": tokens, "assertions": []}


if __name__ == "__main__":
    sys.exit(_compat.run(main))
