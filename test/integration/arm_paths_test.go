package integration

import (
	"strings"
	"testing"

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
