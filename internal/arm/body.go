package arm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/resources"
	"github.com/tessera-id/tessera/internal/wire"
)

// maxBody bounds ARM request bodies.
const maxBody = 4 << 20

// readJSON reads a write's body into v, answering ARM's 415 for a body that
// does not say it is JSON and 400 InvalidRequestContent, naming the
// property, for one that is not a JSON object of the expected shape. An
// empty body is {}: the SDKs send none on actions such as listKeys.
func (h *Handler) readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := h.readBody(w, r)
	if !ok {
		return false
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	if body[0] != '{' {
		invalidContent(w, "the body must be a JSON object.")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		invalidContent(w, jsonProblem(err))
		return false
	}
	if doc, ok := v.(*resources.Document); ok {
		if msg := checkEnvelope(*doc); msg != "" {
			invalidContent(w, msg)
			return false
		}
	}
	return true
}

// readBody reads a body, trimmed of white space, refusing one that is not
// declared JSON.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		wire.WriteARMError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is too large.")
		return nil, false
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && !httpx.IsJSONMediaType(r.Header.Get("Content-Type")) {
		ct := r.Header.Get("Content-Type")
		if ct == "" {
			ct = "(none)"
		}
		wire.WriteARMError(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			fmt.Sprintf("The content media type '%s' is not supported. Only 'application/json' is supported.", ct))
		return nil, false
	}
	return body, true
}

func invalidContent(w http.ResponseWriter, msg string) {
	wire.WriteARMError(w, http.StatusBadRequest, "InvalidRequestContent",
		"The request content was invalid and could not be deserialized: "+msg)
}

// jsonProblem describes a decoding error by the property it concerns.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return fmt.Sprintf("property '%s' must be %s, not %s.", te.Field, kindName(te.Type.Kind().String()), te.Value)
	case errors.As(err, &te):
		return "the body must be a JSON object."
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at offset %d.", se.Offset)
	}
	return "invalid JSON."
}

func kindName(k string) string {
	switch k {
	case "string":
		return "a string"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	}
	return "a number"
}

// shape is what a property of ARM's resource envelope must hold.
type shape int

const (
	shapeString shape = iota + 1
	shapeNumber
	shapeObject
	shapeArray
	shapeStringMap // an object of strings: tags
)

// envelope is ARM's resource envelope: the properties every resource type
// shares, with the nested ones Tessera reads (identity, sku). Anything else
// a type defines lives in "properties". Null means absent, as in a merge
// patch. ARM matches property names case-insensitively.
var envelope = map[string]shape{
	"location": shapeString, "tags": shapeStringMap, "properties": shapeObject, "identity": shapeObject,
	"sku": shapeObject, "kind": shapeString, "managedby": shapeString, "name": shapeString, "id": shapeString,
	"type": shapeString, "etag": shapeString, "zones": shapeArray, "plan": shapeObject, "extendedlocation": shapeObject,
}

var nested = map[string]map[string]shape{
	"identity": {"type": shapeString, "userassignedidentities": shapeObject},
	"sku":      {"name": shapeString, "tier": shapeString, "size": shapeString, "family": shapeString, "capacity": shapeNumber},
}

// checkEnvelope returns what is wrong with a resource body's envelope, or "".
func checkEnvelope(doc resources.Document) string {
	for k, v := range doc {
		key := strings.ToLower(k)
		want, known := envelope[key]
		if !known {
			continue
		}
		if msg := checkShape(k, v, want); msg != "" {
			return msg
		}
		if obj, ok := v.(map[string]any); ok {
			for nk, nv := range obj {
				if want, ok := nested[key][strings.ToLower(nk)]; ok {
					if msg := checkShape(k+"."+nk, nv, want); msg != "" {
						return msg
					}
				}
			}
		}
		if key == "identity" {
			ua, _ := v.(map[string]any)
			for nk, nv := range ua {
				if !strings.EqualFold(nk, "userAssignedIdentities") {
					continue
				}
				ids, _ := nv.(map[string]any)
				for id, idv := range ids {
					if _, ok := idv.(map[string]any); !ok && idv != nil {
						return fmt.Sprintf("property '%s.%s.%s' must be an object or null.", k, nk, id)
					}
				}
			}
		}
	}
	return ""
}

func checkShape(name string, v any, want shape) string {
	if v == nil {
		return ""
	}
	ok := false
	switch want {
	case shapeString:
		_, ok = v.(string)
	case shapeNumber:
		_, ok = v.(float64)
	case shapeObject:
		_, ok = v.(map[string]any)
	case shapeArray:
		_, ok = v.([]any)
	case shapeStringMap:
		m, isMap := v.(map[string]any)
		if !isMap {
			return fmt.Sprintf("property '%s' must be an object of string values, not %s.", name, jsonKind(v))
		}
		for k, tv := range m {
			if _, isString := tv.(string); !isString {
				return fmt.Sprintf("property '%s.%s' must be a string, not %s.", name, k, jsonKind(tv))
			}
		}
		return ""
	}
	if ok {
		return ""
	}
	return fmt.Sprintf("property '%s' must be %s, not %s.", name, map[shape]string{shapeString: "a string", shapeNumber: "a number",
		shapeObject: "an object", shapeArray: "an array"}[want], jsonKind(v))
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	}
	return "object"
}
