// Package odata is the OData query subset Graph clients use on directory collections, and only it
// (AZURE_CLI.md §5): $filter with
//
//	P eq 'v'            P eq true|false|null
//	startswith(P,'v')   (P may be a path: startswith(initiatedBy/user/userPrincipalName,'a'))
//	C/any(x:x eq 'v')   (C a collection of strings, e.g. servicePrincipalNames)
//	P in ('a','b',...)
//	P ge|le|gt|lt V     (only on the date and number properties of a declared
//	                     schema: the audit logs' createdDateTime and
//	                     activityDateTime; V an unquoted DateTimeOffset or integer)
//	P ne N              (only on the number properties of a declared schema:
//	                     status/errorCode ne 0, the failed sign-ins)
//
// where P may be a path into a complex property (status/errorCode,
// initiatedBy/user/id), joined with `and` and grouped with parentheses; $select; $top; $count=true
// (only with the header ConsistencyLevel: eventual, as Graph requires);
// @odata.nextLink paging with $skiptoken. A filter is parsed into a small AST,
// bound to the properties of the entity type (unknown properties and
// mismatched types are refused as Graph refuses them), and evaluated over the
// JSON form of each object, so a filter sees exactly what the client sees.
package odata

import (
	"fmt"
	"time"

	"github.com/tessera-id/tessera/internal/wire"
)

// Error is a refusal of a query option, in Graph's terms: the handler
// answers it as a 400 with this code and message.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func badQuery(format string, args ...any) *Error {
	return &Error{Code: wire.GraphBadRequest, Message: fmt.Sprintf(format, args...)}
}

func unsupported(format string, args ...any) *Error {
	return &Error{Code: wire.GraphUnsupportedQuery, Message: fmt.Sprintf(format, args...)}
}

// Filter is a $filter bound to an entity type's schema. A nil *Filter
// matches every object.
type Filter struct{ root filterNode }

// ParseFilter parses a $filter expression and binds it to the properties of
// the entity type typeName, whose schema is sc.
func ParseFilter(filter string, sc Schema, typeName string) (*Filter, *Error) {
	n, err := parseFilter(filter)
	if err != nil {
		return nil, err
	}
	bound, err := n.bind(sc, typeName)
	if err != nil {
		return nil, err
	}
	return &Filter{bound}, nil
}

// Match tells whether obj, in its JSON form, satisfies the filter.
func (f *Filter) Match(obj map[string]any) bool { return f == nil || f.root.eval(obj) }

// RequiredEqual is the string v of a term prop eq 'v' that every match
// satisfies (the filter's top level, or a term of its top-level "and"), so
// that a store may select on it; ok is false when there is none.
func (f *Filter) RequiredEqual(prop string) (v string, ok bool) {
	for _, t := range f.topLevelTerms() {
		if n, isEq := t.(eqNode); isEq && n.prop == prop && n.lit.kind == litString {
			v, ok = n.lit.s, true
		}
	}
	return v, ok
}

// RequiredTimeRange is the range [since, until] of the DateTimeOffset
// property prop that the terms every match satisfies (prop ge|gt|le|lt T)
// bound; a zero time is an open end. The bounds are inclusive: gt and lt
// narrow to the same range as ge and le, so the filter must still be applied.
func (f *Filter) RequiredTimeRange(prop string) (since, until time.Time) {
	for _, t := range f.topLevelTerms() {
		n, isCmp := t.(cmpNode)
		if !isCmp || n.prop != prop || n.lit.kind != litDateTime {
			continue
		}
		switch t := n.lit.t; n.op {
		case "ge", "gt":
			if t.After(since) {
				since = t
			}
		case "le", "lt":
			if until.IsZero() || t.Before(until) {
				until = t
			}
		}
	}
	return since, until
}

// topLevelTerms are the terms every match satisfies: the terms of a
// top-level "and", or the whole filter.
func (f *Filter) topLevelTerms() []filterNode {
	if f == nil {
		return nil
	}
	return flattenAnd(f.root)
}

func flattenAnd(n filterNode) []filterNode {
	and, ok := n.(andNode)
	if !ok {
		return []filterNode{n}
	}
	var out []filterNode
	for _, t := range and.terms {
		out = append(out, flattenAnd(t)...)
	}
	return out
}
