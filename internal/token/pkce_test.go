package token

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

func TestMatchRedirect(t *testing.T) {
	first := firstPartyRedirects
	for _, tc := range []struct {
		req        string
		registered []string
		native     bool
		want       bool
	}{
		{"http://localhost:8400", first, true, true},
		{"http://localhost:51234/", first, true, true},
		{"http://127.0.0.1:1", first, true, true},
		{"http://[::1]:8400", first, true, true},
		{"http://localhost", first, true, true},
		{"http://localhost:8400/path", first, true, false},
		{"https://localhost:8400", first, true, false},
		{"http://localhost.evil.example:8400", first, true, false},
		{"http://user@localhost:8400", first, true, false},
		{"http://localhost:8400#frag", first, true, false},
		{"http://localhost:8400/?x=1", first, true, false},
		{"http://127.0.0.1:8400", []string{"http://localhost"}, true, false},
		{"http://localhost:9/cb", []string{"http://localhost:8080/cb"}, true, true},
		{"http://localhost:9/cb", []string{"http://localhost:8080/cb"}, false, false},
		{"http://localhost:8080/cb", []string{"http://localhost:8080/cb"}, false, true},
		{"https://app.example.com/cb", []string{"https://app.example.com/cb"}, false, true},
		{"https://app.example.com/cb/", []string{"https://app.example.com/cb"}, false, false},
		{"https://app.example.com/CB", []string{"https://app.example.com/cb"}, false, false},
		{"https://app.example.com:444/cb", []string{"https://app.example.com/cb"}, true, false},
	} {
		if got := MatchRedirect(tc.req, tc.registered, tc.native); got != tc.want {
			t.Errorf("MatchRedirect(%q, %v, native=%v) = %v, want %v", tc.req, tc.registered, tc.native, got, tc.want)
		}
	}
}

func TestPKCE(t *testing.T) {
	verifier := strings.Repeat("a", 43)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	for _, tc := range []struct {
		name              string
		challenge, method string
		public            bool
		code              int
	}{
		{"public S256", challenge, "S256", true, 0},
		{"confidential without", "", "", false, 0},
		{"public without", "", "", true, 9002325},
		{"plain", verifier, "plain", true, 50148},
		{"lower-case s256", challenge, "s256", true, 50148},
		{"method without challenge", "", "S256", false, 50148},
		{"short challenge", "abc", "S256", true, 501491},
		{"bad characters", strings.Repeat("+", 43), "S256", true, 501491},
	} {
		err := CheckChallenge(tc.challenge, tc.method, tc.public)
		if tc.code == 0 && err != nil || tc.code != 0 && (err == nil || err.(*Error).Number != tc.code) {
			t.Errorf("%s: CheckChallenge = %v, want AADSTS%d", tc.name, err, tc.code)
		}
	}
	for _, tc := range []struct {
		name                string
		challenge, verifier string
		code                int
	}{
		{"match", challenge, verifier, 0},
		{"neither", "", "", 0},
		{"mismatch", challenge, strings.Repeat("b", 43), 50148},
		{"missing verifier", challenge, "", 50148},
		{"verifier without challenge", "", verifier, 50148},
		{"short verifier", challenge, "abc", 501491},
		{"verifier equal to challenge (plain)", challenge, challenge, 50148},
	} {
		err := CheckVerifier(tc.challenge, tc.verifier)
		if tc.code == 0 && err != nil || tc.code != 0 && (err == nil || err.(*Error).Number != tc.code) {
			t.Errorf("%s: CheckVerifier = %v, want AADSTS%d", tc.name, err, tc.code)
		}
	}
}

func TestParseUserScope(t *testing.T) {
	for _, tc := range []struct {
		name       string
		version    int
		scope, res string
		resource   string
		scp        string
		offline    bool
		code       int
	}{
		{"arm default", 2, "https://management.azure.com/.default openid profile offline_access", "", "https://management.azure.com", "user_impersonation", true, 0},
		{"az double slash", 2, "https://management.core.windows.net//.default offline_access openid profile", "", "https://management.core.windows.net/", "user_impersonation", true, 0},
		{"permission", 2, "https://management.azure.com/user_impersonation", "", "https://management.azure.com", "user_impersonation", false, 0},
		{"bare graph permission", 2, "User.Read openid", "", graphResource, "User.Read", false, 0},
		{"only oidc", 2, "openid profile offline_access", "", graphResource, "User.Read", true, 0},
		{"app id uri", 2, "api://1234/Data.Read api://1234/Data.Write", "", "api://1234", "Data.Read Data.Write", false, 0},
		{"two resources", 2, "https://management.azure.com/.default https://ml.azure.com/.default", "", "", "", false, 28000},
		{"v1 resource", 1, "", "https://management.core.windows.net/", "https://management.core.windows.net/", "user_impersonation", true, 0},
		{"v1 scope (msal on adfs)", 1, "https://management.core.windows.net//.default openid", "", "https://management.core.windows.net/", "user_impersonation", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			us, err := ParseUserScope(tc.version, tc.scope, tc.res)
			if tc.code != 0 {
				if te, ok := AsError(err); !ok || te.Number != tc.code {
					t.Fatalf("err = %v, want AADSTS%d", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if us.Resource != tc.resource || us.DelegatedScp() != tc.scp || us.Offline != tc.offline {
				t.Fatalf("got resource %q scp %q offline %v", us.Resource, us.DelegatedScp(), us.Offline)
			}
		})
	}
}
