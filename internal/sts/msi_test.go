package sts

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/internal/resources"
)

func TestParseMSIRequest(t *testing.T) {
	cases := []struct {
		name, method, target, body string
		headers                    map[string]string
		status                     int
		shape                      string
		sel                        resources.IdentitySelector
	}{
		{"app service", "GET", "/msi/token?api-version=2019-08-01&resource=R", "", map[string]string{"X-IDENTITY-HEADER": "s"}, 0, shapeAppService, resources.IdentitySelector{}},
		{"azure ml empty clientid", "GET", "/msi/token?resource=R&clientid=", "", map[string]string{"secret": "s"}, 0, shapeAzureML, resources.IdentitySelector{}},
		{"azure ml clientid", "GET", "/msi/token?resource=R&clientid=C", "", map[string]string{"secret": "s"}, 0, shapeAzureML, resources.IdentitySelector{ClientID: "C"}},
		{"client_id and clientid agree", "GET", "/msi/token?resource=R&clientid=C&client_id=C", "", map[string]string{"secret": "s"}, 0, shapeAzureML, resources.IdentitySelector{ClientID: "C"}},
		{"cloud shell form", "POST", "/msi/token", "resource=R&msi_res_id=X", map[string]string{"Metadata": "true", "Content-Type": "application/x-www-form-urlencoded"}, 0, shapeCloudShell, resources.IdentitySelector{ResourceID: "X"}},
		{"imds", "GET", "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=R&object_id=O", "", map[string]string{"Metadata": "True"}, 0, shapeIMDS, resources.IdentitySelector{PrincipalID: "O"}},
		{"imds without api-version", "GET", "/metadata/identity/oauth2/token?resource=R", "", map[string]string{"Metadata": "true"}, 400, "", resources.IdentitySelector{}},
		{"imds without Metadata", "GET", "/metadata/identity/oauth2/token?api-version=1&resource=R", "", nil, 400, "", resources.IdentitySelector{}},
		{"cloud shell without Metadata", "POST", "/msi/token", "resource=R", nil, 400, "", resources.IdentitySelector{}},
		{"cloud shell json", "POST", "/msi/token", `{"resource":"R"}`, map[string]string{"Metadata": "true", "Content-Type": "application/json"}, 400, "", resources.IdentitySelector{}},
		{"no resource", "GET", "/msi/token", "", nil, 400, "", resources.IdentitySelector{}},
		{"repeated resource", "GET", "/msi/token?resource=R&resource=S", "", nil, 400, "", resources.IdentitySelector{}},
		{"query and form repeat", "POST", "/msi/token?resource=R", "resource=R", map[string]string{"Metadata": "true"}, 400, "", resources.IdentitySelector{}},
		{"two kinds of selector", "GET", "/msi/token?resource=R&client_id=C&object_id=O", "", nil, 400, "", resources.IdentitySelector{}},
		{"two client ids", "GET", "/msi/token?resource=R&client_id=C&clientid=D", "", nil, 400, "", resources.IdentitySelector{}},
		{"two secrets", "GET", "/msi/token?resource=R", "", map[string]string{"secret": "a", "X-IDENTITY-HEADER": "b"}, 401, "", resources.IdentitySelector{}},
		{"put", "PUT", "/msi/token?resource=R", "", nil, 405, "", resources.IdentitySelector{}},
		{"imds post", "POST", "/metadata/identity/oauth2/token?resource=R", "", map[string]string{"Metadata": "true"}, 405, "", resources.IdentitySelector{}},
		{"large form", "POST", "/msi/token", "resource=" + strings.Repeat("x", maxMSIFormBytes), map[string]string{"Metadata": "true"}, 400, "", resources.IdentitySelector{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			req, status, body := parseMSIRequest(httptest.NewRecorder(), r)
			if status != tc.status {
				t.Fatalf("status %d (%v), want %d", status, body, tc.status)
			}
			if status != 0 {
				if body.Error == "" || body.ErrorDescription == "" {
					t.Errorf("error body %+v", body)
				}
				return
			}
			if req.shape != tc.shape || req.resource != "R" || req.sel != tc.sel || req.secret != tc.headers["X-IDENTITY-HEADER"]+tc.headers["secret"] {
				t.Errorf("parsed %+v", req)
			}
		})
	}
}

// FuzzMSIRequest: whatever a caller sends, the parser answers with one of
// the endpoint's statuses, and an accepted request names a resource and at
// most one identity.
func FuzzMSIRequest(f *testing.F) {
	f.Add("GET", "/msi/token", "api-version=2019-08-01&resource=R&client_id=C", "", "true", "s")
	f.Add("POST", "/msi/token", "", "resource=R&object_id=%zz", "true", "")
	f.Add("GET", "/metadata/identity/oauth2/token", "resource=R&mi_res_id=x&msi_res_id=X", "", "true", "")
	f.Fuzz(func(t *testing.T, method, path, query, body, metadata, secret string) {
		if path != IMDSPath {
			path = MSIPath
		}
		u := &url.URL{Path: path, RawQuery: query}
		r := httptest.NewRequest("GET", "/", strings.NewReader(body))
		r.Method, r.URL = method, u
		r.Header.Set("Metadata", metadata)
		r.Header.Set("secret", secret)
		req, status, msg := parseMSIRequest(httptest.NewRecorder(), r)
		switch status {
		case 0:
			n := 0
			for _, v := range []string{req.sel.ClientID, req.sel.PrincipalID, req.sel.ResourceID} {
				if v != "" {
					n++
				}
			}
			if req.resource == "" || n > 1 {
				t.Fatalf("accepted %+v", req)
			}
		case 400, 401, 405:
			if msg.Error == "" {
				t.Fatalf("status %d without an error code", status)
			}
		default:
			t.Fatalf("status %d", status)
		}
	})
}
