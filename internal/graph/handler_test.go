package graph

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/sqlite"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/token/signing"
)

const testBase = "https://tessera.test"

// harness is the Graph handler over a real SQLite store, with tokens signed
// by a real key manager.
type harness struct {
	t       *testing.T
	ctx     context.Context
	st      *sqlite.Store
	dir     *directory.Service
	keys    *signing.Keys
	handler http.Handler
	tenant  domain.Tenant
	admin   domain.User // Global Administrator
	plain   domain.User // no role
	app     domain.ServicePrincipal
}

// storeAuditor writes audit events straight to the store.
type storeAuditor struct{ st store.Audit }

func (a storeAuditor) Record(ctx context.Context, ev domain.AuditEvent) error {
	return a.st.AppendAudit(ctx, ev)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tessera.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tenant := domain.Tenant{ID: directory.NewID(), DisplayName: "T", Domains: []string{"t.tessera.local"}, CreatedAt: time.Now()}
	if err := st.CreateTenant(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	dir := directory.NewService(st, nil)
	if err := dir.EnsureFirstParty(ctx, tenant.ID, testBase+"/graph/"); err != nil {
		t.Fatal(err)
	}
	keys := signing.NewKeys(st, func(ctx context.Context, fn func(store.Keys) error) error {
		return st.InTx(ctx, func(tx store.Tx) error { return fn(tx) })
	}, signing.Options{})
	if err := keys.Load(ctx); err != nil {
		t.Fatal(err)
	}
	base := httpx.NewBaseURLs(testBase, []string{"tessera.test"})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	New(dir, st, token.NewVerifier(keys), base, storeAuditor{st}, Options{Logger: log}).Register(mux)
	h := &harness{t: t, ctx: ctx, st: st, dir: dir, keys: keys, handler: httpx.WithRequestIDs(mux), tenant: tenant}
	mk := func(nick string) domain.User {
		u, err := dir.CreateUser(ctx, tenant.ID, directory.UserInput{UserPrincipalName: nick + "@t.tessera.local", DisplayName: nick, Password: "Passw0rd!x"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	h.admin, h.plain = mk("admin"), mk("plain")
	if _, err := dir.AssignDirectoryRole(ctx, tenant.ID, h.admin.ID, domain.RoleGlobalAdministrator); err != nil {
		t.Fatal(err)
	}
	a, err := dir.CreateApplication(ctx, tenant.ID, directory.ApplicationInput{DisplayName: "worker"})
	if err != nil {
		t.Fatal(err)
	}
	if h.app, err = dir.CreateServicePrincipal(ctx, tenant.ID, a.AppID, true); err != nil {
		t.Fatal(err)
	}
	return h
}

// tok mints a Graph access token for oid.
func (h *harness) tok(oid string, user bool, aud string) string {
	h.t.Helper()
	now := time.Now()
	c := token.AccessClaims{Aud: aud, Iss: "https://sts.windows.net/" + h.tenant.ID + "/", Iat: now.Unix(), Nbf: now.Unix(),
		Exp: now.Add(time.Hour).Unix(), Oid: oid, Sub: oid, Tid: h.tenant.ID, Ver: "1.0", AppID: directory.AppIDAzureCLI, Idtyp: token.IdentityTypeApp}
	if user {
		c.Idtyp, c.Upn = token.IdentityTypeUser, "user@t.tessera.local"
	}
	b, _ := json.Marshal(c)
	raw, err := h.keys.Sign(b)
	if err != nil {
		h.t.Fatal(err)
	}
	return raw
}

func (h *harness) adminTok() string { return h.tok(h.admin.ID, true, testBase+"/graph/") }
func (h *harness) plainTok() string { return h.tok(h.plain.ID, true, testBase+"/graph/") }
func (h *harness) appTok() string   { return h.tok(h.app.ID, false, "https://graph.microsoft.com") }

type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (h *harness) do(bearer, method, path string, body any, headers ...string) resp {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, testBase+Prefix+path, rd)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	out := resp{status: rec.Code, header: rec.Header(), raw: rec.Body.Bytes()}
	_ = json.Unmarshal(out.raw, &out.body)
	return out
}

func (r resp) errorField(k string) string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e[k].(string)
	return s
}

func (r resp) values() []map[string]any {
	vs, _ := r.body["value"].([]any)
	out := make([]map[string]any, 0, len(vs))
	for _, v := range vs {
		m, _ := v.(map[string]any)
		out = append(out, m)
	}
	return out
}

var graphDate = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`)

func TestErrorShapes(t *testing.T) {
	h := newHarness(t)
	admin, plain, app := h.adminTok(), h.plainTok(), h.appTok()
	missing := directory.NewID()
	cases := []struct {
		name    string
		bearer  string
		method  string
		path    string
		body    any
		headers []string
		status  int
		code    string
		message string // substring
	}{
		{"no token", "", "GET", "/users", nil, nil, 401, "InvalidAuthenticationToken", "Access token is empty."},
		{"garbage token", "x.y.z", "GET", "/users", nil, nil, 401, "InvalidAuthenticationToken", "Invalid signature or malformed token"},
		{"ARM token", h.tok(h.admin.ID, true, "https://management.azure.com/"), "GET", "/users", nil, nil, 401, "InvalidAuthenticationToken", "Invalid audience"},
		{"plain user creates app", plain, "POST", "/applications", map[string]any{"displayName": "x"}, nil, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."},
		{"app without role creates user", app, "POST", "/users", map[string]any{"displayName": "x"}, nil, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."},
		{"plain user deletes group", plain, "POST", "/groups", map[string]any{"displayName": "x"}, nil, 403, "Authorization_RequestDenied", "Insufficient privileges"},
		{"plain user assigns role", plain, "POST", "/roleManagement/directory/roleAssignments", map[string]any{"principalId": h.plain.ID, "roleDefinitionId": domain.RoleGlobalAdministrator, "directoryScopeId": "/"}, nil, 403, "Authorization_RequestDenied", "Insufficient privileges"},
		{"plain user reads audit", plain, "GET", "/auditLogs/directoryAudits", nil, nil, 403, "Authorization_RequestDenied", "Insufficient privileges"},
		{"unknown user", admin, "GET", "/users/" + missing, nil, nil, 404, "Request_ResourceNotFound", "Resource '" + missing + "' does not exist or one of its queried reference-property objects are not present."},
		{"unknown application by appId", admin, "GET", "/applications(appId='" + missing + "')", nil, nil, 404, "Request_ResourceNotFound", "Resource '" + missing + "'"},
		{"unknown member", admin, "GET", "/groups/" + missing + "/members", nil, nil, 404, "Request_ResourceNotFound", missing},
		{"checkMemberGroups of nothing", admin, "POST", "/directoryObjects/" + missing + "/checkMemberGroups", map[string]any{"groupIds": []string{}}, nil, 404, "Request_ResourceNotFound", missing},
		{"bad JSON", admin, "POST", "/users", "{", nil, 400, "Request_BadRequest", "Invalid JSON"},
		{"unverified domain", admin, "POST", "/users", map[string]any{"displayName": "x", "userPrincipalName": "x@evil.example", "passwordProfile": map[string]any{"password": "Passw0rd!x"}}, nil, 400, "Request_BadRequest", "verified domain"},
		{"weak password", admin, "POST", "/users", map[string]any{"displayName": "x", "userPrincipalName": "x@t.tessera.local", "passwordProfile": map[string]any{"password": "x"}}, nil, 400, "Request_BadRequest", "password complexity"},
		{"duplicate UPN", admin, "POST", "/users", map[string]any{"displayName": "x", "userPrincipalName": "PLAIN@t.tessera.local", "passwordProfile": map[string]any{"password": "Passw0rd!x"}}, nil, 400, "Request_MultipleObjectsWithSameKeyValue", "already exists"},
		{"bad member reference", admin, "POST", "/groups/" + missing + "/members/$ref", map[string]any{"@odata.id": "nonsense"}, nil, 404, "Request_ResourceNotFound", missing},
		{"unsupported filter", admin, "GET", "/users?$filter=" + url.QueryEscape("displayName eq 'a' or displayName eq 'b'"), nil, nil, 400, "Request_UnsupportedQuery", "'or'"},
		{"unknown property", admin, "GET", "/users?$filter=" + url.QueryEscape("shoeSize eq '9'"), nil, nil, 400, "Request_BadRequest", "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'."},
		{"filter syntax", admin, "GET", "/servicePrincipals?$filter=" + url.QueryEscape("displayName eq"), nil, nil, 400, "Request_BadRequest", "Invalid filter clause"},
		{"select unknown", admin, "GET", "/users/" + h.plain.ID + "?$select=password", nil, nil, 400, "Request_BadRequest", "Could not find a property named 'password'"},
		{"count without header", admin, "GET", "/users?$count=true", nil, nil, 400, "Request_BadRequest", "$count is not currently supported."},
		{"count segment without header", admin, "GET", "/users/$count", nil, nil, 400, "Request_BadRequest", "$count is not currently supported."},
		{"top too large", admin, "GET", "/groups?$top=1000", nil, nil, 400, "Request_BadRequest", "Invalid page size"},
		{"orderby", admin, "GET", "/groups?$orderby=displayName", nil, nil, 400, "Request_UnsupportedQuery", "$orderby"},
		{"/me with an app token", app, "GET", "/me", nil, nil, 400, "BadRequest", "/me request is only valid with delegated authentication flow."},
		{"unknown segment", admin, "GET", "/devices", nil, nil, 400, "Request_BadRequest", "Resource not found for the segment 'devices'."},
		{"wrong method", admin, "PUT", "/users/" + h.plain.ID, nil, nil, 405, "Request_BadRequest", "not allowed"},
		{"removePassword without keyId", admin, "POST", "/applications(appId='" + h.app.AppID + "')/removePassword", map[string]any{}, nil, 400, "Request_BadRequest", "keyId"},
		{"removePassword of unknown key", admin, "POST", "/applications(appId='" + h.app.AppID + "')/removePassword", map[string]any{"keyId": missing}, nil, 400, "Request_BadRequest", "No password credential"},
		{"first-party delete", admin, "DELETE", "/servicePrincipals(appId='" + directory.AppIDAzureCLI + "')", nil, nil, 400, "Request_BadRequest", "first-party"},
		{"too many groupIds", admin, "POST", "/directoryObjects/" + h.plain.ID + "/checkMemberGroups", map[string]any{"groupIds": make([]string, 21)}, nil, 400, "Request_BadRequest", ""},
		{"getByIds without ids", admin, "POST", "/directoryObjects/getByIds", map[string]any{"types": []string{"user"}}, nil, 400, "Request_BadRequest", "ids"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const clientID = "5e2f3b0c-6a4d-4d7e-8f1a-9b0c1d2e3f40"
			r := h.do(c.bearer, c.method, c.path, c.body, append([]string{"client-request-id", clientID}, c.headers...)...)
			if r.status != c.status || r.errorField("code") != c.code || !strings.Contains(r.errorField("message"), c.message) {
				t.Fatalf("%s %s: %d %s, want %d %s containing %q", c.method, c.path, r.status, r.raw, c.status, c.code, c.message)
			}
			inner, _ := r.body["error"].(map[string]any)["innerError"].(map[string]any)
			if d, _ := inner["date"].(string); !graphDate.MatchString(d) {
				t.Errorf("innerError.date = %q", d)
			}
			if rid, _ := inner["request-id"].(string); !directory.IsGUID(rid) {
				t.Errorf("innerError.request-id = %q", rid)
			}
			if cid, _ := inner["client-request-id"].(string); cid != clientID {
				t.Errorf("innerError.client-request-id = %q, want the client's", cid)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if c.status == 401 && !strings.Contains(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestListsAndEntities(t *testing.T) {
	h := newHarness(t)
	admin := h.adminTok()
	// Groups, created and visible at once, with paging.
	var ids []string
	for _, n := range []string{"ml-a", "ml-b", "ml-c", "other"} {
		r := h.do(admin, "POST", "/groups", map[string]any{"displayName": n, "mailNickname": n, "mailEnabled": false, "securityEnabled": true})
		if r.status != 201 || r.body["@odata.type"] != typeGroup || r.body["id"] == nil {
			t.Fatalf("create group: %d %s", r.status, r.raw)
		}
		if ctx, _ := r.body["@odata.context"].(string); ctx != testBase+"/graph/v1.0/$metadata#groups/$entity" {
			t.Errorf("entity context %q", ctx)
		}
		ids = append(ids, r.body["id"].(string))
	}
	r := h.do(admin, "GET", "/groups?$filter="+url.QueryEscape("startswith(displayName,'ML-')")+"&$top=2&$count=true&$select=id,displayName", nil, "ConsistencyLevel", "eventual")
	if r.status != 200 || len(r.values()) != 2 || r.body["@odata.count"] != float64(3) {
		t.Fatalf("page 1: %d %s", r.status, r.raw)
	}
	if ctx := r.body["@odata.context"]; ctx != testBase+"/graph/v1.0/$metadata#groups(id,displayName)" {
		t.Errorf("list context %v", ctx)
	}
	if v := r.values()[0]; len(v) != 3 || v["displayName"] != "ml-a" { // id, displayName, @odata.type
		t.Errorf("projected item %v", v)
	}
	next, _ := r.body["@odata.nextLink"].(string)
	if !strings.HasPrefix(next, testBase+"/graph/v1.0/groups?") || !strings.Contains(next, "$skiptoken=") {
		t.Fatalf("nextLink %q", next)
	}
	r = h.do(admin, "GET", strings.TrimPrefix(next, testBase+Prefix), nil, "ConsistencyLevel", "eventual")
	if r.status != 200 || len(r.values()) != 1 || r.values()[0]["displayName"] != "ml-c" || r.body["@odata.nextLink"] != nil {
		t.Fatalf("page 2: %d %s", r.status, r.raw)
	}
	r = h.do(admin, "GET", "/groups/$count", nil, "ConsistencyLevel", "eventual")
	if r.status != 200 || string(r.raw) != "4" {
		t.Errorf("$count: %d %q", r.status, r.raw)
	}
	// az ad group create's lookup.
	r = h.do(admin, "GET", "/groups?$filter="+url.QueryEscape("displayName eq 'other' and mailNickname eq 'other'"), nil)
	if len(r.values()) != 1 || r.values()[0]["id"] != ids[3] {
		t.Errorf("eq and eq: %s", r.raw)
	}

	// Nesting and membership queries over HTTP.
	ref := func(id string) map[string]any {
		return map[string]any{"@odata.id": testBase + "/graph/v1.0/directoryObjects/" + id}
	}
	if r := h.do(admin, "POST", "/groups/"+ids[0]+"/members/$ref", ref(ids[1])); r.status != 204 {
		t.Fatalf("add group member: %d %s", r.status, r.raw)
	}
	if r := h.do(admin, "POST", "/groups/"+ids[1]+"/members/$ref", ref(h.plain.ID)); r.status != 204 {
		t.Fatalf("add user member: %d %s", r.status, r.raw)
	}
	if r := h.do(admin, "POST", "/groups/"+ids[1]+"/members/$ref", ref(ids[0])); r.status != 400 || !strings.Contains(r.errorField("message"), "cycle") {
		t.Errorf("cycle: %d %s", r.status, r.raw)
	}
	if r := h.do(admin, "POST", "/groups/"+ids[1]+"/members/$ref", ref(h.plain.ID)); r.status != 400 || !strings.Contains(r.errorField("message"), "already exist") {
		t.Errorf("duplicate member: %d %s", r.status, r.raw)
	}
	r = h.do(admin, "GET", "/groups/"+ids[0]+"/transitiveMembers", nil)
	if len(r.values()) != 2 {
		t.Errorf("transitive members: %s", r.raw)
	}
	for _, v := range r.values() {
		if v["@odata.type"] != typeGroup && v["@odata.type"] != typeUser {
			t.Errorf("member without @odata.type: %v", v)
		}
	}
	r = h.do(h.plainTok(), "GET", "/me/transitiveMemberOf", nil)
	if len(r.values()) != 2 {
		t.Errorf("/me/transitiveMemberOf: %s", r.raw)
	}
	r = h.do(admin, "POST", "/users/plain@t.tessera.local/getMemberGroups", map[string]any{"securityEnabledOnly": true})
	if vs, _ := r.body["value"].([]any); len(vs) != 2 {
		t.Errorf("getMemberGroups by UPN: %s", r.raw)
	}
	r = h.do(admin, "POST", "/directoryObjects/"+h.plain.ID+"/checkMemberGroups", map[string]any{"groupIds": []string{ids[0], ids[3]}})
	if vs, _ := r.body["value"].([]any); len(vs) != 1 || vs[0] != ids[0] {
		t.Errorf("checkMemberGroups: %s", r.raw)
	}
	if r := h.do(admin, "DELETE", "/groups/"+ids[1]+"/members/"+h.plain.ID+"/$ref", nil); r.status != 204 {
		t.Errorf("remove member: %d %s", r.status, r.raw)
	}
	if r := h.do(admin, "DELETE", "/groups/"+ids[1]+"/members/"+h.plain.ID+"/$ref", nil); r.status != 404 {
		t.Errorf("remove member twice: %d %s", r.status, r.raw)
	}

	// getByIds as az sends it.
	r = h.do(admin, "POST", "/directoryObjects/getByIds", map[string]any{"ids": []string{h.plain.ID, h.app.ID, ids[2], directory.NewID()},
		"types": []string{"user", "group", "servicePrincipal", "directoryObjectPartnerReference"}})
	want := []string{typeUser, typeServicePrincipal, typeGroup}
	if vs := r.values(); len(vs) != 3 {
		t.Fatalf("getByIds: %s", r.raw)
	} else {
		for i, v := range vs {
			if v["@odata.type"] != want[i] {
				t.Errorf("getByIds[%d] type %v, want %s", i, v["@odata.type"], want[i])
			}
		}
	}

	// Users: by id, UPN and users('…'), /me, reads by anyone, never a password.
	for _, p := range []string{"/users/" + h.plain.ID, "/users/PLAIN@t.tessera.local", "/users('plain@t.tessera.local')", "/directoryObjects/" + h.plain.ID} {
		r := h.do(h.appTok(), "GET", p, nil)
		if r.status != 200 || r.body["id"] != h.plain.ID || r.body["userPrincipalName"] != "plain@t.tessera.local" {
			t.Errorf("GET %s: %d %s", p, r.status, r.raw)
		}
		if strings.Contains(strings.ToLower(string(r.raw)), "argon") || strings.Contains(string(r.raw), "password") {
			t.Errorf("GET %s leaks password data: %s", p, r.raw)
		}
	}
	if r := h.do(h.plainTok(), "GET", "/me?$select=displayName", nil); r.status != 200 || r.body["displayName"] != "plain" || r.body["id"] != nil {
		t.Errorf("/me $select: %d %s", r.status, r.raw)
	}
}

func TestSecretsNeverListed(t *testing.T) {
	h := newHarness(t)
	admin := h.adminTok()
	r := h.do(admin, "POST", "/applications", map[string]any{"displayName": "secretive", "keyCredentials": []any{}})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.body["id"].(string)
	r = h.do(admin, "POST", "/applications/"+id+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "rbac"}})
	secret, _ := r.body["secretText"].(string)
	if r.status != 200 || len(secret) < 20 || r.body["keyId"] == nil || r.body["hint"] != secret[:3] {
		t.Fatalf("addPassword: %d %s", r.status, r.raw)
	}
	for _, p := range []string{"/applications/" + id, "/applications", "/applications?$select=passwordCredentials", "/directoryObjects/" + id} {
		r := h.do(admin, "GET", p, nil)
		if r.status != 200 || strings.Contains(string(r.raw), secret) || strings.Contains(string(r.raw), "secretHash") {
			t.Errorf("GET %s shows the secret: %s", p, r.raw)
		}
		if !strings.Contains(string(r.raw), `"hint":"`+secret[:3]+`"`) {
			t.Errorf("GET %s lacks the hint: %s", p, r.raw)
		}
	}
	// The creator owns the application.
	r = h.do(admin, "GET", "/applications/"+id+"/owners", nil)
	if len(r.values()) != 1 || r.values()[0]["id"] != h.admin.ID {
		t.Errorf("owners: %s", r.raw)
	}
	// Every change is audited, refusals too.
	h.do(h.plainTok(), "PATCH", "/applications/"+id, map[string]any{"displayName": "stolen"})
	events, err := h.st.ListAudit(h.ctx, store.AuditFilter{TenantID: h.tenant.ID, Kind: domain.AuditChange})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, e := range events {
		seen[e.Action] = e.Result
	}
	if seen["application.create"] != "success" || seen["application.addPassword"] != "success" || seen["application.update"] != "failure" {
		t.Errorf("audit: %v", seen)
	}
}

func TestAddKeyByTheApplicationItself(t *testing.T) {
	h := newHarness(t)
	newCert := func() (*x509.Certificate, *rsa.PrivateKey) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "self-rotation"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		c, _ := x509.ParseCertificate(der)
		return c, key
	}
	cert, key := newCert()
	app, err := h.dir.CreateApplication(h.ctx, h.tenant.ID, directory.ApplicationInput{DisplayName: "self-rotating",
		KeyCredentials: []directory.KeyCredentialInput{{Key: cert.Raw}}})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := h.dir.CreateServicePrincipal(h.ctx, h.tenant.ID, app.AppID, true)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, nil)
	now := time.Now().Unix()
	payload, _ := json.Marshal(map[string]any{"aud": directory.ProofAudience, "iss": app.ID, "nbf": now, "exp": now + 600})
	jws, _ := signer.Sign(payload)
	proof, _ := jws.CompactSerialize()
	next, _ := newCert()
	body := map[string]any{"keyCredential": map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify",
		"key": base64.StdEncoding.EncodeToString(next.Raw)}, "passwordCredential": nil, "proof": proof}

	if r := h.do(h.appTok(), "POST", "/applications/"+app.ID+"/addKey", body); r.status != 403 {
		t.Errorf("another application adds a key: %d %s", r.status, r.raw)
	}
	r := h.do(h.tok(sp.ID, false, testBase+"/graph"), "POST", "/applications/"+app.ID+"/addKey", body)
	if r.status != 200 || r.body["keyId"] == nil || r.body["type"] != "AsymmetricX509Cert" || r.body["key"] != nil {
		t.Fatalf("the application adds its own key: %d %s", r.status, r.raw)
	}
	got := h.do(h.adminTok(), "GET", "/applications/"+app.ID+"?$select=keyCredentials", nil)
	if keys, _ := got.body["keyCredentials"].([]any); len(keys) != 2 {
		t.Errorf("keyCredentials after addKey: %s", got.raw)
	}
}

// passwordProfile.forceChangePasswordNextSignIn is stored on create and
// PATCH; an omitted value on create means false, and the password itself is
// never returned.
func TestForceChangePasswordRoundTrip(t *testing.T) {
	h := newHarness(t)
	admin := h.adminTok()
	flag := func(id string) bool {
		t.Helper()
		u, err := h.dir.GetUser(h.ctx, h.tenant.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		return u.ForceChangePassword
	}
	r := h.do(admin, "POST", "/users", map[string]any{"displayName": "f", "userPrincipalName": "forced@t.tessera.local",
		"passwordProfile": map[string]any{"password": "Passw0rd!x", "forceChangePasswordNextSignIn": true}})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	if bytes.Contains(r.raw, []byte("Passw0rd")) {
		t.Fatalf("password returned: %s", r.raw)
	}
	id, _ := r.body["id"].(string)
	if !flag(id) {
		t.Fatal("flag not stored on create")
	}
	r = h.do(admin, "POST", "/users", map[string]any{"displayName": "g", "userPrincipalName": "notforced@t.tessera.local",
		"passwordProfile": map[string]any{"password": "Passw0rd!x"}})
	if r.status != 201 || flag(r.body["id"].(string)) {
		t.Fatalf("omitted flag: %d %s", r.status, r.raw)
	}
	patch := func(body map[string]any) {
		t.Helper()
		if r := h.do(admin, "PATCH", "/users/"+id, body); r.status != 204 {
			t.Fatalf("patch %v: %d %s", body, r.status, r.raw)
		}
	}
	patch(map[string]any{"passwordProfile": map[string]any{"forceChangePasswordNextSignIn": false}})
	if flag(id) {
		t.Fatal("flag not cleared by PATCH")
	}
	patch(map[string]any{"displayName": "renamed"})
	if flag(id) {
		t.Fatal("unrelated PATCH set the flag")
	}
	patch(map[string]any{"passwordProfile": map[string]any{"password": "N3w!Passw0rd", "forceChangePasswordNextSignIn": true}})
	if !flag(id) {
		t.Fatal("reset with forceChangePasswordNextSignIn did not set the flag")
	}
	patch(map[string]any{"displayName": "again"})
	if !flag(id) {
		t.Fatal("unrelated PATCH cleared the flag")
	}
	if r := h.do(admin, "GET", "/users/"+id, nil); r.status != 200 || bytes.Contains(r.raw, []byte("N3w!")) {
		t.Fatalf("get: %d %s", r.status, r.raw)
	}
}

// TestStrictBodies: a Graph write must declare JSON and send a JSON object
// whose known properties have their types; the error names the property.
func TestStrictBodies(t *testing.T) {
	h := newHarness(t)
	admin := h.adminTok()
	cases := []struct {
		name, method, path, body, ctype string
		status                          int
		code, mentions                  string
	}{
		{"text/plain", "POST", "/applications", `{"displayName":"a"}`, "text/plain", 415, codeUnsupportedMediaType, "text/plain"},
		{"form", "POST", "/applications", "displayName=a", "application/x-www-form-urlencoded", 415, codeUnsupportedMediaType, "urlencoded"},
		{"no type", "POST", "/users", `{"displayName":"a"}`, "", 415, codeUnsupportedMediaType, "(none)"},
		{"xml", "POST", "/groups", `<group/>`, "application/xml", 415, codeUnsupportedMediaType, "xml"},
		{"array", "POST", "/applications", `[{"displayName":"a"}]`, "application/json", 400, codeBadRequest, "JSON object"},
		{"null", "POST", "/applications", `null`, "application/json", 400, codeBadRequest, "JSON object"},
		{"displayName number", "POST", "/applications", `{"displayName":5}`, "application/json", 400, codeBadRequest, "'displayName'"},
		{"identifierUris string", "POST", "/applications", `{"displayName":"a","identifierUris":"api://x"}`, "application/json", 400, codeBadRequest, "'identifierUris'"},
		{"accountEnabled string", "POST", "/users", `{"displayName":"u","accountEnabled":"yes"}`, "application/json; charset=utf-8", 400, codeBadRequest, "'accountEnabled'"},
		{"charset accepted", "POST", "/applications", `{"displayName":"strict-ok"}`, "application/json; charset=utf-8", 201, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.ctype != "" {
				hdr = []string{"Content-Type", tc.ctype}
			}
			r := h.doRaw(admin, tc.method, tc.path, tc.body, hdr...)
			if r.status != tc.status || r.errorField("code") != tc.code || !strings.Contains(r.errorField("message"), tc.mentions) {
				t.Fatalf("%d %s, want %d %s mentioning %q", r.status, r.raw, tc.status, tc.code, tc.mentions)
			}
		})
	}
}

// TestPathsNeverRedirect: Graph's key forms rewritten into segments that
// ServeMux would clean get Graph's 400, never a redirect.
func TestPathsNeverRedirect(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/users('..')", "/users('.')/memberOf", "/groups/x/members('..')/$ref"} {
		r := h.do(h.adminTok(), "GET", p, nil)
		if r.status != 400 || r.errorField("code") != codeBadRequest {
			t.Errorf("GET %s: %d %s", p, r.status, r.raw)
		}
	}
}

// doRaw sends body as given, with only the headers named.
func (h *harness) doRaw(bearer, method, path, body string, headers ...string) resp {
	h.t.Helper()
	req := httptest.NewRequest(method, testBase+Prefix+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+bearer)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	out := resp{status: rec.Code, header: rec.Header(), raw: rec.Body.Bytes()}
	_ = json.Unmarshal(out.raw, &out.body)
	return out
}
