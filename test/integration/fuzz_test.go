package integration

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

// FuzzTokenEndpoint posts arbitrary bodies to the token endpoint of a real
// server: whatever arrives, the answer is a 200 token or a 4xx AADSTS error,
// never a 5xx, a panic or a non-JSON body.
func FuzzTokenEndpoint(f *testing.F) {
	s := testserver.Start(f, testserver.Options{})
	app := s.CreateApp(f, "fuzz-app", nil)
	seeds := []url.Values{
		{"grant_type": {"client_credentials"}, "client_id": {app.AppID}, "client_secret": {app.Secret}, "scope": {armScope}},
		{"grant_type": {"client_credentials"}, "client_id": {app.AppID}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"eyJhbGciOiJSUzI1NiJ9.e30.AA"}},
		{"grant_type": {"password"}, "username": {"a@b"}, "password": {"x"}},
		{"resource": {"https://management.core.windows.net/"}},
	}
	for _, v := range seeds {
		f.Add(v.Encode(), true)
		f.Add(v.Encode(), false)
	}
	f.Add("%zz&&==&scope=%00", true)
	f.Add(strings.Repeat("a=b&", 1000), false)
	path2 := "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/token"
	path1 := "/adfs/oauth2/token"
	f.Fuzz(func(t *testing.T, body string, v2 bool) {
		path := path1
		if v2 {
			path = path2
		}
		req, err := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := s.Client.Do(req)
		if err != nil {
			t.Fatalf("request failed: %v", err)
		}
		raw := readBody(t, resp)
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d for body %q: %s", resp.StatusCode, body, raw)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("non-JSON answer %q", raw)
		}
		if resp.StatusCode != 200 && m["error"] == nil {
			t.Fatalf("error answer without an error code: %s", raw)
		}
	})
}
