package directory

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/store"
)

// Every refusal is a fault of a kind the edges answer by, and a refusal
// keeps matching the sentinel it replaced.
func TestRefusalKinds(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		kind fault.Kind
	}{
		{"invalid", invalidf("displayName is required."), fault.Invalid},
		{"password reused", ErrPasswordReused, fault.Invalid},
		{"not found", fmt.Errorf("add member: %w", notFound("u1")), fault.NotFound},
		{"forbidden", ErrForbidden, fault.Forbidden},
		{"user disabled", ErrUserDisabled, fault.Forbidden},
		{"secret invalid", ErrSecretInvalid, fault.Unauthenticated},
		{"secret expired", ErrSecretExpired, fault.Unauthenticated},
		{"busy", &BusyError{RetryAfter: time.Second}, fault.Throttled},
	} {
		if got := fault.KindOf(c.err); got != c.kind {
			t.Errorf("%s: kind %v, want %v", c.name, got, c.kind)
		}
	}
	if !errors.Is(notFound("u1"), store.ErrNotFound) {
		t.Error("a named missing object is not store.ErrNotFound")
	}
	if fe, _ := fault.As(notFound("u1")); fe.Message != "Resource 'u1' does not exist or one of its queried reference-property objects are not present." {
		t.Errorf("not found message %q", fe.Message)
	}
	if errors.Is(ErrSecretInvalid, ErrSecretExpired) || errors.Is(ErrPasswordReused, errPasswordComplexity) {
		t.Error("refusals of one kind are told apart by their codes")
	}
	if fe, _ := fault.As(&BusyError{RetryAfter: 2 * time.Second}); fe.RetryAfter != 2*time.Second {
		t.Errorf("busy RetryAfter %v", fe.RetryAfter)
	}
}
