package arm

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/internal/resources"
)

func TestReadJSON(t *testing.T) {
	cases := []struct {
		name, ctype, body string
		status            int
		mentions          string
	}{
		{"json", "application/json", `{"location":"eastus","tags":{"a":"b"}}`, 0, ""},
		{"json with charset", "application/json; charset=utf-8", `{"location":"eastus"}`, 0, ""},
		{"empty body, no type", "", "", 0, ""},
		{"blank body, text type", "text/plain", "  \n", 0, ""},
		{"text/plain", "text/plain", `{"location":"eastus"}`, 415, "text/plain"},
		{"form", "application/x-www-form-urlencoded", "location=eastus", 415, "x-www-form-urlencoded"},
		{"xml", "application/xml", "<location>eastus</location>", 415, "application/xml"},
		{"no type", "", `{"location":"eastus"}`, 415, "(none)"},
		{"array", "application/json", `[1]`, 400, "JSON object"},
		{"null", "application/json", `null`, 400, "JSON object"},
		{"syntax", "application/json", `{"location":`, 400, "invalid JSON"},
		{"tags string", "application/json", `{"tags":"x"}`, 400, "'tags'"},
		{"tag value number", "application/json", `{"tags":{"a":1}}`, 400, "'tags.a'"},
		{"location number", "application/json", `{"location":1}`, 400, "'location'"},
		{"properties array", "application/json", `{"properties":[1]}`, 400, "'properties'"},
		{"identity type", "application/json", `{"identity":{"type":true}}`, 400, "'identity.type'"},
		{"user-assigned identity value", "application/json", `{"identity":{"type":"UserAssigned","userAssignedIdentities":{"/x":"y"}}}`, 400, "userAssignedIdentities./x"},
		{"sku capacity", "application/json", `{"sku":{"name":"Basic","capacity":"one"}}`, 400, "'sku.capacity'"},
		{"case-insensitive names", "application/json", `{"Tags":"x"}`, 400, "'Tags'"},
		{"nulls are absent", "application/json", `{"tags":null,"location":null,"identity":{"type":null}}`, 0, ""},
		{"unknown properties kept", "application/json", `{"properties":{"anything":{"x":[1]}},"extra":1}`, 0, ""},
	}
	h := &Handler{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", "/subscriptions/s/resourceGroups/rg", strings.NewReader(tc.body))
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			w := httptest.NewRecorder()
			var doc resources.Document
			ok := h.readJSON(w, r, &doc)
			if tc.status == 0 {
				if !ok {
					t.Fatalf("refused: %d %s", w.Code, w.Body)
				}
				return
			}
			if ok || w.Code != tc.status || !strings.Contains(w.Body.String(), tc.mentions) {
				t.Fatalf("got ok=%v %d %s, want %d mentioning %q", ok, w.Code, w.Body, tc.status, tc.mentions)
			}
		})
	}
}

func TestReadJSONTyped(t *testing.T) {
	var body struct {
		Properties struct {
			PrincipalID string `json:"principalId"`
		} `json:"properties"`
	}
	r := httptest.NewRequest("PUT", "/", strings.NewReader(`{"properties":{"principalId":7}}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	if (&Handler{}).readJSON(w, r, &body) || w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "'properties.principalId' must be a string, not number") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}
