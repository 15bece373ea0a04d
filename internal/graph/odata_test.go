package graph

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
)

func TestParseFilter(t *testing.T) {
	cases := []struct {
		filter string
		want   string // the AST printed back; "" when an error is expected
		code   string // expected error code
	}{
		{"displayName eq 'ml-auth'", "displayName eq 'ml-auth'", ""},
		{"appId eq '0b5c7a2e-1f7e-4a7e-9a8d-2b7c9e0f1a11'", "appId eq '0b5c7a2e-1f7e-4a7e-9a8d-2b7c9e0f1a11'", ""},
		{"startswith(displayName,'ml')", "startswith(displayName,'ml')", ""},
		{"startswith( displayName , 'm l' )", "startswith(displayName,'m l')", ""},
		{"servicePrincipalNames/any(c:c eq 'api://x')", "servicePrincipalNames/any(x:x eq 'api://x')", ""},
		{"identifierUris/any(s:s eq 'api://x')", "identifierUris/any(x:x eq 'api://x')", ""},
		{"displayName eq 'G' and mailNickname eq 'M'", "(displayName eq 'G' and mailNickname eq 'M')", ""},
		{"(displayName eq 'G') and (accountEnabled eq true)", "(displayName eq 'G' and accountEnabled eq true)", ""},
		{"id in ('a','b', 'c')", "id in ('a','b','c')", ""},
		{"displayName eq 'O''Brien'", "displayName eq 'O''Brien'", ""},
		{"mail eq null", "mail eq null", ""},
		{"displayName EQ 'x' AND startswith(userPrincipalName,'a')", "(displayName eq 'x' and startswith(userPrincipalName,'a'))", ""},
		// Refused: outside the subset.
		{"displayName eq 'a' or displayName eq 'b'", "", codeUnsupportedQuery},
		{"not(displayName eq 'a')", "", codeUnsupportedQuery},
		{"displayName ne 'a'", "", codeUnsupportedQuery},
		{"endswith(displayName,'a')", "", codeUnsupportedQuery},
		{"contains(displayName,'a')", "", codeUnsupportedQuery},
		{"servicePrincipalNames/all(c:c eq 'x')", "", codeUnsupportedQuery},
		{"servicePrincipalNames/any(c:d eq 'x')", "", codeUnsupportedQuery},
		{"servicePrincipalNames/any(c:c ne 'x')", "", codeUnsupportedQuery},
		{"createdDateTime gt 2020-01-01", "", codeBadRequest}, // a DateTimeOffset needs its time
		{"createdDateTime ge 2020-01-01T00:00:00Z", "createdDateTime ge 2020-01-01T00:00:00Z", ""},
		{"status/errorCode eq 50126", "status/errorCode eq 50126", ""},
		{"status/errorCode ne 0", "status/errorCode ne 0", ""},
		{"initiatedBy/user/id eq 'x'", "initiatedBy/user/id eq 'x'", ""},
		// Refused: syntax.
		{"", "", codeBadRequest},
		{"displayName eq", "", codeBadRequest},
		{"displayName eq 'x", "", codeBadRequest},
		{"displayName 'x'", "", codeBadRequest},
		{"displayName eq 'x' and", "", codeBadRequest},
		{"(displayName eq 'x'", "", codeBadRequest},
		{"displayName eq 'x')", "", codeBadRequest},
		{"startswith(displayName 'x')", "", codeBadRequest},
		{"id in ()", "", codeBadRequest},
		{"id in ('a' 'b')", "", codeBadRequest},
		{"appId eq 0b5c7a2e-1f7e-4a7e-9a8d-2b7c9e0f1a11", "", codeBadRequest},
		{"displayName eq 'x' # comment", "", codeBadRequest},
		{strings.Repeat("(", 20) + "a eq 'b'" + strings.Repeat(")", 20), "", codeUnsupportedQuery},
		{strings.TrimSuffix(strings.Repeat("a eq 'b' and ", 40), " and "), "", codeUnsupportedQuery},
	}
	for _, c := range cases {
		n, err := parseFilter(c.filter)
		switch {
		case c.want != "" && err != nil:
			t.Errorf("parseFilter(%q): %v", c.filter, err)
		case c.want != "" && n.String() != c.want:
			t.Errorf("parseFilter(%q) = %s, want %s", c.filter, n, c.want)
		case c.want == "" && err == nil:
			t.Errorf("parseFilter(%q) = %s, want error %s", c.filter, n, c.code)
		case c.want == "" && err.code != c.code:
			t.Errorf("parseFilter(%q): code %s (%s), want %s", c.filter, err.code, err.msg, c.code)
		}
	}
}

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
		n, err := parseFilter(c.filter)
		if err != nil {
			t.Fatalf("parseFilter(%q): %v", c.filter, err)
		}
		_, err = n.bind(c.set.schema, c.set.typeName)
		switch {
		case c.code == "" && err != nil:
			t.Errorf("bind(%q) on %s: %v", c.filter, c.set.typeName, err)
		case c.code != "" && err == nil:
			t.Errorf("bind(%q) on %s succeeded, want %s", c.filter, c.set.typeName, c.code)
		case c.code != "" && (err.code != c.code || !strings.Contains(err.msg, c.message)):
			t.Errorf("bind(%q): %s %q, want %s containing %q", c.filter, err.code, err.msg, c.code, c.message)
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
		n, err := parseFilter(c.filter)
		if err != nil {
			t.Fatalf("parseFilter(%q): %v", c.filter, err)
		}
		b, err := n.bind(servicePrincipalsSet.schema, servicePrincipalsSet.typeName)
		if err != nil {
			t.Fatalf("bind(%q): %v", c.filter, err)
		}
		if got := b.eval(sp); got != c.want {
			t.Errorf("eval(%q) = %v, want %v", c.filter, got, c.want)
		}
	}
}

func TestParseListQuery(t *testing.T) {
	cases := []struct {
		query       string
		consistency string
		code        string
		check       func(listQuery) bool
	}{
		{"", "", "", func(q listQuery) bool {
			return q.top == defaultPageSize && q.filter == nil && q.selekt == nil && !q.count
		}},
		{"$top=5", "", "", func(q listQuery) bool { return q.top == 5 }},
		{"$top=999", "", "", func(q listQuery) bool { return q.top == 999 }},
		{"$top=0", "", codeBadRequest, nil},
		{"$top=1000", "", codeBadRequest, nil},
		{"$top=x", "", codeBadRequest, nil},
		{"$count=true", "eventual", "", func(q listQuery) bool { return q.count }},
		{"$count=true", "Eventual", "", func(q listQuery) bool { return q.count }},
		{"$count=true", "", codeBadRequest, nil},
		{"$count=false", "", "", func(q listQuery) bool { return !q.count }},
		{"$count=maybe", "eventual", codeBadRequest, nil},
		{"$select=id,DisplayName", "", "", func(q listQuery) bool { return strings.Join(q.selekt, ",") == "id,displayName" }},
		{"$select=*", "", "", func(q listQuery) bool { return q.selekt == nil }},
		{"$select=id,secret", "", codeBadRequest, nil},
		{"$skiptoken=garbage!", "", codeBadRequest, nil},
		{"$skiptoken=" + pageKey{created: 5, id: "x"}.encode(), "", "", func(q listQuery) bool { return q.after != nil && q.after.id == "x" }},
		{"$orderby=displayName", "", codeUnsupportedQuery, nil},
		{"$expand=owners", "", codeUnsupportedQuery, nil},
		{"$search=%22displayName:x%22", "eventual", codeUnsupportedQuery, nil},
		{"$filter=" + url.QueryEscape("displayName eq 'a b'"), "", "", func(q listQuery) bool { return q.filter != nil }},
		{"$filter=" + url.QueryEscape("x eq 'a'"), "", codeBadRequest, nil},
		{"api-version=1.0&foo=bar", "", "", func(q listQuery) bool { return q.top == defaultPageSize }},
	}
	for _, c := range cases {
		v, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		q, qerr := parseListQuery(v, usersSet.schema, usersSet.typeName, c.consistency)
		switch {
		case c.code == "" && qerr != nil:
			t.Errorf("%q: %v", c.query, qerr)
		case c.code == "" && !c.check(q):
			t.Errorf("%q: parsed %+v", c.query, q)
		case c.code != "" && qerr == nil:
			t.Errorf("%q: accepted, want %s", c.query, c.code)
		case c.code != "" && qerr.code != c.code:
			t.Errorf("%q: %s (%s), want %s", c.query, qerr.code, qerr.msg, c.code)
		}
	}
}

func TestPaging(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var items []item
	for i := 0; i < 7; i++ {
		id := string(rune('a' + i))
		// Two items share each creation time: ids break the tie.
		items = append(items, item{created: base.Add(time.Duration(i/2) * time.Second), id: id, obj: map[string]any{"id": id, "displayName": "n" + id}})
	}
	// Shuffle deterministically.
	items[0], items[5] = items[5], items[0]
	items[2], items[6] = items[6], items[2]

	q := listQuery{top: 3}
	var got []string
	pages := 0
	for {
		page, total, next := q.page(items)
		if total != 7 {
			t.Fatalf("total = %d", total)
		}
		for _, it := range page {
			got = append(got, it.id)
		}
		pages++
		if next == nil {
			break
		}
		// Through the wire form, as a client follows nextLink.
		k, ok := decodePageKey(next.encode())
		if !ok {
			t.Fatal("skip token does not decode")
		}
		q.after = k
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if strings.Join(got, "") != "abcdefg" || pages != 3 {
		t.Errorf("pages gave %v in %d pages", got, pages)
	}

	// A filter applies before paging and counting.
	f, _ := parseFilter("startswith(displayName,'n') and id in ('b','d','f')")
	q = listQuery{top: 2, filter: f}
	page, total, next := q.page(items)
	if total != 3 || len(page) != 2 || page[0].id != "b" || page[1].id != "d" || next == nil {
		t.Errorf("filtered page: %d total, %v, next %v", total, page, next)
	}
	// An object deleted between pages (b, already shown) does not derail the next page.
	q.after = next
	var rest []item
	for _, it := range items {
		if it.id != "b" {
			rest = append(rest, it)
		}
	}
	page, _, next = q.page(rest)
	if len(page) != 1 || page[0].id != "f" || next != nil {
		t.Errorf("second filtered page: %v next %v", page, next)
	}
}

func TestProject(t *testing.T) {
	obj := map[string]any{"@odata.type": "#microsoft.graph.user", "id": "1", "displayName": "A", "mail": nil}
	got := project(obj, []string{"displayName"})
	if len(got) != 2 || got["displayName"] != "A" || got["@odata.type"] == nil {
		t.Errorf("project = %v", got)
	}
	if got := project(obj, nil); len(got) != 4 {
		t.Errorf("project(nil) = %v", got)
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

// FuzzParseFilter: the filter parser takes untrusted input; it must never
// panic, and what it accepts must print to something it accepts again with
// the same meaning.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"displayName eq 'x'", "startswith(displayName,'m')", "servicePrincipalNames/any(c:c eq 'v')",
		"a eq 'b' and (c in ('d','e'))", "x eq true", "'", "((((", "a/any(", "id in ('a',",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseFilter(s)
		if err != nil {
			return
		}
		again, err := parseFilter(n.String())
		if err != nil {
			t.Fatalf("printed form %q of %q does not parse: %v", n.String(), s, err)
		}
		if again.String() != n.String() {
			t.Fatalf("round trip changed %q to %q", n.String(), again.String())
		}
		_, _ = n.bind(directoryObjectsSet.schema, directoryObjectsSet.typeName)
	})
}
