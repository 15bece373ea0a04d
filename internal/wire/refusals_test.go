package wire

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tessera-id/tessera/internal/fault"
)

func TestARMRefusal(t *testing.T) {
	for _, c := range []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"rule package's code", fault.Errorf(fault.Conflict, "RoleAssignmentExists", "The role assignment already exists."), 409, "RoleAssignmentExists", "The role assignment already exists."},
		{"forbidden", fault.New(fault.Forbidden, "RoleDefinitionUpdateNotPermitted", "no"), 403, "RoleDefinitionUpdateNotPermitted", "no"},
		{"bare not found", fmt.Errorf("load: %w", fault.ErrNotFound), 404, "ResourceNotFound", "The resource was not found."},
		{"bare precondition", fault.ErrPrecondition, 412, "PreconditionFailed", "The condition specified using HTTP conditional header(s) is not met."},
		{"bare conflict", fault.ErrConflict, 409, "Conflict", "The resource already exists or was changed concurrently."},
		{"bare invalid has no ARM words", fault.ErrInvalid, 0, "", ""},
		{"numbered refusal", &fault.Error{Kind: fault.Invalid, Code: "invalid_request", Number: 90002, Message: "x"}, 0, "", ""},
		{"transient", fault.Transient(errors.New("db down")), 0, "", ""},
		{"not a refusal", errors.New("boom"), 0, "", ""},
	} {
		fe, _ := fault.As(c.err)
		status, code, msg, ok := ARMRefusal(fe)
		if ok != (c.status != 0) || status != c.status || code != c.code || msg != c.msg {
			t.Errorf("%s: %d %q %q %v, want %d %q %q", c.name, status, code, msg, ok, c.status, c.code, c.msg)
		}
	}
}

func TestGraphRefusal(t *testing.T) {
	for _, c := range []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"invalid", fault.New(fault.Invalid, "InvalidRequest", "displayName is required."), 400, GraphBadRequest, "displayName is required."},
		{"forbidden", fault.New(fault.Forbidden, "InsufficientPrivileges", "whatever"), 403, GraphAuthorizationDenied, GraphForbiddenMessage},
		{"named object", fault.New(fault.NotFound, "ObjectNotFound", GraphNotFoundMessage("m1")), 404, GraphResourceNotFound, GraphNotFoundMessage("m1")},
		{"bare not found is the addressed object", fmt.Errorf("get: %w", fault.ErrNotFound), 404, GraphResourceNotFound, GraphNotFoundMessage("u1")},
		{"conflict", fault.ErrConflict, 400, GraphMultipleObjectsExist, "Another object with the same value for a unique property already exists."},
		{"precondition has no Graph words", fault.ErrPrecondition, 0, "", ""},
		{"throttled", &fault.Error{Kind: fault.Throttled, Code: "Busy"}, 0, "", ""},
		{"numbered refusal", &fault.Error{Kind: fault.Invalid, Code: "invalid_grant", Number: 50126}, 0, "", ""},
		{"not a refusal", errors.New("boom"), 0, "", ""},
	} {
		fe, _ := fault.As(c.err)
		status, code, msg, ok := GraphRefusal(fe, "u1")
		if ok != (c.status != 0) || status != c.status || code != c.code || msg != c.msg {
			t.Errorf("%s: %d %q %q %v, want %d %q %q", c.name, status, code, msg, ok, c.status, c.code, c.msg)
		}
	}
}
