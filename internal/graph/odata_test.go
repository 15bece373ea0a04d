package graph

import (
	"strings"
	"testing"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/graph/odata"
)

func TestBindFilter(t *testing.T) {
	cases := []struct {
		set     entitySet
		filter  string
		code    string // "" = binds
		message string // substring of the message
	}{
		{servicePrincipalsSet, "servicePrincipalNames/any(c:c eq 'x')", "", ""},
		{servicePrincipalsSet, "DISPLAYNAME eq 'x'", "", ""},
		{servicePrincipalsSet, "accountEnabled eq false", "", ""},
		{usersSet, "userPrincipalName eq 'a@b'", "", ""},
		{applicationsSet, "identifierUris/any(s:s eq 'api://x')", "", ""},
		{groupsSet, "displayName eq 'G' and mailNickname eq 'M'", "", ""},
		{usersSet, "nosuch eq 'x'", codeBadRequest, "Could not find a property named 'nosuch' on type 'microsoft.graph.user'."},
		{usersSet, "accountEnabled eq 'yes'", codeBadRequest, "incompatible types"},
		{usersSet, "displayName eq true", codeBadRequest, "incompatible types"},
		{usersSet, "startswith(accountEnabled,'t')", codeUnsupportedQuery, "startswith applies to string properties"},
		{usersSet, "displayName/any(c:c eq 'x')", codeUnsupportedQuery, "any() applies to collection properties"},
		{servicePrincipalsSet, "servicePrincipalNames eq 'x'", codeUnsupportedQuery, "not a single value"},
		{applicationsSet, "web eq 'x'", codeUnsupportedQuery, "not a single value"},
		{usersSet, "accountEnabled in (true, 'x')", codeBadRequest, "incompatible types"},
		{usersSet, "displayName ge 'a'", codeUnsupportedQuery, "'ge' is not supported"},
		{usersSet, "displayName eq 5", codeBadRequest, "incompatible types"},
	}
	for _, c := range cases {
		_, err := odata.ParseFilter(c.filter, c.set.schema, c.set.typeName)
		switch {
		case c.code == "" && err != nil:
			t.Errorf("bind(%q) on %s: %v", c.filter, c.set.typeName, err)
		case c.code != "" && err == nil:
			t.Errorf("bind(%q) on %s succeeded, want %s", c.filter, c.set.typeName, c.code)
		case c.code != "" && (err.Code != c.code || !strings.Contains(err.Message, c.message)):
			t.Errorf("bind(%q): %s %q, want %s containing %q", c.filter, err.Code, err.Message, c.code, c.message)
		}
	}
}

func TestEvalFilter(t *testing.T) {
	sp := toMap(toServicePrincipalJSON(domain.ServicePrincipal{ID: "11111111-1111-1111-1111-111111111111", AppID: "22222222-2222-2222-2222-222222222222",
		DisplayName: "ml-auth", AccountEnabled: true, ServicePrincipalNames: []string{"22222222-2222-2222-2222-222222222222", "api://ml-auth"}}))
	cases := []struct {
		filter string
		want   bool
	}{
		{"displayName eq 'ml-auth'", true},
		{"displayName eq 'ML-AUTH'", true},
		{"displayName eq 'ml'", false},
		{"startswith(displayName,'ML')", true},
		{"startswith(displayName,'ml-auth-2')", false},
		{"startswith(displayName,'')", true},
		{"servicePrincipalNames/any(c:c eq 'api://ml-auth')", true},
		{"servicePrincipalNames/any(c:c eq '22222222-2222-2222-2222-222222222222')", true},
		{"servicePrincipalNames/any(c:c eq 'api://other')", false},
		{"appId eq '22222222-2222-2222-2222-222222222222' and accountEnabled eq true", true},
		{"appId eq '22222222-2222-2222-2222-222222222222' and accountEnabled eq false", false},
		{"id in ('x','11111111-1111-1111-1111-111111111111')", true},
		{"id in ('x','y')", false},
		{"displayName eq null", false},
		{"(displayName eq 'ml-auth' and (startswith(displayName,'m') and accountEnabled eq true))", true},
	}
	for _, c := range cases {
		f, err := odata.ParseFilter(c.filter, servicePrincipalsSet.schema, servicePrincipalsSet.typeName)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", c.filter, err)
		}
		if got := f.Match(sp); got != c.want {
			t.Errorf("eval(%q) = %v, want %v", c.filter, got, c.want)
		}
	}
}

func TestNormalizePath(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/graph/v1.0/users('a@b.c')", "/graph/v1.0/users/a@b.c"},
		{"/graph/v1.0/users('$weird')/memberOf", "/graph/v1.0/users/$weird/memberOf"},
		{"/graph/v1.0/users('o''neil@b.c')", "/graph/v1.0/users/o'neil@b.c"},
		{"/graph/v1.0/applications(appId='1234')", "/graph/v1.0/applications/appId=1234"},
		{"/graph/v1.0/applications(appId='1234')/addPassword", "/graph/v1.0/applications/appId=1234/addPassword"},
		{"/graph/v1.0/servicePrincipals(appId='1234')", "/graph/v1.0/servicePrincipals/appId=1234"},
		{"/graph/v1.0/applications/x/federatedIdentityCredentials(name='ci')", "/graph/v1.0/applications/x/federatedIdentityCredentials/ci"},
		{"/graph/v1.0/SERVICEPRINCIPALS", "/graph/v1.0/servicePrincipals"},
		{"/graph/v1.0/groups/x/Members/$REF", "/graph/v1.0/groups/x/members/$ref"},
		{"/graph/v1.0/users/Alice@Example.com", "/graph/v1.0/users/Alice@Example.com"},
		{"/graph/v1.0/users/unknown(x)", "/graph/v1.0/users/unknown(x)"},
	}
	for _, c := range cases {
		got, _ := normalizePath(c.in)
		if got != c.want {
			t.Errorf("normalizePath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRefID(t *testing.T) {
	const id = "0b5c7a2e-1f7e-4a7e-9a8d-2b7c9e0f1a11"
	for _, ref := range []string{
		"https://tessera.test/graph/v1.0/directoryObjects/" + id,
		"https://graph.microsoft.com/v1.0/users/" + id + "/",
		"https://graph.microsoft.com/v1.0/directoryObjects('" + id + "')",
		id,
	} {
		if got, ok := refID(ref); !ok || got != id {
			t.Errorf("refID(%q) = %q, %v", ref, got, ok)
		}
	}
	for _, ref := range []string{"", "https://graph.microsoft.com/v1.0/directoryObjects/", "not-a-guid"} {
		if _, ok := refID(ref); ok {
			t.Errorf("refID(%q) accepted", ref)
		}
	}
}
