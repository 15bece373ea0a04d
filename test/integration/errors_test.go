package integration

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/tessera-id/tessera/test/testserver"
)

func TestTokenEndpointErrors(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	app := s.CreateApp(t, "errors-app", nil)
	gt := s.GraphToken(t)

	expired := s.CreateApp(t, "expired-secret-app", nil)
	var old struct{ SecretText string }
	s.Graph(t, gt, "POST", "/applications/"+expired.ObjectID+"/addPassword", map[string]any{"passwordCredential": map[string]any{
		"startDateTime": time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339), "endDateTime": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
	}}, &old)

	disabled := s.CreateApp(t, "disabled-app", nil)
	if st := s.Graph(t, gt, "PATCH", "/servicePrincipals/"+disabled.SPID, map[string]any{"accountEnabled": false}, nil); st != http.StatusNoContent {
		t.Fatalf("disable service principal: %d", st)
	}

	tid := s.Bootstrap.TenantID
	v2 := "/" + tid + "/oauth2/v2.0/token"
	cc := func(kv ...string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.AppID}, "client_secret": {app.Secret}, "scope": {armScope}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	cases := []struct {
		name   string
		path   string
		form   url.Values
		status int
		oauth  string
		code   int
	}{
		{"unknown client", v2, cc("client_id", uuid.NewString()), 400, "unauthorized_client", 700016},
		{"wrong secret", v2, cc("client_secret", "not-the-secret"), 401, "invalid_client", 7000215},
		{"expired secret", v2, cc("client_id", expired.AppID, "client_secret", old.SecretText), 401, "invalid_client", 7000222},
		{"unknown resource", v2, cc("scope", "https://unknown.example.com/.default"), 400, "invalid_resource", 500011},
		{"bad scope", v2, cc("scope", "https://management.azure.com/user_impersonation"), 400, "invalid_scope", 70011},
		{"two resources", v2, cc("scope", armScope+" https://graph.microsoft.com/.default"), 400, "invalid_scope", 70011},
		{"missing scope", v2, cc("scope", ""), 400, "invalid_request", 900144},
		{"missing client_id", v2, cc("client_id", ""), 400, "invalid_request", 900144},
		{"missing grant_type", v2, cc("grant_type", ""), 400, "invalid_request", 900144},
		{"missing resource v1", "/" + tid + "/oauth2/token", cc("scope", ""), 400, "invalid_request", 900144},
		{"unsupported grant", v2, cc("grant_type", "urn:example:magic"), 400, "unsupported_grant_type", 70003},
		{"no credential", v2, cc("client_secret", ""), 401, "invalid_client", 7000218},
		{"public client", v2, cc("client_id", "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "client_secret", ""), 400, "unauthorized_client", 700025},
		{"malformed assertion", v2, cc("client_secret", "", "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion", "a.b.c"), 400, "invalid_request", 50027},
		{"disabled service principal", v2, cc("client_id", disabled.AppID, "client_secret", disabled.Secret), 400, "unauthorized_client", 7000112},
		{"unknown tenant", "/nosuch.example.com/oauth2/v2.0/token", cc(), 400, "invalid_request", 90002},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertAADSTS(t, s.PostForm(t, tc.path, tc.form), tc.status, tc.oauth, tc.code)
		})
	}

	t.Run("duplicate parameter", func(t *testing.T) {
		f := cc()
		f.Add("scope", "https://graph.microsoft.com/.default")
		assertAADSTS(t, s.PostForm(t, v2, f), 400, "invalid_request", 90015)
	})
	t.Run("GET on token endpoint", func(t *testing.T) {
		resp, err := s.Client.Get(s.URL + v2)
		if err != nil {
			t.Fatal(err)
		}
		assertAADSTS(t, testserver.TokenResponse{Status: resp.StatusCode, Body: decodeMap(t, readBody(t, resp))}, 400, "invalid_request", 900561)
	})
	t.Run("secret never echoed", func(t *testing.T) {
		r := s.PostForm(t, v2, cc("client_secret", "guess-"+app.Secret[:5]))
		if strings.Contains(string(r.Raw), app.Secret[:5]) {
			t.Fatalf("error body echoes the presented secret: %s", r.Raw)
		}
	})
	t.Run("sign-in log records failures", func(t *testing.T) {
		var log struct {
			Value []struct {
				AppID  string `json:"appId"`
				Status struct {
					ErrorCode     int    `json:"errorCode"`
					FailureReason string `json:"failureReason"`
				} `json:"status"`
			}
		}
		if st := s.Graph(t, gt, "GET", "/auditLogs/signIns?$top=200", nil, &log); st != 200 {
			t.Fatalf("list sign-ins: %d", st)
		}
		found := false
		for _, e := range log.Value {
			if e.Status.ErrorCode == 7000215 && e.Status.FailureReason != "" && e.AppID != "" {
				found = true
			}
		}
		// The same by $filter, as Graph documents it.
		var filtered struct {
			Value []struct {
				Status struct {
					ErrorCode int `json:"errorCode"`
				} `json:"status"`
			}
		}
		if st := s.Graph(t, gt, "GET", "/auditLogs/signIns?$filter=status/errorCode+eq+7000215", nil, &filtered); st != 200 || len(filtered.Value) == 0 {
			t.Fatalf("filter by status/errorCode: %d, %d events", st, len(filtered.Value))
		}
		for _, e := range filtered.Value {
			if e.Status.ErrorCode != 7000215 {
				t.Errorf("filter by status/errorCode returned errorCode %d", e.Status.ErrorCode)
			}
		}
		if !found {
			t.Fatalf("no failed sign-in with AADSTS7000215 among %d events", len(log.Value))
		}
	})
}

func TestSecretTransportsAndShapes(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	app := s.CreateApp(t, "shapes-app", nil)
	tid := s.Bootstrap.TenantID

	t.Run("HTTP Basic", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {armScope}}
		req, _ := http.NewRequest("POST", s.URL+"/"+tid+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(app.AppID), url.QueryEscape(app.Secret))
		resp, err := s.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := decodeMap(t, readBody(t, resp))
		if resp.StatusCode != 200 || body["access_token"] == nil {
			t.Fatalf("Basic auth: %d %v", resp.StatusCode, body)
		}
	})
	t.Run("v2 numbers", func(t *testing.T) {
		r := s.PostForm(t, "/"+tid+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {app.AppID},
			"client_secret": {app.Secret}, "scope": {armScope}, "client_info": {"1"}, "claims": {`{"access_token":{"xms_cc":{"values":["CP1"]}}}`}})
		if r.Status != 200 {
			t.Fatalf("%s", r)
		}
		if _, ok := r.Body["expires_in"].(float64); !ok {
			t.Errorf("expires_in %T, want a number", r.Body["expires_in"])
		}
		if r.Body["token_type"] != "Bearer" || r.Body["refresh_token"] != nil || r.Body["id_token"] != nil {
			t.Errorf("unexpected app-only response %v", r.Body)
		}
	})
	t.Run("v1 strings", func(t *testing.T) {
		r := s.PostForm(t, "/"+tid+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {app.AppID},
			"client_secret": {app.Secret}, "resource": {"https://management.core.windows.net/"}})
		if r.Status != 200 {
			t.Fatalf("%s", r)
		}
		for _, f := range []string{"expires_in", "ext_expires_in", "expires_on", "not_before"} {
			if _, ok := r.Body[f].(string); !ok {
				t.Errorf("%s is %T, want a numeric string", f, r.Body[f])
			}
		}
		if r.Body["resource"] != "https://management.core.windows.net/" {
			t.Errorf("resource %v", r.Body["resource"])
		}
		claims := verifyWithJWKS(t, s, r.Body["access_token"].(string))
		if claims["aud"] != "https://management.core.windows.net/" {
			t.Errorf("aud %v", claims["aud"])
		}
	})
	t.Run("resources by alias", func(t *testing.T) {
		for _, scope := range []string{"https://management.core.windows.net//.default", "https://management.azure.com//.default",
			"797f4846-ba00-4fd7-ba43-dac1f8f63013/.default", "https://ml.azure.com/.default", "https://graph.microsoft.com/.default",
			s.URL + "/graph/.default"} {
			claims := verifyWithJWKS(t, s, s.AppToken(t, app.AppID, app.Secret, scope))
			if want := strings.TrimSuffix(scope, "/.default"); claims["aud"] != want {
				t.Errorf("scope %s: aud %v, want %s", scope, claims["aud"], want)
			}
		}
	})
	t.Run("app roles in roles claim", func(t *testing.T) {
		roleID := uuid.NewString()
		api := s.CreateApp(t, "api", map[string]any{"identifierUris": []string{"api://tessera-test-api"},
			"appRoles": []map[string]any{{"id": roleID, "value": "Data.Read", "displayName": "Read", "description": "Read data",
				"allowedMemberTypes": []string{"Application"}, "isEnabled": true}}})
		claims := verifyWithJWKS(t, s, s.AppToken(t, app.AppID, app.Secret, "api://tessera-test-api/.default"))
		if claims["roles"] != nil {
			t.Errorf("roles %v before any assignment", claims["roles"])
		}
		body := map[string]any{"principalId": app.SPID, "resourceId": api.SPID, "appRoleId": roleID}
		if st := s.Graph(t, s.GraphToken(t), "POST", "/servicePrincipals/"+app.SPID+"/appRoleAssignments", body, nil); st != http.StatusCreated {
			t.Fatalf("assign app role: %d", st)
		}
		claims = verifyWithJWKS(t, s, s.AppToken(t, app.AppID, app.Secret, "api://tessera-test-api/.default"))
		roles, _ := claims["roles"].([]any)
		if len(roles) != 1 || roles[0] != "Data.Read" {
			t.Errorf("roles %v, want [Data.Read]", claims["roles"])
		}
	})
}

// TestAssertionReplay sends one certificate assertion twice on two different
// connections: the second is refused.
func TestAssertionReplay(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	app := s.CreateApp(t, "replay-app", nil)
	cert, key := newCert(t)
	registerCert(t, s, app, cert)
	endpoint := s.URL + "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/token"
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("x5t", thumbprintPadded(cert.Raw)))
	if err != nil {
		t.Fatal(err)
	}
	now := float64(time.Now().UnixNano()) / 1e9
	// Fractional iat/exp as MSAL Python sends them.
	payload, _ := json.Marshal(map[string]any{"aud": endpoint, "iss": app.AppID, "sub": app.AppID, "jti": uuid.NewString(),
		"iat": now, "nbf": now, "exp": now + 600})
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	assertion, _ := jws.CompactSerialize()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.AppID}, "scope": {armScope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	post := func(c *http.Client) testserver.TokenResponse {
		resp, err := c.PostForm(endpoint, form)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out := testserver.TokenResponse{Status: resp.StatusCode, Raw: raw}
		_ = json.Unmarshal(raw, &out.Body)
		return out
	}
	first := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CAPool}}}
	if r := post(first); r.Status != 200 {
		t.Fatalf("first use: %s", r)
	}
	// MSAL Python reuses its assertion on its own connection: allowed.
	if r := post(first); r.Status != 200 {
		t.Fatalf("reuse on the same connection: %s", r)
	}
	thief := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CAPool}}}
	assertAADSTS(t, post(thief), 401, "invalid_client", 700027)
}

// thumbprintPadded is x5t the way MSAL Python 1.21 sends it: base64url with '=' padding.
func thumbprintPadded(der []byte) string {
	sum := sha1Sum(der)
	return base64.URLEncoding.EncodeToString(sum)
}
