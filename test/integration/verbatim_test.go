package integration

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/app"
	"github.com/tessera-id/tessera/internal/config"
	"github.com/tessera-id/tessera/test/testserver"
)

// publicNamesClient reaches s under any host name: every connection goes to
// the server's address, with the URL's host as TLS server name and Host, as
// a machine whose hosts file sends those names to Tessera would.
func publicNamesClient(s *testserver.Server) *http.Client {
	addr := strings.TrimPrefix(s.URL, "https://")
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: s.CAPool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, strings.Replace(addr, "localhost", "127.0.0.1", 1))
		},
	}}
}

type hostAnswer struct {
	status int
	header http.Header
	body   map[string]any
	list   []map[string]any
	raw    string
}

func hostDo(t *testing.T, c *http.Client, method, rawURL, bearer string, form url.Values) hostAnswer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := hostAnswer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &a.body)
	} else if len(raw) > 0 && raw[0] == '[' {
		_ = json.Unmarshal(raw, &a.list)
	}
	return a
}

// TestPublicCloudNames: with publicCloudNames the server answers for the
// public cloud's host names, each with its own surface, and the documents
// and tokens name the host the client asked for.
func TestPublicCloudNames(t *testing.T) {
	s := testserver.Start(t, testserver.Options{Config: func(c *config.Config) { c.PublicCloudNames = true }})
	c := publicNamesClient(s)
	tid, domain := s.Bootstrap.TenantID, s.Bootstrap.Domain
	sp := s.Bootstrap.AdminServicePrincipal

	t.Run("certificate", func(t *testing.T) {
		for _, name := range app.PublicCloudHosts() {
			conn, err := tls.Dial("tcp", strings.Replace(strings.TrimPrefix(s.URL, "https://"), "localhost", "127.0.0.1", 1),
				&tls.Config{RootCAs: s.CAPool, ServerName: name})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			conn.Close()
		}
	})

	t.Run("instance discovery answers for Tessera", func(t *testing.T) {
		for _, host := range []string{"login.microsoftonline.com", "login.windows.net", "sts.windows.net"} {
			q := url.Values{"api-version": {"1.1"}, "authorization_endpoint": {"https://" + host + "/" + tid + "/oauth2/v2.0/authorize"}}
			a := hostDo(t, c, "GET", "https://login.microsoftonline.com/common/discovery/instance?"+q.Encode(), "", nil)
			if a.status != 200 {
				t.Fatalf("%s: %d %s", host, a.status, a.raw)
			}
			// The authority is validated as itself, as Entra does.
			want := "https://" + host + "/" + tid + "/v2.0/.well-known/openid-configuration"
			if a.body["tenant_discovery_endpoint"] != want {
				t.Errorf("tenant_discovery_endpoint = %v, want %s", a.body["tenant_discovery_endpoint"], want)
			}
		}
	})

	t.Run("instance discovery of Tessera's own name validates that name", func(t *testing.T) {
		own := strings.TrimPrefix(s.URL, "https://")
		q := url.Values{"api-version": {"1.1"}, "authorization_endpoint": {s.URL + "/" + tid + "/oauth2/v2.0/authorize"}}
		a := hostDo(t, c, "GET", "https://login.microsoftonline.com/common/discovery/instance?"+q.Encode(), "", nil)
		want := s.URL + "/" + tid + "/v2.0/.well-known/openid-configuration"
		if a.status != 200 || a.body["tenant_discovery_endpoint"] != want {
			t.Fatalf("%d %s, want tenant_discovery_endpoint %s", a.status, a.raw, want)
		}
		if md, _ := a.body["metadata"].([]any); len(md) != 1 || md[0].(map[string]any)["preferred_network"] != own {
			t.Errorf("metadata %v, want %s", a.body["metadata"], own)
		}
	})

	t.Run("discovery names the host asked for, every tenant segment", func(t *testing.T) {
		for _, host := range []string{"login.microsoftonline.com", "login.windows.net", "sts.windows.net"} {
			for _, seg := range []string{"common", "organizations", tid, domain, "adfs"} {
				path := "/" + seg + "/v2.0/.well-known/openid-configuration"
				if seg == "adfs" {
					path = "/adfs/.well-known/openid-configuration"
				}
				for _, port := range []string{"", ":443"} {
					a := hostDo(t, c, "GET", "https://"+host+port+path, "", nil)
					if a.status != 200 {
						t.Fatalf("%s%s%s: %d %s", host, port, path, a.status, a.raw)
					}
					wantToken := "https://" + host + "/" + strings.ToLower(seg) + "/oauth2/v2.0/token"
					wantIss := "https://" + host + "/" + tid + "/v2.0"
					if seg == "adfs" {
						wantToken = "https://" + host + "/adfs/oauth2/token"
						wantIss = "https://sts.windows.net/" + tid + "/"
					}
					if a.body["token_endpoint"] != wantToken || a.body["issuer"] != wantIss {
						t.Errorf("%s%s%s: token_endpoint %v issuer %v, want %s and %s", host, port, path, a.body["token_endpoint"], a.body["issuer"], wantToken, wantIss)
					}
					if a.body["msgraph_host"] != "graph.microsoft.com" || a.body["cloud_instance_name"] != "microsoftonline.com" {
						t.Errorf("%s%s: msgraph_host %v cloud_instance_name %v, want the public cloud's", host, path, a.body["msgraph_host"], a.body["cloud_instance_name"])
					}
					if jwks, _ := a.body["jwks_uri"].(string); !strings.HasPrefix(jwks, "https://"+host+"/") {
						t.Errorf("%s%s: jwks_uri %q", host, path, jwks)
					}
				}
			}
		}
		a := hostDo(t, c, "GET", "https://login.microsoftonline.com/"+tid+"/discovery/v2.0/keys", "", nil)
		if keys, _ := a.body["keys"].([]any); a.status != 200 || len(keys) == 0 {
			t.Errorf("JWKS: %d %s", a.status, a.raw)
		}
	})

	token := func(t *testing.T, host, scope string) string {
		t.Helper()
		a := hostDo(t, c, "POST", "https://"+host+"/"+tid+"/oauth2/v2.0/token", "", url.Values{
			"grant_type": {"client_credentials"}, "client_id": {sp.AppID}, "client_secret": {sp.Secret}, "scope": {scope}})
		tok, _ := a.body["access_token"].(string)
		if a.status != 200 || tok == "" {
			t.Fatalf("token from %s for %s: %d %s", host, scope, a.status, a.raw)
		}
		return tok
	}

	t.Run("tokens", func(t *testing.T) {
		arm := claimsOf(t, token(t, "login.microsoftonline.com", "https://management.azure.com/.default"))
		if arm["iss"] != "https://sts.windows.net/"+tid+"/" || arm["aud"] != "https://management.azure.com" {
			t.Errorf("ARM token iss %v aud %v", arm["iss"], arm["aud"])
		}
		g := claimsOf(t, token(t, "login.windows.net", "https://graph.microsoft.com/.default"))
		if g["aud"] != "https://graph.microsoft.com" {
			t.Errorf("Graph token aud %v", g["aud"])
		}
	})

	t.Run("resource manager at the root path", func(t *testing.T) {
		tok := token(t, "login.microsoftonline.com", "https://management.azure.com/.default")
		for _, host := range []string{"management.azure.com", "management.core.windows.net"} {
			a := hostDo(t, c, "GET", "https://"+host+"/subscriptions/"+s.Bootstrap.SubscriptionID+"/resourcegroups?api-version=2021-04-01", tok, nil)
			if a.status != 200 {
				t.Errorf("%s: %d %s", host, a.status, a.raw)
			}
			a = hostDo(t, c, "GET", "https://"+host+"/subscriptions?api-version=2020-01-01&$top=1", tok, nil)
			if a.status != 200 {
				t.Errorf("%s subscriptions: %d %s", host, a.status, a.raw)
			}
			if next, _ := a.body["nextLink"].(string); next != "" && !strings.HasPrefix(next, "https://"+host+"/") {
				t.Errorf("%s nextLink %q", host, next)
			}
			// Graph and the token service are not on the resource manager's names.
			for _, p := range []string{"/graph/v1.0/users", "/" + tid + "/v2.0/.well-known/openid-configuration"} {
				a = hostDo(t, c, "GET", "https://"+host+p, tok, nil)
				if errObj, _ := a.body["error"].(map[string]any); a.status != 404 || errObj["code"] == nil {
					t.Errorf("%s%s: %d %s, want ARM's 404", host, p, a.status, a.raw)
				}
			}
		}
		a := hostDo(t, c, "GET", "https://management.azure.com/subscriptions?api-version=2020-01-01", "", nil)
		if wa := a.header.Get("WWW-Authenticate"); a.status != 401 || !strings.Contains(wa, `authorization_uri="https://login.microsoftonline.com/common"`) {
			t.Errorf("no token: %d WWW-Authenticate %q", a.status, wa)
		}
		a = hostDo(t, c, "GET", "https://management.azure.com/metadata/endpoints?api-version=2022-09-01", "", nil)
		if a.status != 200 || len(a.list) != 1 || a.list[0]["name"] != "AzureCloud" || a.list[0]["resourceManager"] != "https://management.azure.com/" {
			t.Fatalf("cloud metadata: %d %s", a.status, a.raw)
		}
		if auth, _ := a.list[0]["authentication"].(map[string]any); auth["loginEndpoint"] != "https://login.microsoftonline.com/" {
			t.Errorf("cloud metadata loginEndpoint %v", auth["loginEndpoint"])
		}
	})

	t.Run("graph at /v1.0", func(t *testing.T) {
		tok := token(t, "login.microsoftonline.com", "https://graph.microsoft.com/.default")
		a := hostDo(t, c, "GET", "https://graph.microsoft.com/v1.0/servicePrincipals?$filter="+url.QueryEscape("appId eq '"+sp.AppID+"'"), tok, nil)
		if v, _ := a.body["value"].([]any); a.status != 200 || len(v) != 1 {
			t.Fatalf("list: %d %s", a.status, a.raw)
		}
		if ctx, _ := a.body["@odata.context"].(string); !strings.HasPrefix(ctx, "https://graph.microsoft.com/v1.0/$metadata#") {
			t.Errorf("@odata.context %q", ctx)
		}
		a = hostDo(t, c, "GET", "https://graph.microsoft.com/v1.0/servicePrincipals?$top=1", tok, nil)
		next, _ := a.body["@odata.nextLink"].(string)
		if a.status != 200 || !strings.HasPrefix(next, "https://graph.microsoft.com/v1.0/servicePrincipals?") {
			t.Fatalf("page 1: %d nextLink %q", a.status, next)
		}
		if a = hostDo(t, c, "GET", next, tok, nil); a.status != 200 {
			t.Errorf("nextLink: %d %s", a.status, a.raw)
		}
		a = hostDo(t, c, "GET", "https://graph.microsoft.com/v1.0/users", "", nil)
		if wa := a.header.Get("WWW-Authenticate"); a.status != 401 || !strings.Contains(wa, `authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"`) {
			t.Errorf("no token: %d WWW-Authenticate %q", a.status, wa)
		}
		for _, p := range []string{"/beta/users", "/subscriptions?api-version=2020-01-01", "/" + tid + "/v2.0/.well-known/openid-configuration"} {
			a = hostDo(t, c, "GET", "https://graph.microsoft.com"+p, tok, nil)
			if errObj, _ := a.body["error"].(map[string]any); a.status != 404 || errObj["code"] == nil {
				t.Errorf("%s: %d %s, want Graph's 404", p, a.status, a.raw)
			}
		}
	})

	t.Run("the token service's names serve neither ARM nor Graph", func(t *testing.T) {
		for _, p := range []string{"/subscriptions?api-version=2020-01-01", "/graph/v1.0/users"} {
			a := hostDo(t, c, "GET", "https://login.microsoftonline.com"+p, "", nil)
			if a.status != 404 || a.body["error"] == nil {
				t.Errorf("%s: %d %s, want the token service's 404", p, a.status, a.raw)
			}
		}
	})

	t.Run("Tessera's own name still serves everything", func(t *testing.T) {
		a := hostDo(t, s.Client, "GET", s.URL+"/"+tid+"/v2.0/.well-known/openid-configuration", "", nil)
		if a.status != 200 || a.body["issuer"] != s.URL+"/"+tid+"/v2.0" || a.body["msgraph_host"] != strings.TrimPrefix(s.URL, "https://")+"/graph" {
			t.Errorf("own discovery: %d %s", a.status, a.raw)
		}
	})
}

// TestPublicCloudNamesOff: without the setting the certificate does not
// name the public cloud's hosts, and a request that claims one is answered
// for the configured public URL.
func TestPublicCloudNamesOff(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	conn, err := tls.Dial("tcp", strings.Replace(strings.TrimPrefix(s.URL, "https://"), "localhost", "127.0.0.1", 1),
		&tls.Config{RootCAs: s.CAPool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	leaf := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	for _, name := range app.PublicCloudHosts() {
		if slices.Contains(leaf.DNSNames, name) {
			t.Errorf("certificate names %s", name)
		}
	}
	if err := leaf.VerifyHostname("login.microsoftonline.com"); err == nil {
		t.Error("certificate verifies for login.microsoftonline.com")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CAPool}}}
	req, _ := http.NewRequest("GET", s.URL+"/"+s.Bootstrap.TenantID+"/v2.0/.well-known/openid-configuration", nil)
	req.Host = "login.microsoftonline.com"
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	if doc["issuer"] != s.URL+"/"+s.Bootstrap.TenantID+"/v2.0" {
		t.Errorf("issuer %v, want the public URL's", doc["issuer"])
	}
}
