package odata

import (
	"strings"
)

// Kind is the type of a property, as far as filters care.
type Kind int

const (
	kindNull Kind = iota // always null in samples: compared as a string
	KindString
	KindBool
	KindNumber
	kindCollection
	kindComplex
	KindDateTime // only in declared schemas (SchemaOf sees strings)
)

func (k Kind) edm() string {
	switch k {
	case KindBool:
		return "Edm.Boolean"
	case KindNumber:
		return "Edm.Int32"
	case kindCollection:
		return "Collection(Edm.String)"
	case kindComplex:
		return "complex type"
	case KindDateTime:
		return "Edm.DateTimeOffset"
	}
	return "Edm.String"
}

// Property is one property of an entity type that a filter or $select may
// name.
type Property struct {
	Name string // as Graph spells it
	Kind Kind
}

// Schema maps lower-cased property names of an entity type to their info.
type Schema map[string]Property

func (sc Schema) lookup(name, typeName string) (Property, *Error) {
	if info, ok := sc[strings.ToLower(name)]; ok {
		return info, nil
	}
	return Property{}, badQuery("Could not find a property named '%s' on type '%s'.", name, typeName)
}

// SchemaOf derives a schema from sample objects in their JSON form.
func SchemaOf(samples ...map[string]any) Schema {
	sc := Schema{}
	for _, obj := range samples {
		for k, v := range obj {
			if strings.HasPrefix(k, "@") {
				continue
			}
			kind := kindNull
			switch v.(type) {
			case string:
				kind = KindString
			case bool:
				kind = KindBool
			case float64:
				kind = KindNumber
			case []any:
				kind = kindCollection
			case map[string]any:
				kind = kindComplex
			}
			if old, ok := sc[strings.ToLower(k)]; ok && old.Kind != kindNull {
				continue
			}
			sc[strings.ToLower(k)] = Property{Name: k, Kind: kind}
		}
	}
	return sc
}

// Declare builds the schema of an entity type from its filterable
// properties, named as Graph spells them: for types whose filterable
// properties are a documented few (the audit logs), or have kinds samples do
// not show (KindDateTime).
func Declare(props map[string]Kind) Schema {
	sc := make(Schema, len(props))
	for name, kind := range props {
		sc[strings.ToLower(name)] = Property{Name: name, Kind: kind}
	}
	return sc
}
