package integration

import (
	"strings"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

// TestGraphUserProfile: givenName, surname and mail are written by POST and
// PATCH, read back (null when unset), selectable and filterable, and
// refused with Graph's 400 when out of shape.
func TestGraphUserProfile(t *testing.T) {
	userProfile(t, testserver.Start(t, testserver.Options{}))
}

// TestGraphUserProfilePostgres runs the same on the PostgreSQL backend
// (skipped unless TESSERA_TEST_POSTGRES_DSN is set).
func TestGraphUserProfilePostgres(t *testing.T) {
	userProfile(t, testserver.Start(t, testserver.Options{Store: testserver.FreshPostgres(t)}))
}

func userProfile(t *testing.T, s *testserver.Server) {
	gt := s.GraphToken(t)
	dom := s.Bootstrap.Domain
	body := func(nick string, extra map[string]any) map[string]any {
		b := map[string]any{"userPrincipalName": nick + "@" + dom, "displayName": nick, "mailNickname": nick, "accountEnabled": true,
			"passwordProfile": map[string]any{"password": "Str0ng!Passw0rd", "forceChangePasswordNextSignIn": false}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	adele := graphCall(t, s, gt, "POST", "/users", body("adele", map[string]any{
		"givenName": "Adele", "surname": "Vance", "mail": "Adele.Vance@mail.example.com"}))
	if adele.Status != 201 || adele.str("givenName") != "Adele" || adele.str("surname") != "Vance" || adele.str("mail") != "Adele.Vance@mail.example.com" {
		t.Fatalf("create with profile: %d %s", adele.Status, adele.Raw)
	}
	plain := graphCall(t, s, gt, "POST", "/users", body("plain", nil))
	if plain.Status != 201 {
		t.Fatalf("create without profile: %d %s", plain.Status, plain.Raw)
	}
	for _, k := range []string{"givenName", "surname", "mail"} {
		if v, present := plain.Body[k]; !present || v != nil {
			t.Errorf("unset %s: %s, want null", k, plain.Raw)
		}
	}

	r := graphCall(t, s, gt, "GET", "/users/"+adele.str("id")+"?$select=givenName,surname,mail", nil)
	if r.Status != 200 || r.str("givenName") != "Adele" || r.str("mail") != "Adele.Vance@mail.example.com" || r.Body["displayName"] != nil {
		t.Errorf("$select: %d %s", r.Status, r.Raw)
	}
	for expr, want := range map[string]string{
		"mail eq 'adele.vance@mail.example.com'": "adele@" + dom,
		"givenName eq 'Adele'":                   "adele@" + dom,
		"startswith(surname,'va')":               "adele@" + dom,
		"startswith(mail,'adele.')":              "adele@" + dom,
		"surname eq 'Nobody'":                    "",
	} {
		got := []string{}
		for _, v := range graphCall(t, s, gt, "GET", "/users"+filter(expr), nil).values() {
			got = append(got, v["userPrincipalName"].(string))
		}
		if strings.Join(got, ",") != want {
			t.Errorf("$filter=%s: %v, want %q", expr, got, want)
		}
	}

	if r := graphCall(t, s, gt, "PATCH", "/users/"+plain.str("id"), map[string]any{"givenName": "Pat", "surname": "Lain", "mail": "pat@mail.example.com"}); r.Status != 204 {
		t.Fatalf("PATCH profile: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, gt, "PATCH", "/users/"+adele.str("id"), map[string]any{"mail": nil, "displayName": "Adele V"}); r.Status != 204 {
		t.Fatalf("PATCH mail to null: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, gt, "GET", "/users/"+plain.str("id"), nil); r.str("givenName") != "Pat" || r.str("surname") != "Lain" || r.str("mail") != "pat@mail.example.com" {
		t.Errorf("after PATCH: %s", r.Raw)
	}
	if r := graphCall(t, s, gt, "GET", "/users/"+adele.str("id"), nil); r.Body["mail"] != nil || r.str("givenName") != "Adele" || r.str("surname") != "Vance" {
		t.Errorf("after clearing mail: %s", r.Raw)
	}

	for name, b := range map[string]map[string]any{
		"mail without @":           {"mail": "pat.example.com"},
		"mail with a display name": {"mail": "Pat <pat@example.com>"},
		"mail over 254":            {"mail": strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".com"},
		"givenName over 64":        {"givenName": strings.Repeat("g", 65)},
		"surname over 64":          {"surname": strings.Repeat("s", 65)},
	} {
		for _, r := range []graphResp{
			graphCall(t, s, gt, "PATCH", "/users/"+plain.str("id"), b),
			graphCall(t, s, gt, "POST", "/users", body("bad"+strings.ReplaceAll(name, " ", ""), b)),
		} {
			if r.Status != 400 || r.errorField("code") != "Request_BadRequest" || !strings.Contains(r.errorField("message"), "Invalid value specified for property") {
				t.Errorf("%s: %d %s, want 400 Request_BadRequest", name, r.Status, r.Raw)
			}
		}
	}
	if r := graphCall(t, s, gt, "GET", "/users/"+plain.str("id"), nil); r.str("mail") != "pat@mail.example.com" {
		t.Errorf("refused PATCH changed the user: %s", r.Raw)
	}
}
