package wire

import (
	"net/http"

	"github.com/tessera-id/tessera/internal/fault"
)

// ARMInternalCode and ARMInternalMessage answer a fault of Tessera's in
// ARM's words; the cause goes to the log.
const (
	ARMInternalCode    = "InternalServerError"
	ARMInternalMessage = "The server encountered an internal error. Please retry the request."
)

// armStatus is the status ARM answers each kind of refusal with.
var armStatus = map[fault.Kind]int{
	fault.Invalid:      http.StatusBadRequest,
	fault.NotFound:     http.StatusNotFound,
	fault.Conflict:     http.StatusConflict,
	fault.Precondition: http.StatusPreconditionFailed,
	fault.Forbidden:    http.StatusForbidden,
}

// armBare words a refusal that carries no reason code (the store's
// sentinels), as Azure's resource manager words the same condition.
var armBare = map[fault.Kind]ARMErrorDetail{
	fault.Precondition: {Code: "PreconditionFailed", Message: "The condition specified using HTTP conditional header(s) is not met."},
	fault.NotFound:     {Code: "ResourceNotFound", Message: "The resource was not found."},
	fault.Conflict:     {Code: "Conflict", Message: "The resource already exists or was changed concurrently."},
}

// ARMRefusal is ARM's answer to a refusal: a rule package's reason code is
// an ARM error code and goes out with its message. ok is false for what ARM
// answers as its own fault: not a refusal, a numbered token-service
// refusal, or a kind ARM has no status for.
func ARMRefusal(e *fault.Error) (status int, code, message string, ok bool) {
	if e == nil || e.Number != 0 {
		return 0, "", "", false
	}
	status, ok = armStatus[e.Kind]
	if !ok {
		return 0, "", "", false
	}
	if e.Code != "" {
		return status, e.Code, e.Message, true
	}
	bare, ok := armBare[e.Kind]
	if !ok {
		return 0, "", "", false
	}
	return status, bare.Code, bare.Message, true
}

// GraphUnavailableMessage answers a fault of Tessera's in Graph's words;
// the cause goes to the log.
const GraphUnavailableMessage = "The service is temporarily unavailable. Please retry."

// GraphForbiddenMessage is Graph's answer to a caller without the directory
// role or ownership an operation needs.
const GraphForbiddenMessage = "Insufficient privileges to complete the operation."

// GraphNotFoundMessage is Graph's answer for an object id that names
// nothing.
func GraphNotFoundMessage(id string) string {
	return "Resource '" + id + "' does not exist or one of its queried reference-property objects are not present."
}

// graphInvalidCodes are the refusals Graph answers with a code of their own
// rather than Request_BadRequest, by the rule's reason code.
var graphInvalidCodes = map[string]string{
	"EnabledEntitlementChange": "CannotDeleteOrUpdateEnabledEntitlement",
}

// GraphRefusal is Graph's answer to a refusal. A not-found refusal with a
// reason code names its object in its own message; one without (the
// store's) is about ref, the object the request addressed. ok is false for
// what Graph answers as its own fault: not a refusal, a numbered
// token-service refusal, or a kind Graph has no answer for.
func GraphRefusal(e *fault.Error, ref string) (status int, code, message string, ok bool) {
	if e == nil || e.Number != 0 {
		return 0, "", "", false
	}
	switch e.Kind {
	case fault.Invalid:
		if code, ok := graphInvalidCodes[e.Code]; ok {
			return http.StatusBadRequest, code, e.Message, true
		}
		return http.StatusBadRequest, GraphBadRequest, e.Message, true
	case fault.Forbidden:
		return http.StatusForbidden, GraphAuthorizationDenied, GraphForbiddenMessage, true
	case fault.NotFound:
		if e.Code != "" {
			return http.StatusNotFound, GraphResourceNotFound, e.Message, true
		}
		return http.StatusNotFound, GraphResourceNotFound, GraphNotFoundMessage(ref), true
	case fault.Conflict:
		return http.StatusBadRequest, GraphMultipleObjectsExist, "Another object with the same value for a unique property already exists.", true
	}
	return 0, "", "", false
}
