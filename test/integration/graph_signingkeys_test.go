package integration

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

func jwksKids(t *testing.T, s *testserver.Server) map[string]bool {
	t.Helper()
	resp, err := s.Client.Get(s.URL + "/" + s.Bootstrap.TenantID + "/discovery/v2.0/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, k := range set.Keys {
		out[k.Kid] = true
	}
	return out
}

func keyWithStatus(r graphResp, status string) string {
	for _, k := range r.values() {
		if k["status"] == status {
			id, _ := k["kid"].(string)
			return id
		}
	}
	return ""
}

// TestSigningKeysExtension: GET /tessera.signingKeys lists the published
// keys; a Global Administrator's POST …/rotate makes the next key current
// (new tokens carry it) and publishes a new next key; anyone else gets
// Graph's 403; the rotation is in the audit log.
func TestSigningKeysExtension(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	admin := s.GraphToken(t)
	before := graphCall(t, s, admin, "GET", "/tessera.signingKeys", nil)
	current, next := keyWithStatus(before, "current"), keyWithStatus(before, "next")
	if before.Status != 200 || current == "" || next == "" {
		t.Fatalf("keys: %d %s", before.Status, before.Raw)
	}
	if kid := headerKid(t, s.GraphToken(t)); kid != current {
		t.Fatalf("token kid %s, want the current key %s", kid, current)
	}
	kids := jwksKids(t, s)
	if !kids[current] || !kids[next] {
		t.Fatalf("JWKS %v lacks %s or %s", kids, current, next)
	}

	u := s.CreateUser(t, "not-an-admin", userPassword)
	plain := userGraphToken(t, s, u.ID, u.UPN)
	for _, m := range []string{"GET", "POST"} {
		path := "/tessera.signingKeys"
		if m == "POST" {
			path += "/rotate"
		}
		r := graphCall(t, s, plain, m, path, nil)
		if r.Status != http.StatusForbidden || r.errorField("code") != "Authorization_RequestDenied" ||
			r.errorField("message") != "Insufficient privileges to complete the operation." {
			t.Fatalf("%s %s as a user: %d %s", m, path, r.Status, r.Raw)
		}
	}
	if r := graphCall(t, s, admin, "GET", "/tessera.signingKeys", nil); keyWithStatus(r, "current") != current {
		t.Fatal("a refused rotation rotated")
	}

	after := graphCall(t, s, admin, "POST", "/tessera.signingKeys/rotate", nil)
	if after.Status != 200 || keyWithStatus(after, "current") != next || keyWithStatus(after, "previous") != current {
		t.Fatalf("after rotation: %d %s", after.Status, after.Raw)
	}
	fresh := keyWithStatus(after, "next")
	kids = jwksKids(t, s)
	if fresh == "" || fresh == next || !kids[fresh] || !kids[current] || !kids[next] {
		t.Fatalf("JWKS after rotation %v: want %s (new), %s and %s", kids, fresh, next, current)
	}
	if kid := headerKid(t, s.GraphToken(t)); kid != next {
		t.Fatalf("new token kid %s, want %s", kid, next)
	}

	r := graphCall(t, s, s.GraphToken(t), "GET", "/auditLogs/directoryAudits"+filter("activityDisplayName eq 'Rotate signing keys' and result eq 'success'"), nil)
	if len(r.values()) != 1 || r.values()[0]["category"] != "KeyManagement" || r.values()[0]["result"] != "success" {
		t.Fatalf("audit of the rotation: %s", r.Raw)
	}
}
