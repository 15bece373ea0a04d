// Package wire holds the protocol words Tessera speaks at its edges: the
// AADSTS error body of the token service, the ARM and Graph error envelopes,
// and the JSON writer they share. It knows nothing of storage or rules.
package wire

import (
	"encoding/json"
	"net/http"
)

// ContentTypeJSON is the content type every JSON response carries; Python's
// managed-identity client rejects anything else.
const ContentTypeJSON = "application/json; charset=utf-8"

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":"server_error"}`)
	}
	WriteRawJSON(w, status, body)
}

// WriteRawJSON writes an already encoded JSON document.
func WriteRawJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ContentTypeJSON)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
