package signin

import (
	"errors"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/fault"
)

// Sign-in refusals are faults of the kind their edge answers by.
func TestRefusalKinds(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		kind fault.Kind
	}{
		{"policy", &PolicyError{Message: "displayName is required."}, fault.Invalid},
		{"credentials", ErrInvalidCredentials, fault.Unauthenticated},
		{"code", ErrInvalidCode, fault.Unauthenticated},
		{"no session", ErrNoSession, fault.Unauthenticated},
		{"no method", ErrNoMFAMethod, fault.Forbidden},
		{"disabled", ErrUserDisabled, fault.Forbidden},
		{"locked", &LockedError{Until: time.Now()}, fault.Throttled},
		{"throttled", &ThrottledError{RetryAfter: time.Second}, fault.Throttled},
	} {
		if got := fault.KindOf(c.err); got != c.kind {
			t.Errorf("%s: kind %v, want %v", c.name, got, c.kind)
		}
	}
	if !errors.Is(directory.ErrUserDisabled, ErrUserDisabled) || !errors.Is(ErrUserDisabled, directory.ErrUserDisabled) {
		t.Error("the directory's and sign-in's disabled account are not the same refusal")
	}
	if errors.Is(ErrInvalidCode, ErrInvalidCredentials) {
		t.Error("a wrong code reads as wrong credentials")
	}
	if fe, _ := fault.As(&PolicyError{Message: "m"}); fe.Message != "m" {
		t.Errorf("policy message %q", fe.Message)
	}
}
