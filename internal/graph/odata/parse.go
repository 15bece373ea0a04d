package odata

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

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

func lex(s string) ([]ftoken, *Error) {
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

func syntaxError(filter string, pos int, what string) *Error {
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
	bind(sc Schema, typeName string) (filterNode, *Error)
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
// (KindDateTime, KindNumber): the audit logs' createdDateTime and
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
func parseFilter(s string) (filterNode, *Error) {
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

func (p *parser) expect(k tokKind, what string) (ftoken, *Error) {
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

func unsupportedOperator(op string) *Error {
	return unsupported("Unsupported query: the operator or function '%s' is not supported; use eq, in, startswith, any and and.", op)
}

func (p *parser) and(depth int) (filterNode, *Error) {
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

func (p *parser) primary(depth int) (filterNode, *Error) {
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
func (p *parser) lambda(prop string) (filterNode, *Error) {
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

func (p *parser) literal() (literal, *Error) {
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
