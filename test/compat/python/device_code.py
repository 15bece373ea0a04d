"""DeviceCodeCredential: the test approves the code through Tessera's
verification page while the credential polls.

COMPAT_TENANT_ID, COMPAT_AUTHORITY, COMPAT_PROMPT_FILE (the prompt callback
appends {"verification_uri", "user_code"} as a JSON line there for the test
to read). COMPAT_PERSIST non-empty: keep the token cache in the shared
persistent cache (plaintext allowed), for SharedTokenCacheCredential.
"""

import json
import sys

import _compat


def main():
    from azure.identity import DeviceCodeCredential

    path = _compat.require("COMPAT_PROMPT_FILE")

    def prompt(verification_uri, user_code, expires_on):
        with open(path, "a") as f:
            f.write(json.dumps({"verification_uri": verification_uri, "user_code": user_code}) + "\n")

    credential = DeviceCodeCredential(
        tenant_id=_compat.require("COMPAT_TENANT_ID"),
        authority=_compat.require("COMPAT_AUTHORITY"),
        instance_discovery=False,
        prompt_callback=prompt,
        timeout=60,
        **_compat.persistence(),
    )
    return _compat.get_tokens(credential)


if __name__ == "__main__":
    sys.exit(_compat.run(main))
