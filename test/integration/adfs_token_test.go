package integration

import (
	"net/url"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

// TestADFSTokenNumbers pins the AD FS shape of /adfs/oauth2/token: numbers,
// not Entra v1's numeric strings. The Azure CLI 2.45 on the ADFS-style route
// (AZURE_CLI.md §2, route A) adds expires_in to an int as MSAL returns it
// (azure/cli/core/auth/util.py build_sdk_access_token) and crashed with
// "unsupported operand type(s) for +: 'int' and 'str'" on its first Graph call.
func TestADFSTokenNumbers(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	app := s.CreateApp(t, "adfs-numbers", nil)
	r := s.PostForm(t, "/adfs/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {app.AppID},
		"client_secret": {app.Secret}, "scope": {s.URL + "/graph/.default"}, "client_info": {"1"}})
	if r.Status != 200 {
		t.Fatalf("%s", r)
	}
	for _, f := range []string{"expires_in", "ext_expires_in", "expires_on", "not_before"} {
		if _, ok := r.Body[f].(float64); !ok {
			t.Errorf("%s is %T (%v), want a JSON number", f, r.Body[f], r.Body[f])
		}
	}
	if n, _ := r.Body["expires_in"].(float64); n < 3000 || n > 4000 {
		t.Errorf("expires_in %v, want about an hour", n)
	}
	if r.Body["token_type"] != "Bearer" || r.Body["access_token"] == nil {
		t.Errorf("unexpected response %v", r.Body)
	}
}
