"""UsernamePasswordCredential (resource owner password grant) with the
Azure CLI's client id.

COMPAT_TENANT_ID, COMPAT_AUTHORITY, COMPAT_USERNAME, COMPAT_PASSWORD.
"""

import sys

import _compat


def main():
    from azure.identity import UsernamePasswordCredential

    credential = UsernamePasswordCredential(
        client_id="04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        username=_compat.require("COMPAT_USERNAME"),
        password=_compat.require("COMPAT_PASSWORD"),
        tenant_id=_compat.require("COMPAT_TENANT_ID"),
        authority=_compat.require("COMPAT_AUTHORITY"),
        instance_discovery=False,
    )
    return _compat.get_tokens(credential)


if __name__ == "__main__":
    sys.exit(_compat.run(main))
