package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tessera-id/tessera/internal/fault"
)

func TestIsMatchesKindCodeAndNumber(t *testing.T) {
	refusal := fault.Errorf(fault.NotFound, "RoleAssignmentNotFound", "assignment %s not found", "a1")
	wrapped := fmt.Errorf("delete: %w", refusal)
	if !errors.Is(wrapped, fault.ErrNotFound) {
		t.Error("a not-found refusal does not match the not-found sentinel")
	}
	if errors.Is(wrapped, fault.ErrConflict) {
		t.Error("a not-found refusal matches the conflict sentinel")
	}
	if !errors.Is(wrapped, fault.New(fault.NotFound, "RoleAssignmentNotFound", "")) {
		t.Error("the same kind and code do not match")
	}
	if errors.Is(wrapped, fault.New(fault.NotFound, "ResourceNotFound", "")) {
		t.Error("another code matches")
	}
	numbered := &fault.Error{Kind: fault.Unauthenticated, Code: "invalid_client", Number: 7000215, Message: "bad secret"}
	if errors.Is(numbered, &fault.Error{Kind: fault.Unauthenticated, Number: 7000222}) {
		t.Error("another number matches")
	}
	if got := numbered.Error(); got != "AADSTS7000215: bad secret" {
		t.Errorf("Error() = %q", got)
	}
}

func TestCauseStaysInTheChainButNotInTheMessage(t *testing.T) {
	cause := errors.New("disk full")
	e := fault.Transient(cause)
	if !errors.Is(e, cause) {
		t.Error("the cause is not in the chain")
	}
	if e.Message != fault.TransientMessage || e.Kind != fault.Unavailable {
		t.Errorf("transient = %+v", e)
	}
	if fault.KindOf(errors.New("plain")) != fault.Internal {
		t.Error("a plain error is not internal")
	}
	if fault.KindOf(fmt.Errorf("x: %w", e)) != fault.Unavailable {
		t.Error("KindOf does not look through wrapping")
	}
}
