package testserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// ARMResponse is a decoded resource manager answer.
type ARMResponse struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// ErrorCode is error.code of an ARM error body.
func (r ARMResponse) ErrorCode() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// ARM calls the resource manager with a bearer token; path includes the query.
func (s *Server) ARM(t testing.TB, bearer, method, path string, body any) ARMResponse {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := ARMResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out.Body)
	}
	return out
}

// ARMToken is an ARM token for a client secret.
func (s *Server) ARMToken(t testing.TB, appID, secret string) string {
	return s.AppToken(t, appID, secret, "https://management.azure.com/.default")
}

// AdminARMToken is the bootstrap administrator's ARM token.
func (s *Server) AdminARMToken(t testing.TB) string {
	return s.ARMToken(t, s.Bootstrap.AdminServicePrincipal.AppID, s.Bootstrap.AdminServicePrincipal.Secret)
}

// Built-in role ids used by tests.
const (
	RoleOwner                = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	RoleContributor          = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	RoleReader               = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	RoleAzureMLDataScientist = "f6c7c914-8db3-469d-8ca1-694a8f32e121"
)

// Assign gives principalID a built-in role at scope, as the administrator.
func (s *Server) Assign(t testing.TB, scope, roleID, principalID string) {
	t.Helper()
	body := map[string]any{"properties": map[string]any{
		"roleDefinitionId": "/subscriptions/" + s.Bootstrap.SubscriptionID + "/providers/Microsoft.Authorization/roleDefinitions/" + roleID,
		"principalId":      principalID,
	}}
	r := s.ARM(t, s.AdminARMToken(t), "PUT", scope+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString()+"?api-version=2022-04-01", body)
	if r.Status != http.StatusCreated {
		t.Fatalf("assign role %s at %s: %d %s", roleID, scope, r.Status, r.Raw)
	}
}

// Workspace creates a resource group and a workspace as the administrator
// and returns the workspace id.
func (s *Server) Workspace(t testing.TB, rg, name string) string {
	t.Helper()
	tok := s.AdminARMToken(t)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	if r := s.ARM(t, tok, "PUT", sub+"/resourcegroups/"+rg+"?api-version=2021-04-01", map[string]any{"location": "eastus"}); r.Status >= 300 {
		t.Fatalf("create resource group: %d %s", r.Status, r.Raw)
	}
	id := sub + "/resourceGroups/" + rg + "/providers/Microsoft.MachineLearningServices/workspaces/" + name
	r := s.ARM(t, tok, "PUT", id+"?api-version=2022-10-01", map[string]any{"location": "eastus", "identity": map[string]any{"type": "SystemAssigned"},
		"properties": map[string]any{"friendlyName": name}})
	if r.Status >= 300 {
		t.Fatalf("create workspace: %d %s", r.Status, r.Raw)
	}
	return id
}
