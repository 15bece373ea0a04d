"""SharedTokenCacheCredential: reads the persistent cache another
credential wrote (COMPAT_PERSIST) and redeems its family (FOCI) refresh
token. Needs Tessera on port 443 (CLIENTS.md §0).

COMPAT_AUTHORITY, COMPAT_USERNAME.
"""

import sys

import _compat


def main():
    from azure.identity import SharedTokenCacheCredential

    credential = SharedTokenCacheCredential(
        username=_compat.require("COMPAT_USERNAME"),
        authority=_compat.require("COMPAT_AUTHORITY"),
        **_compat.persistence(force=True),
    )
    return _compat.get_tokens(credential)


if __name__ == "__main__":
    sys.exit(_compat.run(main))
