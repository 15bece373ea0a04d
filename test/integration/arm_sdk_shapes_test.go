package integration

import (
	"net/http"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

// TestCreateStatusPerAPI pins what the generated SDKs accept: Azure's
// Machine Learning API answers a PUT that creates a workspace or a
// workspace connection with 200 (it defines no 201, and armmachinelearning
// rejects one), while computes and other children answer 201.
func TestCreateStatusPerAPI(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	tok := s.AdminARMToken(t)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	if r := s.ARM(t, tok, "PUT", sub+"/resourcegroups/st-rg?api-version=2021-04-01", map[string]any{"location": "eastus"}); r.Status != http.StatusCreated {
		t.Fatalf("resource group create: %d", r.Status)
	}
	ws := sub + "/resourceGroups/st-rg/providers/Microsoft.MachineLearningServices/workspaces/st"
	const v = "?api-version=2024-04-01"
	for _, tc := range []struct {
		what, path string
		body       map[string]any
		create     int
	}{
		{"workspace", ws, map[string]any{"location": "eastus"}, http.StatusOK},
		{"connection", ws + "/connections/c1", map[string]any{"properties": map[string]any{"category": "Git", "target": "https://example.com", "authType": "None"}}, http.StatusOK},
		{"compute", ws + "/computes/cpu", map[string]any{"location": "eastus", "properties": map[string]any{"computeType": "AmlCompute"}}, http.StatusCreated},
		{"datastore", ws + "/datastores/d1", map[string]any{"properties": map[string]any{"datastoreType": "AzureBlob", "accountName": "a", "containerName": "c", "credentials": map[string]any{"credentialsType": "None"}}}, http.StatusCreated},
	} {
		if r := s.ARM(t, tok, "PUT", tc.path+v, tc.body); r.Status != tc.create {
			t.Errorf("%s create: %d, want %d (%s)", tc.what, r.Status, tc.create, r.Raw)
		}
		if r := s.ARM(t, tok, "PUT", tc.path+v, tc.body); r.Status != http.StatusOK {
			t.Errorf("%s update: %d, want 200", tc.what, r.Status)
		}
	}
}

// TestListBySubscription: GET /subscriptions/{s}/providers/{ns}/{type}
// lists a top-level type across resource groups, keeping what the caller
// may read; unregistered types are not routed.
func TestListBySubscription(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	a := s.Workspace(t, "ls-a", "wa")
	s.Workspace(t, "ls-b", "wb")
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	const list = "/providers/Microsoft.MachineLearningServices/workspaces?api-version=2024-04-01"
	r := s.ARM(t, s.AdminARMToken(t), "GET", sub+list, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("admin list: %d %s", r.Status, r.Raw)
	}
	if v, _ := r.Body["value"].([]any); len(v) != 2 {
		t.Fatalf("admin sees %d workspaces, want 2: %s", len(v), r.Raw)
	}
	reader := s.CreateApp(t, "ls-reader", nil)
	s.Assign(t, a, testserver.RoleReader, reader.SPID)
	r = s.ARM(t, s.ARMToken(t, reader.AppID, reader.Secret), "GET", sub+list, nil)
	v, _ := r.Body["value"].([]any)
	if r.Status != http.StatusOK || len(v) != 1 || v[0].(map[string]any)["id"] != a {
		t.Fatalf("reader of one workspace: %d %s", r.Status, r.Raw)
	}
	if r := s.ARM(t, s.AdminARMToken(t), "GET", sub+"/providers/Microsoft.MachineLearningServices/nothings?api-version=2024-04-01", nil); r.Status != http.StatusNotFound {
		t.Errorf("unregistered type: %d", r.Status)
	}
}
