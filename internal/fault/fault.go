// Package fault is Tessera's one domain error. A rule package (token,
// directory, rbac, resources, signin) refuses with a *fault.Error: what kind
// of refusal it is, a stable reason code, a message meant for the caller and
// the internal cause, which is logged and never sent. Each protocol edge
// (sts, graph, arm, web) translates it once into its own wire shape, through
// the tables in internal/wire.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// Kind is what sort of refusal an error is; it decides an edge's status.
type Kind uint8

// Kinds. Internal is the zero value: an error that is not a *fault.Error is
// a fault of Tessera's, answered with TransientMessage.
const (
	Internal        Kind = iota
	Invalid              // the request is malformed or breaks a rule
	NotFound             // the addressed object does not exist
	Conflict             // a unique value is taken, or a concurrent change won
	Precondition         // an optimistic-concurrency check failed
	Forbidden            // the caller may not do this
	Unauthenticated      // the caller's credential was refused
	Throttled            // refused before being checked; retry after RetryAfter
	Unavailable          // Tessera cannot answer now; the caller may retry
)

var kindNames = [...]string{"internal", "invalid", "not found", "conflict", "precondition failed",
	"forbidden", "unauthenticated", "throttled", "unavailable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Error is a refusal.
type Error struct {
	Kind Kind
	// Code is the stable reason code an edge translates: an ARM or Graph
	// error code, or for the token service the OAuth 2.0 error code.
	Code string
	// Number is the numbered reason where the protocol has one (Entra's
	// AADSTS codes); 0 otherwise.
	Number int
	// Message is meant for the caller.
	Message string
	// Err is the internal cause: logged, never sent.
	Err error
	// RetryAfter, for Throttled, is when the caller may try again.
	RetryAfter time.Duration
}

// New returns a refusal of kind with a reason code and a message.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Errorf is New with a formatted message.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	s := e.Message
	if e.Number != 0 {
		s = fmt.Sprintf("AADSTS%d: %s", e.Number, s)
	} else if e.Code != "" {
		s = e.Code + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches a target *Error of the same kind whose code (when set) and
// number (when set) are equal, so that errors.Is(err, store.ErrNotFound)
// holds for every not-found refusal, whichever package words it.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Kind == e.Kind && (t.Code == "" || t.Code == e.Code) && (t.Number == 0 || t.Number == e.Number)
}

// WithCause returns a copy of e carrying an internal cause.
func (e *Error) WithCause(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

// Sentinels, one per kind, for errors.Is.
var (
	ErrInvalid      = &Error{Kind: Invalid, Message: "invalid"}
	ErrNotFound     = &Error{Kind: NotFound, Message: "not found"}
	ErrConflict     = &Error{Kind: Conflict, Message: "conflict"}
	ErrPrecondition = &Error{Kind: Precondition, Message: "precondition failed"}
	ErrForbidden    = &Error{Kind: Forbidden, Message: "insufficient privileges to complete the operation"}
)

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var fe *Error
	ok := errors.As(err, &fe)
	return fe, ok
}

// KindOf is the kind of the first *Error in err's chain, Internal if none.
func KindOf(err error) Kind {
	if fe, ok := As(err); ok {
		return fe.Kind
	}
	return Internal
}

// TransientMessage is the one thing a caller is told when Tessera cannot
// answer now; the cause goes to the log, never to the caller.
const TransientMessage = "A transient error has occurred. Please try again."

// Transient wraps an internal failure as a refusal the caller may retry.
func Transient(err error) *Error {
	return &Error{Kind: Unavailable, Code: "Transient", Message: TransientMessage, Err: err}
}
