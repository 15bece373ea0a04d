package graph

// The OData subset Graph clients use on directory collections, and only it
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

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// queryError is a refusal of a query option, in Graph's terms.
type queryError struct {
	code string
	msg  string
}

func (e *queryError) Error() string { return e.code + ": " + e.msg }

func badQuery(format string, args ...any) *queryError {
	return &queryError{code: codeBadRequest, msg: fmt.Sprintf(format, args...)}
}

func unsupported(format string, args ...any) *queryError {
	return &queryError{code: codeUnsupportedQuery, msg: fmt.Sprintf(format, args...)}
}

// --- tokens ---

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokLParen
	tokRParen
	tokComma
	tokColon
	tokSlash
)

type ftoken struct {
	kind tokKind
	text string // identifier text, or a string literal's value
	pos  int    // byte offset in the filter, for messages
}

// Limits that keep a hostile filter cheap.
const (
	maxFilterLength = 4096
	maxFilterTerms  = 32
	maxInValues     = 100
	maxFilterDepth  = 8
)

func lex(s string) ([]ftoken, *queryError) {
	var out []ftoken
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '(':
			out = append(out, ftoken{tokLParen, "(", i})
			i++
		case c == ')':
			out = append(out, ftoken{tokRParen, ")", i})
			i++
		case c == ',':
			out = append(out, ftoken{tokComma, ",", i})
			i++
		case c == ':':
			out = append(out, ftoken{tokColon, ":", i})
			i++
		case c == '/':
			out = append(out, ftoken{tokSlash, "/", i})
			i++
		case c == '\'':
			start := i
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' { // '' is an escaped quote
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, syntaxError(s, start, "unterminated string literal")
			}
			out = append(out, ftoken{tokString, b.String(), start})
		case isIdentByte(c):
			start := i
			// A literal that starts with a digit may be a DateTimeOffset
			// (2024-01-02T03:04:05Z, +01:00): it keeps its ':' and '+'.
			digit := c >= '0' && c <= '9'
			for i < len(s) && (isIdentByte(s[i]) || digit && (s[i] == ':' || s[i] == '+')) {
				i++
			}
			out = append(out, ftoken{tokIdent, s[start:i], start})
		default:
			return nil, syntaxError(s, i, "unexpected character")
		}
	}
	return append(out, ftoken{tokEOF, "", len(s)}), nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '.' || c == '-' || c == '@' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func syntaxError(filter string, pos int, what string) *queryError {
	return badQuery("Invalid filter clause: syntax error at position %d in '%s': %s.", pos, filter, what)
}

// --- AST ---

type litKind int

const (
	litString litKind = iota
	litBool
	litNull
	litNumber   // an unquoted integer: only for Edm.Int32 properties
	litDateTime // an unquoted DateTimeOffset: only for Edm.DateTimeOffset properties
)

type literal struct {
	kind litKind
	s    string
	b    bool
	n    int64
	t    time.Time
}

func (l literal) String() string {
	switch l.kind {
	case litBool:
		return strconv.FormatBool(l.b)
	case litNull:
		return "null"
	case litNumber:
		return strconv.FormatInt(l.n, 10)
	case litDateTime:
		return l.s
	}
	return "'" + strings.ReplaceAll(l.s, "'", "''") + "'"
}

// filterNode is one node of a parsed $filter.
type filterNode interface {
	// bind resolves property names against an entity type and checks types.
	bind(sc schema, typeName string) (filterNode, *queryError)
	eval(obj map[string]any) bool
	String() string
}

type andNode struct{ terms []filterNode }

type eqNode struct {
	prop string
	lit  literal
}

type startsWithNode struct {
	prop   string
	prefix string
}

type anyNode struct {
	prop string
	lit  literal
}

// cmpNode is P ge|le|gt|lt V, for the properties a schema marks as ordered
// (kindDateTime, kindNumber): the audit logs' createdDateTime and
// activityDateTime. Directory collections have none, so there the
// operators stay unsupported as before.
type cmpNode struct {
	prop string
	op   string // ge, le, gt, lt (lower case)
	lit  literal
}

type inNode struct {
	prop string
	lits []literal
}

func (n andNode) String() string {
	parts := make([]string, len(n.terms))
	for i, t := range n.terms {
		parts[i] = t.String()
	}
	return "(" + strings.Join(parts, " and ") + ")"
}
func (n eqNode) String() string { return n.prop + " eq " + n.lit.String() }
func (n startsWithNode) String() string {
	return "startswith(" + n.prop + "," + literal{s: n.prefix}.String() + ")"
}
func (n anyNode) String() string { return n.prop + "/any(x:x eq " + n.lit.String() + ")" }
func (n cmpNode) String() string { return n.prop + " " + n.op + " " + n.lit.String() }
func (n inNode) String() string {
	parts := make([]string, len(n.lits))
	for i, l := range n.lits {
		parts[i] = l.String()
	}
	return n.prop + " in (" + strings.Join(parts, ",") + ")"
}

// --- parser ---

type parser struct {
	src   string
	toks  []ftoken
	i     int
	terms int
}

// parseFilter parses a $filter expression.
func parseFilter(s string) (filterNode, *queryError) {
	if strings.TrimSpace(s) == "" {
		return nil, badQuery("Invalid filter clause: the filter is empty.")
	}
	if len(s) > maxFilterLength || !utf8.ValidString(s) {
		return nil, badQuery("Invalid filter clause: the filter is too long or not valid UTF-8.")
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{src: s, toks: toks}
	n, err := p.and(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		if t.kind == tokIdent && isKeyword(t.text) {
			return nil, unsupportedOperator(t.text)
		}
		return nil, syntaxError(s, t.pos, "unexpected '"+t.text+"'")
	}
	return n, nil
}

func (p *parser) peek() ftoken { return p.toks[p.i] }
func (p *parser) next() ftoken {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) expect(k tokKind, what string) (ftoken, *queryError) {
	t := p.next()
	if t.kind != k {
		got := t.text
		if t.kind == tokEOF {
			got = "end of filter"
		}
		return t, syntaxError(p.src, t.pos, "expected "+what+", found '"+got+"'")
	}
	return t, nil
}

func isWord(t ftoken, w string) bool { return t.kind == tokIdent && strings.EqualFold(t.text, w) }

// Operators and functions of OData that this subset does not implement.
var otherKeywords = map[string]bool{
	"or": true, "not": true, "ne": true, "has": true,
	"endswith": true, "contains": true, "all": true, "substringof": true, "tolower": true, "toupper": true,
	"length": true, "indexof": true, "trim": true, "concat": true, "add": true, "sub": true, "mul": true,
	"div": true, "mod": true,
}

func isKeyword(s string) bool { return otherKeywords[strings.ToLower(s)] }

func unsupportedOperator(op string) *queryError {
	return unsupported("Unsupported query: the operator or function '%s' is not supported; use eq, in, startswith, any and and.", op)
}

func (p *parser) and(depth int) (filterNode, *queryError) {
	if depth > maxFilterDepth {
		return nil, unsupported("Unsupported query: the filter is nested too deeply.")
	}
	var terms []filterNode
	for {
		t, err := p.primary(depth)
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
		if p.terms++; p.terms > maxFilterTerms {
			return nil, unsupported("Unsupported query: the filter has more than %d clauses.", maxFilterTerms)
		}
		if !isWord(p.peek(), "and") {
			break
		}
		p.next()
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return andNode{terms}, nil
}

func (p *parser) primary(depth int) (filterNode, *queryError) {
	t := p.next()
	switch {
	case t.kind == tokLParen:
		n, err := p.and(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, "')'"); err != nil {
			return nil, err
		}
		return n, nil
	case t.kind != tokIdent:
		return nil, syntaxError(p.src, t.pos, "expected a property or function, found '"+t.text+"'")
	case strings.EqualFold(t.text, "startswith") && p.peek().kind == tokLParen:
		p.next()
		prop, err := p.expect(tokIdent, "a property name")
		if err != nil {
			return nil, err
		}
		// A path into a complex property (initiatedBy/user/userPrincipalName).
		for p.peek().kind == tokSlash && p.toks[p.i+1].kind == tokIdent {
			p.next()
			prop.text += "/" + p.next().text
		}
		if _, err := p.expect(tokComma, "','"); err != nil {
			return nil, err
		}
		lit, err := p.expect(tokString, "a string literal")
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, "')'"); err != nil {
			return nil, err
		}
		return startsWithNode{prop: prop.text, prefix: lit.text}, nil
	case isKeyword(t.text) && p.peek().kind == tokLParen:
		return nil, unsupportedOperator(t.text)
	}
	prop := t.text
	// A path into a complex property (status/errorCode,
	// initiatedBy/user/id) is one property name "a/b/c"; C/any(...) stays a
	// lambda.
	for p.peek().kind == tokSlash && p.toks[p.i+1].kind == tokIdent && p.toks[p.i+2].kind != tokLParen {
		p.next()
		prop += "/" + p.next().text
	}
	if p.peek().kind == tokSlash {
		return p.lambda(prop)
	}
	op := p.next()
	switch {
	case isWord(op, "ge"), isWord(op, "le"), isWord(op, "gt"), isWord(op, "lt"):
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		return cmpNode{prop: prop, op: strings.ToLower(op.text), lit: lit}, nil
	case isWord(op, "ne") && p.peek().kind == tokIdent && isInteger(p.peek().text):
		// Only against a number (the sign-in log's status/errorCode ne 0:
		// the failures); bind refuses it on other properties.
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		return cmpNode{prop: prop, op: "ne", lit: lit}, nil
	case isWord(op, "eq"):
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		return eqNode{prop: prop, lit: lit}, nil
	case isWord(op, "in"):
		if _, err := p.expect(tokLParen, "'('"); err != nil {
			return nil, err
		}
		var lits []literal
		for {
			lit, err := p.literal()
			if err != nil {
				return nil, err
			}
			if lits = append(lits, lit); len(lits) > maxInValues {
				return nil, unsupported("Unsupported query: 'in' accepts at most %d values.", maxInValues)
			}
			sep := p.next()
			if sep.kind == tokRParen {
				break
			}
			if sep.kind != tokComma {
				return nil, syntaxError(p.src, sep.pos, "expected ',' or ')'")
			}
		}
		return inNode{prop: prop, lits: lits}, nil
	case op.kind == tokIdent && isKeyword(op.text):
		return nil, unsupportedOperator(op.text)
	}
	got := op.text
	if op.kind == tokEOF {
		got = "end of filter"
	}
	return nil, syntaxError(p.src, op.pos, "expected an operator after '"+prop+"', found '"+got+"'")
}

// lambda parses C/any(x:x eq 'v') after C.
func (p *parser) lambda(prop string) (filterNode, *queryError) {
	p.next() // '/'
	fn, err := p.expect(tokIdent, "'any'")
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(fn.text, "any") {
		if strings.EqualFold(fn.text, "all") {
			return nil, unsupportedOperator("all")
		}
		return nil, unsupported("Unsupported query: property paths such as '%s/%s' are not supported.", prop, fn.text)
	}
	if _, err := p.expect(tokLParen, "'('"); err != nil {
		return nil, err
	}
	v, err := p.expect(tokIdent, "a lambda variable")
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokColon, "':'"); err != nil {
		return nil, err
	}
	ref, err := p.expect(tokIdent, "the lambda variable")
	if err != nil {
		return nil, err
	}
	if ref.text != v.text {
		return nil, unsupported("Unsupported query: inside any() only '%s eq ...' is supported.", v.text)
	}
	op := p.next()
	if !isWord(op, "eq") {
		if op.kind == tokIdent && isKeyword(op.text) {
			return nil, unsupportedOperator(op.text)
		}
		return nil, syntaxError(p.src, op.pos, "expected 'eq'")
	}
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen, "')'"); err != nil {
		return nil, err
	}
	return anyNode{prop: prop, lit: lit}, nil
}

func (p *parser) literal() (literal, *queryError) {
	t := p.next()
	switch {
	case t.kind == tokString:
		return literal{kind: litString, s: t.text}, nil
	case isWord(t, "true"), isWord(t, "false"):
		return literal{kind: litBool, b: strings.EqualFold(t.text, "true")}, nil
	case isWord(t, "null"):
		return literal{kind: litNull}, nil
	case t.kind == tokIdent && isInteger(t.text):
		n, err := strconv.ParseInt(t.text, 10, 32)
		if err != nil {
			return literal{}, badQuery("Invalid filter clause: the number '%s' is out of range.", t.text)
		}
		return literal{kind: litNumber, n: n, s: t.text}, nil
	case t.kind == tokIdent && strings.ContainsRune(t.text, 'T') && strings.ContainsRune(t.text, ':'):
		tm, err := time.Parse(time.RFC3339Nano, t.text)
		if err != nil {
			return literal{}, badQuery("Invalid filter clause: '%s' is not a valid DateTimeOffset.", t.text)
		}
		return literal{kind: litDateTime, t: tm, s: t.text}, nil
	case t.kind == tokIdent && t.text != "" && (t.text[0] >= '0' && t.text[0] <= '9' || t.text[0] == '-'):
		// A GUID or a number unquoted: Graph's properties here are strings.
		return literal{}, badQuery("Invalid filter clause: the literal '%s' must be quoted.", t.text)
	}
	got := t.text
	if t.kind == tokEOF {
		got = "end of filter"
	}
	return literal{}, syntaxError(p.src, t.pos, "expected a literal, found '"+got+"'")
}

func isInteger(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	if s == "" || len(s) > 11 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// --- binding to an entity type ---

type propKind int

const (
	kindNull propKind = iota // always null in samples: compared as a string
	kindString
	kindBool
	kindNumber
	kindCollection
	kindComplex
	kindDateTime // only in declared schemas (schemaOf sees strings)
)

func (k propKind) edm() string {
	switch k {
	case kindBool:
		return "Edm.Boolean"
	case kindNumber:
		return "Edm.Int32"
	case kindCollection:
		return "Collection(Edm.String)"
	case kindComplex:
		return "complex type"
	case kindDateTime:
		return "Edm.DateTimeOffset"
	}
	return "Edm.String"
}

type propInfo struct {
	name string // as Graph spells it
	kind propKind
}

// schema maps lower-cased property names of an entity type to their info.
type schema map[string]propInfo

func (sc schema) lookup(name, typeName string) (propInfo, *queryError) {
	if info, ok := sc[strings.ToLower(name)]; ok {
		return info, nil
	}
	return propInfo{}, badQuery("Could not find a property named '%s' on type '%s'.", name, typeName)
}

// schemaOf derives a schema from sample objects in their JSON form.
func schemaOf(samples ...map[string]any) schema {
	sc := schema{}
	for _, obj := range samples {
		for k, v := range obj {
			if strings.HasPrefix(k, "@") {
				continue
			}
			kind := kindNull
			switch v.(type) {
			case string:
				kind = kindString
			case bool:
				kind = kindBool
			case float64:
				kind = kindNumber
			case []any:
				kind = kindCollection
			case map[string]any:
				kind = kindComplex
			}
			if old, ok := sc[strings.ToLower(k)]; ok && old.kind != kindNull {
				continue
			}
			sc[strings.ToLower(k)] = propInfo{name: k, kind: kind}
		}
	}
	return sc
}

func incompatible(prop propInfo, lit literal, op string) *queryError {
	litType := "Edm.String"
	switch lit.kind {
	case litBool:
		litType = "Edm.Boolean"
	case litNumber:
		litType = "Edm.Int32"
	case litDateTime:
		litType = "Edm.DateTimeOffset"
	}
	return badQuery("A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind '%s'.",
		prop.kind.edm(), litType, op)
}

func checkScalar(info propInfo, lit literal, op string) *queryError {
	switch {
	case info.kind == kindCollection || info.kind == kindComplex:
		return unsupported("Unsupported query: property '%s' is not a single value; use %s/any(x:x eq ...).", info.name, info.name)
	case lit.kind == litNull:
		return nil
	case info.kind == kindNumber:
		if lit.kind != litNumber {
			return incompatible(info, lit, op)
		}
	case info.kind == kindDateTime:
		if lit.kind != litDateTime {
			return incompatible(info, lit, op)
		}
	case lit.kind == litNumber, lit.kind == litDateTime:
		return incompatible(info, lit, op)
	case lit.kind == litBool && info.kind != kindBool, lit.kind == litString && info.kind == kindBool:
		return incompatible(info, lit, op)
	}
	return nil
}

func (n cmpNode) bind(sc schema, typeName string) (filterNode, *queryError) {
	info, err := sc.lookup(n.prop, typeName)
	if err != nil {
		return nil, err
	}
	if info.kind != kindDateTime && info.kind != kindNumber {
		return nil, unsupportedOperator(n.op)
	}
	if n.lit.kind == litNull {
		return nil, incompatible(info, n.lit, n.op)
	}
	if err := checkScalar(info, n.lit, n.op); err != nil {
		return nil, err
	}
	return cmpNode{prop: info.name, op: n.op, lit: n.lit}, nil
}

func (n andNode) bind(sc schema, typeName string) (filterNode, *queryError) {
	out := andNode{terms: make([]filterNode, len(n.terms))}
	for i, t := range n.terms {
		b, err := t.bind(sc, typeName)
		if err != nil {
			return nil, err
		}
		out.terms[i] = b
	}
	return out, nil
}

func (n eqNode) bind(sc schema, typeName string) (filterNode, *queryError) {
	info, err := sc.lookup(n.prop, typeName)
	if err != nil {
		return nil, err
	}
	if err := checkScalar(info, n.lit, "Equal"); err != nil {
		return nil, err
	}
	return eqNode{prop: info.name, lit: n.lit}, nil
}

func (n startsWithNode) bind(sc schema, typeName string) (filterNode, *queryError) {
	info, err := sc.lookup(n.prop, typeName)
	if err != nil {
		return nil, err
	}
	if info.kind != kindString && info.kind != kindNull {
		return nil, unsupported("Unsupported query: startswith applies to string properties, and '%s' is %s.", info.name, info.kind.edm())
	}
	return startsWithNode{prop: info.name, prefix: n.prefix}, nil
}

func (n anyNode) bind(sc schema, typeName string) (filterNode, *queryError) {
	info, err := sc.lookup(n.prop, typeName)
	if err != nil {
		return nil, err
	}
	if info.kind != kindCollection {
		return nil, unsupported("Unsupported query: any() applies to collection properties, and '%s' is %s.", info.name, info.kind.edm())
	}
	if n.lit.kind != litString {
		return nil, incompatible(propInfo{kind: kindString}, n.lit, "Equal")
	}
	return anyNode{prop: info.name, lit: n.lit}, nil
}

func (n inNode) bind(sc schema, typeName string) (filterNode, *queryError) {
	info, err := sc.lookup(n.prop, typeName)
	if err != nil {
		return nil, err
	}
	for _, l := range n.lits {
		if err := checkScalar(info, l, "In"); err != nil {
			return nil, err
		}
	}
	return inNode{prop: info.name, lits: n.lits}, nil
}

// --- evaluation ---

// lookupPath reads a property, or a path a/b/c into complex properties.
func lookupPath(obj map[string]any, prop string) any {
	if v, ok := obj[prop]; ok || !strings.Contains(prop, "/") {
		return v
	}
	var cur any = obj
	for _, seg := range strings.Split(prop, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[seg]
	}
	return cur
}

// compareTo orders v against lit: -1, 0, 1, ok false when v has no value of
// the literal's type.
func compareTo(v any, lit literal) (int, bool) {
	switch lit.kind {
	case litNumber:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case int:
			f = float64(x)
		case int64:
			f = float64(x)
		default:
			return 0, false
		}
		switch {
		case f < float64(lit.n):
			return -1, true
		case f > float64(lit.n):
			return 1, true
		}
		return 0, true
	case litDateTime:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, false
		}
		return t.Compare(lit.t), true
	}
	return 0, false
}

func (n cmpNode) eval(obj map[string]any) bool {
	c, ok := compareTo(lookupPath(obj, n.prop), n.lit)
	if !ok {
		return false
	}
	switch n.op {
	case "ge":
		return c >= 0
	case "le":
		return c <= 0
	case "gt":
		return c > 0
	case "ne":
		return c != 0
	}
	return c < 0
}

func matches(v any, lit literal) bool {
	switch lit.kind {
	case litNumber, litDateTime:
		c, ok := compareTo(v, lit)
		return ok && c == 0
	case litNull:
		return v == nil
	case litBool:
		b, ok := v.(bool)
		return ok && b == lit.b
	}
	s, ok := v.(string)
	return ok && strings.EqualFold(s, lit.s)
}

func (n andNode) eval(obj map[string]any) bool {
	for _, t := range n.terms {
		if !t.eval(obj) {
			return false
		}
	}
	return true
}

func (n eqNode) eval(obj map[string]any) bool { return matches(lookupPath(obj, n.prop), n.lit) }

func (n startsWithNode) eval(obj map[string]any) bool {
	s, ok := lookupPath(obj, n.prop).(string)
	return ok && len(s) >= len(n.prefix) && strings.EqualFold(s[:len(n.prefix)], n.prefix)
}

func (n anyNode) eval(obj map[string]any) bool {
	items, _ := obj[n.prop].([]any)
	for _, it := range items {
		if matches(it, n.lit) {
			return true
		}
	}
	return false
}

func (n inNode) eval(obj map[string]any) bool {
	v := lookupPath(obj, n.prop)
	for _, l := range n.lits {
		if matches(v, l) {
			return true
		}
	}
	return false
}

// --- query options ---

// Paging limits, as Graph's directory collections have them.
const (
	defaultPageSize = 100
	maxPageSize     = 999
)

// listQuery is the parsed query options of a collection request.
type listQuery struct {
	filter filterNode
	selekt []string // canonical property names; nil means all
	top    int
	count  bool
	after  *pageKey
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

// parseListQuery reads the query options of a collection request against
// the entity type's schema. consistency is the ConsistencyLevel header.
func parseListQuery(q url.Values, sc schema, typeName, consistency string) (listQuery, *queryError) {
	out := listQuery{top: defaultPageSize}
	for _, o := range unsupportedOptions {
		if _, ok := q[o]; ok {
			return out, unsupported("The query option '%s' is not supported.", o)
		}
	}
	if f, ok := q["$filter"]; ok {
		n, err := parseFilter(f[0])
		if err != nil {
			return out, err
		}
		if out.filter, err = n.bind(sc, typeName); err != nil {
			return out, err
		}
	}
	sel, err := parseSelect(q, sc, typeName)
	if err != nil {
		return out, err
	}
	out.selekt = sel
	if v, ok := q["$top"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxPageSize {
			return out, badQuery("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", v[0], maxPageSize)
		}
		out.top = n
	}
	if v, ok := q["$count"]; ok {
		switch strings.ToLower(v[0]) {
		case "true":
			if !strings.EqualFold(strings.TrimSpace(consistency), "eventual") {
				return out, badQuery("$count is not currently supported.")
			}
			out.count = true
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

// parseSelect reads $select: property names of the type, comma separated.
func parseSelect(q url.Values, sc schema, typeName string) ([]string, *queryError) {
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
		out = append(out, info.name)
	}
	if len(out) == 0 {
		return nil, badQuery("Invalid $select: no property named.")
	}
	return out, nil
}

// project keeps the selected properties of obj (and its @odata annotations).
func project(obj map[string]any, sel []string) map[string]any {
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

// item is one object of a collection response.
type item struct {
	created time.Time
	id      string
	obj     map[string]any
}

func (it item) key() pageKey {
	return pageKey{created: it.created.UnixMicro(), id: strings.ToLower(it.id)}
}

func (k pageKey) less(o pageKey) bool {
	if k.created != o.created {
		return k.created < o.created
	}
	return k.id < o.id
}

// page applies the query to items: filter, stable order (creation time,
// then id), the page after the skip token, and the count of all matches.
// next is the key to continue from, nil on the last page.
func (q listQuery) page(items []item) (out []item, total int, next *pageKey) {
	matched := items[:0:0]
	for _, it := range items {
		if q.filter == nil || q.filter.eval(it.obj) {
			matched = append(matched, it)
		}
	}
	sort.SliceStable(matched, func(i, j int) bool { return matched[i].key().less(matched[j].key()) })
	start := 0
	if q.after != nil {
		start = sort.Search(len(matched), func(i int) bool { return q.after.less(matched[i].key()) })
	}
	end := min(start+q.top, len(matched))
	out = matched[start:end]
	if end < len(matched) && len(out) > 0 {
		k := out[len(out)-1].key()
		next = &k
	}
	return out, len(matched), next
}
