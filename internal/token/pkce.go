package token

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"strings"
)

// PKCE (RFC 7636). Tessera accepts only S256: "plain" would hand the
// verifier to anyone who sees the authorization request, which is exactly
// what PKCE defends against.

// PKCEMethodS256 is the only code_challenge_method accepted.
const PKCEMethodS256 = "S256"

// validPKCEValue: 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1;
// an S256 challenge is exactly 43).
func validPKCEValue(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// CheckChallenge validates the PKCE parameters of an authorize request:
// required for public clients, S256 only, well formed.
func CheckChallenge(challenge, method string, public bool) error {
	if challenge == "" {
		if method != "" {
			return Errorf(ErrInvalidRequest, 50148, "code_challenge_method was sent without code_challenge.")
		}
		if public {
			return Errorf(ErrInvalidRequest, 9002325, "Proof Key for Code Exchange is required for public clients: send code_challenge with code_challenge_method=S256.")
		}
		return nil
	}
	if method != PKCEMethodS256 {
		return Errorf(ErrInvalidRequest, 50148,
			"The code_challenge_method '%s' is not supported. Only S256 is accepted.", printableScope(method))
	}
	if len(challenge) != 43 || !validPKCEValue(challenge) {
		return Errorf(ErrInvalidRequest, 501491, "Invalid size of code_challenge parameter: an S256 challenge is 43 base64url characters.")
	}
	return nil
}

// CheckVerifier checks a token request's code_verifier against the
// challenge the code was issued with, in constant time. A verifier sent
// for a code issued without a challenge is refused too: the client believes
// it is protected while it is not.
func CheckVerifier(challenge, verifier string) error {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return Errorf(ErrInvalidGrant, 50148, "A code_verifier was sent, but the authorization code was issued without a code_challenge.")
	case verifier == "":
		return Errorf(ErrInvalidRequest, 50148, "The code_verifier is missing: the authorization code was issued with a PKCE code_challenge.")
	case !validPKCEValue(verifier):
		return Errorf(ErrInvalidGrant, 501491, "Invalid size of Code_Verifier parameter.")
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) != 1 {
		return Errorf(ErrInvalidGrant, 50148, "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.")
	}
	return nil
}

// Redirect URIs.

// loopbackHosts are the hosts of RFC 8252 §7.3 loopback redirects.
var loopbackHosts = map[string]bool{"localhost": true, "127.0.0.1": true, "[::1]": true, "::1": true}

// firstPartyRedirects are the redirect URIs of the Microsoft public
// clients (no application object holds them): the loopback redirects the
// SDKs and the Azure CLI listen on, and the native-client page.
var firstPartyRedirects = []string{"http://localhost", "http://127.0.0.1", "http://[::1]",
	"https://login.microsoftonline.com/common/oauth2/nativeclient"}

// MatchRedirect reports whether requested is one of registered: compared
// exactly, except that a loopback redirect registered for a native client
// matches any port (RFC 8252 §7.3), because the app picks a free port at
// run time. Scheme, host and path must still match exactly; a path of "/"
// and an empty path are the same resource.
func MatchRedirect(requested string, registered []string, native bool) bool {
	for _, r := range registered {
		if requested == r {
			return true
		}
	}
	if !native {
		return false
	}
	q, err := url.Parse(requested)
	if err != nil || q.Scheme != "http" || !loopbackHosts[q.Hostname()] || q.User != nil || q.Fragment != "" || q.Opaque != "" {
		return false
	}
	for _, r := range registered {
		u, err := url.Parse(r)
		if err != nil || u.Scheme != "http" || !loopbackHosts[u.Hostname()] {
			continue
		}
		if u.Hostname() == q.Hostname() && samePath(u.EscapedPath(), q.EscapedPath()) && u.RawQuery == q.RawQuery {
			return true
		}
	}
	return false
}

func samePath(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}
