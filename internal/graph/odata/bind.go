package odata

// Binding resolves the property names of a parsed filter against an
// entity type's schema and checks the literals' types.

func incompatible(prop Property, lit literal, op string) *Error {
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
		prop.Kind.edm(), litType, op)
}

func checkScalar(info Property, lit literal, op string) *Error {
	switch {
	case info.Kind == kindCollection || info.Kind == kindComplex:
		return unsupported("Unsupported query: property '%s' is not a single value; use %s/any(x:x eq ...).", info.Name, info.Name)
	case lit.kind == litNull:
		return nil
	case info.Kind == KindNumber:
		if lit.kind != litNumber {
			return incompatible(info, lit, op)
		}
	case info.Kind == KindDateTime:
		if lit.kind != litDateTime {
			return incompatible(info, lit, op)
		}
	case lit.kind == litNumber, lit.kind == litDateTime:
		return incompatible(info, lit, op)
	case lit.kind == litBool && info.Kind != KindBool, lit.kind == litString && info.Kind == KindBool:
		return incompatible(info, lit, op)
	}
	return nil
}

func (n cmpNode) bind(sc Schema, typeName string) (filterNode, *Error) {
	info, err := sc.lookup(n.prop, typeName)
	if err != nil {
		return nil, err
	}
	if info.Kind != KindDateTime && info.Kind != KindNumber {
		return nil, unsupportedOperator(n.op)
	}
	if n.lit.kind == litNull {
		return nil, incompatible(info, n.lit, n.op)
	}
	if err := checkScalar(info, n.lit, n.op); err != nil {
		return nil, err
	}
	return cmpNode{prop: info.Name, op: n.op, lit: n.lit}, nil
}

func (n andNode) bind(sc Schema, typeName string) (filterNode, *Error) {
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

func (n eqNode) bind(sc Schema, typeName string) (filterNode, *Error) {
	info, err := sc.lookup(n.prop, typeName)
	if err != nil {
		return nil, err
	}
	if err := checkScalar(info, n.lit, "Equal"); err != nil {
		return nil, err
	}
	return eqNode{prop: info.Name, lit: n.lit}, nil
}

func (n startsWithNode) bind(sc Schema, typeName string) (filterNode, *Error) {
	info, err := sc.lookup(n.prop, typeName)
	if err != nil {
		return nil, err
	}
	if info.Kind != KindString && info.Kind != kindNull {
		return nil, unsupported("Unsupported query: startswith applies to string properties, and '%s' is %s.", info.Name, info.Kind.edm())
	}
	return startsWithNode{prop: info.Name, prefix: n.prefix}, nil
}

func (n anyNode) bind(sc Schema, typeName string) (filterNode, *Error) {
	info, err := sc.lookup(n.prop, typeName)
	if err != nil {
		return nil, err
	}
	if info.Kind != kindCollection {
		return nil, unsupported("Unsupported query: any() applies to collection properties, and '%s' is %s.", info.Name, info.Kind.edm())
	}
	if n.lit.kind != litString {
		return nil, incompatible(Property{Kind: KindString}, n.lit, "Equal")
	}
	return anyNode{prop: info.Name, lit: n.lit}, nil
}

func (n inNode) bind(sc Schema, typeName string) (filterNode, *Error) {
	info, err := sc.lookup(n.prop, typeName)
	if err != nil {
		return nil, err
	}
	for _, l := range n.lits {
		if err := checkScalar(info, l, "In"); err != nil {
			return nil, err
		}
	}
	return inNode{prop: info.Name, lits: n.lits}, nil
}
