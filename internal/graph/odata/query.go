package odata

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Paging limits, as Graph's directory collections have them.
const (
	DefaultPageSize = 100
	maxPageSize     = 999
)

// Query is the parsed query options of a collection request.
type Query struct {
	filter *Filter  // nil: every object
	Select []string // canonical property names; nil means all
	Top    int      // the page size
	Count  bool     // $count=true: the answer carries the number of matches
	after  *pageKey // where the previous page ended, from $skiptoken
}

// pageKey is where the previous page ended: the sort key of its last item.
type pageKey struct {
	created int64
	id      string
}

func (k pageKey) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + strconv.FormatInt(k.created, 10) + ":" + k.id))
}

func decodePageKey(s string) (*pageKey, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	parts := strings.SplitN(string(raw), ":", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, false
	}
	n, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil, false
	}
	return &pageKey{created: n, id: parts[2]}, true
}

// unsupportedOptions are OData system query options Graph has and this
// subset does not implement: refusing them beats silently ignoring them.
var unsupportedOptions = []string{"$orderby", "$expand", "$search", "$skip", "$apply", "$format"}

// ParseQuery reads the query options of a collection request against
// the entity type's schema. consistency is the ConsistencyLevel header.
func ParseQuery(q url.Values, sc Schema, typeName, consistency string) (Query, *Error) {
	out := Query{Top: DefaultPageSize}
	for _, o := range unsupportedOptions {
		if _, ok := q[o]; ok {
			return out, unsupported("The query option '%s' is not supported.", o)
		}
	}
	if f, ok := q["$filter"]; ok {
		f, err := ParseFilter(f[0], sc, typeName)
		if err != nil {
			return out, err
		}
		out.filter = f
	}
	sel, err := ParseSelect(q, sc, typeName)
	if err != nil {
		return out, err
	}
	out.Select = sel
	if v, ok := q["$top"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxPageSize {
			return out, badQuery("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", v[0], maxPageSize)
		}
		out.Top = n
	}
	if v, ok := q["$count"]; ok {
		switch strings.ToLower(v[0]) {
		case "true":
			if !strings.EqualFold(strings.TrimSpace(consistency), "eventual") {
				return out, badQuery("$count is not currently supported.")
			}
			out.Count = true
		case "false":
		default:
			return out, badQuery("Invalid value '%s' for $count: must be true or false.", v[0])
		}
	}
	if v, ok := q["$skiptoken"]; ok {
		k, ok := decodePageKey(v[0])
		if !ok {
			return out, badQuery("The specified page token value '%s' is not valid.", v[0])
		}
		out.after = k
	}
	return out, nil
}

// ParseSelect reads $select: property names of the type, comma separated.
func ParseSelect(q url.Values, sc Schema, typeName string) ([]string, *Error) {
	v, ok := q["$select"]
	if !ok {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(v[0], ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if p == "*" {
			return nil, nil
		}
		info, err := sc.lookup(p, typeName)
		if err != nil {
			return nil, err
		}
		out = append(out, info.Name)
	}
	if len(out) == 0 {
		return nil, badQuery("Invalid $select: no property named.")
	}
	return out, nil
}

// Project keeps the selected properties of obj (and its @odata annotations).
func Project(obj map[string]any, sel []string) map[string]any {
	if sel == nil {
		return obj
	}
	out := make(map[string]any, len(sel)+2)
	for k, v := range obj {
		if strings.HasPrefix(k, "@odata.") {
			out[k] = v
		}
	}
	for _, p := range sel {
		out[p] = obj[p]
	}
	return out
}

// Item is one object of a collection: its JSON form, and the creation time
// and id that order the pages.
type Item struct {
	Created time.Time
	ID      string
	Object  map[string]any
}

func (it Item) key() pageKey {
	return pageKey{created: it.Created.UnixMicro(), id: strings.ToLower(it.ID)}
}

func (k pageKey) less(o pageKey) bool {
	if k.created != o.created {
		return k.created < o.created
	}
	return k.id < o.id
}

// Page applies the query to items: filter, stable order (creation time,
// then id), the page after the skip token, and the count of all matches.
// skipToken continues with the next page, "" on the last page.
func (q Query) Page(items []Item) (page []Item, total int, skipToken string) {
	matched := items[:0:0]
	for _, it := range items {
		if q.filter.Match(it.Object) {
			matched = append(matched, it)
		}
	}
	sort.SliceStable(matched, func(i, j int) bool { return matched[i].key().less(matched[j].key()) })
	start := 0
	if q.after != nil {
		start = sort.Search(len(matched), func(i int) bool { return q.after.less(matched[i].key()) })
	}
	end := min(start+q.Top, len(matched))
	page = matched[start:end]
	if end < len(matched) && len(page) > 0 {
		skipToken = page[len(page)-1].key().encode()
	}
	return page, len(matched), skipToken
}

// CountMatches is the number of items the query's filter keeps, for
// {collection}/$count.
func (q Query) CountMatches(items []Item) int {
	n := 0
	for _, it := range items {
		if q.filter.Match(it.Object) {
			n++
		}
	}
	return n
}
