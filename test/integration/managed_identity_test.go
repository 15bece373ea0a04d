package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/tessera-id/tessera/sdk/compute"
	"github.com/tessera-id/tessera/test/testserver"
)

// Managed identities (issue 6): user-assigned identities and their
// federated credentials as ARM resources, node registration, every request
// shape of the managed-identity endpoint, the official Go credentials, and
// workload identity federation with Tessera as the computes' OIDC issuer.

const (
	miAPI        = "?api-version=2023-10-01"
	miResource   = "https://management.azure.com"
	computePutV  = "?api-version=2022-10-01-preview"
	identityType = "Microsoft.ManagedIdentity/userAssignedIdentities"
)

// miIdentity is an identity as the tests know it.
type miIdentity struct {
	ID, PrincipalID, ClientID string
}

// miFixture is a workspace with a compute "cpu" carrying a system-assigned
// identity and the user-assigned identity "ua-attached", and a user-assigned
// identity "ua-other" that is attached to nothing.
type miFixture struct {
	s       *testserver.Server
	admin   string
	rg      string
	ws      string
	compute string
	system  miIdentity
	ua      miIdentity
	other   miIdentity
}

func newMIFixture(t *testing.T, s *testserver.Server) *miFixture {
	t.Helper()
	f := &miFixture{s: s, admin: s.AdminARMToken(t)}
	f.ws = s.Workspace(t, "mi-rg", "mi-ws")
	f.rg = "/subscriptions/" + s.Bootstrap.SubscriptionID + "/resourceGroups/mi-rg"
	f.ua = f.createUAMI(t, "ua-attached")
	f.other = f.createUAMI(t, "ua-other")
	f.compute = f.ws + "/computes/cpu"
	r := f.arm(t, "PUT", f.compute+computePutV, map[string]any{
		"location": "eastus",
		"identity": map[string]any{"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": map[string]any{f.ua.ID: map[string]any{}}},
		"properties": map[string]any{"computeType": "AmlCompute", "properties": map[string]any{"vmSize": "STANDARD_DS3_V2",
			"scaleSettings": map[string]any{"maxNodeCount": 2, "minNodeCount": 0}}},
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("create compute: %d %s", r.Status, r.Raw)
	}
	idn, _ := r.Body["identity"].(map[string]any)
	f.system.PrincipalID, _ = idn["principalId"].(string)
	f.system.ID = f.compute
	var sp struct{ AppID string }
	if st := s.Graph(t, s.GraphToken(t), "GET", "/servicePrincipals/"+f.system.PrincipalID, nil, &sp); st != http.StatusOK || sp.AppID == "" {
		t.Fatalf("system-assigned service principal %s: %d", f.system.PrincipalID, st)
	}
	f.system.ClientID = sp.AppID
	return f
}

func (f *miFixture) arm(t *testing.T, method, path string, body any) testserver.ARMResponse {
	t.Helper()
	return f.s.ARM(t, f.admin, method, path, body)
}

func (f *miFixture) createUAMI(t *testing.T, name string) miIdentity {
	t.Helper()
	id := f.rg + "/providers/" + identityType + "/" + name
	r := f.arm(t, "PUT", id+"?api-version=2023-01-31", map[string]any{"location": "eastus",
		"properties": map[string]any{"clientId": "forged", "principalId": "forged"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create identity %s: %d %s", name, r.Status, r.Raw)
	}
	p, _ := r.Body["properties"].(map[string]any)
	out := miIdentity{ID: id}
	out.PrincipalID, _ = p["principalId"].(string)
	out.ClientID, _ = p["clientId"].(string)
	if out.PrincipalID == "forged" || out.ClientID == "forged" || out.PrincipalID == "" || p["tenantId"] != f.s.Bootstrap.TenantID {
		t.Fatalf("identity %s properties = %v", name, p)
	}
	return out
}

// registerNode registers a node on the compute as bearer.
func (f *miFixture) registerNode(t *testing.T, bearer, computeID string) compute.Registration {
	t.Helper()
	r := f.s.ARM(t, bearer, "POST", computeID+"/registerNode"+miAPI, map[string]any{"name": "test-node"})
	if r.Status != http.StatusOK {
		t.Fatalf("registerNode: %d %s", r.Status, r.Raw)
	}
	var reg compute.Registration
	if err := json.Unmarshal(r.Raw, &reg); err != nil || reg.Secret == "" || reg.NodeID == "" {
		t.Fatalf("registerNode answered %s (%v)", r.Raw, err)
	}
	return reg
}

// msiCall is one raw request to the server's managed-identity endpoint.
type msiCall struct {
	method, path string
	query        url.Values
	form         url.Values
	headers      map[string]string
}

func (f *miFixture) msi(t *testing.T, c msiCall) (int, map[string]any) {
	t.Helper()
	var body io.Reader
	if c.form != nil {
		body = strings.NewReader(c.form.Encode())
	}
	req, err := http.NewRequest(c.method, f.s.URL+c.path+"?"+c.query.Encode(), body)
	if err != nil {
		t.Fatal(err)
	}
	if c.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := f.s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw := readBody(t, resp)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("%s %s: Content-Type %q", c.method, c.path, ct)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d %s is not JSON", c.method, c.path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func checkMIClaims(t *testing.T, s *testserver.Server, tok string, want miIdentity) map[string]any {
	t.Helper()
	c := verifyWithJWKS(t, s, tok)
	for k, v := range map[string]string{"appid": want.ClientID, "oid": want.PrincipalID, "sub": want.PrincipalID,
		"xms_mirid": want.ID, "idtyp": "app", "appidacr": "2", "tid": s.Bootstrap.TenantID, "ver": "1.0",
		"iss": "https://sts.windows.net/" + s.Bootstrap.TenantID + "/"} {
		if c[k] != v {
			t.Errorf("claim %s = %v, want %s", k, c[k], v)
		}
	}
	return c
}

// TestManagedIdentityResources covers user-assigned identities and their
// federated credentials as ARM resources, and attaching them to computes.
func TestManagedIdentityResources(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	f := newMIFixture(t, s)

	t.Run("compute echoes its identities", func(t *testing.T) {
		r := f.arm(t, "GET", f.compute+computePutV, nil)
		idn, _ := r.Body["identity"].(map[string]any)
		ua, _ := idn["userAssignedIdentities"].(map[string]any)
		got, _ := ua[f.ua.ID].(map[string]any)
		if got["principalId"] != f.ua.PrincipalID || got["clientId"] != f.ua.ClientID || len(ua) != 1 {
			t.Fatalf("identity = %v", idn)
		}
		if idn["tenantId"] != s.Bootstrap.TenantID || idn["principalId"] != f.system.PrincipalID {
			t.Errorf("system-assigned identity = %v", idn)
		}
	})

	t.Run("updates keep the identities and their ids", func(t *testing.T) {
		r := f.arm(t, "PATCH", f.compute+computePutV, map[string]any{"tags": map[string]any{"team": "ml"}})
		if r.Status != http.StatusOK {
			t.Fatalf("PATCH compute: %d %s", r.Status, r.Raw)
		}
		r = f.arm(t, "PUT", f.ua.ID+"?api-version=2023-01-31", map[string]any{"location": "eastus", "tags": map[string]any{"a": "b"}})
		p, _ := r.Body["properties"].(map[string]any)
		if r.Status != http.StatusOK || p["clientId"] != f.ua.ClientID || p["principalId"] != f.ua.PrincipalID {
			t.Fatalf("update identity: %d %s", r.Status, r.Raw)
		}
	})

	t.Run("attaching refuses what is not an existing identity", func(t *testing.T) {
		for name, id := range map[string]string{
			"missing":         f.rg + "/providers/" + identityType + "/nope",
			"not an identity": f.ws,
		} {
			r := f.arm(t, "PUT", f.ws+"/computes/bad"+computePutV, map[string]any{"location": "eastus",
				"identity": map[string]any{"type": "UserAssigned", "userAssignedIdentities": map[string]any{id: map[string]any{}}}})
			if r.Status != http.StatusBadRequest {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		r := f.arm(t, "PUT", f.ws+"/computes/bad"+computePutV, map[string]any{"location": "eastus",
			"identity": map[string]any{"type": "UserAssigned"}})
		if r.Status != http.StatusBadRequest {
			t.Errorf("UserAssigned without identities: %d %s", r.Status, r.Raw)
		}
	})

	t.Run("attaching needs assign permission on the identity", func(t *testing.T) {
		operator := s.CreateApp(t, "compute-operator", nil)
		s.Assign(t, f.ws, "e503ece1-11d0-4e8e-8e2c-7a6c3bf38815", operator.SPID) // AzureML Compute Operator
		tok := s.ARMToken(t, operator.AppID, operator.Secret)
		body := map[string]any{"location": "eastus",
			"identity": map[string]any{"type": "UserAssigned", "userAssignedIdentities": map[string]any{f.other.ID: map[string]any{}}}}
		r := s.ARM(t, tok, "PUT", f.ws+"/computes/borrow"+computePutV, body)
		if r.Status != http.StatusForbidden || r.ErrorCode() != "LinkedAuthorizationFailed" {
			t.Fatalf("attach without assign/action: %d %s", r.Status, r.Raw)
		}
		s.Assign(t, f.other.ID, "f1a07417-d97a-45cb-824c-7a7467783830", operator.SPID) // Managed Identity Operator
		if r := s.ARM(t, tok, "PUT", f.ws+"/computes/borrow"+computePutV, body); r.Status != http.StatusCreated {
			t.Fatalf("attach with assign/action: %d %s", r.Status, r.Raw)
		}
	})

	t.Run("federated identity credentials", func(t *testing.T) {
		fics := f.ua.ID + "/federatedIdentityCredentials/"
		ok := map[string]any{"properties": map[string]any{"issuer": "https://issuer.example", "subject": "system:serviceaccount:ns:sa",
			"audiences": []string{"api://AzureADTokenExchange"}}}
		if r := f.arm(t, "PUT", fics+"k8s?api-version=2023-01-31", ok); r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		for name, props := range map[string]map[string]any{
			"http issuer":       {"issuer": "http://issuer.example", "subject": "s"},
			"no subject":        {"issuer": "https://issuer.example"},
			"two audiences":     {"issuer": "https://issuer.example", "subject": "s", "audiences": []string{"a", "b"}},
			"issuer with query": {"issuer": "https://issuer.example/?x=1", "subject": "s"},
		} {
			if r := f.arm(t, "PUT", fics+"bad?api-version=2023-01-31", map[string]any{"properties": props}); r.Status != http.StatusBadRequest {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		if r := f.arm(t, "PUT", fics+"dup?api-version=2023-01-31", ok); r.Status != http.StatusConflict {
			t.Errorf("same issuer and subject twice: %d %s", r.Status, r.Raw)
		}
		r := f.arm(t, "GET", f.ua.ID+"/federatedIdentityCredentials?api-version=2023-01-31", nil)
		if vs, _ := r.Body["value"].([]any); r.Status != http.StatusOK || len(vs) != 1 {
			t.Errorf("list: %d %s", r.Status, r.Raw)
		}
	})

	t.Run("an identity's principal accepts no client secret", func(t *testing.T) {
		var pw struct{ SecretText string }
		st := s.Graph(t, s.GraphToken(t), "POST", "/servicePrincipals/"+f.ua.PrincipalID+"/addPassword",
			map[string]any{"passwordCredential": map[string]any{"displayName": "sneaky"}}, &pw)
		if st != http.StatusOK || pw.SecretText == "" {
			return // the directory refuses it already
		}
		r := clientCredentials(t, s, f.ua.ClientID, pw.SecretText, armScope)
		if r.Status != http.StatusUnauthorized {
			t.Errorf("client_credentials with a secret on a managed identity: %s", r)
		}
	})

	t.Run("deleting an identity deletes its principal and role assignments", func(t *testing.T) {
		gone := f.createUAMI(t, "ua-gone")
		s.Assign(t, f.ws, testserver.RoleReader, gone.PrincipalID)
		if r := f.arm(t, "DELETE", gone.ID+"?api-version=2023-01-31", nil); r.Status != http.StatusOK {
			t.Fatalf("delete: %d %s", r.Status, r.Raw)
		}
		if st := s.Graph(t, s.GraphToken(t), "GET", "/servicePrincipals/"+gone.PrincipalID, nil, nil); st != http.StatusNotFound {
			t.Errorf("service principal after delete: %d", st)
		}
		r := f.arm(t, "GET", f.ws+"/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01", nil)
		if strings.Contains(string(r.Raw), gone.PrincipalID) {
			t.Errorf("role assignment of the deleted identity remains: %s", r.Raw)
		}
	})
}

// TestManagedIdentityEndpointShapes sends every request shape of
// CLIENTS.md §4 to the server's endpoint with a node secret.
func TestManagedIdentityEndpointShapes(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	f := newMIFixture(t, s)
	reg := f.registerNode(t, f.admin, f.compute)
	if reg.TenantID != s.Bootstrap.TenantID || !strings.EqualFold(reg.ComputeID, f.compute) ||
		reg.WorkloadIdentity.Subject != reg.ComputeID || reg.IdentityEndpoint != s.URL+"/msi/token" {
		t.Fatalf("registration = %+v", reg)
	}
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	appService := map[string]string{"X-IDENTITY-HEADER": reg.Secret}
	shapes := []struct {
		name string
		call msiCall
		want miIdentity
	}{
		{"App Service", msiCall{method: "GET", path: "/msi/token", query: q("api-version", "2019-08-01", "resource", miResource), headers: appService}, f.system},
		{"App Service client_id", msiCall{method: "GET", path: "/msi/token", query: q("api-version", "2019-08-01", "resource", miResource, "client_id", f.ua.ClientID), headers: appService}, f.ua},
		{"App Service principal_id", msiCall{method: "GET", path: "/msi/token", query: q("api-version", "2019-08-01", "resource", miResource, "principal_id", f.ua.PrincipalID), headers: appService}, f.ua},
		{"App Service mi_res_id", msiCall{method: "GET", path: "/msi/token", query: q("api-version", "2019-08-01", "resource", miResource, "mi_res_id", strings.ToUpper(f.ua.ID)), headers: appService}, f.ua},
		{"App Service system by client_id", msiCall{method: "GET", path: "/msi/token", query: q("api-version", "2019-08-01", "resource", miResource, "client_id", f.system.ClientID), headers: appService}, f.system},
		{"Azure ML empty clientid", msiCall{method: "GET", path: "/msi/token", query: q("api-version", "2017-09-01", "resource", miResource, "clientid", ""), headers: map[string]string{"secret": reg.Secret}}, f.system},
		{"Azure ML clientid", msiCall{method: "GET", path: "/msi/token", query: q("api-version", "2017-09-01", "resource", miResource, "clientid", f.ua.ClientID), headers: map[string]string{"secret": reg.Secret, "Metadata": "true"}}, f.ua},
		{"Cloud Shell", msiCall{method: "POST", path: "/msi/token", form: q("resource", miResource), headers: map[string]string{"Metadata": "true", "X-IDENTITY-HEADER": reg.Secret}}, f.system},
		{"Cloud Shell object_id", msiCall{method: "POST", path: "/msi/token", form: q("resource", miResource, "object_id", f.ua.PrincipalID), headers: map[string]string{"Metadata": "true", "X-IDENTITY-HEADER": reg.Secret}}, f.ua},
		{"IMDS", msiCall{method: "GET", path: "/metadata/identity/oauth2/token", query: q("api-version", "2018-02-01", "resource", miResource), headers: map[string]string{"Metadata": "true", "X-IDENTITY-HEADER": reg.Secret}}, f.system},
		{"IMDS msi_res_id", msiCall{method: "GET", path: "/metadata/identity/oauth2/token", query: q("api-version", "2018-02-01", "resource", miResource, "msi_res_id", f.ua.ID), headers: map[string]string{"Metadata": "true", "X-IDENTITY-HEADER": reg.Secret}}, f.ua},
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			st, body := f.msi(t, sh.call)
			if st != http.StatusOK {
				t.Fatalf("%d %v", st, body)
			}
			for _, k := range []string{"access_token", "expires_on", "expires_in", "resource", "token_type", "client_id", "not_before"} {
				if v, ok := body[k].(string); !ok || v == "" {
					t.Errorf("%s = %#v, want a non-empty string", k, body[k])
				}
			}
			if body["resource"] != miResource || body["token_type"] != "Bearer" || body["client_id"] != sh.want.ClientID {
				t.Errorf("response = %v", body)
			}
			c := checkMIClaims(t, s, body["access_token"].(string), sh.want)
			if c["aud"] != miResource {
				t.Errorf("aud = %v", c["aud"])
			}
			if exp := body["expires_on"].(string); exp != itoa(int(c["exp"].(float64))) {
				t.Errorf("expires_on %s, exp claim %v", exp, c["exp"])
			}
		})
	}

	// An organisation-default token lifetime policy reaches applications'
	// tokens, not managed identities' (as in Entra).
	pol := graphCall(t, s, s.GraphToken(t), "POST", "/policies/tokenLifetimePolicies", map[string]any{"displayName": "org-two-hours",
		"isOrganizationDefault": true, "definition": []any{`{"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"02:00:00"}}`}})
	if pol.Status != http.StatusCreated {
		t.Fatalf("create policy: %d %s", pol.Status, pol.Raw)
	}
	if st, body := f.msi(t, shapes[0].call); st != http.StatusOK || body["expires_in"] != "3599" {
		t.Errorf("managed identity under an organisation policy: %d expires_in %v", st, body["expires_in"])
	}
	app := s.CreateApp(t, "org-policy-app", nil)
	r := s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {app.AppID}, "client_secret": {app.Secret}, "scope": {miResource + "/.default"}})
	if in, _ := r.Body["expires_in"].(float64); in != 7199 {
		t.Errorf("application under an organisation policy: %s", r)
	}

	bad := []struct {
		name   string
		call   msiCall
		status int
		error  string
	}{
		{"no secret", msiCall{method: "GET", path: "/msi/token", query: q("resource", miResource)}, 401, "invalid_client"},
		{"wrong secret", msiCall{method: "GET", path: "/msi/token", query: q("resource", miResource), headers: map[string]string{"X-IDENTITY-HEADER": reg.NodeID + ".AAAA"}}, 401, "invalid_client"},
		{"malformed secret", msiCall{method: "GET", path: "/msi/token", query: q("resource", miResource), headers: map[string]string{"secret": "x"}}, 401, "invalid_client"},
		{"no resource", msiCall{method: "GET", path: "/msi/token", headers: appService}, 400, "invalid_request"},
		{"identity not attached", msiCall{method: "GET", path: "/msi/token", query: q("resource", miResource, "client_id", f.other.ClientID), headers: appService}, 400, "invalid_request"},
		{"principal not attached", msiCall{method: "GET", path: "/msi/token", query: q("resource", miResource, "object_id", f.other.PrincipalID), headers: appService}, 400, "invalid_request"},
		{"two selectors", msiCall{method: "GET", path: "/msi/token", query: q("resource", miResource, "client_id", f.ua.ClientID, "mi_res_id", f.ua.ID), headers: appService}, 400, "invalid_request"},
		{"IMDS without Metadata", msiCall{method: "GET", path: "/metadata/identity/oauth2/token", query: q("api-version", "2018-02-01", "resource", miResource), headers: appService}, 400, "invalid_request"},
		{"Cloud Shell without Metadata", msiCall{method: "POST", path: "/msi/token", form: q("resource", miResource), headers: appService}, 400, "invalid_request"},
		{"unknown resource", msiCall{method: "GET", path: "/msi/token", query: q("resource", "https://nothing.example"), headers: appService}, 400, "invalid_resource"},
		{"wrong method", msiCall{method: "DELETE", path: "/msi/token", headers: appService}, 405, "invalid_request"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			st, body := f.msi(t, b.call)
			if st != b.status || body["error"] != b.error {
				t.Fatalf("%d %v, want %d %s", st, body, b.status, b.error)
			}
			if strings.Contains(toJSON(body), reg.Secret) {
				t.Fatal("the node secret is echoed")
			}
		})
	}
	if st, body := f.msi(t, bad[4].call); body["error_description"] != "Identity not found" {
		t.Errorf("identity not attached: %d %v", st, body)
	}

	t.Run("sign-in log", func(t *testing.T) {
		r := graphCall(t, s, s.GraphToken(t), "GET", "/auditLogs/signIns?$top=200", nil)
		var issued, refused bool
		for _, e := range r.values() {
			d := keyValues(e["additionalDetails"])
			msi, _ := e["managedServiceIdentity"].(map[string]any)
			if msi == nil || d["action"] != "token.managed_identity" || d["nodeId"] != reg.NodeID {
				continue
			}
			st, _ := e["status"].(map[string]any)
			switch {
			case st["errorCode"] == float64(0) && d["identityResourceId"] == f.ua.ID && e["resourceDisplayName"] == miResource &&
				e["servicePrincipalId"] == f.ua.PrincipalID && msi["msiType"] == "userAssigned" && e["isInteractive"] == false:
				issued = true
			case st["errorCode"] != float64(0) && st["failureReason"] != "":
				refused = true
			}
		}
		if !issued || !refused {
			t.Errorf("sign-in log lacks the managed identity issuance (%v) or refusal (%v)", issued, refused)
		}
	})
}

// keyValues reads a Graph keyValue list ([{key,value}]) as a map.
func keyValues(v any) map[string]any {
	out := map[string]any{}
	list, _ := v.([]any)
	for _, kv := range list {
		if m, ok := kv.(map[string]any); ok {
			if k, ok := m["key"].(string); ok {
				out[k] = m["value"]
			}
		}
	}
	return out
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestNodeSecretRotationAndRevocation: a rotated or revoked secret stops
// working for the very next request.
func TestNodeSecretRotationAndRevocation(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	f := newMIFixture(t, s)
	reg := f.registerNode(t, f.admin, f.compute)
	get := func(secret string) int {
		st, _ := f.msi(t, msiCall{method: "GET", path: "/msi/token", query: url.Values{"resource": {miResource}},
			headers: map[string]string{"X-IDENTITY-HEADER": secret}})
		return st
	}
	if st := get(reg.Secret); st != http.StatusOK {
		t.Fatalf("fresh secret: %d", st)
	}
	r := f.arm(t, "POST", f.compute+"/rotateNodeSecret"+miAPI, map[string]any{"nodeId": reg.NodeID})
	var rotated compute.Registration
	if err := json.Unmarshal(r.Raw, &rotated); r.Status != http.StatusOK || err != nil || rotated.Secret == "" || rotated.Secret == reg.Secret {
		t.Fatalf("rotate: %d %s", r.Status, r.Raw)
	}
	if st := get(reg.Secret); st != http.StatusUnauthorized {
		t.Errorf("old secret after rotation: %d", st)
	}
	if st := get(rotated.Secret); st != http.StatusOK {
		t.Errorf("new secret: %d", st)
	}

	r = f.arm(t, "POST", f.compute+"/listNodes"+miAPI, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Raw), reg.NodeID) || strings.Contains(string(r.Raw), rotated.Secret) {
		t.Errorf("listNodes: %d %s", r.Status, r.Raw)
	}

	r = f.arm(t, "POST", f.compute+"/revokeNode"+miAPI, map[string]any{"nodeId": reg.NodeID})
	if r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}
	if st := get(rotated.Secret); st != http.StatusUnauthorized {
		t.Errorf("secret after revocation: %d", st)
	}
	if r := f.arm(t, "POST", f.compute+"/revokeNode"+miAPI, map[string]any{"nodeId": reg.NodeID}); r.Status != http.StatusNotFound {
		t.Errorf("revoke twice: %d %s", r.Status, r.Raw)
	}

	t.Run("an expired registration stops working", func(t *testing.T) {
		r := f.arm(t, "POST", f.compute+"/registerNode"+miAPI, map[string]any{"expiresInSeconds": 1})
		var short compute.Registration
		if err := json.Unmarshal(r.Raw, &short); err != nil || r.Status != http.StatusOK {
			t.Fatalf("register: %d %s", r.Status, r.Raw)
		}
		deadline := time.Now().Add(10 * time.Second)
		for get(short.Secret) == http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatal("the registration did not expire")
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("node actions are authorized", func(t *testing.T) {
		reader := s.CreateApp(t, "mi-reader", nil)
		s.Assign(t, f.ws, testserver.RoleReader, reader.SPID)
		tok := s.ARMToken(t, reader.AppID, reader.Secret)
		for _, a := range []string{"registerNode", "listNodes", "rotateNodeSecret", "revokeNode"} {
			if r := s.ARM(t, tok, "POST", f.compute+"/"+a+miAPI, map[string]any{"nodeId": reg.NodeID}); r.Status != http.StatusForbidden {
				t.Errorf("%s as Reader: %d %s", a, r.Status, r.Raw)
			}
		}
		scientist := s.CreateApp(t, "mi-scientist", nil)
		s.Assign(t, f.ws, testserver.RoleAzureMLDataScientist, scientist.SPID)
		f.registerNode(t, s.ARMToken(t, scientist.AppID, scientist.Secret), f.compute)
	})
}

// TestManagedIdentityCredentials runs the Go azidentity credentials against
// the endpoint: directly (App Service shape, over HTTPS) and through a node's
// loopback endpoint (Azure ML shape, DefaultAzureCredential). MSAL Go keeps
// managed-identity tokens in a process-wide cache keyed by identity and
// resource, so every case asks for a different resource or identity.
func TestManagedIdentityCredentials(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	f := newMIFixture(t, s)
	reg := f.registerNode(t, f.admin, f.compute)
	// The compute's identity may read the workspace; the attached
	// user-assigned one holds no role.
	s.Assign(t, f.ws, testserver.RoleReader, f.system.PrincipalID)
	opts := azcore.ClientOptions{Transport: s.Client}
	getWorkspace := func(tok string) int {
		return s.ARM(t, tok, "GET", f.ws+"?api-version=2022-10-01", nil).Status
	}
	clear := func() {
		for _, k := range []string{"IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "DEFAULT_IDENTITY_CLIENT_ID",
			"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT"} {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}

	t.Run("App Service shape, system-assigned", func(t *testing.T) {
		clear()
		t.Setenv("IDENTITY_ENDPOINT", s.URL+"/msi/token")
		t.Setenv("IDENTITY_HEADER", reg.Secret)
		cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts})
		if err != nil {
			t.Fatal(err)
		}
		tok := getToken(t, cred, "https://management.azure.com/.default")
		checkMIClaims(t, s, tok, f.system)
		if st := getWorkspace(tok); st != http.StatusOK {
			t.Errorf("GET workspace with the compute's identity: %d", st)
		}
	})

	t.Run("App Service shape, user-assigned by client id", func(t *testing.T) {
		clear()
		t.Setenv("IDENTITY_ENDPOINT", s.URL+"/msi/token")
		t.Setenv("IDENTITY_HEADER", reg.Secret)
		cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts, ID: azidentity.ClientID(f.ua.ClientID)})
		if err != nil {
			t.Fatal(err)
		}
		tok := getToken(t, cred, "https://management.azure.com/.default")
		checkMIClaims(t, s, tok, f.ua)
		if st := getWorkspace(tok); st != http.StatusForbidden {
			t.Errorf("GET workspace with an identity holding no role: %d, want 403", st)
		}
	})

	t.Run("App Service shape, identity not attached", func(t *testing.T) {
		clear()
		t.Setenv("IDENTITY_ENDPOINT", s.URL+"/msi/token")
		t.Setenv("IDENTITY_HEADER", reg.Secret)
		cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts, ID: azidentity.ResourceID(f.other.ID)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
		if err == nil || !strings.Contains(err.Error(), "Identity not found") {
			t.Errorf("token for an identity not attached: %v", err)
		}
	})

	// Through the node's loopback endpoint, as `tessera compute run` serves it.
	node := compute.NewNode(s.URL, s.Client, reg)
	ep, err := node.Serve(compute.EndpointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	uaEP, err := node.Serve(compute.EndpointOptions{DefaultClientID: f.ua.ClientID})
	if err != nil {
		t.Fatal(err)
	}
	defer uaEP.Close()
	setEnv := func(env []string) {
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			t.Setenv(k, v)
		}
	}

	t.Run("Azure ML shape through the node endpoint", func(t *testing.T) {
		clear()
		t.Setenv("MSI_ENDPOINT", ep.URL+"/msi/token")
		t.Setenv("MSI_SECRET", ep.Secret)
		cred, err := azidentity.NewManagedIdentityCredential(nil)
		if err != nil {
			t.Fatal(err)
		}
		checkMIClaims(t, s, getToken(t, cred, "https://management.core.windows.net//.default"), f.system)
	})

	t.Run("Azure ML shape with DEFAULT_IDENTITY_CLIENT_ID", func(t *testing.T) {
		clear()
		t.Setenv("MSI_ENDPOINT", ep.URL+"/msi/token")
		t.Setenv("MSI_SECRET", ep.Secret)
		t.Setenv("DEFAULT_IDENTITY_CLIENT_ID", f.ua.ClientID)
		cred, err := azidentity.NewManagedIdentityCredential(nil)
		if err != nil {
			t.Fatal(err)
		}
		checkMIClaims(t, s, getToken(t, cred, "https://ml.azure.com/.default"), f.ua)
	})

	t.Run("NewDefaultAzureCredential(nil) with the run's environment", func(t *testing.T) {
		clear()
		setEnv(ep.Env())
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			t.Fatal(err)
		}
		tok := getToken(t, cred, s.URL+"/graph/.default")
		checkMIClaims(t, s, tok, f.system)
	})

	t.Run("NewDefaultAzureCredential(nil) with a chosen user-assigned identity", func(t *testing.T) {
		clear()
		setEnv(uaEP.Env())
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			t.Fatal(err)
		}
		checkMIClaims(t, s, getToken(t, cred, "https://graph.microsoft.com/.default"), f.ua)
	})

	t.Run("the loopback endpoint checks its own secret", func(t *testing.T) {
		req, _ := http.NewRequest("GET", ep.URL+"/msi/token?resource="+url.QueryEscape(miResource), nil)
		req.Header.Set("X-IDENTITY-HEADER", reg.Secret) // the node secret is not the endpoint's
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
		req, _ = http.NewRequest("POST", ep.URL+"/msi/token", strings.NewReader("resource="+url.QueryEscape(miResource)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("Cloud Shell shape without Metadata: %d %s", resp.StatusCode, body)
		}
		req.Header.Set("Metadata", "true")
		req.Body = io.NopCloser(strings.NewReader("resource=" + url.QueryEscape(miResource)))
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusOK {
			t.Errorf("Cloud Shell shape (az login --identity): %d %s", resp.StatusCode, body)
		}
	})
}

// TestWorkloadIdentityFederation: a node's workload token, trusted by a
// federated identity credential of a user-assigned identity or of an
// application, signs in with WorkloadIdentityCredential.
func TestWorkloadIdentityFederation(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	f := newMIFixture(t, s)
	reg := f.registerNode(t, f.admin, f.compute)
	node := compute.NewNode(s.URL, s.Client, reg)
	file := filepath.Join(t.TempDir(), "token")
	wt, err := node.WriteWorkloadToken(context.Background(), file, "api://AzureADTokenExchange")
	if err != nil {
		t.Fatal(err)
	}
	if wt.Issuer != s.URL+"/oidc/compute/"+s.Bootstrap.TenantID || wt.Subject != reg.ComputeID || wt.Issuer != reg.WorkloadIdentity.Issuer {
		t.Fatalf("workload token issuer %q subject %q", wt.Issuer, wt.Subject)
	}
	if left := time.Until(wt.ExpiresOn); left < 10*time.Minute || left > time.Hour {
		t.Errorf("workload token lives %s", left)
	}
	c := claimsOf(t, wt.Token)
	if c["sub"] != reg.ComputeID || c["iss"] != wt.Issuer {
		t.Errorf("claims = %v", c)
	}

	t.Run("discovery", func(t *testing.T) {
		resp, err := s.Client.Get(wt.Issuer + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		doc := decodeMap(t, readBody(t, resp))
		if doc["issuer"] != wt.Issuer || doc["jwks_uri"] != wt.Issuer+"/keys" {
			t.Errorf("discovery = %v", doc)
		}
		resp, err = s.Client.Get(wt.Issuer + "/keys")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("JWKS: %v", err)
		}
		resp.Body.Close()
		if resp, _ := s.Client.Get(s.URL + "/oidc/compute/not-a-tenant/keys"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown issuer: %d", resp.StatusCode)
		}
	})

	wicOpts := func(clientID string) *azidentity.WorkloadIdentityCredentialOptions {
		return &azidentity.WorkloadIdentityCredentialOptions{ClientOptions: clientOptions(s), ClientID: clientID,
			TenantID: s.Bootstrap.TenantID, TokenFilePath: file, DisableInstanceDiscovery: true}
	}
	fic := map[string]any{"properties": map[string]any{"issuer": wt.Issuer, "subject": reg.ComputeID, "audiences": []string{"api://AzureADTokenExchange"}}}

	t.Run("user-assigned identity", func(t *testing.T) {
		if r := f.arm(t, "PUT", f.other.ID+"/federatedIdentityCredentials/compute?api-version=2023-01-31", fic); r.Status != http.StatusCreated {
			t.Fatalf("add credential: %d %s", r.Status, r.Raw)
		}
		cred, err := azidentity.NewWorkloadIdentityCredential(wicOpts(f.other.ClientID))
		if err != nil {
			t.Fatal(err)
		}
		claims := verifyWithJWKS(t, s, getToken(t, cred, armScope))
		if claims["appid"] != f.other.ClientID || claims["oid"] != f.other.PrincipalID || claims["xms_mirid"] != f.other.ID {
			t.Errorf("claims = %v", claims)
		}
	})

	t.Run("application", func(t *testing.T) {
		app := s.CreateApp(t, "federated-app", nil)
		body := map[string]any{"name": "compute", "issuer": wt.Issuer, "subject": reg.ComputeID, "audiences": []string{"api://AzureADTokenExchange"}}
		if st := s.Graph(t, s.GraphToken(t), "POST", "/applications/"+app.ObjectID+"/federatedIdentityCredentials", body, nil); st != http.StatusCreated {
			t.Fatalf("add federated credential: %d", st)
		}
		cred, err := azidentity.NewWorkloadIdentityCredential(wicOpts(app.AppID))
		if err != nil {
			t.Fatal(err)
		}
		if claims := verifyWithJWKS(t, s, getToken(t, cred, armScope)); claims["appid"] != app.AppID {
			t.Errorf("appid = %v", claims["appid"])
		}
	})

	t.Run("another compute's token is refused", func(t *testing.T) {
		other := f.ws + "/computes/gpu"
		if r := f.arm(t, "PUT", other+computePutV, map[string]any{"location": "eastus"}); r.Status != http.StatusCreated {
			t.Fatalf("create compute: %d %s", r.Status, r.Raw)
		}
		otherNode := compute.NewNode(s.URL, s.Client, f.registerNode(t, f.admin, other))
		wt, err := otherNode.WorkloadToken(context.Background(), "api://AzureADTokenExchange")
		if err != nil {
			t.Fatal(err)
		}
		r := s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{
			"grant_type": {"client_credentials"}, "client_id": {f.other.ClientID}, "scope": {armScope},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {wt.Token},
		})
		assertAADSTS(t, r, http.StatusUnauthorized, "invalid_client", 700213)
	})

	t.Run("a revoked node gets no workload token", func(t *testing.T) {
		if r := f.arm(t, "POST", f.compute+"/revokeNode"+miAPI, map[string]any{"nodeId": reg.NodeID}); r.Status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		if _, err := node.WorkloadToken(context.Background(), "api://AzureADTokenExchange"); err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("workload token after revocation: %v", err)
		}
	})
}

// TestComputeDeleteCascades: deleting a compute deletes its system-assigned
// identity, that identity's role assignments and the compute's nodes.
func TestComputeDeleteCascades(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	f := newMIFixture(t, s)
	reg := f.registerNode(t, f.admin, f.compute)
	s.Assign(t, f.ws, testserver.RoleReader, f.system.PrincipalID)
	s.Assign(t, f.rg, testserver.RoleReader, f.ua.PrincipalID)

	r := f.arm(t, "DELETE", f.compute+computePutV, nil)
	if r.Status != http.StatusAccepted && r.Status != http.StatusOK {
		t.Fatalf("delete compute: %d %s", r.Status, r.Raw)
	}
	if st := s.Graph(t, s.GraphToken(t), "GET", "/servicePrincipals/"+f.system.PrincipalID, nil, nil); st != http.StatusNotFound {
		t.Errorf("system-assigned service principal after delete: %d", st)
	}
	r = f.arm(t, "GET", f.rg+"/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01", nil)
	if strings.Contains(string(r.Raw), f.system.PrincipalID) {
		t.Errorf("a role assignment of the deleted identity remains: %s", r.Raw)
	}
	if !strings.Contains(string(r.Raw), f.ua.PrincipalID) {
		t.Errorf("the user-assigned identity's role assignment went too: %s", r.Raw)
	}
	if st := s.Graph(t, s.GraphToken(t), "GET", "/servicePrincipals/"+f.ua.PrincipalID, nil, nil); st != http.StatusOK {
		t.Errorf("user-assigned service principal after the compute's delete: %d", st)
	}
	st, body := f.msi(t, msiCall{method: "GET", path: "/msi/token", query: url.Values{"resource": {miResource}},
		headers: map[string]string{"X-IDENTITY-HEADER": reg.Secret}})
	if st != http.StatusUnauthorized {
		t.Errorf("node secret of the deleted compute: %d %v", st, body)
	}
}

// TestNodeVerbs drives the tessera binary: `tessera compute run` gives the
// command the managed-identity environment and none of the caller's
// credentials, exits with the command's status and revokes its node;
// `tessera node agent` serves until SIGINT and then revokes.
func TestNodeVerbs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildTessera(t)
	s := testserver.Start(t, testserver.Options{})
	f := newMIFixture(t, s)
	admin := s.Bootstrap.AdminServicePrincipal
	cliEnv := append(os.Environ(), "TESSERA_URL="+s.URL, "TESSERA_CA_FILE="+s.Bootstrap.CAFile,
		"AZURE_TENANT_ID="+s.Bootstrap.TenantID, "AZURE_CLIENT_ID="+admin.AppID, "AZURE_CLIENT_SECRET="+admin.Secret,
		"AZURE_CONFIG_DIR="+t.TempDir())
	nodes := func() string {
		return string(f.arm(t, "POST", f.compute+"/listNodes"+miAPI, nil).Raw)
	}

	t.Run("compute run", func(t *testing.T) {
		cmd := exec.Command(bin, "compute", "run", "--workspace", "mi-ws", "--compute", "cpu", "--identity", f.ua.ClientID, "--", "env")
		cmd.Env = cliEnv
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("compute run: %v\n%s", err, out)
		}
		env := map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			k, v, _ := strings.Cut(line, "=")
			env[k] = v
		}
		for k, want := range map[string]string{"AZURE_AUTHORITY_HOST": s.URL, "AZUREML_DEV_URL_MFE": s.URL,
			"DEFAULT_IDENTITY_CLIENT_ID": f.ua.ClientID, "REQUESTS_CA_BUNDLE": s.Bootstrap.CAFile, "SSL_CERT_FILE": s.Bootstrap.CAFile} {
			if env[k] != want {
				t.Errorf("%s = %q, want %q", k, env[k], want)
			}
		}
		for _, k := range []string{"MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_POD_IDENTITY_AUTHORITY_HOST", "TESSERA_NODE_ID"} {
			if env[k] == "" {
				t.Errorf("%s is not set", k)
			}
		}
		for _, k := range []string{"AZURE_CLIENT_SECRET", "AZURE_CLIENT_ID", "AZURE_TENANT_ID"} {
			if _, ok := env[k]; ok {
				t.Errorf("the caller's %s reached the command", k)
			}
		}
		if !strings.HasPrefix(env["MSI_ENDPOINT"], "http://127.0.0.1:") || env["MSI_SECRET"] == "" {
			t.Errorf("MSI_ENDPOINT %q", env["MSI_ENDPOINT"])
		}
		if strings.Contains(nodes(), env["TESSERA_NODE_ID"]) {
			t.Errorf("node %s still registered after the run", env["TESSERA_NODE_ID"])
		}

		cmd = exec.Command(bin, "compute", "run", "--workspace", f.ws, "--compute", "cpu", "--", "sh", "-c", "exit 7")
		cmd.Env = cliEnv
		var exit *exec.ExitError
		if err := cmd.Run(); !errors.As(err, &exit) || exit.ExitCode() != 7 {
			t.Errorf("compute run of a command exiting 7: %v", err)
		}
		cmd = exec.Command(bin, "compute", "run", "--workspace", "mi-ws", "--compute", "nope", "--", "true")
		cmd.Env = cliEnv
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "ResourceNotFound") {
			t.Errorf("compute run on a missing compute: %v %s", err, out)
		}

		// Beside config.json the workspace needs no flag; a compute with no
		// identity is refused before the command runs.
		dir := t.TempDir()
		cfg := fmt.Sprintf(`{"subscription_id": %q, "resource_group": "mi-rg", "workspace_name": "mi-ws"}`, s.Bootstrap.SubscriptionID)
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(bin, "compute", "run", "--compute", "cpu", "--identity", f.ua.ClientID, "--", "sh", "-c", "echo ran")
		cmd.Env, cmd.Dir = cliEnv, dir
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "ran") {
			t.Errorf("compute run from config.json: %v %s", err, out)
		}
		if r := f.arm(t, "PUT", f.ws+"/computes/bare"+computePutV, map[string]any{"location": "eastus",
			"properties": map[string]any{"computeType": "AmlCompute", "properties": map[string]any{"vmSize": "STANDARD_DS3_V2"}}}); r.Status != http.StatusCreated {
			t.Fatalf("create a compute without identity: %d %s", r.Status, r.Raw)
		}
		cmd = exec.Command(bin, "compute", "run", "--compute", "bare", "--", "sh", "-c", "echo ran")
		cmd.Env, cmd.Dir = cliEnv, dir
		if out, err := cmd.CombinedOutput(); err == nil || strings.Contains(string(out), "ran") || !strings.Contains(string(out), "has no managed identity") {
			t.Errorf("compute run on a compute without identity: %v %s", err, out)
		}
		cmd = exec.Command(bin, "compute", "run", "--compute", "cpu", "--identity", f.other.ClientID, "--", "true")
		cmd.Env, cmd.Dir = cliEnv, dir
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "is not a user-assigned identity of compute cpu") {
			t.Errorf("compute run with an identity the compute lacks: %v %s", err, out)
		}
	})

	t.Run("node agent", func(t *testing.T) {
		envFile := filepath.Join(t.TempDir(), "node.env")
		cmd := exec.Command(bin, "node", "agent", "--workspace", "mi-ws", "-g", "mi-rg", "--compute", "cpu", "--env-file", envFile)
		cmd.Env = cliEnv
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		}()
		var text []byte
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if b, err := os.ReadFile(envFile); err == nil && len(b) > 0 {
				text = b
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node agent wrote no environment: %s", stderr.String())
			}
		}
		if st, err := os.Stat(envFile); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("env file mode: %v %v", st.Mode(), err)
		}
		env := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(text)), "\n") {
			k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			env[k] = strings.Trim(v, "'")
		}
		req, _ := http.NewRequest("GET", env["IDENTITY_ENDPOINT"]+"?api-version=2019-08-01&resource="+url.QueryEscape(miResource), nil)
		req.Header.Set("X-IDENTITY-HEADER", env["IDENTITY_HEADER"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := decodeMap(t, readBody(t, resp))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("token from the agent: %d %v", resp.StatusCode, body)
		}
		checkMIClaims(t, s, body["access_token"].(string), f.system)
		nodeID := env["TESSERA_NODE_ID"]
		if !strings.Contains(nodes(), nodeID) {
			t.Fatalf("node %s not registered while the agent runs", nodeID)
		}
		_ = cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("agent exit: %v\n%s", err, stderr.String())
		}
		if strings.Contains(nodes(), nodeID) {
			t.Errorf("node %s still registered after the agent stopped", nodeID)
		}
		if _, err := os.Stat(envFile); !os.IsNotExist(err) {
			t.Errorf("env file left behind: %v", err)
		}
	})
}
