"""CertificateCredential with explicit arguments and instance discovery off.

COMPAT_TENANT_ID, COMPAT_CLIENT_ID, COMPAT_CERTIFICATE_PATH (PEM with the
private key and the certificate), COMPAT_AUTHORITY. Every scope in
COMPAT_SCOPES is requested from the same credential instance, so MSAL reuses
its client assertion across them.
"""

import sys

import _compat


def main():
    from azure.identity import CertificateCredential

    _compat.record_client_assertions()
    credential = CertificateCredential(
        tenant_id=_compat.require("COMPAT_TENANT_ID"),
        client_id=_compat.require("COMPAT_CLIENT_ID"),
        certificate_path=_compat.require("COMPAT_CERTIFICATE_PATH"),
        authority=_compat.require("COMPAT_AUTHORITY"),
        instance_discovery=False,
    )
    return _compat.get_tokens(credential)


if __name__ == "__main__":
    sys.exit(_compat.run(main))
