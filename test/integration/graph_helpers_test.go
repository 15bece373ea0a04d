package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/sqlite"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/token/signing"
	"github.com/tessera-id/tessera/test/testserver"
)

// graphResp is a decoded Graph answer.
type graphResp struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

func (r graphResp) errorField(k string) string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e[k].(string)
	return s
}

func (r graphResp) values() []map[string]any {
	vs, _ := r.Body["value"].([]any)
	out := make([]map[string]any, 0, len(vs))
	for _, v := range vs {
		m, _ := v.(map[string]any)
		out = append(out, m)
	}
	return out
}

func (r graphResp) str(k string) string {
	s, _ := r.Body[k].(string)
	return s
}

// graphCall sends a raw Graph request the way az does (path relative to
// /graph/v1.0, $filter already percent-encoded by the caller).
func graphCall(t *testing.T, s *testserver.Server, bearer, method, path string, body any, headers ...string) graphResp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+"/graph/v1.0"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := graphResp{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// filter renders ?$filter=... percent-encoded, as az sends it.
func filter(expr string) string {
	return "?$filter=" + strings.ReplaceAll(url.QueryEscape(expr), "+", "%20")
}

// tokenResult is a client-credentials attempt.
func clientCredentials(t *testing.T, s *testserver.Server, appID, secret, scope string) testserver.TokenResponse {
	t.Helper()
	return s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {secret}, "scope": {scope},
	})
}

func aadsts(r testserver.TokenResponse) int {
	codes, _ := r.Body["error_codes"].([]any)
	if len(codes) == 0 {
		return 0
	}
	n, _ := codes[0].(float64)
	return int(n)
}

// userGraphToken signs a delegated Graph token for a user with the server's
// own current signing key, read from its store. Tessera's password and
// interactive grants belong to another issue; Graph only needs a token it
// can verify, and this one verifies exactly as a minted one would.
func userGraphToken(t *testing.T, s *testserver.Server, oid, upn string) string {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(s.DataDir, "tessera.db"))
	if err != nil {
		t.Fatalf("open the server's store: %v", err)
	}
	defer st.Close()
	km := signing.NewKeys(st, func(ctx context.Context, fn func(store.Keys) error) error {
		return st.InTx(ctx, func(tx store.Tx) error { return fn(tx) })
	}, signing.Options{})
	if err := km.Reload(ctx); err != nil {
		t.Fatalf("load signing keys: %v", err)
	}
	now := time.Now()
	claims := token.AccessClaims{Aud: s.URL + "/graph/", Iss: "https://sts.windows.net/" + s.Bootstrap.TenantID + "/",
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(time.Hour).Unix(), AppID: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
		AppIDAcr: "0", Idtyp: token.IdentityTypeUser, Oid: oid, Sub: oid, Tid: s.Bootstrap.TenantID, Upn: upn, UniqueName: upn,
		Name: upn, Scp: "user_impersonation", Ver: "1.0", Uti: "test"}
	payload, _ := json.Marshal(claims)
	raw, err := km.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
