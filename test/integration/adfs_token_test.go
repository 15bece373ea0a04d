package integration

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
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

// TestADFSTenantDiscovery: `az login --tenant <domain>` (or `--tenant adfs`)
// on the ADFS-style route reads {base}/adfs/{tenant}/.well-known/openid-configuration
// and takes the tenant GUID from its issuer (azure/cli/command_modules/profile/_validators.py
// validate_tenant). The document is the tenant's own.
func TestADFSTenantDiscovery(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	tid, dom := s.Bootstrap.TenantID, s.Bootstrap.Domain
	get := func(t *testing.T, method, path string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, s.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := s.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readBody(t, resp)
	}
	for _, tc := range []struct{ path, same string }{
		{"/adfs/" + dom + "/.well-known/openid-configuration", "/" + dom + "/.well-known/openid-configuration"},
		{"/ADFS/" + strings.ToUpper(dom) + "/.well-known/openid-configuration", "/" + dom + "/.well-known/openid-configuration"},
		{"/adfs/adfs/.well-known/openid-configuration", "/adfs/.well-known/openid-configuration"},
		{"/adfs/" + tid + "/.well-known/openid-configuration", "/" + tid + "/.well-known/openid-configuration"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			status, body := get(t, http.MethodGet, tc.path)
			if status != 200 {
				t.Fatalf("GET %s: %d %s", tc.path, status, body)
			}
			_, want := get(t, http.MethodGet, tc.same)
			if got, want := decodeMap(t, body), decodeMap(t, want); !reflect.DeepEqual(got, want) {
				t.Errorf("GET %s:\n%v\nwant the document of %s:\n%v", tc.path, got, tc.same, want)
			}
			iss, _ := decodeMap(t, body)["issuer"].(string)
			if parts := strings.Split(iss, "/"); len(parts) < 4 || parts[3] != tid {
				t.Errorf("issuer %q: az reads the tenant id %s from its fourth '/'-separated part", iss, tid)
			}
			if status, _ := get(t, http.MethodHead, tc.path); status != 200 {
				t.Errorf("HEAD %s: %d", tc.path, status)
			}
		})
	}
	t.Run("v2.0 is the alias's own v2 document", func(t *testing.T) {
		status, body := get(t, http.MethodGet, "/adfs/v2.0/.well-known/openid-configuration")
		if _, want := get(t, http.MethodGet, "/"+tid+"/v2.0/.well-known/openid-configuration"); status != 200 ||
			decodeMap(t, body)["issuer"] != decodeMap(t, want)["issuer"] {
			t.Errorf("GET /adfs/v2.0/.well-known/openid-configuration: %d %s", status, body)
		}
	})
	t.Run("unknown tenant", func(t *testing.T) {
		status, body := get(t, http.MethodGet, "/adfs/nope.example/.well-known/openid-configuration")
		assertAADSTS(t, testserver.TokenResponse{Status: status, Body: decodeMap(t, body)}, 400, "invalid_request", 90002)
	})
	t.Run("POST", func(t *testing.T) {
		status, body := get(t, http.MethodPost, "/adfs/"+dom+"/.well-known/openid-configuration")
		assertAADSTS(t, testserver.TokenResponse{Status: status, Body: decodeMap(t, body)}, 405, "invalid_request", 90100)
	})
	t.Run("deeper path", func(t *testing.T) {
		status, body := get(t, http.MethodGet, "/adfs/"+dom+"/x/.well-known/openid-configuration")
		assertAADSTS(t, testserver.TokenResponse{Status: status, Body: decodeMap(t, body)}, 404, "invalid_request", 90100)
	})
}
