package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

const mlAPI = "?api-version=2022-10-01-preview"

func TestARMLeastPrivilege(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	ws := s.Workspace(t, "ml-rg", "ws1")
	admin := s.AdminARMToken(t)

	r := s.ARM(t, admin, "GET", ws+mlAPI, nil)
	if r.Status != 200 || r.Body["name"] != "ws1" {
		t.Fatalf("GET workspace: %d %s", r.Status, r.Raw)
	}
	props := r.Body["properties"].(map[string]any)
	if props["provisioningState"] != "Succeeded" || props["workspaceId"] == nil || props["storageAccount"] == nil {
		t.Errorf("workspace properties: %v", props)
	}
	identity := r.Body["identity"].(map[string]any)
	if identity["principalId"] == nil || identity["tenantId"] != s.Bootstrap.TenantID {
		t.Errorf("workspace identity: %v", identity)
	}
	if r.Header.Get("ETag") == "" {
		t.Error("GET workspace carries no ETag")
	}

	ds := s.CreateApp(t, "data-scientist", nil)
	s.Assign(t, ws, testserver.RoleAzureMLDataScientist, ds.SPID)
	dsTok := s.ARMToken(t, ds.AppID, ds.Secret)
	if r := s.ARM(t, dsTok, "GET", ws+mlAPI, nil); r.Status != 200 {
		t.Errorf("Data Scientist GET workspace: %d %s", r.Status, r.Raw)
	}
	if r := s.ARM(t, dsTok, "GET", ws+"/computes"+mlAPI, nil); r.Status != 200 {
		t.Errorf("Data Scientist list computes: %d %s", r.Status, r.Raw)
	}
	compute := map[string]any{"location": "eastus", "properties": map[string]any{"computeType": "AmlCompute",
		"properties": map[string]any{"vmSize": "STANDARD_DS3_V2", "scaleSettings": map[string]any{"maxNodeCount": 2, "minNodeCount": 0}}}}
	r = s.ARM(t, dsTok, "PUT", ws+"/computes/cpu"+mlAPI, compute)
	if r.Status != 403 || r.ErrorCode() != "AuthorizationFailed" {
		t.Fatalf("Data Scientist create compute: %d %s, want 403 AuthorizationFailed", r.Status, r.Raw)
	}
	msg := r.Body["error"].(map[string]any)["message"].(string)
	for _, want := range []string{ds.AppID, ds.SPID, "Microsoft.MachineLearningServices/workspaces/computes/write", ws + "/computes/cpu"} {
		if !strings.Contains(msg, want) {
			t.Errorf("AuthorizationFailed message lacks %q: %s", want, msg)
		}
	}
	subs := s.ARM(t, dsTok, "GET", "/subscriptions?api-version=2019-11-01", nil)
	if v, _ := subs.Body["value"].([]any); len(v) != 1 {
		t.Errorf("workspace-scoped principal sees %d subscriptions, want 1: %s", len(v), subs.Raw)
	}

	nobody := s.CreateApp(t, "no-role", nil)
	noTok := s.ARMToken(t, nobody.AppID, nobody.Secret)
	if r := s.ARM(t, noTok, "GET", ws+mlAPI, nil); r.Status != 403 {
		t.Errorf("principal without a role GET workspace: %d", r.Status)
	}
	if subs := s.ARM(t, noTok, "GET", "/subscriptions?api-version=2019-11-01", nil); len(subs.Body["value"].([]any)) != 0 {
		t.Errorf("principal without a role sees subscriptions: %s", subs.Raw)
	}

	rgScope := "/subscriptions/" + s.Bootstrap.SubscriptionID + "/resourceGroups/ml-rg"
	reader := s.CreateApp(t, "reader", nil)
	s.Assign(t, rgScope, testserver.RoleReader, reader.SPID)
	rdTok := s.ARMToken(t, reader.AppID, reader.Secret)
	if r := s.ARM(t, rdTok, "GET", ws+mlAPI, nil); r.Status != 200 {
		t.Errorf("Reader GET workspace: %d", r.Status)
	}
	if r := s.ARM(t, rdTok, "PATCH", ws+mlAPI, map[string]any{"tags": map[string]any{"a": "b"}}); r.Status != 403 {
		t.Errorf("Reader PATCH workspace: %d, want 403", r.Status)
	}

	contrib := s.CreateApp(t, "contributor", nil)
	s.Assign(t, rgScope, testserver.RoleContributor, contrib.SPID)
	ctTok := s.ARMToken(t, contrib.AppID, contrib.Secret)
	r = s.ARM(t, ctTok, "PUT", ws+"/computes/cpu"+mlAPI, compute)
	if r.Status != 201 || r.Header.Get("Azure-AsyncOperation") == "" {
		t.Fatalf("Contributor create compute: %d %s", r.Status, r.Raw)
	}
	op := strings.TrimPrefix(r.Header.Get("Azure-AsyncOperation"), s.URL)
	if st := s.ARM(t, ctTok, "GET", op, nil); st.Body["status"] != "Succeeded" {
		t.Errorf("operation status: %d %s", st.Status, st.Raw)
	}
	assign := map[string]any{"properties": map[string]any{"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/" + testserver.RoleReader, "principalId": nobody.SPID}}
	if r := s.ARM(t, ctTok, "PUT", ws+"/providers/Microsoft.Authorization/roleAssignments/6f1e9a52-0c3e-4c7e-9f0e-2f3b6a1d7c11?api-version=2022-04-01", assign); r.Status != 403 {
		t.Errorf("Contributor creates a role assignment: %d, want 403", r.Status)
	}
	if r := s.ARM(t, admin, "PUT", ws+"/providers/Microsoft.Authorization/roleAssignments/6f1e9a52-0c3e-4c7e-9f0e-2f3b6a1d7c11?api-version=2022-04-01", assign); r.Status != 201 {
		t.Errorf("Owner creates a role assignment: %d %s", r.Status, r.Raw)
	}
	if r := s.ARM(t, noTok, "GET", ws+mlAPI, nil); r.Status != 200 {
		t.Errorf("after the Owner's grant, GET workspace: %d (read-your-writes)", r.Status)
	}
	if r := s.ARM(t, admin, "PUT", ws+"/providers/Microsoft.Authorization/roleAssignments/0a5e1b6c-0c3e-4c7e-9f0e-2f3b6a1d7c11?api-version=2022-04-01", assign); r.Status != 409 || r.ErrorCode() != "RoleAssignmentExists" {
		t.Errorf("duplicate assignment: %d %s", r.Status, r.Raw)
	}
}

func TestARMErrors(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	admin := s.AdminARMToken(t)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	cases := []struct {
		name, method, path, bearer string
		status                     int
		code                       string
	}{
		{"no token", "GET", sub + "?api-version=2020-01-01", "", 401, "AuthenticationFailed"},
		{"bad token", "GET", sub + "?api-version=2020-01-01", "abc.def.ghi", 401, "InvalidAuthenticationToken"},
		{"graph token", "GET", sub + "?api-version=2020-01-01", "graph", 401, "InvalidAuthenticationTokenAudience"},
		{"no api-version", "GET", sub, admin, 400, "MissingApiVersionParameter"},
		{"bad api-version", "GET", sub + "?api-version=yesterday", admin, 400, "InvalidApiVersionParameter"},
		{"missing group", "GET", sub + "/resourcegroups/nope?api-version=2021-04-01", admin, 404, "ResourceGroupNotFound"},
		{"missing workspace", "GET", sub + "/resourceGroups/nope/providers/Microsoft.MachineLearningServices/workspaces/x" + mlAPI, admin, 404, "ResourceGroupNotFound"},
		{"unknown subscription", "GET", "/subscriptions/00000000-0000-0000-0000-000000000000?api-version=2020-01-01", admin, 404, "SubscriptionNotFound"},
		{"unknown type", "GET", sub + "/resourceGroups/g/providers/Microsoft.MachineLearningServices/gizmos/x" + mlAPI, admin, 400, "InvalidResourceType"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bearer := tc.bearer
			if bearer == "graph" {
				bearer = s.GraphToken(t)
			}
			r := s.ARM(t, bearer, tc.method, tc.path, nil)
			if r.Status != tc.status || r.ErrorCode() != tc.code {
				t.Fatalf("%d %s, want %d %s", r.Status, r.Raw, tc.status, tc.code)
			}
			if tc.status == 401 && !strings.Contains(r.Header.Get("WWW-Authenticate"), "authorization_uri=") {
				t.Errorf("401 without WWW-Authenticate authorization_uri: %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	ws := s.Workspace(t, "rg2", "ws2")
	r := s.ARM(t, admin, "GET", ws+mlAPI, nil)
	etag := r.Header.Get("ETag")
	put := func(ifMatch string) int {
		req, _ := http.NewRequest("PATCH", s.URL+ws+mlAPI, strings.NewReader(`{"tags":{"x":"1"}}`))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("If-Match", ifMatch)
		resp, err := s.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := put(`"stale"`); st != 412 {
		t.Errorf("PATCH with a stale If-Match: %d, want 412", st)
	}
	if st := put(etag); st != 200 {
		t.Errorf("PATCH with the current If-Match: %d, want 200", st)
	}
	// Deleting the group deletes the workspace, its identity's assignments and the assignments inside.
	if r := s.ARM(t, admin, "DELETE", "/subscriptions/"+s.Bootstrap.SubscriptionID+"/resourcegroups/rg2?api-version=2021-04-01", nil); r.Status != 200 {
		t.Fatalf("delete group: %d %s", r.Status, r.Raw)
	}
	if r := s.ARM(t, admin, "GET", ws+mlAPI, nil); r.Status != 404 {
		t.Errorf("workspace after group delete: %d", r.Status)
	}
}
