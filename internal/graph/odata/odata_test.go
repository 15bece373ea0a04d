package odata

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/wire"
)

// testSchema is a small entity type with a property of each kind samples
// give.
var testSchema = SchemaOf(map[string]any{
	"id": "", "displayName": "", "mail": nil, "accountEnabled": true,
	"servicePrincipalNames": []any{}, "web": map[string]any{}, "count": float64(0),
})

const testType = "microsoft.graph.test"

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
		{"displayName eq 'a' or displayName eq 'b'", "", wire.GraphUnsupportedQuery},
		{"not(displayName eq 'a')", "", wire.GraphUnsupportedQuery},
		{"displayName ne 'a'", "", wire.GraphUnsupportedQuery},
		{"endswith(displayName,'a')", "", wire.GraphUnsupportedQuery},
		{"contains(displayName,'a')", "", wire.GraphUnsupportedQuery},
		{"servicePrincipalNames/all(c:c eq 'x')", "", wire.GraphUnsupportedQuery},
		{"servicePrincipalNames/any(c:d eq 'x')", "", wire.GraphUnsupportedQuery},
		{"servicePrincipalNames/any(c:c ne 'x')", "", wire.GraphUnsupportedQuery},
		{"createdDateTime gt 2020-01-01", "", wire.GraphBadRequest}, // a DateTimeOffset needs its time
		{"createdDateTime ge 2020-01-01T00:00:00Z", "createdDateTime ge 2020-01-01T00:00:00Z", ""},
		{"status/errorCode eq 50126", "status/errorCode eq 50126", ""},
		{"status/errorCode ne 0", "status/errorCode ne 0", ""},
		{"initiatedBy/user/id eq 'x'", "initiatedBy/user/id eq 'x'", ""},
		// Refused: syntax.
		{"", "", wire.GraphBadRequest},
		{"displayName eq", "", wire.GraphBadRequest},
		{"displayName eq 'x", "", wire.GraphBadRequest},
		{"displayName 'x'", "", wire.GraphBadRequest},
		{"displayName eq 'x' and", "", wire.GraphBadRequest},
		{"(displayName eq 'x'", "", wire.GraphBadRequest},
		{"displayName eq 'x')", "", wire.GraphBadRequest},
		{"startswith(displayName 'x')", "", wire.GraphBadRequest},
		{"id in ()", "", wire.GraphBadRequest},
		{"id in ('a' 'b')", "", wire.GraphBadRequest},
		{"appId eq 0b5c7a2e-1f7e-4a7e-9a8d-2b7c9e0f1a11", "", wire.GraphBadRequest},
		{"displayName eq 'x' # comment", "", wire.GraphBadRequest},
		{strings.Repeat("(", 20) + "a eq 'b'" + strings.Repeat(")", 20), "", wire.GraphUnsupportedQuery},
		{strings.TrimSuffix(strings.Repeat("a eq 'b' and ", 40), " and "), "", wire.GraphUnsupportedQuery},
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
		case c.want == "" && err.Code != c.code:
			t.Errorf("parseFilter(%q): code %s (%s), want %s", c.filter, err.Code, err.Message, c.code)
		}
	}
}

func TestParseListQuery(t *testing.T) {
	cases := []struct {
		query       string
		consistency string
		code        string
		check       func(Query) bool
	}{
		{"", "", "", func(q Query) bool {
			return q.Top == DefaultPageSize && q.filter == nil && q.Select == nil && !q.Count
		}},
		{"$top=5", "", "", func(q Query) bool { return q.Top == 5 }},
		{"$top=999", "", "", func(q Query) bool { return q.Top == 999 }},
		{"$top=0", "", wire.GraphBadRequest, nil},
		{"$top=1000", "", wire.GraphBadRequest, nil},
		{"$top=x", "", wire.GraphBadRequest, nil},
		{"$count=true", "eventual", "", func(q Query) bool { return q.Count }},
		{"$count=true", "Eventual", "", func(q Query) bool { return q.Count }},
		{"$count=true", "", wire.GraphBadRequest, nil},
		{"$count=false", "", "", func(q Query) bool { return !q.Count }},
		{"$count=maybe", "eventual", wire.GraphBadRequest, nil},
		{"$select=id,DisplayName", "", "", func(q Query) bool { return strings.Join(q.Select, ",") == "id,displayName" }},
		{"$select=*", "", "", func(q Query) bool { return q.Select == nil }},
		{"$select=id,secret", "", wire.GraphBadRequest, nil},
		{"$skiptoken=garbage!", "", wire.GraphBadRequest, nil},
		{"$skiptoken=" + pageKey{created: 5, id: "x"}.encode(), "", "", func(q Query) bool { return q.after != nil && q.after.id == "x" }},
		{"$orderby=displayName", "", wire.GraphUnsupportedQuery, nil},
		{"$expand=owners", "", wire.GraphUnsupportedQuery, nil},
		{"$search=%22displayName:x%22", "eventual", wire.GraphUnsupportedQuery, nil},
		{"$filter=" + url.QueryEscape("displayName eq 'a b'"), "", "", func(q Query) bool { return q.filter != nil }},
		{"$filter=" + url.QueryEscape("x eq 'a'"), "", wire.GraphBadRequest, nil},
		{"api-version=1.0&foo=bar", "", "", func(q Query) bool { return q.Top == DefaultPageSize }},
	}
	for _, c := range cases {
		v, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		q, qerr := ParseQuery(v, testSchema, testType, c.consistency)
		switch {
		case c.code == "" && qerr != nil:
			t.Errorf("%q: %v", c.query, qerr)
		case c.code == "" && !c.check(q):
			t.Errorf("%q: parsed %+v", c.query, q)
		case c.code != "" && qerr == nil:
			t.Errorf("%q: accepted, want %s", c.query, c.code)
		case c.code != "" && qerr.Code != c.code:
			t.Errorf("%q: %s (%s), want %s", c.query, qerr.Code, qerr.Message, c.code)
		}
	}
}

func TestPaging(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var items []Item
	for i := 0; i < 7; i++ {
		id := string(rune('a' + i))
		// Two items share each creation time: ids break the tie.
		items = append(items, Item{Created: base.Add(time.Duration(i/2) * time.Second), ID: id, Object: map[string]any{"id": id, "displayName": "n" + id}})
	}
	// Shuffle deterministically.
	items[0], items[5] = items[5], items[0]
	items[2], items[6] = items[6], items[2]

	q := Query{Top: 3}
	var got []string
	pages := 0
	for {
		page, total, next := q.Page(items)
		if total != 7 {
			t.Fatalf("total = %d", total)
		}
		for _, it := range page {
			got = append(got, it.ID)
		}
		pages++
		if next == "" {
			break
		}
		// Through the wire form, as a client follows nextLink.
		k, ok := decodePageKey(next)
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
	f, err := ParseFilter("startswith(displayName,'n') and id in ('b','d','f')", testSchema, testType)
	if err != nil {
		t.Fatal(err)
	}
	q = Query{Top: 2, filter: f}
	page, total, next := q.Page(items)
	if total != 3 || len(page) != 2 || page[0].ID != "b" || page[1].ID != "d" || next == "" {
		t.Errorf("filtered page: %d total, %v, next %v", total, page, next)
	}
	// An object deleted between pages (b, already shown) does not derail the next page.
	q.after, _ = decodePageKey(next)
	var rest []Item
	for _, it := range items {
		if it.ID != "b" {
			rest = append(rest, it)
		}
	}
	page, _, next = q.Page(rest)
	if len(page) != 1 || page[0].ID != "f" || next != "" {
		t.Errorf("second filtered page: %v next %v", page, next)
	}
}

func TestProject(t *testing.T) {
	obj := map[string]any{"@odata.type": "#microsoft.graph.user", "id": "1", "displayName": "A", "mail": nil}
	got := Project(obj, []string{"displayName"})
	if len(got) != 2 || got["displayName"] != "A" || got["@odata.type"] == nil {
		t.Errorf("project = %v", got)
	}
	if got := Project(obj, nil); len(got) != 4 {
		t.Errorf("Project(nil) = %v", got)
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
		_, _ = n.bind(testSchema, testType)
	})
}

// TestRequiredTerms: what a store may select on is only what every match
// must satisfy.
func TestRequiredTerms(t *testing.T) {
	sc := Declare(map[string]Kind{"id": KindString, "createdDateTime": KindDateTime})
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	cases := []struct {
		filter       string
		id           string
		since, until time.Time
	}{
		{"id eq 'a'", "a", time.Time{}, time.Time{}},
		{"createdDateTime ge 2026-01-02T00:00:00Z and (createdDateTime lt 2026-01-05T00:00:00Z and id eq 'b')", "b", day(2), day(5)},
		{"createdDateTime gt 2026-01-02T00:00:00Z and createdDateTime ge 2026-01-03T00:00:00Z", "", day(3), time.Time{}},
		{"startswith(id,'a')", "", time.Time{}, time.Time{}},
	}
	for _, c := range cases {
		f, err := ParseFilter(c.filter, sc, testType)
		if err != nil {
			t.Fatalf("%q: %v", c.filter, err)
		}
		id, ok := f.RequiredEqual("id")
		since, until := f.RequiredTimeRange("createdDateTime")
		if id != c.id || ok != (c.id != "") || !since.Equal(c.since) || !until.Equal(c.until) {
			t.Errorf("%q: id %q %v, range %v..%v", c.filter, id, ok, since, until)
		}
	}
	var none *Filter
	if !none.Match(map[string]any{}) {
		t.Error("a nil filter refuses an object")
	}
}
