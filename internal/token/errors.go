package token

import (
	"errors"
	"fmt"
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
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("AADSTS%d: %s: %v", e.AADSTS, e.Description, e.Cause)
	}
	return fmt.Sprintf("AADSTS%d: %s", e.AADSTS, e.Description)
}

func (e *Error) Unwrap() error { return e.Cause }

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

// HTTPStatus is the status Entra answers this error with: 401 for failed
// client authentication, 500/503 for server faults, 400 otherwise.
func (e *Error) HTTPStatus() int {
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
