"""The authentication guide's snippet, verbatim: DefaultAzureCredential(),
and InteractiveBrowserCredential() when it cannot get a token.

    try:
        credential = DefaultAzureCredential()
        credential.get_token("https://management.azure.com/.default")
    except Exception as ex:
        credential = InteractiveBrowserCredential()

The environment holds no credential, so the fallback signs a person in:
MSAL opens the authorize URL with Python's webbrowser module, which runs
$BROWSER (the test's script records the URL; the test plays the browser).
Output as _compat.py describes, plus "fallback": the exception that sent
the snippet to InteractiveBrowserCredential.
"""

import sys

import _compat


def main():
    from azure.identity import DefaultAzureCredential, InteractiveBrowserCredential

    fallback = None
    try:
        credential = DefaultAzureCredential()
        credential.get_token("https://management.azure.com/.default")
    except Exception as ex:  # pylint:disable=broad-except
        fallback = type(ex).__name__
        credential = InteractiveBrowserCredential()
    result = _compat.get_tokens(credential)
    result["fallback"] = fallback
    return result


if __name__ == "__main__":
    sys.exit(_compat.run(main))
