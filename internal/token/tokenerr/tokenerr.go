// Package tokenerr is the token service's refusal: a fault.Error whose Code
// is an OAuth 2.0 error code and whose Number is the AADSTS number Entra uses
// for the same condition. The token package and its assertion checks share
// it; the sts package writes it.
package tokenerr

import (
	"fmt"

	"github.com/tessera-id/tessera/internal/fault"
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

// Device code polling errors (RFC 8628 §3.5).
const (
	ErrAuthorizationPending  = "authorization_pending"
	ErrSlowDown              = "slow_down"
	ErrExpiredToken          = "expired_token"
	ErrAuthorizationDeclined = "authorization_declined"
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

// AsError extracts the token service's refusal from err's chain: the first
// fault.Error with an AADSTS number. Another package's refusal (a
// directory rule) is not one until the token service words it.
func AsError(err error) (*Error, bool) {
	for err != nil {
		fe, ok := fault.As(err)
		if !ok {
			return nil, false
		}
		if fe.Number != 0 {
			return fe, true
		}
		err = fe.Err
	}
	return nil, false
}
