package token

import (
	"strings"
	"testing"
)

// Fuzz targets for the parsers of the user flows' untrusted input: scopes,
// redirect URIs, PKCE values and user codes. None may panic, and their
// answers must hold their invariants.
//
//	go test -fuzz FuzzParseUserScope ./internal/token/

func FuzzParseUserScope(f *testing.F) {
	for _, s := range []string{"https://management.azure.com/.default openid offline_access", "User.Read",
		"https://management.core.windows.net//.default", "api://x/a api://y/b", "/", "//.default", "a/", " \t\n"} {
		f.Add(2, s, "")
		f.Add(1, s, "https://management.core.windows.net/")
	}
	f.Fuzz(func(t *testing.T, version int, scope, resource string) {
		us, err := ParseUserScope(version, scope, resource)
		if err != nil {
			if _, ok := AsError(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if us.Resource == "" {
			t.Fatalf("no resource for %q", scope)
		}
		_ = us.DelegatedScp()
		_ = us.ResponseScope(version)
	})
}

func FuzzMatchRedirect(f *testing.F) {
	for _, s := range []string{"http://localhost:8400", "http://localhost:1/cb", "https://app.example.com/cb", "http://[::1]:9",
		"http://localhost.evil:1", "javascript:alert(1)", "http://user@localhost:1", "http://localhost:99999", "%zz"} {
		f.Add(s, "http://localhost/cb")
	}
	f.Fuzz(func(t *testing.T, requested, registered string) {
		got := MatchRedirect(requested, []string{registered}, true)
		if got && requested != registered && !strings.HasPrefix(requested, "http://") {
			t.Fatalf("%q matched %q without being equal or a loopback http URI", requested, registered)
		}
		if MatchRedirect(requested, []string{registered}, false) && requested != registered {
			t.Fatalf("non-native match of %q to %q", requested, registered)
		}
	})
}

func FuzzPKCE(f *testing.F) {
	f.Add("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "S256")
	f.Add("", "", "")
	f.Add("x", "plain", "plain")
	f.Fuzz(func(t *testing.T, challenge, verifier, method string) {
		_ = CheckChallenge(challenge, method, true)
		if err := CheckVerifier(challenge, verifier); err == nil && challenge != "" && verifier == challenge {
			t.Fatalf("a plain verifier passed for %q", challenge)
		}
	})
}

func FuzzNormalizeUserCode(f *testing.F) {
	f.Add("bcdf-ghjk")
	f.Add(" BCDF GHJK ")
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeUserCode(s)
		if strings.ContainsAny(n, "- ") {
			t.Fatalf("%q normalised to %q", s, n)
		}
	})
}
