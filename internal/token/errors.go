package token

import (
	"fmt"
	"time"

	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/signin"
)

// OAuth 2.0 error codes as Entra ID returns them.
const (
	ErrInvalidRequest         = "invalid_request"
	ErrInvalidClient          = "invalid_client"
	ErrInvalidGrant           = "invalid_grant"
	ErrUnauthorizedClient     = "unauthorized_client"
	ErrUnsupportedGrantType   = "unsupported_grant_type"
	ErrInvalidScope           = "invalid_scope"
	ErrInvalidResource        = "invalid_resource"
	ErrTemporarilyUnavailable = "temporarily_unavailable"
	ErrServerError            = "server_error"
)

// Error is a token-service refusal: a fault.Error whose Code is the OAuth
// 2.0 error code and whose Number is the AADSTS number Entra uses for the
// same condition. The sts package writes it through wire's OAuth table; Err
// stays server-side.
type Error = fault.Error

// TransientMessage is fault's one wording of a retryable failure.
const TransientMessage = fault.TransientMessage

// Transient wraps an internal failure as the server_error a client may retry.
func Transient(err error) *Error {
	return &Error{Kind: fault.Unavailable, Code: ErrServerError, Number: 90033, Message: TransientMessage, Err: err}
}

// oauthKinds is the kind of refusal each OAuth error code is.
var oauthKinds = map[string]fault.Kind{
	ErrInvalidClient:          fault.Unauthenticated,
	ErrUnauthorizedClient:     fault.Forbidden,
	ErrAuthorizationDeclined:  fault.Forbidden,
	ErrInvalidResource:        fault.NotFound,
	ErrTemporarilyUnavailable: fault.Unavailable,
	ErrServerError:            fault.Unavailable,
}

// Errorf builds an *Error with a formatted description.
func Errorf(oauth string, aadsts int, format string, args ...any) *Error {
	kind, ok := oauthKinds[oauth]
	if !ok {
		kind = fault.Invalid
	}
	return &Error{Kind: kind, Code: oauth, Number: aadsts, Message: fmt.Sprintf(format, args...)}
}

// AsError extracts an *Error from err's chain.
func AsError(err error) (*Error, bool) { return fault.As(err) }

// throttled is the answer to an attempt refused before its credentials were
// checked (signin.ThrottledError): 429 with Retry-After. A busy server
// answers as Entra's throttling does (AADSTS90055); an address that failed
// too often as Entra's blocked address does (AADSTS50053), with oauth as
// the error code of the credential the caller presented.
func throttled(te *signin.ThrottledError, oauth string) *Error {
	n := signin.RetryAfterSeconds(te.RetryAfter)
	var e *Error
	if te.Busy {
		e = Errorf(ErrTemporarilyUnavailable, 90055, "There are too many incoming requests. Try again in %d seconds.", n)
	} else {
		e = Errorf(oauth, 50053,
			"Sign-in was blocked because it came from an IP address with too many failed sign-ins. Try again in %d seconds.", n)
	}
	e.Kind, e.RetryAfter = fault.Throttled, time.Duration(n)*time.Second
	return e
}
