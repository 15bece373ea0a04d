package token

import (
	"time"

	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/internal/token/tokenerr"
)

// The token service's refusals (package tokenerr), under the names its
// grants use.
type Error = tokenerr.Error

// OAuth 2.0 error codes as Entra ID returns them.
const (
	ErrInvalidRequest         = tokenerr.ErrInvalidRequest
	ErrInvalidClient          = tokenerr.ErrInvalidClient
	ErrInvalidGrant           = tokenerr.ErrInvalidGrant
	ErrUnauthorizedClient     = tokenerr.ErrUnauthorizedClient
	ErrUnsupportedGrantType   = tokenerr.ErrUnsupportedGrantType
	ErrInvalidScope           = tokenerr.ErrInvalidScope
	ErrInvalidResource        = tokenerr.ErrInvalidResource
	ErrTemporarilyUnavailable = tokenerr.ErrTemporarilyUnavailable
	ErrServerError            = tokenerr.ErrServerError
	ErrAuthorizationPending   = tokenerr.ErrAuthorizationPending
	ErrSlowDown               = tokenerr.ErrSlowDown
	ErrExpiredToken           = tokenerr.ErrExpiredToken
	ErrAuthorizationDeclined  = tokenerr.ErrAuthorizationDeclined
)

// TransientMessage is the one wording of a retryable failure.
const TransientMessage = tokenerr.TransientMessage

// Errorf builds a refusal with a formatted description.
func Errorf(oauth string, aadsts int, format string, args ...any) *Error {
	return tokenerr.Errorf(oauth, aadsts, format, args...)
}

// Transient wraps an internal failure as the server_error a client may retry.
func Transient(err error) *Error { return tokenerr.Transient(err) }

// AsError extracts an *Error from err's chain.
func AsError(err error) (*Error, bool) { return tokenerr.AsError(err) }

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
