package odata

import (
	"strings"
	"time"
)

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
