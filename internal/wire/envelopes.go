package wire

import "net/http"

// ARMError is Azure Resource Manager's error envelope.
type ARMError struct {
	Error ARMErrorDetail `json:"error"`
}

// ARMErrorDetail is the inner object of ARMError.
type ARMErrorDetail struct {
	Code    string           `json:"code"`
	Message string           `json:"message"`
	Target  string           `json:"target,omitempty"`
	Details []ARMErrorDetail `json:"details,omitempty"`
}

// WriteARMError writes an ARM error body.
func WriteARMError(w http.ResponseWriter, status int, code, message string) {
	WriteJSON(w, status, ARMError{Error: ARMErrorDetail{Code: code, Message: message}})
}

// GraphError is Microsoft Graph's error envelope.
type GraphError struct {
	Error GraphErrorDetail `json:"error"`
}

// GraphErrorDetail is the inner object of GraphError.
type GraphErrorDetail struct {
	Code       string          `json:"code"`
	Message    string          `json:"message"`
	InnerError GraphInnerError `json:"innerError"`
}

// GraphInnerError carries the request ids Graph puts in every error.
type GraphInnerError struct {
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

// Graph error codes.
const (
	GraphBadRequest           = "Request_BadRequest"
	GraphResourceNotFound     = "Request_ResourceNotFound"
	GraphAuthorizationDenied  = "Authorization_RequestDenied"
	GraphInvalidAuthToken     = "InvalidAuthenticationToken"
	GraphMultipleObjectsExist = "Request_MultipleObjectsWithSameKeyValue"
	GraphUnsupportedQuery     = "Request_UnsupportedQuery"
	GraphServiceUnavailable   = "Service_ServiceUnavailable"
)

// WriteGraphError writes a Graph error body.
func WriteGraphError(w http.ResponseWriter, status int, code, message string, inner GraphInnerError) {
	WriteJSON(w, status, GraphError{Error: GraphErrorDetail{Code: code, Message: message, InnerError: inner}})
}
