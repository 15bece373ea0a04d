"""DefaultAzureCredential, configured only by environment variables.

COMPAT_INSTANCE_DISCOVERY=false passes instance_discovery=False (the 1.13.0b2
name of the opt-out); unset, the credential is built with NO keyword
arguments, exactly as user code writes it.
"""

import os
import sys

import _compat


def main():
    from azure.identity import DefaultAzureCredential

    _compat.record_client_assertions()
    kwargs = {}
    if os.environ.get("COMPAT_INSTANCE_DISCOVERY", "").lower() == "false":
        kwargs["instance_discovery"] = False
    credential = DefaultAzureCredential(**kwargs)
    return _compat.get_tokens(credential)


if __name__ == "__main__":
    sys.exit(_compat.run(main))
