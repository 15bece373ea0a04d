package integration

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

func TestOperationsEndpoints(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	app := s.CreateApp(t, "ops-app", nil)
	s.AppToken(t, app.AppID, app.Secret, armScope)
	s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {app.AppID}, "client_secret": {"wrong"}, "scope": {armScope}})
	// A request refused before its grant runs (an unknown tenant) still
	// counts under its grant type.
	s.PostForm(t, "/no-such-tenant.example/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {app.AppID}, "client_secret": {app.Secret}, "scope": {armScope}})

	for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"ready"`} {
		resp, err := s.Client.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		if body := string(readBody(t, resp)); resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	resp, err := s.Client.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body := string(readBody(t, resp))
	for _, want := range []string{
		`tessera_tokens_issued_total{grant="client_credentials",result="success"}`,
		`tessera_tokens_issued_total{grant="client_credentials",result="invalid_client"} 1`,
		`tessera_tokens_issued_total{grant="client_credentials",result="invalid_request"} 1`,
		`tessera_http_requests_total{method="POST",route="POST /{tenant}/oauth2/v2.0/token",status="200"}`,
		`tessera_http_request_duration_seconds_bucket{route="POST /{tenant}/oauth2/v2.0/token"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, app.Secret) {
		t.Fatal("/metrics leaks a secret")
	}
}

// TestRotationDuringService: tokens issued before a rotation keep verifying
// against the JWKS, new tokens use the promoted key.
func TestRotationDuringService(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	app := s.CreateApp(t, "rotation-app", nil)
	before := s.AppToken(t, app.AppID, app.Secret, armScope)
	verifyWithJWKS(t, s, before)
	if err := s.App.RotateKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	verifyWithJWKS(t, s, before)
	after := s.AppToken(t, app.AppID, app.Secret, armScope)
	verifyWithJWKS(t, s, after)
	if headerKid(t, before) == headerKid(t, after) {
		t.Fatalf("new token still signed with kid %s after rotation", headerKid(t, after))
	}
	// A Graph call with a pre-rotation token still authenticates.
	gt := s.GraphToken(t)
	if err := s.App.RotateKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	var app2 struct{ ID string }
	if st := s.Graph(t, gt, "GET", "/applications/"+app.ObjectID, nil, &app2); st != 200 || app2.ID != app.ObjectID {
		t.Fatalf("Graph with a token from before rotation: %d", st)
	}
}
