package integration

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/test/testserver"
)

// createForRBAC replays, with raw HTTP, the calls az 2.45 makes for
// `az ad sp create-for-rbac --name N --role Contributor --scopes X`
// (AZURE_CLI.md §5 and §4), and returns the printed appId and password.
func createForRBAC(t *testing.T, s *testserver.Server, name, scope string) (appID, password string) {
	t.Helper()
	gt := s.GraphToken(t)
	call := func(method, path string, body any, want int) graphResp {
		t.Helper()
		r := graphCall(t, s, gt, method, path, body)
		if r.Status != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Raw, want)
		}
		return r
	}
	sps := call("GET", "/servicePrincipals"+filter("displayName eq '"+name+"'"), nil, 200).values()
	apps := call("GET", "/applications"+filter("startswith(displayName,'"+name+"')"), nil, 200).values()
	var app map[string]any
	for _, a := range apps {
		if a["displayName"] == name {
			app = a
		}
	}
	if app == nil {
		r := call("POST", "/applications", map[string]any{"displayName": name, "keyCredentials": []any{}}, http.StatusCreated)
		app = r.Body
	} else {
		// az looks the existing app up by its object id as an appId (a quirk it has), then patches it.
		call("GET", "/applications"+filter("appId eq '"+app["id"].(string)+"'"), nil, 200)
		call("PATCH", "/applications/"+app["id"].(string), map[string]any{"displayName": name}, http.StatusNoContent)
		app = call("GET", "/applications/"+app["id"].(string), nil, 200).Body
		pcs, _ := app["passwordCredentials"].([]any)
		for _, pc := range pcs {
			call("POST", "/applications/"+app["id"].(string)+"/removePassword", map[string]any{"keyId": pc.(map[string]any)["keyId"]}, http.StatusNoContent)
		}
	}
	for _, k := range []string{"id", "appId", "displayName", "identifierUris", "passwordCredentials", "keyCredentials"} {
		if _, ok := app[k]; !ok {
			t.Errorf("application lacks %q: %v", k, app)
		}
	}
	objectID, _ := app["id"].(string)
	appID, _ = app["appId"].(string)
	start := time.Now().UTC()
	pw := call("POST", "/applications/"+objectID+"/addPassword", map[string]any{"passwordCredential": map[string]any{
		"displayName": "rbac", "startDateTime": start.Format(time.RFC3339), "endDateTime": start.AddDate(1, 0, 0).Format(time.RFC3339)}}, 200)
	password = pw.str("secretText")
	if password == "" || pw.str("keyId") == "" {
		t.Fatalf("addPassword: %s", pw.Raw)
	}
	if len(sps) == 0 {
		sp := call("POST", "/servicePrincipals", map[string]any{"appId": appID, "accountEnabled": true}, http.StatusCreated)
		names, _ := sp.Body["servicePrincipalNames"].([]any)
		if len(names) == 0 || names[0] != appID || sp.str("servicePrincipalType") != "Application" || sp.str("appOwnerOrganizationId") != s.Bootstrap.TenantID {
			t.Errorf("service principal shape: %s", sp.Raw)
		}
		sps = []map[string]any{sp.Body}
	}
	spID, _ := sps[0]["id"].(string)
	// The role assignment: role by name, then PUT with principalType ServicePrincipal.
	admin := s.AdminARMToken(t)
	defs := s.ARM(t, admin, "GET", scope+"/providers/Microsoft.Authorization/roleDefinitions"+filter("roleName eq 'Contributor'")+"&api-version=2018-01-01-preview", nil)
	vs, _ := defs.Body["value"].([]any)
	if defs.Status != 200 || len(vs) != 1 {
		t.Fatalf("role definition by name: %d %s", defs.Status, defs.Raw)
	}
	roleDefID := vs[0].(map[string]any)["id"].(string)
	r := s.ARM(t, admin, "PUT", scope+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString()+"?api-version=2020-04-01-preview",
		map[string]any{"properties": map[string]any{"roleDefinitionId": roleDefID, "principalId": spID, "principalType": "ServicePrincipal"}})
	if r.Status != http.StatusCreated && !(r.Status == http.StatusConflict && strings.Contains(string(r.Raw), "role assignment already exists")) {
		t.Fatalf("role assignment: %d %s", r.Status, r.Raw)
	}
	return appID, password
}

func TestGraphCreateForRBAC(t *testing.T) {
	createForRBACScenario(t, testserver.Start(t, testserver.Options{}))
}

// TestGraphCreateForRBACPostgres runs the same on the PostgreSQL backend
// (skipped unless TESSERA_TEST_POSTGRES_DSN is set).
func TestGraphCreateForRBACPostgres(t *testing.T) {
	createForRBACScenario(t, testserver.Start(t, testserver.Options{Store: testserver.FreshPostgres(t)}))
}

func createForRBACScenario(t *testing.T, s *testserver.Server) {
	ws := s.Workspace(t, "ml-rg", "ml-ws")
	appID, password := createForRBAC(t, s, "ml-auth", ws)

	// az ad sp show --id <appId>
	gt := s.GraphToken(t)
	r := graphCall(t, s, gt, "GET", "/servicePrincipals"+filter("servicePrincipalNames/any(c:c eq '"+appID+"')"), nil)
	if len(r.values()) != 1 {
		t.Fatalf("sp show by appId: %s", r.Raw)
	}
	sp := r.values()[0]
	spID := sp["id"].(string)
	if r := graphCall(t, s, gt, "GET", "/servicePrincipals/"+spID, nil); r.Status != 200 || r.str("appId") != appID || r.str("@odata.type") != "#microsoft.graph.servicePrincipal" {
		t.Errorf("sp show by id: %d %s", r.Status, r.Raw)
	}
	// az role assignment list --assignee <appId>: resolution, then getByIds for names.
	r = graphCall(t, s, gt, "POST", "/directoryObjects/getByIds", map[string]any{"ids": []string{spID},
		"types": []string{"user", "group", "servicePrincipal", "directoryObjectPartnerReference"}})
	if vs := r.values(); len(vs) != 1 || vs[0]["@odata.type"] != "#microsoft.graph.servicePrincipal" || vs[0]["displayName"] != "ml-auth" {
		t.Errorf("getByIds: %s", r.Raw)
	}

	// az login --service-principal: the printed password works; RBAC allows and refuses.
	tok := s.ARMToken(t, appID, password)
	if r := s.ARM(t, tok, "GET", ws+mlAPI, nil); r.Status != 200 {
		t.Errorf("Contributor reads the workspace: %d %s", r.Status, r.Raw)
	}
	assign := map[string]any{"properties": map[string]any{"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/" + testserver.RoleReader, "principalId": spID}}
	if r := s.ARM(t, tok, "PUT", ws+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString()+"?api-version=2022-04-01", assign); r.Status != 403 || r.ErrorCode() != "AuthorizationFailed" {
		t.Errorf("Contributor writes a role assignment: %d %s, want 403 AuthorizationFailed", r.Status, r.Raw)
	}

	// Running create-for-rbac again resets the password: the first one stops working.
	appID2, password2 := createForRBAC(t, s, "ml-auth", ws)
	if appID2 != appID {
		t.Fatalf("second run made a new app %s", appID2)
	}
	if r := clientCredentials(t, s, appID, password, armScope); r.Status != 401 || aadsts(r) != 7000215 {
		t.Errorf("the first password after the reset: %s, want AADSTS7000215", r)
	}
	if r := clientCredentials(t, s, appID, password2, armScope); r.Status != 200 {
		t.Errorf("the new password: %s", r)
	}
	if r := graphCall(t, s, gt, "GET", "/servicePrincipals"+filter("displayName eq 'ml-auth'"), nil); len(r.values()) != 1 {
		t.Errorf("after two runs, %d service principals named ml-auth", len(r.values()))
	}
}

// TestGraphCredentialReset: az ad sp credential reset and az ad app
// credential reset make the old secret fail with AADSTS7000215 at once and
// the new one work.
func TestGraphCredentialReset(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	app := s.CreateApp(t, "rotate-me", nil)
	gt := s.GraphToken(t)

	spReset := func() string {
		t.Helper()
		sps := graphCall(t, s, gt, "GET", "/servicePrincipals"+filter("servicePrincipalNames/any(c:c eq '"+app.AppID+"')"), nil).values()
		if len(sps) != 1 {
			t.Fatalf("sp show: %d found", len(sps))
		}
		sp := graphCall(t, s, gt, "GET", "/servicePrincipals/"+sps[0]["id"].(string), nil)
		pcs, _ := sp.Body["passwordCredentials"].([]any)
		for _, pc := range pcs {
			m := pc.(map[string]any)
			if m["secretText"] != nil {
				t.Errorf("GET servicePrincipal shows secretText: %v", m)
			}
			if r := graphCall(t, s, gt, "POST", "/servicePrincipals/"+sp.str("id")+"/removePassword", map[string]any{"keyId": m["keyId"]}); r.Status != 204 {
				t.Fatalf("sp removePassword: %d %s", r.Status, r.Raw)
			}
		}
		r := graphCall(t, s, gt, "POST", "/servicePrincipals/"+sp.str("id")+"/addPassword", map[string]any{"passwordCredential": map[string]any{
			"displayName": nil, "startDateTime": time.Now().UTC().Format(time.RFC3339), "endDateTime": time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339)}})
		if r.Status != 200 || r.str("secretText") == "" {
			t.Fatalf("sp addPassword: %d %s", r.Status, r.Raw)
		}
		return r.str("secretText")
	}
	first := spReset()
	if r := clientCredentials(t, s, app.AppID, first, armScope); r.Status != 200 {
		t.Fatalf("the service principal secret does not work for client credentials: %s", r)
	}
	second := spReset()
	if r := clientCredentials(t, s, app.AppID, first, armScope); r.Status != 401 || aadsts(r) != 7000215 {
		t.Errorf("the old service principal secret: %s, want 401 AADSTS7000215", r)
	}
	if r := clientCredentials(t, s, app.AppID, second, armScope); r.Status != 200 {
		t.Errorf("the new service principal secret: %s", r)
	}

	// az ad app credential reset: remove the application's passwords, add one.
	a := graphCall(t, s, gt, "GET", "/applications"+filter("appId eq '"+app.AppID+"'"), nil).values()
	if len(a) != 1 {
		t.Fatalf("app show: %v", a)
	}
	for _, pc := range a[0]["passwordCredentials"].([]any) {
		if r := graphCall(t, s, gt, "POST", "/applications/"+a[0]["id"].(string)+"/removePassword", map[string]any{"keyId": pc.(map[string]any)["keyId"]}); r.Status != 204 {
			t.Fatalf("app removePassword: %d %s", r.Status, r.Raw)
		}
	}
	r := graphCall(t, s, gt, "POST", "/applications(appId='"+app.AppID+"')/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "reset"}})
	if r.Status != 200 {
		t.Fatalf("app addPassword by appId: %d %s", r.Status, r.Raw)
	}
	if res := clientCredentials(t, s, app.AppID, app.Secret, armScope); res.Status != 401 || aadsts(res) != 7000215 {
		t.Errorf("the old application secret: %s, want AADSTS7000215", res)
	}
	if res := clientCredentials(t, s, app.AppID, r.str("secretText"), armScope); res.Status != 200 {
		t.Errorf("the new application secret: %s", res)
	}
}
