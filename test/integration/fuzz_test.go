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

// FuzzARMPaths sends arbitrary paths (dot segments, empty segments,
// percent-encodings) to the resource manager of a real server as the
// subscription's Owner: the answer is never a redirect, a 5xx or a body
// that is not ARM's JSON, and every id the server then holds is free of
// ".", ".." and empty segments.
func FuzzARMPaths(f *testing.F) {
	s := testserver.Start(f, testserver.Options{})
	admin := s.AdminARMToken(f)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	ws := s.Workspace(f, "fuzz-rg", "fuzz-ws")
	rg := sub + "/resourceGroups/fuzz-rg"
	principal := s.CreateApp(f, "fuzz-principal", nil).SPID
	for _, p := range []string{
		rg + "/../fuzz-rg2", rg + "/./x", rg + "/%2e%2e/%2E%2e", rg + "%2f..%2ffuzz-rg3", "//subscriptions//x//", "/subscriptions/..",
		rg + "/../fuzz-rg2/providers/Microsoft.Authorization/roleAssignments/00000000-0000-0000-0000-000000000001",
		rg + "/../../../../providers/Microsoft.Authorization/roleDefinitions/x", ws + "/computes/../computes/c", ws + "/./computes//c2/",
		ws + "/providers/Microsoft.Authorization/permissions", sub + "/providers/Microsoft.Authorization/checkAccess", "/tenants/..",
	} {
		for _, m := range []string{"GET", "PUT", "POST", "DELETE"} {
			f.Add(m, p)
		}
	}
	body := `{"location":"eastus","properties":{"roleDefinitionId":"` + sub + `/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7","principalId":"` + principal + `","computeType":"AmlCompute"},"actions":[{"id":"x/read"}]}`
	f.Fuzz(func(t *testing.T, method, path string) {
		switch method {
		case "GET", "PUT", "PATCH", "POST", "DELETE":
		default:
			t.Skip()
		}
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?# \t\r\n") || !validEscapes(path) {
			t.Skip()
		}
		r := rawDo(t, s, admin, method, path+"?api-version=2022-04-01", "application/json", body)
		if r.Status >= 500 {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Raw)
		}
		if r.Status >= 400 && r.armCode() == "" && r.Body["error"] == nil {
			t.Fatalf("%s %s: %d without an error body: %s", method, path, r.Status, r.Raw)
		}
		for _, k := range []string{"id", "scope"} {
			id, _ := r.Body[k].(string)
			if props, ok := r.Body["properties"].(map[string]any); ok && k == "scope" {
				id, _ = props["scope"].(string)
			}
			if id == "" || id == "/" {
				continue
			}
			for _, seg := range strings.Split(id, "/")[1:] {
				if seg == "" || seg == "." || seg == ".." {
					t.Fatalf("%s %s answered %s %q", method, path, k, id)
				}
			}
		}
	})
}

// validEscapes: every % starts a two-digit hex escape (Go's client refuses others).
func validEscapes(p string) bool {
	_, err := url.PathUnescape(p)
	return err == nil
}
