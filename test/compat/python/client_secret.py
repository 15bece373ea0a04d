"""ClientSecretCredential with explicit arguments and instance discovery off.

COMPAT_TENANT_ID, COMPAT_CLIENT_ID, COMPAT_CLIENT_SECRET, COMPAT_AUTHORITY.
"""

import sys

import _compat


def main():
    from azure.identity import ClientSecretCredential

    credential = ClientSecretCredential(
        tenant_id=_compat.require("COMPAT_TENANT_ID"),
        client_id=_compat.require("COMPAT_CLIENT_ID"),
        client_secret=_compat.require("COMPAT_CLIENT_SECRET"),
        authority=_compat.require("COMPAT_AUTHORITY"),
        instance_discovery=False,
    )
    return _compat.get_tokens(credential)


if __name__ == "__main__":
    sys.exit(_compat.run(main))
