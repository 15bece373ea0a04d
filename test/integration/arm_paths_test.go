package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/test/testserver"
)

// TestARMEmptyParentPath pins how ARM reads an empty path segment: as
// nothing. `az resource show|update|delete -g RG -n NAME --resource-type NS/TYPE`
// sends the empty parentResourcePath as ".../providers/NS//TYPE/NAME"; a GET
// of that path answered 404 while the PUT created the resource.
func TestARMEmptyParentPath(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	ws := s.Workspace(t, "paths-rg", "paths-ws")
	reader := s.CreateApp(t, "paths-reader", nil)
	s.Assign(t, ws, testserver.RoleReader, reader.SPID)
	double := strings.Replace(ws, "Microsoft.MachineLearningServices/", "Microsoft.MachineLearningServices//", 1)
	double = strings.Replace(double, "/resourceGroups/", "/resourcegroups/", 1)

	for name, tok := range map[string]string{"admin": s.AdminARMToken(t), "workspace Reader": s.ARMToken(t, reader.AppID, reader.Secret)} {
		r := s.ARM(t, tok, "GET", double+"?api-version=2024-04-01", nil)
		if r.Status != 200 || r.Body["id"] != ws {
			t.Errorf("%s: GET %s: %d %s", name, double, r.Status, r.Raw)
		}
	}
	r := s.ARM(t, s.ARMToken(t, reader.AppID, reader.Secret), "PUT", double+"?api-version=2024-04-01", map[string]any{"location": "eastus"})
	if r.Status != 403 || r.ErrorCode() != "AuthorizationFailed" || !strings.Contains(strings.ToLower(string(r.Raw)), strings.ToLower("over scope '"+ws+"'")) {
		t.Errorf("Reader PUT: %d %s", r.Status, r.Raw)
	}
	if r := s.ARM(t, s.AdminARMToken(t), "DELETE", double+"?api-version=2024-04-01", nil); r.Status >= 300 {
		t.Fatalf("DELETE: %d %s", r.Status, r.Raw)
	}
	if r := s.ARM(t, s.AdminARMToken(t), "GET", ws+"?api-version=2024-04-01", nil); r.Status != 404 {
		t.Errorf("after DELETE: %d %s", r.Status, r.Raw)
	}
}

// rawResponse is an answer to a request sent with its path exactly as
// written: Go's client neither resolves dot segments nor follows redirects
// here, so what the server does with them is what the test sees.
type rawResponse struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

func (r rawResponse) armCode() string {
	e, _ := r.Body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// rawDo sends method path (with its query, escapes as written) with a
// bearer token if given, and body with ctype if ctype is not "".
func rawDo(t *testing.T, s *testserver.Server, bearer, method, path, ctype, body string) rawResponse {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, s.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	// Opaque keeps the path byte for byte: no cleaning, no re-escaping.
	req.URL = &url.URL{Scheme: u.Scheme, Host: u.Host, Opaque: "//" + u.Host + path}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	client := *s.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := rawResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		t.Errorf("%s %s: redirect %d to %q", method, path, resp.StatusCode, resp.Header.Get("Location"))
	}
	if ct := resp.Header.Get("Content-Type"); len(raw) > 0 && !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: %d with Content-Type %q: %s", method, path, resp.StatusCode, ct, raw)
	}
	return out
}

// TestARMDotSegments: a path with ".", ".." or empty segments, plain or
// percent-encoded, is resolved before routing and authorization, in every
// ARM shape: the caller is judged on the scope the path names once resolved,
// and nothing is stored under an id no client can address.
func TestARMDotSegments(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	admin := s.AdminARMToken(t)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	rg, rg2 := sub+"/resourceGroups/acc-rg", sub+"/resourceGroups/acc-rg2"
	ws := s.Workspace(t, "acc-rg", "acc-ws")
	ws2 := s.Workspace(t, "acc-rg2", "acc-ws2")
	owner := s.CreateApp(t, "acc-rg-owner", nil)
	s.Assign(t, rg, testserver.RoleOwner, owner.SPID)
	tok := s.ARMToken(t, owner.AppID, owner.Secret)
	const authz = "/providers/Microsoft.Authorization"
	ownerRole := sub + authz + "/roleDefinitions/" + testserver.RoleOwner
	assignment := func(role ...string) string {
		def := ownerRole
		if len(role) > 0 {
			def = sub + authz + "/roleDefinitions/" + role[0]
		}
		return `{"properties":{"roleDefinitionId":"` + def + `","principalId":"` + owner.SPID + `"}}`
	}
	const json = "application/json; charset=utf-8"
	const api = "?api-version=2022-04-01"
	const mlAPI = "?api-version=2024-04-01"

	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
		mentions                 string // in the answer, case-insensitively
	}{
		// Role assignments: the example and its variants.
		{"assignment via ..", "PUT", rg + "/../acc-rg2" + authz + "/roleAssignments/" + uuid.NewString() + api, assignment(), 403, "AuthorizationFailed", "over scope '" + rg2 + "'"},
		{"assignment via %2e%2e", "PUT", rg + "/%2e%2e/acc-rg2" + authz + "/roleAssignments/" + uuid.NewString() + api, assignment(), 403, "AuthorizationFailed", "over scope '" + rg2 + "'"},
		{"assignment via %2E%2E and %2F", "PUT", rg + "%2F%2E%2E%2Facc-rg2" + authz + "/roleAssignments/" + uuid.NewString() + api, assignment(), 403, "AuthorizationFailed", "over scope '" + rg2 + "'"},
		{"assignment via ../../../", "PUT", rg + "/../../.." + authz + "/roleAssignments/" + uuid.NewString() + api, assignment(), 400, "InvalidScope", ""},
		{"assignment above the root", "PUT", rg + "/../../../../../.." + authz + "/roleAssignments/" + uuid.NewString() + api, assignment(), 403, "AuthorizationFailed", "over scope '/'"},
		{"assignment via ./x", "PUT", rg + "/./x" + authz + "/roleAssignments/" + uuid.NewString() + api, assignment(), 400, "InvalidScope", ""},
		{"assignment via //", "PUT", "/" + rg + "//" + authz + "//roleAssignments/" + uuid.NewString() + api, assignment(testserver.RoleReader), 201, "", `"scope":"` + rg + `"`},
		{"assignment on a workspace via ..", "PUT", ws + "/../../workspaces/acc-ws" + authz + "/roleAssignments/" + uuid.NewString() + api, assignment(testserver.RoleContributor), 201, "", `"scope":"` + ws + `"`},
		{"assignment on another group's workspace via ..", "PUT", ws + "/../../../../../acc-rg2/providers/Microsoft.MachineLearningServices/workspaces/acc-ws2" + authz + "/roleAssignments/" + uuid.NewString() + api, assignment(), 403, "AuthorizationFailed", "over scope '" + ws2 + "'"},
		{"list assignments via ..", "GET", rg + "/../acc-rg2" + authz + "/roleAssignments" + api, "", 403, "AuthorizationFailed", rg2},
		{"list assignments via //", "GET", "//" + rg[1:] + authz + "/roleAssignments" + api, "", 200, "", ""},
		// Resource groups.
		{"resource group via ..", "PUT", rg + "/../acc-rg3" + api, `{"location":"eastus"}`, 403, "AuthorizationFailed", "over scope '" + sub + "/resourceGroups/acc-rg3'"},
		{"resource group read via ..", "GET", rg + "/../acc-rg2" + api, "", 403, "AuthorizationFailed", rg2},
		{"resource group via %2e", "GET", rg + "/%2e" + api, "", 200, "", `"name":"acc-rg"`},
		{"resource groups ..", "PUT", sub + "/resourceGroups/.." + api, `{"location":"eastus"}`, 404, "NoRegisteredProviderFound", ""},
		{"resource group via //", "GET", "//" + rg[1:] + "//" + api, "", 200, "", `"name":"acc-rg"`},
		// Workspaces and child resources.
		{"workspace via ..", "PUT", rg + "/../acc-rg2/providers/Microsoft.MachineLearningServices/workspaces/acc-ws2" + mlAPI, `{"location":"eastus"}`, 403, "AuthorizationFailed", ws2},
		{"workspace via %2e%2e in the type", "PUT", rg + "/providers/Microsoft.MachineLearningServices/workspaces/%2e%2e/workspaces/acc-ws-dot" + mlAPI, `{"location":"eastus"}`, 200, "", `"id":"` + rg + "/providers/Microsoft.MachineLearningServices/workspaces/acc-ws-dot" + `"`},
		{"workspace read via ..", "GET", ws2 + "/../acc-ws" + mlAPI, "", 403, "AuthorizationFailed", "over scope '" + rg2 + "/providers/Microsoft.MachineLearningServices/workspaces/acc-ws'"},
		{"workspace read via ../..", "GET", ws + "/../../workspaces/./acc-ws" + mlAPI, "", 200, "", `"id":"` + ws + `"`},
		{"child resource via ./..", "PUT", ws + "/computes/./x/../cpu" + mlAPI, `{"properties":{"computeType":"AmlCompute"}}`, 201, "", ws + "/computes/cpu"},
		{"child resource escaping its workspace", "PUT", ws + "/computes/../../../../../../acc-rg2/providers/Microsoft.MachineLearningServices/workspaces/acc-ws2/computes/cpu" + mlAPI, `{"properties":{"computeType":"AmlCompute"}}`, 403, "AuthorizationFailed", ws2 + "/computes/cpu"},
		{"child resource via //", "GET", ws + "//computes//cpu" + mlAPI, "", 200, "", ws + "/computes/cpu"},
		// Role definitions.
		{"role definition via ..", "GET", rg + "/../.." + authz + "/roleDefinitions/" + testserver.RoleReader + api, "", 200, "", sub + authz + "/roleDefinitions/" + testserver.RoleReader},
		{"role definition with a .. assignable scope", "PUT", sub + authz + "/roleDefinitions/" + uuid.NewString() + api,
			`{"properties":{"roleName":"dots","permissions":[{"actions":["*/read"]}],"assignableScopes":["` + rg + `/../acc-rg2"]}}`, 400, "InvalidScope", ""},
		// permissions and checkAccess judge the resolved scope.
		{"permissions via ..", "GET", rg + "/../acc-rg2" + authz + "/permissions" + api, "", 200, "", `"value":[]`},
		{"permissions via //", "GET", rg + "//" + authz + "/permissions" + api, "", 200, "", `"actions":["*"]`},
		{"checkAccess via ..", "POST", rg + "/../acc-rg2" + authz + "/checkAccess" + api,
			`{"actions":[{"id":"Microsoft.Resources/subscriptions/resourceGroups/write"}]}`, 200, "", `"accessDecision":"NotAllowed"`},
		{"checkAccess via ./", "POST", rg + "/./" + authz + "/checkAccess" + api,
			`{"actions":[{"id":"Microsoft.Resources/subscriptions/resourceGroups/write"}]}`, 200, "", `"accessDecision":"Allowed"`},
		// // at the start is ARM's, not a redirect.
		{"// before subscriptions", "GET", "//subscriptions/" + s.Bootstrap.SubscriptionID + "/resourceGroups" + api, "", 200, "", "acc-rg"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ct := ""
			if tc.body != "" {
				ct = json
			}
			r := rawDo(t, s, tok, tc.method, tc.path, ct, tc.body)
			if r.Status != tc.status || r.armCode() != tc.code || !strings.Contains(strings.ToLower(string(r.Raw)), strings.ToLower(tc.mentions)) {
				t.Fatalf("%s %s: %d %s; want %d %s mentioning %q", tc.method, tc.path, r.Status, r.Raw, tc.status, tc.code, tc.mentions)
			}
		})
	}

	t.Run("// without a token", func(t *testing.T) {
		r := rawDo(t, s, "", "GET", "//subscriptions/"+s.Bootstrap.SubscriptionID+api, "", "")
		if r.Status != 401 || r.armCode() != "AuthenticationFailed" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})

	t.Run("no stored id has a dot or empty segment", func(t *testing.T) {
		var ids []string
		r := s.ARM(t, admin, "GET", "/providers/Microsoft.Authorization/roleAssignments"+api, nil)
		for _, v := range r.Body["value"].([]any) {
			a := v.(map[string]any)
			ids = append(ids, a["id"].(string), a["properties"].(map[string]any)["scope"].(string))
		}
		r = s.ARM(t, admin, "GET", sub+"/resources"+mlAPI, nil)
		for _, v := range r.Body["value"].([]any) {
			ids = append(ids, v.(map[string]any)["id"].(string))
		}
		r = s.ARM(t, admin, "GET", ws+"/computes"+mlAPI, nil)
		for _, v := range r.Body["value"].([]any) {
			ids = append(ids, v.(map[string]any)["id"].(string))
		}
		if len(ids) < 4 {
			t.Fatalf("only %d ids listed", len(ids))
		}
		for _, id := range ids {
			if id == "/" {
				continue
			}
			for _, seg := range strings.Split(id, "/")[1:] {
				if seg == "" || seg == "." || seg == ".." {
					t.Errorf("stored id %q has segment %q", id, seg)
				}
			}
		}
		// Each is addressable: a GET of it by the administrator finds it.
		for _, id := range ids {
			if !strings.Contains(id, "/roleAssignments/") {
				continue
			}
			if r := s.ARM(t, admin, "GET", id+api, nil); r.Status != 200 {
				t.Errorf("GET %s: %d %s", id, r.Status, r.Raw)
			}
		}
	})
}
