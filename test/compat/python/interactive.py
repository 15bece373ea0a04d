"""InteractiveBrowserCredential: MSAL opens the authorize URL with Python's
webbrowser module, which runs $BROWSER (the test's script records the URL
and returns at once); the test plays the browser and delivers the redirect
to the credential's loopback listener.

COMPAT_TENANT_ID, COMPAT_AUTHORITY; COMPAT_PERSIST as in device_code.py.
"""

import sys

import _compat


def main():
    from azure.identity import InteractiveBrowserCredential

    credential = InteractiveBrowserCredential(
        tenant_id=_compat.require("COMPAT_TENANT_ID"),
        authority=_compat.require("COMPAT_AUTHORITY"),
        instance_discovery=False,
        timeout=60,
        **_compat.persistence(),
    )
    return _compat.get_tokens(credential)


if __name__ == "__main__":
    sys.exit(_compat.run(main))
