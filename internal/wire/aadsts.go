package wire

import (
	"fmt"
	"github.com/tessera-id/tessera/internal/fault"
	"net/http"
	"strconv"
	"time"
)

// OAuthError is the body Entra ID's token service returns on failure.
type OAuthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri,omitempty"`
}

// NewOAuthError builds an Entra-shaped error body. The description is
// prefixed with "AADSTSnnn: " and suffixed with the trace, correlation and
// timestamp lines, as Entra does, because clients print error_description.
func NewOAuthError(oauthCode string, aadsts int, description, traceID, correlationID, baseURL string, now time.Time) OAuthError {
	ts := now.UTC().Format("2006-01-02 15:04:05Z")
	desc := fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
		aadsts, description, traceID, correlationID, ts)
	e := OAuthError{
		Error:            oauthCode,
		ErrorDescription: desc,
		ErrorCodes:       []int{aadsts},
		Timestamp:        ts,
		TraceID:          traceID,
		CorrelationID:    correlationID,
	}
	if baseURL != "" {
		e.ErrorURI = baseURL + "/error?code=" + strconv.Itoa(aadsts)
	}
	return e
}

// WriteOAuthError writes e with status.
func WriteOAuthError(w http.ResponseWriter, status int, e OAuthError) {
	WriteJSON(w, status, e)
}

// OAuthStatus is the status Entra answers a token-service refusal with:
// 429 when the caller is throttled, 401 for failed client authentication,
// 500/503 for server faults, 400 otherwise.
func OAuthStatus(e *fault.Error) int {
	if e.RetryAfter > 0 {
		return http.StatusTooManyRequests
	}
	switch e.Code {
	case "invalid_client":
		return http.StatusUnauthorized
	case "server_error":
		return http.StatusInternalServerError
	case "temporarily_unavailable":
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}
