package token

import (
	"errors"
	"fmt"
	"time"

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

// Error is a token-service failure as the protocol reports it: an OAuth error
// code, the AADSTS number Entra uses for the same condition, and a message.
// The sts package turns it into an HTTP response; Cause stays server-side.
type Error struct {
	OAuth       string // e.g. invalid_client
	AADSTS      int    // e.g. 7000215
	Description string // human text, without the "AADSTSnnn: " prefix
	Cause       error  // internal detail, logged but never sent
	// RetryAfter, when set, makes the answer a 429 with a Retry-After
	// header: the caller is throttled and may try again after it.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("AADSTS%d: %s: %v", e.AADSTS, e.Description, e.Cause)
	}
	return fmt.Sprintf("AADSTS%d: %s", e.AADSTS, e.Description)
}

func (e *Error) Unwrap() error { return e.Cause }

// TransientMessage is the one thing a caller is told when Tessera cannot
// answer now (Entra's AADSTS90033); the cause goes to the log, never to
// the caller.
const TransientMessage = "A transient error has occurred. Please try again."

// Transient wraps an internal failure as the server_error a client may retry.
func Transient(err error) *Error {
	return &Error{OAuth: ErrServerError, AADSTS: 90033, Description: TransientMessage, Cause: err}
}

// Errorf builds an *Error with a formatted description.
func Errorf(oauth string, aadsts int, format string, args ...any) *Error {
	return &Error{OAuth: oauth, AADSTS: aadsts, Description: fmt.Sprintf(format, args...)}
}

// WithCause returns a copy of e carrying an internal cause.
func (e *Error) WithCause(err error) *Error {
	c := *e
	c.Cause = err
	return &c
}

// AsError extracts an *Error from err's chain.
func AsError(err error) (*Error, bool) {
	var te *Error
	ok := errors.As(err, &te)
	return te, ok
}

// HTTPStatus is the status Entra answers this error with: 429 when the
// caller is throttled, 401 for failed client authentication, 500/503 for
// server faults, 400 otherwise.
func (e *Error) HTTPStatus() int {
	if e.RetryAfter > 0 {
		return 429
	}
	switch e.OAuth {
	case ErrInvalidClient:
		return 401
	case ErrServerError:
		return 500
	case ErrTemporarilyUnavailable:
		return 503
	}
	return 400
}

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
	e.RetryAfter = time.Duration(n) * time.Second
	return e
}
