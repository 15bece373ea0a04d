package integration

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
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

// TestNoRouterAnswers: paths Go's ServeMux would answer itself — with a
// redirect to a cleaned path, or plain text for an unknown one — get the
// surface's own error body instead, with or without a token.
func TestNoRouterAnswers(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	tid := s.Bootstrap.TenantID
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"x"}, "client_secret": {"y"}, "scope": {armScope}}.Encode()
	const formType = "application/x-www-form-urlencoded"
	gt := s.GraphToken(t)
	cases := []struct {
		name, bearer, method, path, ctype, body string
		status                                  int
		// field is "error" for AADSTS bodies (error is a string) and
		// "error.code" for ARM and Graph bodies.
		field, want string
	}{
		{"// before subscriptions, no token", "", "GET", "//subscriptions/" + s.Bootstrap.SubscriptionID + "?api-version=2022-12-01", "", "", 401, "error.code", "AuthenticationFailed"},
		{"tenant ..", "", "POST", "/../oauth2/v2.0/token", formType, form, 400, "aadsts", "900023"},
		{"tenant %2e%2e", "", "POST", "/%2e%2e/oauth2/v2.0/token", formType, form, 400, "aadsts", "900023"},
		{"tenant .", "", "POST", "/./oauth2/token", formType, form, 400, "aadsts", "900023"},
		{"empty tenant", "", "POST", "//oauth2/v2.0/token", formType, form, 404, "aadsts", "90100"},
		{"// before the tenant", "", "GET", "//" + tid + "//v2.0/.well-known/openid-configuration", "", "", 200, "aadsts", ""},
		{"// before metadata, as az cloud register sends it", "", "GET", "//metadata/endpoints?api-version=2015-01-01", "", "", 200, "aadsts", ""},
		{"dot after the tenant", "", "GET", "/" + tid + "/./v2.0/.well-known/openid-configuration", "", "", 400, "aadsts", "90100"},
		{".. after the tenant", "", "POST", "/" + tid + "/oauth2/../oauth2/v2.0/token", formType, form, 400, "aadsts", "90100"},
		{"unknown path", "", "GET", "/nosuch", "", "", 404, "aadsts", "90100"},
		{"root, not GET (GET / is the landing page)", "", "POST", "/", "", "", 405, "aadsts", "90100"},
		// GET / is the landing page; an unknown file of the console is not.
		{"unknown console file", "", "GET", "/portal/nosuch.js", "", "", 404, "aadsts", "90100"},
		{"wrong method on an ops route", "", "POST", "/healthz", "", "", 405, "aadsts", "90100"},
		{"graph without a version", gt, "GET", "/graph", "", "", 404, "error.code", "Request_ResourceNotFound"},
		{"graph version without a slash", gt, "GET", "/graph/v1.0", "", "", 404, "error.code", "Request_ResourceNotFound"},
		{"graph unknown version", gt, "GET", "/graph/beta/users", "", "", 404, "error.code", "Request_ResourceNotFound"},
		{"graph ..", gt, "GET", "/graph/v1.0/users/../applications", "", "", 400, "error.code", "Request_BadRequest"},
		{"graph //", gt, "GET", "/graph//v1.0//users", "", "", 200, "error.code", ""},
		{"graph %2e%2e", gt, "GET", "/graph/v1.0/%2e%2e/v1.0/users", "", "", 400, "error.code", "Request_BadRequest"},
		{"graph key ..", gt, "GET", "/graph/v1.0/users('..')", "", "", 400, "error.code", "Request_BadRequest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := rawDo(t, s, tc.bearer, tc.method, tc.path, tc.ctype, tc.body)
			got := ""
			switch tc.field {
			case "aadsts":
				codes, _ := r.Body["error_codes"].([]any)
				if len(codes) == 1 {
					got = strconv.Itoa(int(codes[0].(float64)))
				}
				if _, ok := r.Body["error"].(string); !ok {
					got = ""
				}
			default:
				got = r.armCode()
			}
			if r.Status != tc.status || got != tc.want {
				t.Fatalf("%s %s: %d %s; want %d with %s %s", tc.method, tc.path, r.Status, r.Raw, tc.status, tc.field, tc.want)
			}
		})
	}
}

// TestStrictMediaTypes: writes must say what they send. ARM and Graph take
// JSON (415 otherwise, in their own error shapes) with known properties of
// the right type (400 naming the property); the token endpoint takes a
// form (AADSTS900144, as Entra answers a JSON body). Nothing is created by
// a refused request.
func TestStrictMediaTypes(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	admin := s.AdminARMToken(t)
	gt := s.GraphToken(t)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	ws := s.Workspace(t, "media-rg", "media-ws")
	app := s.CreateApp(t, "media-app", nil)
	const api = "?api-version=2021-04-01"
	const jsonType = "application/json; charset=utf-8"
	ra := sub + "/resourceGroups/media-rg/providers/Microsoft.Authorization/roleAssignments/"
	raBody := func(principal string) string {
		return `{"properties":{"roleDefinitionId":"` + sub + `/providers/Microsoft.Authorization/roleDefinitions/` + testserver.RoleReader + `","principalId":` + principal + `}}`
	}

	arm := []struct {
		name, method, path, ctype, body string
		status                          int
		code, mentions                  string
		absent                          string // GET afterwards answers 404
	}{
		{"text/plain", "PUT", sub + "/resourceGroups/m-text" + api, "text/plain", `{"location":"eastus"}`, 415, "UnsupportedMediaType", "text/plain", sub + "/resourceGroups/m-text"},
		{"form", "PUT", sub + "/resourceGroups/m-form" + api, "application/x-www-form-urlencoded", "location=eastus", 415, "UnsupportedMediaType", "urlencoded", sub + "/resourceGroups/m-form"},
		{"xml", "PUT", sub + "/resourceGroups/m-xml" + api, "application/xml", "<location>eastus</location>", 415, "UnsupportedMediaType", "xml", sub + "/resourceGroups/m-xml"},
		{"no content type", "PUT", sub + "/resourceGroups/m-none" + api, "", `{"location":"eastus"}`, 415, "UnsupportedMediaType", "(none)", sub + "/resourceGroups/m-none"},
		{"tags string", "PUT", sub + "/resourceGroups/m-tags" + api, jsonType, `{"location":"eastus","tags":"x"}`, 400, "InvalidRequestContent", "'tags'", sub + "/resourceGroups/m-tags"},
		{"tag value object", "PUT", sub + "/resourceGroups/m-tagv" + api, jsonType, `{"location":"eastus","tags":{"a":{"b":1}}}`, 400, "InvalidRequestContent", "'tags.a'", sub + "/resourceGroups/m-tagv"},
		{"location number", "PUT", sub + "/resourceGroups/m-loc" + api, jsonType, `{"location":5}`, 400, "InvalidRequestContent", "'location'", sub + "/resourceGroups/m-loc"},
		{"body an array", "PUT", sub + "/resourceGroups/m-arr" + api, jsonType, `[{"location":"eastus"}]`, 400, "InvalidRequestContent", "JSON object", sub + "/resourceGroups/m-arr"},
		{"body null", "PATCH", sub + "/resourceGroups/media-rg" + api, jsonType, `null`, 400, "InvalidRequestContent", "JSON object", ""},
		{"workspace properties string", "PUT", ws + "x" + api, jsonType, `{"location":"eastus","properties":"x"}`, 400, "InvalidRequestContent", "'properties'", ws + "x"},
		{"workspace identity array", "PUT", ws + "y" + api, jsonType, `{"location":"eastus","identity":["SystemAssigned"]}`, 400, "InvalidRequestContent", "'identity'", ws + "y"},
		{"workspace sku name number", "PATCH", ws + api, jsonType, `{"sku":{"name":1}}`, 400, "InvalidRequestContent", "'sku.name'", ""},
		{"compute text/plain", "PUT", ws + "/computes/c1" + api, "text/plain", `{"properties":{}}`, 415, "UnsupportedMediaType", "", ws + "/computes/c1"},
		{"role assignment form", "PUT", ra + uuid.NewString() + api, "application/x-www-form-urlencoded", "principalId=x", 415, "UnsupportedMediaType", "", ""},
		{"role assignment principalId number", "PUT", ra + uuid.NewString() + api, jsonType, raBody("7"), 400, "InvalidRequestContent", "'properties.principalId'", ""},
		{"role definition permissions object", "PUT", sub + "/providers/Microsoft.Authorization/roleDefinitions/" + uuid.NewString() + api, jsonType,
			`{"properties":{"roleName":"x","permissions":{"actions":["*"]},"assignableScopes":["` + sub + `"]}}`, 400, "InvalidRequestContent", "'properties.permissions'", ""},
		{"checkAccess text/plain", "POST", sub + "/providers/Microsoft.Authorization/checkAccess" + api, "text/plain", `{"actions":[{"id":"x/read"}]}`, 415, "UnsupportedMediaType", "", ""},
		{"checkAccess actions string", "POST", sub + "/providers/Microsoft.Authorization/checkAccess" + api, jsonType, `{"actions":"x/read"}`, 400, "InvalidRequestContent", "'actions'", ""},
		{"action with an XML body", "POST", ws + "/listKeys" + api, "application/xml", "<a/>", 415, "UnsupportedMediaType", "", ""},
		{"action without a body", "POST", ws + "/listKeys" + api, "", "", 200, "", "", ""},
		{"JSON with charset", "PUT", sub + "/resourceGroups/m-ok" + api, jsonType, `{"location":"eastus","tags":{"a":"b"}}`, 201, "", "", ""},
	}
	for _, tc := range arm {
		t.Run("ARM "+tc.name, func(t *testing.T) {
			r := rawDo(t, s, admin, tc.method, tc.path, tc.ctype, tc.body)
			if r.Status != tc.status || r.armCode() != tc.code || !strings.Contains(string(r.Raw), tc.mentions) {
				t.Fatalf("%d %s; want %d %s mentioning %q", r.Status, r.Raw, tc.status, tc.code, tc.mentions)
			}
			if tc.absent != "" {
				if r := s.ARM(t, admin, "GET", tc.absent+api, nil); r.Status != 404 {
					t.Errorf("GET %s after a refused write: %d", tc.absent, r.Status)
				}
			}
		})
	}

	graph := []struct {
		name, method, path, ctype, body string
		status                          int
		code, mentions                  string
	}{
		{"text/plain", "POST", "/applications", "text/plain", `{"displayName":"g-text"}`, 415, "UnsupportedMediaType", "text/plain"},
		{"form", "POST", "/applications", "application/x-www-form-urlencoded", "displayName=g-form", 415, "UnsupportedMediaType", "urlencoded"},
		{"no content type", "POST", "/groups", "", `{"displayName":"g-none","mailEnabled":false,"securityEnabled":true,"mailNickname":"g"}`, 415, "UnsupportedMediaType", "(none)"},
		{"PATCH as text", "PATCH", "/applications/" + app.ObjectID, "text/plain", `{"displayName":"renamed"}`, 415, "UnsupportedMediaType", ""},
		{"displayName number", "POST", "/applications", jsonType, `{"displayName":1}`, 400, "Request_BadRequest", "'displayName'"},
		{"identifierUris string", "PATCH", "/applications/" + app.ObjectID, jsonType, `{"identifierUris":"api://x"}`, 400, "Request_BadRequest", "'identifierUris'"},
		{"body an array", "POST", "/applications", jsonType, `[]`, 400, "Request_BadRequest", "JSON object"},
	}
	for _, tc := range graph {
		t.Run("Graph "+tc.name, func(t *testing.T) {
			r := rawDo(t, s, gt, tc.method, "/graph/v1.0"+tc.path, tc.ctype, tc.body)
			if r.Status != tc.status || r.armCode() != tc.code || !strings.Contains(string(r.Raw), tc.mentions) {
				t.Fatalf("%d %s; want %d %s mentioning %q", r.Status, r.Raw, tc.status, tc.code, tc.mentions)
			}
		})
	}
	t.Run("Graph nothing created", func(t *testing.T) {
		var list struct{ Value []map[string]any }
		s.Graph(t, gt, "GET", "/applications?$filter=startswith(displayName,'g-')", nil, &list)
		if len(list.Value) != 0 {
			t.Errorf("refused writes created %v", list.Value)
		}
	})

	v2 := "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/token"
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.AppID}, "client_secret": {app.Secret}, "scope": {armScope}}
	for _, tc := range []struct{ name, ctype, body string }{
		{"JSON", "application/json", `{"grant_type":"client_credentials"}`},
		{"text/plain", "text/plain", form.Encode()},
		{"no content type", "", form.Encode()},
		{"multipart", "multipart/form-data; boundary=x", "--x--"},
	} {
		t.Run("token endpoint "+tc.name, func(t *testing.T) {
			r := rawDo(t, s, "", "POST", v2, tc.ctype, tc.body)
			assertAADSTS(t, testserver.TokenResponse{Status: r.Status, Body: r.Body, Raw: r.Raw}, 400, "invalid_request", 900144)
		})
	}
	t.Run("token endpoint form with charset", func(t *testing.T) {
		r := rawDo(t, s, "", "POST", v2, "application/x-www-form-urlencoded; charset=utf-8", form.Encode())
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
}
